"""Benchmark: the key pages under gunicorn on the scale data, as ratios to a bare view.

    python bench/pages.py [--scale 1.0] [--requests 200] [--concurrency 4] [--workers 2]
                          [--soak-sessions 200] [--soak-seconds 120] [--only NAME ...]

Without ``DATABASE_URL`` it starts a throwaway PostgreSQL and Redis (``tests.services``),
migrates and fills the database with ``bench/make_scale_data.py`` at ``--scale`` (minutes at
1.0). With ``DATABASE_URL`` and ``REDIS_URL`` set (and ``SECRET_KEY``, ``CCDG_FIELD_KEYS``) it
uses that database, which must already hold the scale data (``--make-data`` fills it first).

Then it starts gunicorn with production settings (no debug, the Redis cache, collected static
files served by WhiteNoise; ``--workers`` sync workers; the benchmark's settings only add the
bare view, ``bench/pages_urls.py``) and, through the real sign-in page and second factor, signs
in as each demo role. Each page is requested ``--requests`` times by ``--concurrency`` clients
on loopback after a warm-up; the bare view (a signed-in request that renders a trivial template
through the same middleware) is measured before and after the pages and its mean is the
yardstick. Prints, per page: requests/s, median and p95 latency, size, and the ratio of its
requests/s to the bare view's (and, for information, to the layout view's: the site's own
layout around an empty page, the part every page shares); then the soak: ``--soak-sessions``
participants signed in at once, each requesting pages in turn for ``--soak-seconds``, with the
count of errors.

Targets (issue 20): every page at >= 0.5 of the bare view's requests/s with p95 under 150 ms,
and no error in the soak. The load is bounded: a fixed number of requests, on loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
PASSWORD = "ccdg-demo"  # noqa: S105 - the demo sign-ins' (seed_demo), on a throwaway database
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - the throwaway database's
TARGET_RATIO = 0.5
TARGET_P95_MS = 150.0


# --- Talking to the server --------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str]


class Client:
    """Requests to the benchmark's server with a cookie jar: one connection per request (the
    sync workers close it), the least client work per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Host": "127.0.0.1", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            cookies = {}
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key.strip()] = rest.split(";", 1)[0]
            self.cookies.update(cookies)
            return Reply(response.status, dict(response.getheaders()), data, cookies)
        finally:
            conn.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Reply:
        token = self.cookies.get("csrftoken", "")
        return self.request("POST", path, {"csrfmiddlewaretoken": token, **form})


def _form_token(body: bytes) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    return found.group(1).decode() if found else ""


def sign_in(port: int, username: str, totp_secret: str | None = None) -> Client:
    """Sign in through the sign-in page (and the authenticator-app step when asked)."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    client = Client(port)
    page = client.get("/accounts/login/")
    reply = client.request(
        "POST",
        "/accounts/login/",
        {"csrfmiddlewaretoken": _form_token(page.body), "login": username, "password": PASSWORD},
    )
    where = reply.headers.get("Location", "")
    if reply.status == 302 and "2fa/authenticate" in where:
        step = client.get(where)
        code = format_hotp_value(hotp_value(totp_secret or "", int(time.time()) // 30))
        reply = client.request(
            "POST", where, {"csrfmiddlewaretoken": _form_token(step.body), "code": code}
        )
        where = reply.headers.get("Location", "")
    if reply.status != 302 or "/accounts/" in where:
        raise SystemExit(f"Signing in as {username} failed: {reply.status} {where}")
    return client


# --- Measuring --------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    rps: float
    median_ms: float
    p95_ms: float
    kib: float
    errors: int


def measure(name: str, client: Client, path: str, requests: int, concurrency: int) -> Figures:
    for _ in range(3):  # warm-up: templates, caches, the workers' first queries
        client.get(path)
    latencies: list[float] = []
    sizes: list[int] = []
    errors = 0
    lock = threading.Lock()

    def one(_: int) -> None:
        nonlocal errors
        started = time.perf_counter()
        reply = client.get(path)
        took = time.perf_counter() - started
        with lock:
            latencies.append(took)
            sizes.append(len(reply.body))
            if reply.status != 200:
                errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return Figures(
        name=name,
        rps=requests / elapsed,
        median_ms=statistics.median(ordered) * 1000,
        p95_ms=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
        kib=statistics.mean(sizes) / 1024,
        errors=errors,
    )


def soak(port: int, people: dict[str, list[str]], seconds: float) -> tuple[int, int]:
    """Every user signed in at once, each requesting their own pages in turn until time is
    up: (requests, errors)."""
    names = list(people)
    clients = [sign_in(port, name) for name in names]
    deadline = time.monotonic() + seconds
    done = [0] * len(clients)
    failed = [0] * len(clients)

    def run(i: int) -> None:
        client, paths = clients[i], people[names[i]]
        turn = i
        while time.monotonic() < deadline:
            try:
                reply = client.get(paths[turn % len(paths)])
                if reply.status != 200:
                    failed[i] += 1
            except OSError:
                failed[i] += 1
            done[i] += 1
            turn += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done), sum(failed)


# --- The server and its data ------------------------------------------------------------------


def _django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")
    import django

    django.setup()


def prepare_accounts(soak_sessions: int) -> dict[str, list[str]]:
    """Give the demo users who need one an authenticator app (a known secret: this is the
    benchmark's database) and ``soak_sessions`` participants a password: {username: the
    pages they open in the soak (home, their program, its schedule, their sessions)}."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from sessions_app.models import GroupMembership

    User = get_user_model()
    for name in ("coordinator", "facilitator", "reports", "admin"):
        user = User.objects.get(username=name)
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        TOTP.activate(user, TOTP_SECRET)
    members = (
        GroupMembership.objects.current()
        .filter(clinician__user__isnull=False, clinician__user__is_active=True)
        .exclude(clinician__user__username__in=["participant", "facilitator", "coordinator"])
        .values_list("clinician__user_id", flat=True)
        .distinct()
    )
    ids = list(members[:soak_sessions])
    User.objects.filter(pk__in=ids).update(password=make_password(PASSWORD))
    pages: dict[str, list[str]] = {}
    for username, slug in (
        GroupMembership.objects.current()
        .filter(clinician__user_id__in=ids)
        .values_list("clinician__user__username", "group__program__slug")
    ):
        pages[username] = ["/", f"/programs/{slug}/", f"/programs/{slug}/sessions/",
                           f"/programs/{slug}/my-sessions/"]  # fmt: skip
    return pages


