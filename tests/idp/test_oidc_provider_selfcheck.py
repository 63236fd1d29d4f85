"""The test OpenID Connect provider works end to end, checked without Django or allauth.

Skipped when Node.js is missing, unless ``CCDG_REQUIRE_SERVICES=1`` (CI), where that fails.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from tests.idp.oidc_provider import (
    LoginError,
    complete_login,
    complete_logout,
    node_available,
    run_oidc_provider,
)

CALLBACK = "http://127.0.0.1:8000/accounts/oidc/test/login/callback/"
AFTER_LOGOUT = "http://127.0.0.1:8000/signed-out/"
CLIENT = {
    "client_id": "ccdg-test",
    "client_secret": "a-long-test-secret-0123456789",
    "redirect_uris": [CALLBACK],
    "post_logout_redirect_uris": [AFTER_LOGOUT],
}
ALICE = {
    "sub": "alice",
    "email": "alice@example.org",
    "email_verified": True,
    "given_name": "Alice",
    "family_name": "Archer",
    "amr": ["pwd", "mfa"],
    "acr": "urn:ccdg:mfa",
}
BOB = {
    "sub": "bob-42",
    "email": "bob@example.org",
    "email_verified": False,
    "given_name": "Bob",
    "family_name": "Baker",
    "amr": ["pwd"],
}
NO_NODE = "node/npm not found: the test OpenID Connect provider (tests/idp/oidc) needs Node.js"


def _require_node() -> None:
    if node_available():
        return
    if os.environ.get("CCDG_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{NO_NODE} (CCDG_REQUIRE_SERVICES=1 makes this a failure)", pytrace=False)
    pytest.skip(NO_NODE)


@pytest.fixture(scope="module")
def provider():
    _require_node()
    with run_oidc_provider(clients=[CLIENT], users=[ALICE, BOB]) as running:
        yield running


@pytest.fixture(scope="module")
def discovery(provider) -> dict:
    response = requests.get(provider.discovery_url, timeout=10)
    response.raise_for_status()
    return response.json()


def _authorize_url(discovery: dict, **extra) -> tuple[str, str, str]:
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {
        "client_id": CLIENT["client_id"],
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        **extra,
    }
    return f"{discovery['authorization_endpoint']}?{urlencode(params)}", state, nonce


def _callback_params(callback: str) -> dict[str, str]:
    assert callback.split("?")[0] == CALLBACK
    return {key: values[0] for key, values in parse_qs(urlsplit(callback).query).items()}


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _token_request(discovery: dict, code: str, *, method: str, **extra) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **extra}
    auth = None
    if method == "client_secret_basic":
        auth = (CLIENT["client_id"], CLIENT["client_secret"])
    else:
        data |= {"client_id": CLIENT["client_id"], "client_secret": CLIENT["client_secret"]}
    return requests.post(discovery["token_endpoint"], data=data, auth=auth, timeout=10)


def _verified_id_token(provider, discovery: dict, id_token: str) -> dict:
    kid = jwt.get_unverified_header(id_token)["kid"]
    (jwk,) = [key for key in provider.jwks()["keys"] if key["kid"] == kid]
    return jwt.decode(
        id_token,
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=CLIENT["client_id"],
        issuer=discovery["issuer"],
    )


def test_discovery_lists_the_endpoints(provider, discovery):
    assert discovery["issuer"] == provider.issuer == f"http://127.0.0.1:{provider.port}"
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ):
        assert discovery[name].startswith(provider.issuer + "/"), name
    assert "S256" in discovery["code_challenge_methods_supported"]
    methods = discovery["token_endpoint_auth_methods_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(methods)
    assert {"email", "email_verified", "amr", "acr"} <= set(discovery["claims_supported"])


def test_the_sign_in_form_is_plain_html(discovery):
    url, _state, _nonce = _authorize_url(discovery)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert urlsplit(response.url).path.startswith("/interaction/")
    assert '<input name="login"' in response.text
    assert '<button type="submit">Sign in</button>' in response.text


def test_code_flow_with_client_secret_basic(provider, discovery):
    url, state, nonce = _authorize_url(discovery)

    params = _callback_params(complete_login(url, "alice@example.org"))

    assert params["state"] == state
    assert params["iss"] == provider.issuer
    response = _token_request(discovery, params["code"], method="client_secret_basic")
    assert response.status_code == 200, response.text
    tokens = response.json()
    claims = _verified_id_token(provider, discovery, tokens["id_token"])
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == CLIENT["client_id"]
    assert claims["nonce"] == nonce
    assert claims["sub"] == "alice"
    assert claims["email"] == "alice@example.org"
    assert claims["email_verified"] is True
    assert claims["amr"] == ["pwd", "mfa"]
    assert claims["acr"] == "urn:ccdg:mfa"
    assert claims["name"] == "Alice Archer"
    userinfo = requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).json()
    assert userinfo == {
        "sub": "alice",
        "email": "alice@example.org",
        "email_verified": True,
        "given_name": "Alice",
        "family_name": "Archer",
        "name": "Alice Archer",
    }


def test_code_flow_with_pkce_and_client_secret_post(provider, discovery):
    verifier, challenge = _pkce_pair()
    url, state, nonce = _authorize_url(
        discovery, code_challenge=challenge, code_challenge_method="S256"
    )

    params = _callback_params(complete_login(url, "bob-42"))  # by sub this time

    assert params["state"] == state
    response = _token_request(
        discovery, params["code"], method="client_secret_post", code_verifier=verifier
    )
    assert response.status_code == 200, response.text
    claims = _verified_id_token(provider, discovery, response.json()["id_token"])
    assert claims["nonce"] == nonce
    assert claims["sub"] == "bob-42"
    assert claims["email"] == "bob@example.org"
    assert claims["email_verified"] is False
    assert claims["amr"] == ["pwd"]
    assert "acr" not in claims


def test_pkce_with_the_wrong_verifier_is_refused(discovery):
    _verifier, challenge = _pkce_pair()
    url, _state, _nonce = _authorize_url(
        discovery, code_challenge=challenge, code_challenge_method="S256"
    )
    params = _callback_params(complete_login(url, "alice"))

    response = _token_request(
        discovery, params["code"], method="client_secret_basic", code_verifier="x" * 50
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused(discovery):
    url, _state, _nonce = _authorize_url(discovery)
    params = _callback_params(complete_login(url, "alice"))
    data = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": CALLBACK}

    response = requests.post(
        discovery["token_endpoint"], data=data, auth=(CLIENT["client_id"], "wrong"), timeout=10
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_an_unknown_login_gets_no_code(discovery):
    url, _state, _nonce = _authorize_url(discovery)

    with pytest.raises(LoginError, match="unknown user") as caught:
        complete_login(url, "mallory@example.org")

    response = caught.value.response
    assert response.status_code == 200
    assert not response.is_redirect
    assert "Unknown user" in response.text


def test_prompt_login_lets_someone_else_sign_in_in_the_same_browser(provider, discovery):
    session = requests.Session()
    url, _state, _nonce = _authorize_url(discovery)
    complete_login(url, "alice", session=session)
    again, _state, nonce = _authorize_url(discovery, prompt="login")

    params = _callback_params(complete_login(again, "bob@example.org", session=session))

    response = _token_request(discovery, params["code"], method="client_secret_basic")
    claims = _verified_id_token(provider, discovery, response.json()["id_token"])
    assert (claims["sub"], claims["nonce"]) == ("bob-42", nonce)


def test_rp_initiated_logout_ends_the_provider_session(discovery):
    session = requests.Session()
    url, _state, _nonce = _authorize_url(discovery)
    params = _callback_params(complete_login(url, "alice", session=session))
    id_token = _token_request(discovery, params["code"], method="client_secret_basic").json()[
        "id_token"
    ]
    # Signed in at the provider: prompt=none gets a code without the form.
    silent, _state, _nonce = _authorize_url(discovery, prompt="none")
    assert "code" in _callback_params(complete_login(silent, "unused", session=session))
    logout_params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": AFTER_LOGOUT,
        "state": "bye-123",
    }
    logout = f"{discovery['end_session_endpoint']}?{urlencode(logout_params)}"

    landed = complete_logout(logout, session=session)

    assert landed == f"{AFTER_LOGOUT}?state=bye-123"
    silent, _state, _nonce = _authorize_url(discovery, prompt="none")
    after = _callback_params(complete_login(silent, "unused", session=session))
    assert after["error"] == "login_required"


def test_stop_and_start_again_on_the_same_port():
    _require_node()
    with run_oidc_provider(clients=[CLIENT], users=[ALICE]) as provider:
        keys = provider.jwks()
        provider.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(provider.discovery_url, timeout=5)

        provider.start()

        response = requests.get(provider.discovery_url, timeout=5)
        assert response.status_code == 200
        assert response.json()["issuer"] == provider.issuer
        assert provider.jwks() == keys  # the same signing key after the restart
