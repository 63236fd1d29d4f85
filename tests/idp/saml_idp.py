"""A real SAML 2.0 identity provider on loopback, for the single sign-on tests: pysaml2's IdP
(``saml2.server.Server``), signing with the ``xmlsec1`` program, behind a small WSGI server.

    with run_saml_idp(sp_metadata=xml, users=[...]) as idp:
        idp.entity_id, idp.sso_url, idp.certificate   # what the app is configured with
        form = complete_saml_login(authorize_url, "dana@hospital.example")
        # form.action (the app's ACS address) and form.fields (SAMLResponse, RelayState)

The provider runs in its own process (``python -m tests.idp.saml_idp``); it reads a JSON
configuration written by :func:`run_saml_idp`: the port, the key and certificate files, the
service provider's metadata file and the users (``email``, ``given_name``, ``family_name``).
Its pages:

* ``GET /metadata``: the IdP's metadata;
* ``GET /sso/redirect?SAMLRequest=...&RelayState=...`` (HTTP-Redirect binding): a sign-in form;
* ``POST /sso/login`` with ``login`` (an e-mail address) and the request: a signed response
  (assertion and message signed, RSA-SHA256) in an auto-submitting HTTP-POST form to the
  service provider's ACS, or the form again for an unknown user.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import requests

START_TIMEOUT = 30.0


def xmlsec_available() -> bool:
    return shutil.which("xmlsec1") is not None


# --- The provider process ----------------------------------------------------------------------


def _server(config: dict[str, Any]):  # type: ignore[no-untyped-def]
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.config import IdPConfig
    from saml2.saml import AUTHN_PASSWORD_PROTECTED as PASSWORD_PROTECTED
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
    from saml2.server import Server
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    base = f"http://127.0.0.1:{config['port']}"
    idp_config = IdPConfig()
    idp_config.load(
        {
            "entityid": f"{base}/metadata",
            "service": {
                "idp": {
                    "name": "Test identity provider",
                    "endpoints": {
                        "single_sign_on_service": [(f"{base}/sso/redirect", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": False,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 15},
                            "name_form": NAME_FORMAT_URI,
                            "attribute_restrictions": None,
                        }
                    },
                }
            },
            "key_file": config["key_file"],
            "cert_file": config["cert_file"],
            "metadata": {"local": [config["sp_metadata_file"]]},
            "xmlsec_binary": shutil.which("xmlsec1"),
        }
    )
    server = Server(config=idp_config)
    users = {u["email"].lower(): u for u in config["users"]}

    def page(status: str, body: str, start_response):  # type: ignore[no-untyped-def]
        start_response(status, [("Content-Type", "text/html; charset=utf-8")])
        return [f"<!doctype html><html><body>{body}</body></html>".encode()]

    def login_form(saml_request: str, relay_state: str, message: str = "") -> str:
        alert = f'<p role="alert">{html.escape(message)}</p>' if message else ""
        return (
            f"<h1>Test SAML identity provider</h1>{alert}"
            '<form method="post" action="/sso/login">'
            f'<input type="hidden" name="SAMLRequest" value="{html.escape(saml_request)}">'
            f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
            '<label>E-mail <input name="login"></label><button type="submit">Sign in</button>'
            "</form>"
        )

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/metadata":
            from saml2.metadata import create_metadata_string

            xml = create_metadata_string(None, config=idp_config, valid=24)
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [xml if isinstance(xml, bytes) else xml.encode()]
        if path == "/sso/redirect" and method == "GET":
            query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            try:
                server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
            except Exception as exc:  # noqa: BLE001 - shown, like a real provider's error page
                return page(
                    "400 Bad Request",
                    f"<p>bad request: {html.escape(str(exc))}</p>",
                    start_response,
                )
            form = login_form(query["SAMLRequest"], query.get("RelayState", ""))
            return page("200 OK", form, start_response)
        if path == "/sso/login" and method == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            posted = {
                k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()
            }
            request = server.parse_authn_request(posted["SAMLRequest"], BINDING_HTTP_REDIRECT)
            relay_state = posted.get("RelayState", "")
            user = users.get(posted.get("login", "").strip().lower())
            if user is None:
                form = login_form(posted["SAMLRequest"], relay_state, "Unknown user")
                return page("200 OK", form, start_response)
            identity = {
                "mail": [user["email"]],
                "givenName": [user.get("given_name", "")],
                "sn": [user.get("family_name", "")],
            }
            args = server.response_args(request.message, [BINDING_HTTP_POST])
            args.pop("binding", None)
            response = server.create_authn_response(
                identity,
                userid=user["email"],
                name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=user["email"]),
                authn={"class_ref": PASSWORD_PROTECTED},
                sign_response=True,
                sign_assertion=True,
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
                **args,
            )
            http_args = server.apply_binding(
                BINDING_HTTP_POST, str(response), args["destination"], relay_state, response=True
            )
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [
                http_args["data"].encode()
                if isinstance(http_args["data"], str)
                else http_args["data"]
            ]
        return page("404 Not Found", "<p>not found</p>", start_response)

    return app


def main() -> None:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    config = json.loads(Path(sys.argv[1]).read_text())
    application = _server(config)

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            print(format % args, flush=True)

    httpd = make_server("127.0.0.1", config["port"], application, handler_class=Quiet)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print(f"READY http://127.0.0.1:{config['port']}", flush=True)
    httpd.serve_forever()


# --- Starting it from a test -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_key_pair(directory: Path, name: str) -> tuple[Path, Path, str]:
    """A fresh RSA key and self-signed certificate: (key file, certificate file, the
    certificate's base64 body as SAML configurations take it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file.write_bytes(pem)
    body = "".join(line for line in pem.decode().splitlines() if "CERTIFICATE" not in line)
    return key_file, cert_file, body


@dataclass
class SamlIdp:
    port: int
    workdir: Path
    certificate: str
    process: subprocess.Popen[bytes] | None = None
    base: str = field(init=False)

    def __post_init__(self) -> None:
        self.base = f"http://127.0.0.1:{self.port}"

    @property
    def entity_id(self) -> str:
        return f"{self.base}/metadata"

    @property
    def sso_url(self) -> str:
        return f"{self.base}/sso/redirect"

    def start(self) -> None:
        log = open(self.workdir / "idp.log", "ab")  # noqa: SIM115 - kept open by the process
        root = Path(__file__).resolve().parent.parent.parent
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.idp.saml_idp", str(self.workdir / "config.json")],
            cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(root)},
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SAML IdP exited: {(self.workdir / 'idp.log').read_text()}")
            try:
                if requests.get(self.entity_id, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"SAML IdP did not start: {(self.workdir / 'idp.log').read_text()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def prepare_saml_idp(workdir: Path) -> SamlIdp:
    """Choose the port and make the signing key: what the app's configuration needs before
    the provider (which needs the app's metadata) can start."""
    key_file, cert_file, body = make_key_pair(workdir, "idp")
    idp = SamlIdp(port=_free_port(), workdir=workdir, certificate=body)
    (workdir / "keys.json").write_text(json.dumps({"key": str(key_file), "cert": str(cert_file)}))
    return idp


@contextmanager
def run_saml_idp(
    idp: SamlIdp, *, sp_metadata: str, users: list[dict[str, str]]
) -> Iterator[SamlIdp]:
    keys = json.loads((idp.workdir / "keys.json").read_text())
    metadata_file = idp.workdir / "sp.xml"
    metadata_file.write_text(sp_metadata)
    config = {
        "port": idp.port, "key_file": keys["key"], "cert_file": keys["cert"],
        "sp_metadata_file": str(metadata_file), "users": users,
    }  # fmt: skip
    (idp.workdir / "config.json").write_text(json.dumps(config))
    idp.start()
    try:
        yield idp
    finally:
        idp.stop()


def temporary_directory() -> Path:
    return Path(tempfile.mkdtemp(prefix="ccdg-saml-"))


# --- Driving the browser side ------------------------------------------------------------------


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.action = found.get("action") or ""
        elif tag == "input" and found.get("name"):
            self.fields[found["name"] or ""] = found.get("value") or ""


@dataclass
class PostedForm:
    action: str
    fields: dict[str, str]


def complete_saml_login(authorize_url: str, login: str) -> PostedForm:
    """Open the provider's sign-in page, sign in as ``login``; the auto-submitting form the
    provider answers with (its action is the app's ACS address)."""
    with requests.Session() as http:
        first = http.get(authorize_url, timeout=10)
        first.raise_for_status()
        form = _Form()
        form.feed(first.text)
        answer = http.post(
            f"{authorize_url.split('/sso/')[0]}/sso/login", data={**form.fields, "login": login},
            timeout=10,
        )  # fmt: skip
        answer.raise_for_status()
        if "Unknown user" in answer.text:
            raise LookupError(f"the test IdP does not know {login!r}")
        posted = _Form()
        posted.feed(answer.text)
        return PostedForm(action=posted.action, fields=posted.fields)


if __name__ == "__main__":
    main()
