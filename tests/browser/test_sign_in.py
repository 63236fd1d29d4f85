"""Signing in, in a real Chromium: single sign-on through a real OpenID Connect provider
(tests/idp), an authenticator app (TOTP) enrolled under ``MFA_REQUIRED`` and then asked for at
sign-in, and a passkey made by Chromium's virtual authenticator (WebAuthn over CDP)."""

from __future__ import annotations

import os
import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.socialaccount.models import SocialAccount
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.core.cache import cache
from playwright.sync_api import expect

from ccdg.models import AuditEvent
from ccdg.settings import oidc_app
from sessions_app.models import Clinician, Program, ProgramRole
from tests.idp.oidc_provider import node_available, run_oidc_provider

PASSWORD = "correct horse battery staple"
SECRET = "a-long-client-secret-for-the-tests-0123456789"
PROVIDER_NAME = "St Elsewhere Hospital"
USERS = [
    {"sub": sub, "email": email, "email_verified": True, "given_name": sub.title(),
     "family_name": "Tester", "amr": ["pwd"]}
    for sub, email in (("dana", "dana.roster@hospital.example"),
                       ("stranger", "stranger@hospital.example"))
]  # fmt: skip
User = get_user_model()


# --- Arrangement ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fresh_limits(transactional_db):
    """Sign-in rate limits and lockouts from other tests do not carry over."""
    axes_reset()
    cache.clear()


@pytest.fixture
def program(transactional_db):
    return Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
    )


@pytest.fixture(scope="module")
def provider(live_server):
    """The OpenID Connect provider, its client registered with the live server's callback
    (so it starts after the live server's address is known)."""
    if not node_available():
        message = "node/npm not found: the test OpenID Connect provider (tests/idp) needs Node.js"
        if os.environ.get("CCDG_REQUIRE_SERVICES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    client = {
        "client_id": "ccdg",
        "client_secret": SECRET,
        "redirect_uris": [f"{live_server.url}/accounts/sso/hospital/login/callback/"],
    }
    with run_oidc_provider(clients=[client], users=USERS) as running:
        yield running


@pytest.fixture
def sso(settings, provider):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "ccdg_oidc": {"APPS": [oidc_app(provider.issuer, "ccdg", SECRET, name=PROVIDER_NAME)]}
    }
    settings.SSO_ALLOWED_DOMAINS = []
    settings.SSO_TRUST_MFA = False
    return provider