def key_pages() -> list[tuple[str, str, str]]:
    """(page, who, path) of the pages the benchmark requests, on the demo program: the
    demo facilitator's group and its next and last sessions, the program's largest online wave
    and its largest analysed wave. Also the pages of the query-count test
    (tests/integration/test_query_counts_at_scale.py)."""
    from django.db.models import Count
    from django.urls import reverse
    from django.utils import timezone

    from analysis.runs.models import AnalysisRun
    from sessions_app.management.commands.seed_demo import DEMO_SLUG
    from sessions_app.models import FacilitatorAssignment, Group, Session
    from surveys.models import Wave

    slug = DEMO_SLUG
    now = timezone.now()
    led = FacilitatorAssignment.objects.current().filter(
        facilitator__user__username="facilitator", group__program__slug=slug
    )
    group = Group.objects.get(pk=led.values_list("group_id", flat=True).first())
    ahead = Session.objects.filter(group=group, starts_at__gte=now).order_by("starts_at").first()
    held = Session.objects.filter(group=group, starts_at__lt=now).order_by("-starts_at").first()
    waves = Wave.objects.filter(program__slug=slug)
    online = (
        waves.filter(source=Wave.Source.ONLINE)
        .annotate(n=Count("recipients"))
        .order_by("-n", "pk")
        .first()
    )
    run = (
        AnalysisRun.objects.filter(wave__in=waves, status=AnalysisRun.Status.DONE)
        .annotate(n=Count("wave__responses"))
        .order_by("-n", "-pk")
        .select_related("wave")
        .first()
    )
    if not (ahead and held and online and run):
        raise SystemExit("The demo program lacks a session to come, a held one, an online "
                         "wave or an analysed wave: is this the scale data?")  # fmt: skip
    s, w = {"slug": slug}, {"slug": slug, "wave": run.wave.slug}
    return [
        ("participant home", "participant", "/"),
        ("facilitator home", "facilitator", "/"),
        ("coordinator home", "coordinator", "/"),
        ("report viewer home", "reports", "/"),
        ("program page", "coordinator", reverse("sessions_app:program_detail", kwargs=s)),
        ("roster", "coordinator", reverse("sessions_app:roster_list", kwargs=s)),
        ("groups", "coordinator", reverse("sessions_app:group_list", kwargs=s)),
        ("group", "coordinator",
         reverse("sessions_app:group_detail", kwargs={**s, "pk": group.pk})),
        ("schedule", "coordinator", reverse("sessions_app:session_list", kwargs=s)),
        ("participant schedule", "participant", reverse("sessions_app:session_list", kwargs=s)),
        ("agenda", "facilitator",
         reverse("sessions_app:session_agenda", kwargs={**s, "pk": ahead.pk})),
        ("attendance", "facilitator",
         reverse("sessions_app:attendance_record", kwargs={**s, "pk": held.pk})),
        ("attendance figures", "coordinator", reverse("sessions_app:attendance_figures", kwargs=s)),
        ("survey waves", "coordinator", reverse("surveys:wave_list", kwargs=s)),
        ("large wave", "coordinator",
         reverse("surveys:wave_detail", kwargs={"slug": slug, "wave": online.slug})),
        ("wave results", "coordinator",
         reverse("analysis:run_detail", kwargs={**w, "pk": run.pk})),
        ("analysis runs", "coordinator", reverse("analysis:run_list", kwargs=w)),
        ("reports", "coordinator", reverse("reports:index", kwargs=s)),
        ("outbox", "coordinator", reverse("outbox:outbox", kwargs=s)),
    ]  # fmt: skip


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int) -> Iterator[int]:
    from tests.services import free_port

    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="ccdg-bench-gunicorn-", suffix=".log", delete=False)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [PYTHON, "-m", "gunicorn", "ccdg.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "120", "--backlog", "2048"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Client(port).get("/healthz/").status in (200, 503):
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {log.name}")
            time.sleep(0.3)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def server_env(base: dict[str, str], static_root: str) -> dict[str, str]:
    env = dict(base)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.pages_settings",
        CCDG_DEBUG="0",
        CCDG_HTTPS="0",
        CCDG_ALLOWED_HOSTS="127.0.0.1,localhost",
        CCDG_STATIC_ROOT=static_root,
        # Hundreds of benchmark sign-ins from one address in a minute: not an attack here.
        CCDG_SIGNIN_ADDRESS_PER_MINUTE="100000",
        PYTHONPATH=str(ROOT),
    )
    env.pop("CCDG_CELERY_EAGER", None)
    return env


