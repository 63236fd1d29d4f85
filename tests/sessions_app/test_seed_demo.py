"""seed_demo outside debug mode: the demo never reaches a database in use, and never brings the
published demo password with it (README, "Demo sign-ins")."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.urls import reverse

from sessions_app.models import Clinician, Program
from tests.factories import UserFactory

DEMO_USERS = {"admin", "coordinator", "facilitator", "participant", "reports"}


@pytest.fixture
def production(settings, db):
    settings.DEBUG = False
    return settings


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def printed_passwords(out: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s+password:\s+(\S+)$", out, flags=re.MULTILINE))


def test_force_without_debug_is_refused_when_the_database_has_users(production):
    UserFactory(username="dr.lee")

    with pytest.raises(CommandError) as refused:
        seed("--force")

    assert "already has user accounts" in str(refused.value)
    assert "Nothing was created" in str(refused.value)
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["dr.lee"]
    assert (Program.objects.count(), Clinician.objects.count()) == (0, 0)


def test_force_without_debug_on_an_empty_database_gives_no_account_the_demo_password(production):
    out = seed("--force")

    users = {u.username: u for u in get_user_model().objects.all()}
    passwords = printed_passwords(out)
    assert set(users) == set(passwords) == DEMO_USERS
    assert [name for name, user in users.items() if user.check_password("ccdg-demo")] == []
    assert "ccdg-demo" not in out
    for name, password in passwords.items():
        validate_password(password, users[name])  # raises if the password rules refuse it
        assert users[name].check_password(password)
    assert Program.objects.count() == 1


def test_the_printed_password_signs_in(production, client):
    passwords = printed_passwords(seed("--force"))

    client.post(reverse("account_login"), {"login": "admin", "password": passwords["admin"]})

    assert client.get(reverse("admin:index")).status_code == 200


def test_passwords_follow_a_stricter_length_rule(production):
    production.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 40},
        },
    ]

    passwords = printed_passwords(seed("--force"))

    assert sorted(passwords) == sorted(DEMO_USERS)
    assert min(len(p) for p in passwords.values()) >= 40


def test_without_debug_or_force_nothing_is_created(production):
    with pytest.raises(CommandError, match="CCDG_DEBUG=1"):
        seed()

    assert get_user_model().objects.count() == 0


def test_in_debug_mode_the_demo_keeps_its_published_password(settings, db):
    settings.DEBUG = True  # what `make run` sets
    UserFactory(username="dr.lee")

    seed("--if-empty")

    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("ccdg-demo")