# --- Steps ------------------------------------------------------------------------------------
def password_sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def expect_home(page) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def sign_out(page, display_name: str) -> None:
    page.get_by_role("button", name=display_name).click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def reauthenticate(page, screenshot) -> None:
    """Adding a second factor asks for the password again, even just after signing in."""
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next="))
    screenshot(page, "confirm-password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()


def fresh_totp_code(secret: str) -> str:
    """The code an authenticator app shows now; not one about to expire (allauth accepts only
    the current 30-second period)."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def page_problems(page) -> list[str]:
    return [
        m
        for m in page.console_messages
        if "Content Security Policy" in m or m.startswith("pageerror")
    ]


def audited(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- Single sign-on ---------------------------------------------------------------------------
# The sign-in button posts a form to /accounts/sso/hospital/login/ (same origin), which answers
# 302 to the provider's /auth on another origin. Chromium applies the page's CSP ``form-action``
# to the form's redirects too: the sign-in page allows the configured providers' origins
# (ccdg/accounts/views.py allowing_provider_forms). Before it did, these tests failed there.


def test_a_roster_clinician_signs_in_with_the_hospital_account(page, screenshot, program, sso):
    entry = Clinician.objects.create(
        program=program,
        first_name="Dana",
        last_name="Roster",
        email="Dana.Roster@hospital.example",
        discipline="physician",
        status=Clinician.Status.ELIGIBLE,
    )
    users_before = User.objects.count()

    page.goto("/accounts/login/")
    screenshot(page, "sign-in-page")
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(sso.issuer)}/interaction/"))
    page.locator("input[name=login]").fill("dana")
    screenshot(page, "provider-sign-in")
    page.get_by_role("button", name="Sign in").click()

    expect_home(page)
    screenshot(page, "signed-in")
    entry.refresh_from_db()
    assert entry.user is not None
    assert User.objects.count() == users_before + 1
    assert entry.user.email.lower() == "dana.roster@hospital.example"
    assert not entry.user.has_usable_password()
    assert SocialAccount.objects.get(user=entry.user).uid == "dana"
    assert page_problems(page) == []


def test_an_unknown_person_is_refused_and_not_signed_in(page, screenshot, program, sso):
    page.goto("/accounts/login/")
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(sso.issuer)}/interaction/"))
    page.locator("input[name=login]").fill("stranger")
    with page.expect_response(re.compile(r"/accounts/sso/hospital/login/callback/")) as answer:
        page.get_by_role("button", name="Sign in").click()

    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You are not signed in")
    expect(page.get_by_role("alert")).to_contain_text("could not find you on a program")
    screenshot(page, "refused")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert not User.objects.filter(email__iexact="stranger@hospital.example").exists()
    assert [e.data["reason"] for e in audited("signin.sso_refused")] == ["unknown"]


# --- Authenticator app ------------------------------------------------------------------------
def test_a_coordinator_enrols_an_authenticator_app_and_is_asked_for_it(
    page, screenshot, program, settings
):
    settings.MFA_REQUIRED = True
    coordinator = User.objects.create_user(
        username="coord", password=PASSWORD, first_name="Cora", last_name="Coordinator",
        email="cora@example.org",
    )  # fmt: skip
    ProgramRole.objects.create(program=program, user=coordinator, role=ProgramRole.Role.COORDINATOR)

    password_sign_in(page, "coord")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))
    expect(page.get_by_text("add a second factor")).to_be_visible()
    screenshot(page, "second-factor-required")
    page.goto("/")  # nothing else until a second factor is added
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))

    page.get_by_role("link", name="Activate").click()
    reauthenticate(page, screenshot)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    screenshot(page, "activate-authenticator-app")
    page.get_by_label("Authenticator code").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status").filter(has_text="activated")).to_contain_text(
        "Authenticator app activated."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    screenshot(page, "activated-with-recovery-codes")

    assert Authenticator.objects.filter(user=coordinator, type="totp").count() == 1
    added = [(e.actor_id, e.data["type"]) for e in audited("mfa.added")]
    assert sorted(added) == [(coordinator.pk, "recovery_codes"), (coordinator.pk, "totp")]
    page.goto("/")
    expect_home(page)

    sign_out(page, "Cora Coordinator")
    password_sign_in(page, "coord")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    screenshot(page, "asked-for-the-code")
    page.get_by_label("Code").fill(fresh_totp_code(secret))
    page.get_by_role("button", name="Sign In").click()
    expect_home(page)
    screenshot(page, "signed-in-with-the-code")
    assert page_problems(page) == []


# --- Passkey ----------------------------------------------------------------------------------
def test_a_user_adds_a_passkey_and_signs_in_with_it(page, screenshot, program):
    user = User.objects.create_user(
        username="ana", password=PASSWORD, first_name="Ana", last_name="Ruiz",
        email="ana@example.org",
    )  # fmt: skip
    Clinician.objects.create(
        program=program, user=user, first_name="Ana", last_name="Ruiz", email="ana@example.org",
        discipline="physician", status=Clinician.Status.ACTIVE,
    )  # fmt: skip
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    password_sign_in(page, "ana")
    expect_home(page)
    page.goto("/accounts/2fa/webauthn/add/")
    reauthenticate(page, screenshot)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/webauthn/add/"))
    screenshot(page, "add-passkey")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status").filter(has_text="added")).to_contain_text(
        "Security key added."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery Codes")
    screenshot(page, "passkey-added-with-recovery-codes")

    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    assert Authenticator.objects.filter(user=user, type="webauthn").count() == 1
    added = [(e.actor_id, e.data["type"]) for e in audited("mfa.added")]
    assert sorted(added) == [(user.pk, "recovery_codes"), (user.pk, "webauthn")]

    page.goto("/")
    sign_out(page, "Ana Ruiz")
    password_sign_in(page, "ana")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    screenshot(page, "second-factor-step")
    page.get_by_role("button", name="Use a security key").click()
    expect_home(page)
    screenshot(page, "signed-in-with-the-passkey")
    assert page_problems(page) == []
