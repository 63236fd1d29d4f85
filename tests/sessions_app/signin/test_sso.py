"""Single sign-on against a real OpenID Connect provider (oidc-provider on loopback,
tests/idp): who comes in, as whom, and every bad answer refused with a page and an audit entry.

The Django test client is the browser: the app sends it to the provider, the test signs in on
the provider's form (tests.idp.oidc_provider.complete_login), and the client follows the
provider back to the app's callback, where the app exchanges the code with the provider over
HTTP and checks the ID token. Skipped without Node.js unless ``CCDG_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from ccdg.models import AuditEvent
from ccdg.settings import oidc_app
from sessions_app.models import Clinician, ProgramRole
from tests.factories import ClinicianFactory, FacilitatorFactory, ProgramRoleFactory, UserFactory
from tests.idp.oidc_provider import (
    complete_login,
    complete_logout,
    node_available,
    run_oidc_provider,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
CALLBACK = "http://testserver/accounts/sso/hospital/login/callback/"
SECRET = "a-long-client-secret-for-the-tests-0123456789"
SIGN_IN_PAGE = "http://testserver/accounts/login/"
CLIENTS = [
    {
        "client_id": "ccdg",
        "client_secret": SECRET,
        "redirect_uris": [CALLBACK],
        "post_logout_redirect_uris": [SIGN_IN_PAGE],
    },
    # Another application of the same hospital, with the same callback registered.
    {"client_id": "other-app", "client_secret": SECRET + "x", "redirect_uris": [CALLBACK]},
]


def person(sub: str, email: str, *, verified: bool = True, amr=("pwd",), acr=None) -> dict:
    found = {"sub": sub, "email": email, "email_verified": verified, "given_name": sub.title(),
             "family_name": "Tester", "amr": list(amr)}  # fmt: skip
    return {**found, "acr": acr} if acr else found


USERS = [
    person("dana", "dana.roster@hospital.example"),
    person("carol", "carol.coord@hospital.example", amr=("pwd", "mfa")),
    person("stranger", "stranger@hospital.example"),
    person("unverified", "unverified@hospital.example", verified=False),
    person("outsider", "outsider@elsewhere.example"),
    person("fran", "fran.facilitator@hospital.example", acr="urn:hospital:loa:2"),
]


def _require_node() -> None:
    if node_available():
        return
    message = "node/npm not found: the test OpenID Connect provider (tests/idp) needs Node.js"
    if os.environ.get("CCDG_REQUIRE_SERVICES") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def provider():
    _require_node()
    with run_oidc_provider(clients=CLIENTS, users=USERS) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_limits():
    axes_reset()
    cache.clear()


@pytest.fixture
def sso(settings, provider):
    """The site configured for the provider (as CCDG_OIDC_* would), returning the settings."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        "ccdg_oidc": {"APPS": [oidc_app(provider.issuer, "ccdg", SECRET)]}
    }
    settings.SSO_ALLOWED_DOMAINS = []
    settings.SSO_TRUST_MFA = False
    return settings


def start(client):
    """Press the sign-in button: the provider's authorization URL."""
    response = client.post(reverse("ccdg_oidc_login", kwargs={"provider_id": "hospital"}))
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def come_back(client, callback_url: str):
    parts = urlsplit(callback_url)
    assert parts.path == urlsplit(CALLBACK).path
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_with_sso(client, login: str, *, tamper=None, browser=None):
    """The whole round trip as ``login``; ``tamper`` may change the authorization request's
    parameters on the way (a man in the middle of the browser's redirect)."""
    url = start(client)
    if tamper is not None:
        parts = urlsplit(url)
        params = tamper(dict(parse_qsl(parts.query)))
        url = urlunsplit(parts._replace(query=urlencode(params)))
    return come_back(client, complete_login(url, login, session=browser))


def signed_in_as(client):
    response = client.get(reverse("home"))
    if response.status_code != 200:
        return None
    return response.wsgi_request.user


def audited(action: str) -> list[dict]:
    return [e.data for e in AuditEvent.objects.filter(action=action).order_by("pk")]


# --- Who comes in -----------------------------------------------------------------------------


def test_a_clinician_on_the_roster_signs_in_and_gets_an_account_without_a_role(
    client, sso, program
):
    entry = ClinicianFactory(program=program, email="Dana.Roster@hospital.example")

    response = sign_in_with_sso(client, "dana")

    assert response.status_code == 302
    user = signed_in_as(client)
    assert user is not None and user.email.lower() == "dana.roster@hospital.example"
    entry.refresh_from_db()
    assert entry.user == user and entry.status == Clinician.Status.ACTIVE
    assert not user.has_usable_password()
    assert not ProgramRole.objects.filter(user=user).exists()
    assert not (user.is_staff or user.is_superuser)
    assert SocialAccount.objects.get(user=user).uid == "dana"
    assert audited("account.created_at_sso")[0]["clinicians"] == [entry.pk]


