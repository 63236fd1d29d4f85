"""Abuse limits on signing in and resetting a password (issue: a stranger's five guesses
locked the coordinator out for everyone; 160 guesses over 40 usernames from one client went
unthrottled; the reset page told known from unknown addresses by its time, and 15 requests
sent 15 emails)."""

from __future__ import annotations

import pytest
from axes.utils import reset as axes_reset
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ccdg.models import AuditEvent, PasswordResetRequest
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HOME = "10.1.1.1"
STRANGER = "203.0.113.9"


@pytest.fixture(autouse=True)
def fresh_limits():
    axes_reset()
    cache.clear()
    yield
    axes_reset()
    cache.clear()


def sign_in(client, login: str, password: str, ip: str):
    return client.post(
        reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=ip
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(client):
    UserFactory(username="coordinator")
    for _ in range(5):
        sign_in(client, "coordinator", "guess-guess-guess", STRANGER)

    response = sign_in(client, "coordinator", PASSWORD, HOME)

    assert response.status_code == 302
    assert signed_in(client)


def test_the_address_that_guessed_is_locked_for_that_account(client):
    UserFactory(username="coordinator")
    for _ in range(5):
        sign_in(client, "coordinator", "guess-guess-guess", STRANGER)

    response = sign_in(client, "Coordinator", PASSWORD, STRANGER)

    assert response.status_code == 429
    assert not signed_in(client)


def test_one_address_guessing_across_many_usernames_is_throttled(client, settings):
    users = [UserFactory(username=f"clinician{i}") for i in range(40)]
    # 4 guesses per username stay under the per-username lockout; the per-address limit
    # (CCDG_SIGNIN_ADDRESS_FAILURES, 30) stops the run long before 160.
    refused_at = None
    for attempt in range(160):
        user = users[attempt // 4]
        response = sign_in(client, user.username, "guess-guess-guess", STRANGER)
        if response.status_code == 429 or "Too many failed" in response.content.decode():
            refused_at = attempt
            break
    fresh = UserFactory(username="newcomer")

    right_from_stranger = sign_in(client, fresh.username, PASSWORD, STRANGER)
    stranger_signed_in = signed_in(client)
    client.logout()
    right_from_home = sign_in(client, fresh.username, PASSWORD, HOME)

    assert refused_at == settings.SIGNIN_ADDRESS_FAILURES
    assert right_from_stranger.status_code in (200, 429) and not stranger_signed_in
    assert right_from_home.status_code == 302 and signed_in(client)


def test_every_lockout_and_throttle_is_in_the_audit_trail(client):
    UserFactory(username="coordinator")
    for _ in range(7):
        sign_in(client, "coordinator", "guess-guess-guess", STRANGER)

    locked = AuditEvent.objects.filter(action="signin.locked_out")
    (event,) = locked
    assert event.data["username"] == "coordinator"
    assert event.ip_address == STRANGER
    assert AuditEvent.objects.filter(action="signin.throttled", ip_address=STRANGER).exists()


def test_a_throttled_address_is_audited(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/m/ip"}
    for i in range(5):
        sign_in(client, f"nobody{i}", "guess-guess-guess", STRANGER)

    event = AuditEvent.objects.filter(action="signin.throttled").get()
    assert event.ip_address == STRANGER
    assert event.data["username"] == "nobody3"


def reset_queries(client, email: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("account_reset_password"), {"email": email})
    assert response.status_code == 302
    return [q["sql"] for q in queries.captured_queries]


def test_the_reset_page_does_the_same_work_for_known_and_unknown_addresses(client, mailoutbox):
    UserFactory(email="carla@example.org")

    known = reset_queries(client, "carla@example.org")
    unknown = reset_queries(client, "nobody@example.org")

    # The same statements (the limits' and the queued request's), no user lookup, no mail
    # sent while the person waits: the worker does both after the answer.
    assert len(known) == len(unknown)
    assert not any("auth_user" in sql for sql in known + unknown)
    assert mailoutbox == []
    assert PasswordResetRequest.objects.count() == 2


def test_fifteen_reset_requests_for_one_address_send_at_most_three_messages(
    client, mailoutbox, settings, django_capture_on_commit_callbacks
):
    UserFactory(email="carla@example.org")
    statuses = []
    for _ in range(15):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("account_reset_password"), {"email": "carla@example.org"}
            )
        statuses.append(response.status_code)

    assert settings.PASSWORD_RESET_PER_ADDRESS_HOUR == 3
    assert len(mailoutbox) == 3
    assert statuses[:3] == [302] * 3
    assert set(statuses[3:]) == {429}


def test_a_reset_request_the_worker_never_reached_expires(client):
    from datetime import timedelta

    from django.utils import timezone

    from ccdg.accounts.reset import password_reset_requests_expire

    client.post(reverse("account_reset_password"), {"email": "carla@example.org"})
    PasswordResetRequest.objects.update(requested_at=timezone.now() - timedelta(hours=2))

    assert password_reset_requests_expire() == 1
    assert PasswordResetRequest.objects.count() == 0
