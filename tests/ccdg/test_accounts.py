"""Signing in and out, password reset, lockout, session idle timeout, security headers."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ccdg.accounts.middleware import RENEWED_KEY
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_lockouts():
    axes_reset()
    yield
    axes_reset()


def sign_in(client, username: str, password: str):
    return client.post(reverse("account_login"), {"login": username, "password": password})


def signed_in_user_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def test_sign_in_with_username_and_password(client):
    user = UserFactory(username="carla")

    response = sign_in(client, "carla", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user_id(client) == user.pk


def test_sign_in_goes_to_the_next_page(client):
    UserFactory(username="carla")

    response = client.post(
        reverse("account_login") + "?next=/accounts/password/change/",
        {"login": "carla", "password": PASSWORD, "next": "/accounts/password/change/"},
    )

    assert response["Location"] == "/accounts/password/change/"


def test_wrong_password_is_refused(client):
    UserFactory(username="carla")

    response = sign_in(client, "carla", "not-the-password")

    assert response.status_code == 200
    assert response.context["form"].errors != {}
    assert signed_in_user_id(client) is None


def test_sign_out_ends_the_session(client):
    client.force_login(UserFactory())

    response = client.post(reverse("account_logout"))

    assert response["Location"] == reverse("account_login")
    assert signed_in_user_id(client) is None
    assert client.get(reverse("home")).status_code == 302


def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(client):
    UserFactory(username="carla")
    for _ in range(5):
        sign_in(client, "carla", "wrong-password")

    response = sign_in(client, "carla", PASSWORD)

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_four_failed_sign_ins_do_not_lock_the_account(client):
    user = UserFactory(username="carla")
    for _ in range(4):
        sign_in(client, "carla", "wrong-password")

    sign_in(client, "carla", PASSWORD)

    assert signed_in_user_id(client) == user.pk


def test_a_locked_account_does_not_lock_other_accounts(client):
    UserFactory(username="carla")
    other = UserFactory(username="rafael")
    for _ in range(5):
        sign_in(client, "carla", "wrong-password")

    response = sign_in(client, "rafael", PASSWORD)

    assert response.status_code == 302
    assert signed_in_user_id(client) == other.pk


def request_reset(client, email: str, capture):
    """Ask for a reset link; the worker's send (queued on commit) runs, eagerly, here."""
    with capture(execute=True):
        return client.post(reverse("account_reset_password"), {"email": email})


def test_password_reset_email_link_sets_a_new_password(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(username="carla", email="carla@example.org")

    request_reset(client, "carla@example.org", django_capture_on_commit_callbacks)
    (email,) = mailoutbox
    (link,) = re.findall(r"https?://\S+", email.body)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get(path, follow=True)
    new_password = "violet-canyon-orchard-31"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": new_password, "password2": new_password},
    )

    assert email.to == ["carla@example.org"]
    assert form_page.status_code == 200
    assert done["Location"] == reverse("account_reset_password_from_key_done")
    client.logout()
    assert sign_in(client, "carla", new_password).status_code == 302
    client.logout()
    assert sign_in(client, "carla", PASSWORD).status_code == 200


def test_password_reset_for_an_unknown_email_sends_nothing_and_looks_the_same(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    response = request_reset(client, "nobody@example.org", django_capture_on_commit_callbacks)

    assert response["Location"] == reverse("account_reset_password_done")
    assert mailoutbox == []


def test_password_reset_link_works_once(client, mailoutbox, django_capture_on_commit_callbacks):
    UserFactory(username="carla", email="carla@example.org")
    request_reset(client, "carla@example.org", django_capture_on_commit_callbacks)
    path = "/" + re.search(r"https?://(\S+)", mailoutbox[0].body).group(1).split("/", 1)[1]
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(
        set_url,
        {"password1": "violet-canyon-orchard-31", "password2": "violet-canyon-orchard-31"},
    )

    again = client.get(path, follow=True)

    assert again.context["token_fail"] is True


def test_session_idle_timeout_is_30_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60


def age_the_renewal(client, seconds: int) -> str:
    session = client.session
    session[RENEWED_KEY] = int(time.time()) - seconds
    session.save()
    return session.session_key


def test_a_request_a_minute_after_the_last_renewal_pushes_the_expiry_back(client):
    client.force_login(UserFactory())
    key = age_the_renewal(client, 61)
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=1))

    client.get(reverse("home"))

    remaining = Session.objects.get(pk=key).expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)


def test_pages_read_within_a_minute_of_the_renewal_write_no_session(client):
    client.force_login(UserFactory())
    client.get(reverse("home"))  # renews: the session is written once

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
        client.get(reverse("home"))

    writes = [q["sql"] for q in queries if "django_session" in q["sql"]
              and not q["sql"].lstrip().upper().startswith("SELECT")]  # fmt: skip
    assert writes == []


def test_an_idle_session_has_to_sign_in_again(client):
    client.force_login(UserFactory())
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(reverse("home"))

    assert response["Location"] == reverse("account_login") + "?next=/"


def test_argon2_is_the_first_hasher_outside_tests():
    hashers = [h.rsplit(".", 1)[1] for h in settings.PASSWORD_HASHERS]
    production = [h for h in hashers if h != "MD5PasswordHasher"]

    assert production[0] == "Argon2PasswordHasher"
    assert hashers.index("Argon2PasswordHasher") < hashers.index("PBKDF2PasswordHasher")


@pytest.mark.parametrize("name", ["account_login", "account_reset_password", "healthz"])
def test_responses_carry_a_strict_content_security_policy(client, name):
    response = client.get(reverse(name))

    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert "http:" not in policy
    assert "https:" not in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_signed_in_pages_carry_the_policy_and_refuse_framing(client):
    client.force_login(UserFactory())

    response = client.get(reverse("home"))

    assert "Content-Security-Policy" in response
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_login_page_refuses_framing(client):
    response = client.get(reverse("account_login"))

    assert response["X-Frame-Options"] == "DENY"


def test_pages_load_no_third_party_script_or_style(client):
    client.force_login(UserFactory())

    html = client.get(reverse("home")).content.decode()

    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert [s for s in sources if s.startswith(("http:", "https:", "//"))] == []
    assert "<style" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
