"""Benchmark: the sign-in limits and the password-reset page, as an attacker would measure them.

    .venv/bin/python bench/sign_in_limits.py [--requests 50]

Runs the app in-process (Django's test client: the full middleware stack, no network) on a
fresh SQLite database in a temporary folder, with an SMTP server on loopback that takes
``--smtp-delay`` seconds (0.2 by default) per message, like a slow hospital relay. Prints:

* the reset page's answer time for a known and an unknown address: median and 90th
  percentile of ``--requests`` each, interleaved, and their ratio (1.0: indistinguishable);
* how many reset e-mails 15 requests for one address send (the worker's sends, timed too);
* the lockout: a stranger's five wrong passwords for "coordinator", then the owner from their
  own address and the stranger with the right password;
* one client guessing over 40 usernames (4 each, 160 in all): the attempt at which it is refused;
* one username guessed from 60 addresses: the attempt at which it is refused.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CCDG_VAR_DIR", tempfile.mkdtemp(prefix="ccdg-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("CCDG_CELERY_EAGER", "0")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from axes.utils import reset as axes_reset  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from ccdg.accounts.reset import password_reset_send  # noqa: E402
from ccdg.models import PasswordResetRequest  # noqa: E402

PASSWORD = "a-long-benchmark-pass-phrase-1"  # noqa: S105 - a throwaway database
RESET = "/accounts/password/reset/"
LOGIN = "/accounts/login/"


class SlowRelay:
    """An SMTP server that takes its time over each message."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        time.sleep(self.delay)
        with self.lock:
            self.received += 1
        return "250 OK"


def fresh_limits() -> None:
    axes_reset()
    cache.clear()


def timed_reset(client: Client, email: str) -> float:
    started = time.perf_counter()
    response = client.post(RESET, {"email": email}, REMOTE_ADDR="198.51.100.7")
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    return elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def reset_timing(n: int) -> None:
    client = Client()
    known, unknown = [], []
    for _ in range(5):  # warm up: templates, first queries
        fresh_limits()
        timed_reset(client, "known@example.org")
    for i in range(n):
        for email, into in (("known@example.org", known), (f"nobody{i}@example.org", unknown)):
            fresh_limits()  # time the page, not the limit
            into.append(timed_reset(client, email))
    k, u = statistics.median(known), statistics.median(unknown)
    for label, times in (("known address:  ", known), ("unknown address:", unknown)):
        median, p90 = statistics.median(times) * 1000, percentile(times, 0.9) * 1000
        print(f"reset page, {label} median {median:6.2f} ms, p90 {p90:6.2f} ms")
    print(f"known / unknown median ratio: {k / u:.2f}")
    PasswordResetRequest.objects.all().delete()


def reset_emails(relay: SlowRelay) -> None:
    client = Client()
    fresh_limits()
    answers = [
        client.post(RESET, {"email": "known@example.org"}, REMOTE_ADDR="198.51.100.8").status_code
        for _ in range(15)
    ]
    queued = list(PasswordResetRequest.objects.values_list("pk", flat=True))
    started = time.perf_counter()
    sent = sum(password_reset_send(request_id=pk) for pk in queued)
    worker = time.perf_counter() - started
    print(
        f"15 reset requests for one address: answers {sorted(set(answers))} "
        f"({answers.count(429)} refused as too many), {len(queued)} queued, {sent} e-mails "
        f"sent by the worker ({relay.received} received by the relay, {worker:.2f} s in the "
        "worker, none of it in a request)"
    )


def sign_in(client: Client, login: str, password: str, ip: str):
    return client.post(LOGIN, {"login": login, "password": password}, REMOTE_ADDR=ip)


def refused(response) -> bool:
    return response.status_code == 429 or b"Too many failed" in response.content


def lockout() -> None:
    fresh_limits()
    client = Client()
    for _ in range(5):
        sign_in(client, "coordinator", "wrong-guess", "203.0.113.9")
    owner = sign_in(Client(), "coordinator", PASSWORD, "10.1.1.1")
    stranger = sign_in(Client(), "coordinator", PASSWORD, "203.0.113.9")
    print(
        "5 wrong passwords for 'coordinator' from a stranger's address: the owner from their own "
        f"address {'signs in' if owner.status_code == 302 else 'is refused'} "
        f"({owner.status_code}); the stranger's address with the right password "
        f"{'is refused' if refused(stranger) else 'signs in'} ({stranger.status_code})"
    )


def spread_over_usernames() -> None:
    fresh_limits()
    client = Client()
    for attempt in range(160):
        if refused(sign_in(client, f"clinician{attempt // 4}", "wrong-guess", "203.0.113.10")):
            print(f"one client, 160 guesses over 40 usernames: refused from attempt {attempt + 1}")
            return
    print("one client, 160 guesses over 40 usernames: never refused")


def spread_over_addresses() -> None:
    fresh_limits()
    for attempt in range(60):
        ip = f"198.18.{attempt // 200}.{attempt % 200 + 1}"
        if refused(sign_in(Client(), "coordinator", "wrong-guess", ip)):
            print(f"'coordinator' guessed from 60 addresses: refused from attempt {attempt + 1}")
            return
    print("'coordinator' guessed from 60 addresses: never refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--smtp-delay", type=float, default=0.2)
    args = parser.parse_args()

    setup_test_environment()
    logging.disable(logging.WARNING)  # one line per failed sign-in otherwise
    settings.ALLOWED_HOSTS = ["testserver"]
    # Pages link plain static files (no collectstatic manifest in a temporary folder).
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": static}
    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    users.create_user("coordinator", "known@example.org", PASSWORD)
    for i in range(40):
        users.create_user(f"clinician{i}", f"clinician{i}@example.org", PASSWORD)

    relay = SlowRelay(args.smtp_delay)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = (
        "127.0.0.1",
        controller.server.sockets[0].getsockname()[1],
    )
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        print(f"SMTP relay on loopback: {args.smtp_delay * 1000:.0f} ms per message")
        reset_timing(args.requests)
        reset_emails(relay)
        lockout()
        spread_over_usernames()
        spread_over_addresses()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