def test_an_existing_account_is_matched_by_its_address_then_by_its_link(client, sso, program):
    carol = UserFactory(username="carol", email="carol.coord@hospital.example")
    ProgramRoleFactory(program=program, user=carol, role=ProgramRole.Role.COORDINATOR)

    sign_in_with_sso(client, "carol")
    assert signed_in_as(client) == carol
    client.post(reverse("account_logout"))
    assert signed_in_as(client) is None
    # The address changes at the hospital; the link made at the first sign-in still holds.
    User.objects.filter(pk=carol.pk).update(email="carol.c@hospital.example")
    sign_in_with_sso(client, "carol")

    assert signed_in_as(client) == carol
    assert User.objects.count() == 1
    assert ProgramRole.objects.filter(user=carol).count() == 1


def test_a_facilitator_not_on_the_roster_is_known_by_the_facilitator_entry(client, sso, program):
    entry = FacilitatorFactory(program=program, email="fran.facilitator@hospital.example")

    sign_in_with_sso(client, "fran")

    user = signed_in_as(client)
    entry.refresh_from_db()
    assert user is not None and entry.user == user


# --- Who is refused: a page, an audit entry, nobody signed in ----------------------------------


def _refused(client, response, reason: str, text: str) -> None:
    assert response.status_code == 403
    assert text in response.content.decode()
    assert signed_in_as(client) is None
    assert [e["reason"] for e in audited("signin.sso_refused")] == [reason]


def test_an_unknown_person_is_refused(client, sso, program):
    response = sign_in_with_sso(client, "stranger")

    _refused(client, response, "unknown", "could not find you on a program")
    assert not User.objects.filter(email__iexact="stranger@hospital.example").exists()


def test_an_unverified_address_is_refused_even_on_the_roster(client, sso, program):
    ClinicianFactory(program=program, email="unverified@hospital.example")

    response = sign_in_with_sso(client, "unverified")

    _refused(client, response, "unverified", "has not verified your e-mail address")
    assert not User.objects.exists()


def test_a_domain_the_site_does_not_allow_is_refused(client, sso, program):
    sso.SSO_ALLOWED_DOMAINS = ["hospital.example"]
    ClinicianFactory(program=program, email="outsider@elsewhere.example")

    response = sign_in_with_sso(client, "outsider")

    _refused(client, response, "domain", "cannot sign in here")
    assert audited("signin.sso_refused")[0]["domain"] == "elsewhere.example"


def test_a_deactivated_account_is_refused(client, sso, program):
    UserFactory(username="carol", email="carol.coord@hospital.example", is_active=False)

    response = sign_in_with_sso(client, "carol")

    _refused(client, response, "unknown", "could not find you")


def test_an_id_token_that_does_not_carry_back_the_nonce_is_refused(client, sso, program):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")

    response = sign_in_with_sso(
        client, "dana", tamper=lambda params: {**params, "nonce": "chosen-by-an-attacker"}
    )

    _refused(client, response, "nonce", "did not belong to this sign-in")


# --- Bad tokens and a provider that is down: the exchange fails -------------------------------


def _failed(client, response) -> dict:
    assert response.status_code in (400, 401, 403), response.status_code
    assert "sign" in response.content.decode().lower()
    assert signed_in_as(client) is None
    failures = audited("signin.sso_failed")
    assert len(failures) == 1
    return failures[0]


def test_a_code_issued_to_another_application_is_refused(client, sso, program):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")

    response = sign_in_with_sso(
        client, "dana", tamper=lambda params: {**params, "client_id": "other-app"}
    )

    assert _failed(client, response)["provider"] == "hospital"


def test_an_id_token_signed_with_a_key_the_site_does_not_trust_is_refused(
    client, sso, program, provider
):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    with run_oidc_provider(clients=CLIENTS, users=USERS) as impostor:
        # The site is told to trust the other provider's keys: the real provider's signature
        # does not verify against them.
        app = oidc_app(provider.issuer, "ccdg", SECRET)
        app["settings"]["openid_configuration_overrides"] = {"jwks_uri": f"{impostor.issuer}/jwks"}
        sso.SOCIALACCOUNT_PROVIDERS = {"ccdg_oidc": {"APPS": [app]}}

        response = sign_in_with_sso(client, "dana")

    assert _failed(client, response)["exception"] == "OAuth2Error"


