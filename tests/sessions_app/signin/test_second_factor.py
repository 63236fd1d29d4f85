"""A second factor for staff, coordinators, report viewers and facilitators; sessions that
end when someone's roles change; the list of one's sessions."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value
from allauth.usersessions.models import UserSession
from axes.utils import reset as axes_reset
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from ccdg.models import AuditEvent
from sessions_app.models import ProgramRole
from tests.factories import PASSWORD, ProgramRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits():
    axes_reset()
    cache.clear()


@pytest.fixture
def mfa_required(settings):
    settings.MFA_REQUIRED = True


def sign_in(client, user, **extra):
    return client.post(
        reverse("account_login"), {"login": user.username, "password": PASSWORD}, **extra
    )


def test_a_coordinator_without_a_second_factor_is_taken_to_add_one(
    client, coordinator, mfa_required
):
    client.force_login(coordinator)

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")
    assert client.get(reverse("mfa_index")).status_code == 200


@pytest.mark.parametrize("kind", ["staff", "report_viewer"])
def test_staff_and_report_viewers_must_add_one_too(client, program, mfa_required, kind):
    if kind == "staff":
        user = UserFactory(is_staff=True)
    else:
        user = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    client.force_login(user)

    assert client.get(reverse("home"))["Location"] == reverse("mfa_index")


def test_a_participant_is_not_asked(client, mfa_required):
    client.force_login(UserFactory())

    assert client.get(reverse("home")).status_code == 200


def test_with_the_setting_off_nobody_is_asked(client, coordinator, settings):
    settings.MFA_REQUIRED = False
    client.force_login(coordinator)

    assert client.get(reverse("home")).status_code == 200


def test_with_an_authenticator_app_the_coordinator_signs_in_with_a_code(
    client, coordinator, mfa_required
):
    secret = generate_totp_secret()
    TOTP.activate(coordinator, secret)

    first = sign_in(client, coordinator)
    assert first["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    code = hotp_value(secret, int(__import__("time").time()) // 30)
    wrong = client.post(reverse("mfa_authenticate"), {"code": f"{(code + 1) % 10**6:06d}"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    second = client.post(reverse("mfa_authenticate"), {"code": f"{code:06d}"})

    assert second.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_new_role_ends_the_persons_other_sessions(program, django_capture_on_commit_callbacks):
    user = UserFactory()
    laptop, ward_pc = Client(), Client()
    sign_in(laptop, user)
    sign_in(ward_pc, user)
    assert UserSession.objects.filter(user=user).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        ProgramRoleFactory(program=program, user=user, role=ProgramRole.Role.COORDINATOR)

    assert laptop.get(reverse("home")).status_code == 302
    assert ward_pc.get(reverse("home")).status_code == 302
    assert UserSession.objects.filter(user=user).count() == 0
    event = AuditEvent.objects.get(action="sessions.ended")
    assert event.data["sessions"] == 2


def test_staff_rights_withdrawn_end_the_sessions(django_capture_on_commit_callbacks):
    user = UserFactory(is_staff=True)
    laptop = Client()
    sign_in(laptop, user)

    with django_capture_on_commit_callbacks(execute=True):
        user.is_staff = False
        user.save()

    assert laptop.get(reverse("home")).status_code == 302


def test_the_sessions_page_lists_where_one_is_signed_in_and_signs_out_the_others(client):
    user = UserFactory()
    other = Client()
    sign_in(other, user, HTTP_USER_AGENT="Ward PC browser", REMOTE_ADDR="10.2.3.4")
    sign_in(client, user, HTTP_USER_AGENT="My laptop", REMOTE_ADDR="10.9.9.9")

    page = client.get(reverse("usersessions_list"))
    text = page.content.decode()
    ended = client.post(reverse("usersessions_list"))

    assert "10.2.3.4" in text and "10.9.9.9" in text
    assert ended.status_code == 302
    assert other.get(reverse("home")).status_code == 302
    assert client.get(reverse("home")).status_code == 200
