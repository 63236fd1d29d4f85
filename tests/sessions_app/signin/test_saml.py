"""Single sign-on through SAML 2.0 against a real identity provider (pysaml2's IdP on
loopback, signing with xmlsec1: tests/idp/saml_idp.py): the app is configured with the IdP's
entity id, sign-in address and certificate, the IdP with the app's metadata. The Django test
client is the browser. Skipped without the xmlsec1 program unless ``CCDG_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest
from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from ccdg.models import AuditEvent
from ccdg.settings import saml_app
from sessions_app.models import Clinician, ProgramRole
from tests.factories import ClinicianFactory
from tests.idp.saml_idp import (
    complete_saml_login,
    make_key_pair,
    prepare_saml_idp,
    run_saml_idp,
    temporary_directory,
    xmlsec_available,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
ORG = "hospital"
USERS = [
    {"email": "dana.roster@hospital.example", "given_name": "Dana", "family_name": "Roster"},
    {"email": "stranger@hospital.example", "given_name": "Sam", "family_name": "Stranger"},
]


def _require_xmlsec() -> None:
    if xmlsec_available():
        return
    message = "xmlsec1 not found: the test SAML identity provider signs with it (apt xmlsec1)"
    if os.environ.get("CCDG_REQUIRE_SERVICES") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def fresh_limits():
    axes_reset()
    cache.clear()


def use(settings, app: dict) -> None:
    # The test client's host is "testserver", a single-label name python3-saml refuses
    # in addresses unless told otherwise.
    app["settings"]["advanced"]["allow_single_label_domains"] = True
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "saml": {"provider_class": "ccdg.accounts.saml.SiteSAMLProvider", "APPS": [app]},
    }


def configure(settings, idp, *, certificate=None, **options) -> None:
    app = saml_app(
        {"entity_id": idp.entity_id, "sso_url": idp.sso_url,
         "x509cert": certificate or idp.certificate},
        organization=ORG, **options,
    )  # fmt: skip
    use(settings, app)
    settings.SSO_EMAILS_VERIFIED = True  # the IdP sends no email_verified attribute
    settings.SSO_ALLOWED_DOMAINS = []


@pytest.fixture
def client(client):
    # A browser sends Host; python3-saml reads it (Django's test client sends none by default).
    client.defaults["HTTP_HOST"] = "testserver"
    return client


@pytest.fixture
def idp(settings, client):
    """The IdP, started with the app's metadata (the app configured for it first)."""
    _require_xmlsec()
    workdir = temporary_directory()
    prepared = prepare_saml_idp(workdir)
    configure(settings, prepared)
    metadata = client.get(reverse("saml_metadata", kwargs={"organization_slug": ORG}))
    assert metadata.status_code == 200, metadata.content[:300]
    with run_saml_idp(prepared, sp_metadata=metadata.content.decode(), users=USERS) as running:
        yield running
    shutil.rmtree(workdir, ignore_errors=True)


def start(client) -> str:
    response = client.post(reverse("saml_login", kwargs={"organization_slug": ORG}))
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def post_to_app(client, form):
    """The browser submits the IdP's auto-posting form to the app's ACS, then follows."""
    path = urlsplit(form.action).path
    assert path == reverse("saml_acs", kwargs={"organization_slug": ORG})
    answered = client.post(path, form.fields)
    assert answered.status_code == 302
    return client.get(answered["Location"])


def signed_in_as(client):
    response = client.get(reverse("home"))
    return response.wsgi_request.user if response.status_code == 200 else None


def audited(action: str) -> list[dict]:
    return [e.data for e in AuditEvent.objects.filter(action=action).order_by("pk")]


def test_a_roster_clinician_signs_in_through_saml(client, idp, program):
    entry = ClinicianFactory(program=program, email="dana.roster@hospital.example")

    response = post_to_app(
        client, complete_saml_login(start(client), "dana.roster@hospital.example")
    )

    assert response.status_code == 302
    user = signed_in_as(client)
    assert user is not None
    entry.refresh_from_db()
    assert entry.user == user and entry.status == Clinician.Status.ACTIVE
    assert not ProgramRole.objects.filter(user=user).exists()
    assert audited("signin")[-1] == {"method": "socialaccount", "provider": "saml"}


def test_an_unknown_person_is_refused(client, idp, program):
    response = post_to_app(client, complete_saml_login(start(client), "stranger@hospital.example"))

    assert response.status_code == 403
    assert signed_in_as(client) is None
    assert [e["reason"] for e in audited("signin.sso_refused")] == ["unknown"]


def test_a_replayed_assertion_is_refused(client, idp, program):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    form = complete_saml_login(start(client), "dana.roster@hospital.example")
    post_to_app(client, form)
    assert signed_in_as(client) is not None
    client.post(reverse("account_logout"))

    # The same response, posted again (from this browser, then from another one).
    again = post_to_app(client, form)
    client.logout()
    from django.test import Client

    elsewhere = Client(HTTP_HOST="testserver")
    from_elsewhere = post_to_app(elsewhere, form)

    assert again.status_code == 403 and from_elsewhere.status_code == 403
    assert signed_in_as(client) is None and signed_in_as(elsewhere) is None
    assert [e["reason"] for e in audited("signin.sso_refused")] == ["state", "state"]


def test_an_assertion_signed_with_another_key_is_refused(client, idp, program, settings):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    _, _, other = make_key_pair(temporary_directory(), "not-the-idp")
    configure(settings, idp, certificate=other)

    response = post_to_app(
        client, complete_saml_login(start(client), "dana.roster@hospital.example")
    )

    assert response.status_code in (400, 401, 403)
    assert signed_in_as(client) is None
    assert len(audited("signin.sso_failed")) == 1


def test_an_assertion_for_another_audience_is_refused(client, idp, program, settings):
    """The IdP addresses its assertion to the app's metadata entity id; an app that calls
    itself something else (another service provider) must not accept it."""
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    form = complete_saml_login(start(client), "dana.roster@hospital.example")
    configure(settings, idp, sp_entity_id="https://another-app.example/saml")

    response = post_to_app(client, form)

    assert response.status_code in (400, 401, 403)
    assert signed_in_as(client) is None
    assert len(audited("signin.sso_failed")) == 1


def test_an_identity_provider_that_is_down_gets_a_page(client, idp, program, settings):
    app = saml_app(
        {"entity_id": idp.entity_id, "metadata_url": f"{idp.base}/metadata"}, organization=ORG
    )
    use(settings, app)
    idp.stop()

    response = client.post(reverse("saml_login", kwargs={"organization_slug": ORG}))

    assert response.status_code in (400, 401, 403)
    assert signed_in_as(client) is None
    assert len(audited("signin.sso_failed")) == 1


def test_the_identity_providers_metadata_address_works_too(client, idp, program, settings):
    ClinicianFactory(program=program, email="dana.roster@hospital.example")
    app = saml_app(
        {"entity_id": idp.entity_id, "metadata_url": f"{idp.base}/metadata"}, organization=ORG
    )
    use(settings, app)

    post_to_app(client, complete_saml_login(start(client), "dana.roster@hospital.example"))

    assert signed_in_as(client) is not None