def test_an_id_token_from_another_issuer_is_refused(client, sso, program, provider):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    app = oidc_app(provider.issuer, "ccdg", SECRET)
    app["settings"]["openid_configuration_overrides"] = {"issuer": "https://login.example.org/"}
    sso.SOCIALACCOUNT_PROVIDERS = {"ccdg_oidc": {"APPS": [app]}}

    response = sign_in_with_sso(client, "dana")

    assert _failed(client, response)["exception"] == "OAuth2Error"


def test_an_id_token_for_another_audience_is_refused(client, sso, program, provider):
    """The site believes it is client "other-app" but the code was issued to "ccdg": the
    provider refuses the exchange (the code belongs to another client)."""
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    sso.SOCIALACCOUNT_PROVIDERS = {
        "ccdg_oidc": {"APPS": [oidc_app(provider.issuer, "other-app", SECRET + "x")]}
    }

    response = sign_in_with_sso(
        client, "dana", tamper=lambda params: {**params, "client_id": "ccdg"}
    )

    _failed(client, response)


def test_an_expired_id_token_is_refused(client, sso, program):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    # A provider whose clock is a minute behind issues ten-second tokens that expired before
    # they arrive.
    with run_oidc_provider(
        clients=CLIENTS, users=USERS, clock_offset_seconds=-60, id_token_ttl=10
    ) as late:
        sso.SOCIALACCOUNT_PROVIDERS = {
            "ccdg_oidc": {"APPS": [oidc_app(late.issuer, "ccdg", SECRET)]}
        }

        response = sign_in_with_sso(client, "dana")

    assert _failed(client, response)["exception"] == "OAuth2Error"


def test_a_provider_that_is_down_gets_a_page_not_an_error(client, sso, program):
    with run_oidc_provider(clients=CLIENTS, users=USERS) as gone:
        sso.SOCIALACCOUNT_PROVIDERS = {
            "ccdg_oidc": {"APPS": [oidc_app(gone.issuer, "ccdg", SECRET)]}
        }
        gone.stop()

        response = client.post(reverse("ccdg_oidc_login", kwargs={"provider_id": "hospital"}))

    assert _failed(client, response)["exception"] == "ConnectionError"


def test_a_provider_that_goes_down_during_the_sign_in_gets_a_page(client, sso, program):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    with run_oidc_provider(clients=CLIENTS, users=USERS) as failing:
        sso.SOCIALACCOUNT_PROVIDERS = {
            "ccdg_oidc": {"APPS": [oidc_app(failing.issuer, "ccdg", SECRET)]}
        }
        callback = complete_login(start(client), "dana")
        failing.stop()

        response = come_back(client, callback)

    assert _failed(client, response)["exception"] == "ConnectionError"


