"""Run the whole test suite, the way ``make test`` and CI do.

    python -m tests.run_suite [extra pytest arguments]

Pass 1, SQLite: the embedded configuration (no DATABASE_URL, no REDIS_URL, file broker), every
test except those marked ``broker``. Browser tests run here; they skip themselves when no
Chromium is found.

Pass 2, PostgreSQL + Redis: throwaway servers (see ``tests.services``) and the production code
path, every test except those marked ``browser``. With only one of the two servers available,
pass 2 runs with what exists.

With ``CCDG_REQUIRE_SERVICES=1`` (CI) a missing PostgreSQL, Redis or Chromium is a failure,
reported before anything runs. The exit code is non-zero when any pass failed.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from tests.services import (
    Terminated,
    find_chromium,
    find_postgres,
    find_redis,
    postgres_server,
    raise_on_sigterm,
    redis_server,
)

# pytest's "no tests were collected": fine for a pass whose selection can be empty.
NO_TESTS_COLLECTED = 5
INTERRUPTED = 130
# Variables that would switch the suite from its hermetic configuration to a real deployment.
DEPLOYMENT_VARIABLES = ("DATABASE_URL", "REDIS_URL", "EMAIL_URL")


@dataclass
class Pass:
    name: str
    marker: str
    env: dict[str, str] = field(default_factory=dict)
    empty_ok: bool = False
    returncode: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 or (self.empty_ok and self.returncode == NO_TESTS_COLLECTED)


def banner(text: str) -> None:
    line = "=" * 78
    print(f"\n{line}\n{text}\n{line}", flush=True)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DEPLOYMENT_VARIABLES}
    env["CCDG_CELERY_EAGER"] = "1"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_pytest(suite_pass: Pass, extra: list[str]) -> None:
    """Run one pass of pytest, output streaming, in a fresh CCDG_VAR_DIR."""
    var_dir = tempfile.mkdtemp(prefix="ccdg-test-var-")
    # WhiteNoise warns on every request when STATIC_ROOT (var/staticfiles) does not exist.
    os.mkdir(os.path.join(var_dir, "staticfiles"))
    env = {**base_env(), **suite_pass.env, "CCDG_VAR_DIR": var_dir}
    command = [sys.executable, "-m", "pytest", "-m", suite_pass.marker, "-rs", *extra]
    shown = {
        k: suite_pass.env[k]
        for k in sorted(suite_pass.env)
        if k not in ("SECRET_KEY", "CCDG_FIELD_KEYS")
    }
    banner(f"{suite_pass.name}: {' '.join(command[1:])}\n  env: {shown}")
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env)
    try:
        try:
            suite_pass.returncode = proc.wait()
        except KeyboardInterrupt as exc:
            # pytest gets a terminal's Ctrl-C too (same process group), but not our SIGTERM.
            # Either way, let it tear down its databases before the servers are stopped.
            if isinstance(exc, Terminated):
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            suite_pass.returncode = INTERRUPTED
            raise
    finally:
        suite_pass.seconds = time.monotonic() - started
        shutil.rmtree(var_dir, ignore_errors=True)


def main(argv: list[str]) -> int:
    extra = list(argv)
    require = os.environ.get("CCDG_REQUIRE_SERVICES", "") not in ("", "0")
    has_postgres = find_postgres() is not None
    has_redis = find_redis() is not None
    chromium = find_chromium()

    skipped: list[str] = []
    if not has_postgres:
        skipped.append(
            "PostgreSQL tests — initdb/pg_ctl not found on PATH nor in /usr/lib/postgresql/*/bin"
        )
    if not has_redis:
        skipped.append("broker tests — redis-server not found on PATH")
    if chromium is None:
        skipped.append("browser tests — chromium not found (set CCDG_CHROMIUM or install chromium)")

    if require and skipped:
        banner("CCDG_REQUIRE_SERVICES=1, but services are missing")
        for line in skipped:
            print(f"MISSING: {line}")
        return 1

    sqlite_env = {"CCDG_CHROMIUM": chromium} if chromium else {}
    passes = [Pass("Pass 1 SQLite", "not broker", env=sqlite_env)]
    if has_postgres:
        name = "Pass 2 PostgreSQL + Redis" if has_redis else "Pass 2 PostgreSQL (no Redis)"
        passes.append(Pass(name, "not browser", empty_ok=True))
    elif has_redis:
        passes.append(Pass("Pass 2 SQLite + Redis (broker only)", "broker", empty_ok=True))

    raise_on_sigterm()
    interrupted = False
    try:
        run_pytest(passes[0], extra)
        if len(passes) > 1:
            second = passes[1]
            with ExitStack() as stack:
                if has_postgres:
                    second.env["DATABASE_URL"] = stack.enter_context(postgres_server())
                    second.env["SECRET_KEY"] = secrets.token_urlsafe(48)[:50]
                    # Production requires case-note keys (system check ccdg.E001).
                    second.env["CCDG_FIELD_KEYS"] = base64.urlsafe_b64encode(
                        secrets.token_bytes(32)
                    ).decode()
                if has_redis:
                    second.env["REDIS_URL"] = stack.enter_context(redis_server())
                run_pytest(second, extra)
    except KeyboardInterrupt:
        interrupted = True
    except RuntimeError as exc:  # a server failed to start
        print(f"\nERROR: {exc}", file=sys.stderr, flush=True)
        for suite_pass in passes:
            if suite_pass.returncode is None:
                suite_pass.returncode = 1
                break

    banner("Test suite summary")
    for suite_pass in passes:
        if suite_pass.returncode is None:
            status = "not run"
        else:
            verdict = "ok" if suite_pass.ok else "FAILED"
            status = f"exit {suite_pass.returncode} ({verdict}, {suite_pass.seconds:.0f}s)"
        print(f"{suite_pass.name:<40} {status}")
    for line in skipped:
        print(f"SKIPPED: {line}")
    if interrupted:
        print("INTERRUPTED")
        return INTERRUPTED
    failed = [p for p in passes if not p.ok]
    print("RESULT: " + ("FAILED" if failed else "OK"), flush=True)
    return (failed[0].returncode or 1) if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
