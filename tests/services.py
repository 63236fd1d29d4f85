"""Throwaway PostgreSQL and Redis servers for the test suite.

Each context manager starts a private instance in a temporary directory on a free loopback
port, yields its URL, and stops it and deletes its files on the way out (also on an
exception or Ctrl-C)::

    with postgres_server() as database_url, redis_server() as redis_url:
        ...

PostgreSQL refuses to run as root: when we are root, ``initdb`` and ``pg_ctl`` run as the
unprivileged user ``nobody``, which owns the temporary directory.

Run a command with both servers up and ``DATABASE_URL`` / ``REDIS_URL`` exported::

    python -m tests.services -- CMD ARGS...
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

PG_USER = "ccdg"
PG_DATABASE = "ccdg"
UNPRIVILEGED_USER = "nobody"
START_TIMEOUT = 60.0


# --- Finding binaries ------------------------------------------------------------------------
def _pg_bin_dirs() -> list[Path]:
    """Directories that may hold the PostgreSQL server binaries, best first."""
    dirs: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        dirs.append(Path(initdb).resolve().parent)
        dirs.append(Path(initdb).parent)
    # Debian/Ubuntu keep the server binaries off PATH; prefer the newest version.
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: _version_key(Path(p).parent.name), reverse=True)
    dirs.extend(Path(p) for p in versioned)
    return dirs


def _version_key(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (0,)


def find_postgres() -> str | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (and ``postgres``), or None."""
    for directory in _pg_bin_dirs():
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return str(directory)
    return None


def find_redis() -> str | None:
    """The path of ``redis-server``, or None."""
    return shutil.which("redis-server")


def find_chromium() -> str | None:
    """The Chromium to drive in browser tests: ``$CCDG_CHROMIUM``, else one on PATH."""
    configured = os.environ.get("CCDG_CHROMIUM")
    if configured:
        found = shutil.which(configured)
        return found if found else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# --- Helpers -----------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> dict:
    """Popen keyword arguments to drop root privileges, as PostgreSQL requires."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(UNPRIVILEGED_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _chown_tree(path: Path) -> None:
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(UNPRIVILEGED_USER)
    for root, dirs, files in os.walk(path):
        for name in (root, *(os.path.join(root, n) for n in dirs + files)):
            os.chown(name, entry.pw_uid, entry.pw_gid)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- PostgreSQL ------------------------------------------------------------------------------
@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL; yield ``postgres://ccdg@127.0.0.1:PORT/ccdg``.

    The role ``ccdg`` is the cluster's superuser (trust authentication), so pytest-django
    can create and drop its ``test_ccdg`` database.
    """
    bindir = find_postgres()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    bins = Path(bindir)
    tmp = Path(tempfile.mkdtemp(prefix="ccdg-pg-"))
    data, sockdir, log = tmp / "data", tmp / "sock", tmp / "postgres.log"
    sockdir.mkdir()
    tmp.chmod(0o700)
    _chown_tree(tmp)
    port = free_port()
    popen = {"cwd": tmp, "start_new_session": True, **_run_as()}
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PGTZ": "UTC"}
    started = False
    try:
        subprocess.run(
            [
                bins / "initdb",
                "-D",
                data,
                "-U",
                PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
            **popen,
        )
        options = (
            f"-F -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            f"-c max_connections=100 -k {sockdir} -h 127.0.0.1 -p {port}"
        )
        started = True
        subprocess.run(
            [bins / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
            **popen,
        )
        _create_database(bins, sockdir, port, env, popen)
        yield f"postgres://{PG_USER}@127.0.0.1:{port}/{PG_DATABASE}"
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(
            f"PostgreSQL failed ({exc.cmd[0]} exited {exc.returncode}):\n{_tail(log)}"
        ) from exc
    finally:
        if started:
            subprocess.run(
                [bins / "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                **popen,
            )
        shutil.rmtree(tmp, ignore_errors=True)


def _create_database(bins: Path, sockdir: Path, port: int, env: dict, popen: dict) -> None:
    createdb = bins / "createdb"
    if os.access(createdb, os.X_OK):
        subprocess.run(
            [createdb, "-h", str(sockdir), "-p", str(port), "-U", PG_USER, PG_DATABASE],
            check=True,
            env=env,
            **popen,
        )
        return
    import psycopg  # only when the client tools are missing

    with psycopg.connect(
        host="127.0.0.1", port=port, user=PG_USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')


# --- Redis -------------------------------------------------------------------------------------
def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[str]:
    """Start a throwaway Redis; yield ``redis://127.0.0.1:PORT/0``."""
    binary = find_redis()
    if binary is None:
        raise RuntimeError("redis-server not found")
    tmp = Path(tempfile.mkdtemp(prefix="ccdg-redis-"))
    port = free_port()
    log = tmp / "redis.log"
    proc: subprocess.Popen | None = None
    try:
        with open(log, "wb") as logfile:
            proc = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(tmp),
                    "--daemonize",
                    "no",
                ],
                stdout=logfile,
                stderr=subprocess.STDOUT,
                cwd=tmp,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not _redis_ping(port):
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited {proc.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer PING:\n{_tail(log)}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# --- Signals -----------------------------------------------------------------------------------
class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unlike Ctrl-C in a terminal, our children did not get it."""


def raise_on_sigterm() -> None:
    """Turn SIGTERM (and SIGHUP) into ``Terminated`` so ``finally`` blocks still run."""

    def _handler(signum, frame):
        raise Terminated(f"signal {signum}")

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGHUP, _handler)
    # Started in the background by a shell, we inherit an ignored SIGINT and so would our
    # children (pytest could not be interrupted to tear down). A handled signal is reset to
    # the default on exec, so installing Python's handler gives them back Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)


# --- Command line ------------------------------------------------------------------------------
USAGE = """usage: python -m tests.services [--no-postgres] [--no-redis] -- CMD [ARGS...]

Start a throwaway PostgreSQL and Redis, run CMD with DATABASE_URL and REDIS_URL set,
stop both servers and exit with CMD's exit code."""


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(USAGE, file=sys.stderr)
        return 2
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    unknown = set(options) - {"--no-postgres", "--no-redis"}
    if unknown or not command:
        print(USAGE, file=sys.stderr)
        return 2
    raise_on_sigterm()
    env = dict(os.environ)
    try:
        with ExitStack() as stack:
            if "--no-postgres" not in options:
                env["DATABASE_URL"] = stack.enter_context(postgres_server())
            if "--no-redis" not in options:
                env["REDIS_URL"] = stack.enter_context(redis_server())
            for name in ("DATABASE_URL", "REDIS_URL"):
                if env.get(name) != os.environ.get(name):
                    print(f"tests.services: {name}={env[name]}", file=sys.stderr)
            # The child shares our process group: Ctrl-C reaches it directly; we just wait.
            proc = subprocess.Popen(command, env=env)
            try:
                return proc.wait()
            except KeyboardInterrupt as exc:
                if isinstance(exc, Terminated):
                    proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                return 130
    except RuntimeError as exc:
        print(f"tests.services: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