def test_a_sign_in_cancelled_at_the_provider_is_audited(client, sso):
    url = start(client)
    state = dict(parse_qsl(urlsplit(url).query))["state"]

    response = client.get(
        reverse("ccdg_oidc_callback", kwargs={"provider_id": "hospital"}),
        {"error": "access_denied", "state": state},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("socialaccount_login_cancelled")
    assert signed_in_as(client) is None
    assert audited("signin.sso_failed")[0]["error"] == "cancelled"


# --- The second factor: asked once, by whoever the site trusts ---------------------------------


@pytest.fixture
def coordinator_carol(program):
    carol = UserFactory(username="carol", email="carol.coord@hospital.example")
    ProgramRoleFactory(program=program, user=carol, role=ProgramRole.Role.COORDINATOR)
    return carol


def test_a_provider_trusted_for_mfa_spares_the_apps_own_second_factor(
    client, sso, coordinator_carol
):
    sso.MFA_REQUIRED = True
    sso.SSO_TRUST_MFA = True

    sign_in_with_sso(client, "carol")  # amr: pwd, mfa

    assert signed_in_as(client) == coordinator_carol
    assert not Authenticator.objects.filter(user=coordinator_carol).exists()


def test_an_acr_the_site_names_counts_as_a_second_factor(client, sso, program):
    sso.MFA_REQUIRED = True
    sso.SSO_TRUST_MFA = True
    sso.SSO_MFA_ACR = ["urn:hospital:loa:2"]
    fran = UserFactory(username="fran", email="fran.facilitator@hospital.example")
    ProgramRoleFactory(program=program, user=fran, role=ProgramRole.Role.REPORT_VIEWER)

    sign_in_with_sso(client, "fran")

    assert signed_in_as(client) == fran


@pytest.mark.parametrize("trusted", [False, True])
def test_without_an_asserted_second_factor_the_app_asks_for_its_own(client, sso, program, trusted):
    """Dana's provider says only "pwd"; trusting the provider does not change that."""
    sso.MFA_REQUIRED = True
    sso.SSO_TRUST_MFA = trusted
    dana = UserFactory(username="dana", email="dana.roster@hospital.example")
    ProgramRoleFactory(program=program, user=dana, role=ProgramRole.Role.COORDINATOR)

    sign_in_with_sso(client, "dana")

    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")


def test_a_provider_not_trusted_for_mfa_still_gets_the_apps_second_factor_asked(
    client, sso, coordinator_carol
):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(coordinator_carol, generate_totp_secret())
    sso.SSO_TRUST_MFA = False

    response = sign_in_with_sso(client, "carol")

    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert signed_in_as(client) is None


def test_a_trusted_provider_skips_the_apps_second_factor_step(client, sso, coordinator_carol):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(coordinator_carol, generate_totp_secret())
    sso.SSO_TRUST_MFA = True

    sign_in_with_sso(client, "carol")

    assert signed_in_as(client) == coordinator_carol


# --- Signing out -------------------------------------------------------------------------------


def test_signing_out_ends_the_app_session_and_offers_the_providers_sign_out(
    client, sso, program, provider
):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    browser = requests.Session()  # the provider's cookies, as a browser keeps them
    sign_in_with_sso(client, "dana", browser=browser)
    assert signed_in_as(client) is not None

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_signed_out") + "?provider=hospital"
    assert signed_in_as(client) is None
    page = client.get(response["Location"])
    link = page.context["provider_sign_out"]
    assert link.startswith(
        f"{sso.SOCIALACCOUNT_PROVIDERS['ccdg_oidc']['APPS'][0]['settings']['server_url']}/session/end?"
    )
    # The provider ends its own session and sends the person back to the sign-in page.
    assert complete_logout(link, session=browser).startswith(SIGN_IN_PAGE)
    audit = audited("signin")
    assert audit[0] == {"method": "socialaccount", "provider": "hospital"}


def test_signing_out_of_a_password_session_offers_no_provider_sign_out(client, sso):
    from tests.factories import PASSWORD

    UserFactory(username="pat")
    client.post(reverse("account_login"), {"login": "pat", "password": PASSWORD})

    response = client.post(reverse("account_logout"))

    assert response["Location"] == reverse("account_login")


def test_the_signed_out_page_offers_nothing_for_an_unknown_provider(client, sso):
    page = client.get(reverse("account_signed_out"), {"provider": "https://evil.example"})

    assert page.status_code == 200
    assert page.context["provider_sign_out"] is None


# --- Local passwords off: single sign-on for everyone but the break-glass account --------------


def test_with_local_passwords_off_only_the_break_glass_staff_account_uses_a_password(
    client, sso, program
):
    from tests.factories import PASSWORD

    sso.LOCAL_PASSWORDS = False
    carol = UserFactory(username="carol")
    ProgramRoleFactory(program=program, user=carol, role=ProgramRole.Role.COORDINATOR)
    UserFactory(username="emergency", is_staff=True)
    UserFactory(username="not-staff-but-listed")
    sso.BREAK_GLASS_USERS = ["emergency", "not-staff-but-listed"]

    page = client.get(reverse("account_login"))
    assert "Sign in with your organisation" in page.content.decode()
    assert "Emergency access" in page.content.decode()

    refused = client.post(reverse("account_login"), {"login": "carol", "password": PASSWORD})
    assert refused.status_code == 200
    assert "single sign-on" in refused.content.decode()
    assert signed_in_as(client) is None
    listed = client.post(
        reverse("account_login"), {"login": "not-staff-but-listed", "password": PASSWORD}
    )
    assert listed.status_code == 200 and signed_in_as(client) is None
    assert len(audited("signin.password_refused")) == 2

    client.post(reverse("account_login"), {"login": "emergency", "password": PASSWORD})
    assert signed_in_as(client).username == "emergency"


def test_the_sign_in_page_may_send_its_form_on_to_the_provider(client, sso, provider):
    """Browsers apply the page's CSP form-action to the redirect that follows the button."""
    policy = client.get(reverse("account_login"))["Content-Security-Policy"]

    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert "'self'" in form_action and provider.issuer in form_action


def test_without_a_provider_the_sign_in_page_sends_forms_only_to_itself(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"ccdg_oidc": {"APPS": []}}
    policy = client.get(reverse("account_login"))["Content-Security-Policy"]

    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert form_action.strip() == "form-action 'self'"