def run(args: argparse.Namespace) -> int:
    base = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CCDG_FIELD_KEYS"):
        if not base.get(name):
            raise SystemExit(f"{name} is not set")
    base.setdefault("CCDG_VAR_DIR", tempfile.mkdtemp(prefix="ccdg-bench-var-"))
    if args.make_data:
        subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
            [PYTHON, "bench/make_scale_data.py", "--migrate", "--scale", str(args.scale)],
            cwd=ROOT, env=base, check=True,
        )  # fmt: skip
    _django(base)
    soak_users = prepare_accounts(args.soak_sessions)
    pages = key_pages()
    if args.only:
        pages = [p for p in pages if p[0] in args.only]
    static_root = tempfile.mkdtemp(prefix="ccdg-bench-static-")
    env = server_env(base, static_root)
    subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
        check=True,
    )  # fmt: skip
    with gunicorn(env, args.workers) as port:
        clients = {who: sign_in(port, who, TOTP_SECRET) for who in {w for _, w, _ in pages}}
        bare_client = clients.get("participant") or next(iter(clients.values()))
        n, c = args.requests, args.concurrency
        from sessions_app.management.commands.seed_demo import DEMO_SLUG

        layout_path = f"/bench/layout/{DEMO_SLUG}/"
        bare = [measure("bare view", bare_client, "/bench/bare/", n, c)]
        layouts = [measure("layout view", bare_client, layout_path, n, c)]
        results = [measure(name, clients[who], path, n, c) for name, who, path in pages]
        layouts.append(measure("layout view", bare_client, layout_path, n, c))
        bare.append(measure("bare view", bare_client, "/bench/bare/", n, c))
        yardstick = statistics.mean(b.rps for b in bare)
        shared = statistics.mean(b.rps for b in layouts)
        print(f"\nPages on the scale data, gunicorn with {args.workers} sync workers, "
              f"{n} requests x {c} clients per page\n")  # fmt: skip
        print(f"{'page':<22}{'req/s':>8}{'median ms':>11}{'p95 ms':>9}{'KiB':>8}"
              f"{'ratio':>8}{'/layout':>9}{'errors':>8}  target")  # fmt: skip
        misses = 0
        for f in [bare[0], layouts[0], *results, layouts[1], bare[1]]:
            ratio = f.rps / yardstick
            reference = f.name in ("bare view", "layout view")
            ok = reference or (ratio >= TARGET_RATIO and f.p95_ms < TARGET_P95_MS and not f.errors)
            misses += not ok
            print(f"{f.name:<22}{f.rps:>8.1f}{f.median_ms:>11.1f}{f.p95_ms:>9.1f}{f.kib:>8.1f}"
                  f"{ratio:>8.2f}{f.rps / shared:>9.2f}{f.errors:>8}  "
                  f"{'' if reference else 'ok' if ok else 'MISSED'}")  # fmt: skip
        if args.soak_seconds > 0 and soak_users:
            done, failed = soak(port, soak_users, args.soak_seconds)
            print(f"\nSoak: {len(soak_users)} participants signed in at once for "
                  f"{args.soak_seconds:.0f} s: {done} requests ({done / args.soak_seconds:.1f}/s),"
                  f" {failed} errors  {'ok' if not failed else 'MISSED'}")  # fmt: skip
            misses += bool(failed)
    return 1 if misses else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--soak-sessions", type=int, default=200)
    parser.add_argument("--soak-seconds", type=float, default=120)
    parser.add_argument("--make-data", action="store_true")
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL"):
        return run(args)
    from tests.services import postgres_server, redis_server

    os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 60)
    if not os.environ.get("CCDG_FIELD_KEYS"):
        from cryptography.fernet import Fernet

        os.environ["CCDG_FIELD_KEYS"] = Fernet.generate_key().decode()
    with postgres_server() as database_url, redis_server() as redis_url:
        os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url)
        args.make_data = True
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
