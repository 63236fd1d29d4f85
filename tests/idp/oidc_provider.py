"""Start and drive the test OpenID Connect provider (``tests/idp/oidc/server.mjs``).

The provider is a real ``oidc-provider`` (Node.js) process on a free loopback port::

    with run_oidc_provider(clients=[CLIENT], users=[ALICE]) as provider:
        url = f"{provider.issuer}/auth?" + urlencode({...})   # or the app's login redirect
        callback = complete_login(url, "alice@example.org")  # the relying party's callback URL
        ...
        provider.stop()   # "the provider is down"
        provider.start()  # back on the same port (same signing key, but sessions and codes lost)

Clients are OAuth client metadata dicts: ``client_id``, ``client_secret``, ``redirect_uris``
(list) and optionally ``post_logout_redirect_uris`` (list) and ``token_endpoint_auth_method``
(``client_secret_basic``, the default; ``client_secret_post`` is accepted from either kind).
Users are dicts with ``sub``, ``email``, ``email_verified``, ``given_name``, ``family_name``,
``amr`` (list) and optionally ``acr``. See ``tests/idp/oidc/README.md``.

Standard library and ``requests`` only, so any test can import it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

PACKAGE_DIR = Path(__file__).resolve().parent / "oidc"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
INSTALL_TIMEOUT = 300.0
MAX_STEPS = 20  # redirects in a row, and pages with a form


class LoginError(Exception):
    """The provider did not redirect back to the relying party (unknown user, bad request...).

    ``response`` is the provider's last response; its page text is in the message.
    """

    def __init__(self, message: str, response: requests.Response | None = None):
        super().__init__(message)
        self.response = response


# --- Installing --------------------------------------------------------------------------------
def node_available() -> bool:
    """Whether ``node`` and ``npm`` are on PATH."""
    return shutil.which("node") is not None and shutil.which("npm") is not None


def ensure_installed() -> None:
    """Run ``npm ci`` in ``tests/idp/oidc`` when node_modules is missing or out of date."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        raise RuntimeError(
            f"{missing} not found on PATH: the test OpenID Connect provider needs Node.js 20+ "
            "and npm"
        )
    lock = PACKAGE_DIR / "package-lock.json"
    # A lock file outside the repository, so parallel test processes install only once.
    with open(Path(tempfile.gettempdir()) / "ccdg-oidc-npm.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _installed_at() >= lock.stat().st_mtime:
            return
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=PACKAGE_DIR,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"npm ci in {PACKAGE_DIR} took over {INSTALL_TIMEOUT:.0f} s"
            ) from exc
        if result.returncode != 0:
            output = _last_lines(result.stdout + result.stderr)
            raise RuntimeError(f"npm ci in {PACKAGE_DIR} exited {result.returncode}:\n{output}")


def _installed_at() -> float:
    """When node_modules was last installed (npm rewrites its hidden lock file), or 0."""
    for path in (PACKAGE_DIR / "node_modules" / ".package-lock.json", PACKAGE_DIR / "node_modules"):
        if path.exists():
            return path.stat().st_mtime
    return 0.0


# --- Running -----------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _last_lines(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def _plain_session() -> requests.Session:
    """A session that ignores proxy settings from the environment (loopback only)."""
    session = requests.Session()
    session.trust_env = False
    return session


class Provider:
    """A running (or stopped) provider process; see ``run_oidc_provider``."""

    def __init__(self, port: int, workdir: Path, env: dict[str, str] | None = None):
        self.port = port
        self._env = {**os.environ, **(env or {})}
        self.issuer = f"http://127.0.0.1:{port}"
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self._workdir = workdir
        self._log = workdir / "provider.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def output(self, lines: int = 30) -> str:
        """The last lines the provider printed (all starts and stops of this provider)."""
        try:
            return _last_lines(self._log.read_text(errors="replace"), lines)
        except OSError:
            return "(no output)"

    def start(self) -> None:
        """Start the process (same port, same signing key) and wait until discovery answers."""
        if self.running:
            return
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node not found on PATH")
        work = self._workdir
        command = [node, "server.mjs", "--port", str(self.port)]
        command += ["--clients", str(work / "clients.json"), "--users", str(work / "users.json")]
        command += ["--keys", str(work / "jwks.json")]
        with open(self._log, "ab") as log:
            self._proc = subprocess.Popen(
                command,
                cwd=PACKAGE_DIR,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends it and its children
            )
        deadline = time.monotonic() + START_TIMEOUT
        with _plain_session() as http:
            while True:
                if self._proc.poll() is not None:
                    code = self._proc.returncode
                    self._proc = None
                    raise RuntimeError(
                        f"OpenID Connect provider exited {code} at start:\n{self.output()}"
                    )
                try:
                    answer = http.get(self.discovery_url, timeout=2)
                    if answer.status_code == 200 and answer.json().get("issuer") == self.issuer:
                        return
                except (requests.RequestException, ValueError):
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"OpenID Connect provider did not answer {self.discovery_url} within "
                        f"{START_TIMEOUT:.0f} s:\n{self.output()}"
                    )
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the process and its children (a no-op when stopped)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for sig, timeout in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        # Anything the process left behind in its group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def jwks(self) -> dict[str, Any]:
        """The provider's published JSON Web Key Set."""
        with _plain_session() as http:
            response = http.get(f"{self.issuer}/jwks", timeout=10)
            response.raise_for_status()
            keys: dict[str, Any] = response.json()
            return keys


def _check_config(clients: list[dict[str, Any]], users: list[dict[str, Any]]) -> None:
    if not clients or not users:
        raise ValueError("run_oidc_provider needs at least one client and one user")
    for client in clients:
        missing = {"client_id", "client_secret", "redirect_uris"} - client.keys()
        if missing:
            raise ValueError(f"client {client.get('client_id')!r} lacks {sorted(missing)}")
        if not isinstance(client["redirect_uris"], list):
            raise ValueError("a client's redirect_uris must be a list")
    for user in users:
        if not isinstance(user.get("sub"), str) or not user["sub"]:
            raise ValueError(f"user {user!r} needs a 'sub' string")
        if not isinstance(user.get("amr", []), list):
            raise ValueError(f"user {user['sub']!r}: amr must be a list")


@contextmanager
def run_oidc_provider(
    *,
    clients: list[dict[str, Any]],
    users: list[dict[str, Any]],
    port: int | None = None,
    clock_offset_seconds: int = 0,
    id_token_ttl: int = 3600,
) -> Iterator[Provider]:
    """Start the provider on ``port`` (a free one by default); stop it on the way out. With
    ``clock_offset_seconds`` its clock is off by that much (negative: behind); ID tokens live
    ``id_token_ttl`` seconds."""
    env = {
        "OIDC_CLOCK_OFFSET_SECONDS": str(clock_offset_seconds),
        "OIDC_ID_TOKEN_TTL": str(id_token_ttl),
    }
    _check_config(clients, users)
    ensure_installed()
    workdir = Path(tempfile.mkdtemp(prefix="ccdg-oidc-"))
    provider: Provider | None = None
    try:
        (workdir / "clients.json").write_text(json.dumps(clients))
        (workdir / "users.json").write_text(json.dumps(users))
        # A free port can be taken between choosing it and node binding it: try another.
        for attempt in range(3):
            provider = Provider(port or free_port(), workdir, env)
            try:
                provider.start()
                break
            except RuntimeError:
                if port is not None or attempt == 2 or "EADDRINUSE" not in provider.output():
                    raise
        assert provider is not None
        yield provider
    finally:
        if provider is not None:
            provider.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# --- Driving the browser side ------------------------------------------------------------------
class _Forms(HTMLParser):
    """The forms of a page: [(action, method, {input name: value})]."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self.text: list[str] = []
        self._skip = 0  # inside <script> or <style>

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "form":
            method = attributes.get("method", "get").lower()
            self.forms.append((attributes.get("action", ""), method, {}))
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1][2][attributes["name"]] = attributes.get("value", "")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _page_text(response: requests.Response) -> str:
    """The visible text of a provider page, on one line (for error messages)."""
    parser = _Forms()
    parser.feed(response.text)
    return " ".join(" ".join(parser.text).split())[:1000]


def _post_form(response: requests.Response) -> tuple[str, dict[str, str]] | None:
    """The page's one POST form as (absolute action, fields), or None."""
    parser = _Forms()
    parser.feed(response.text)
    posts = [form for form in parser.forms if form[1] == "post"]
    if response.status_code != 200 or len(posts) != 1:
        return None
    action, _method, fields = posts[0]
    return urljoin(response.url, action), fields


def _browse(
    http: requests.Session, response: requests.Response, login: str | None
) -> tuple[str | None, requests.Response]:
    """Act like a browser on the provider's pages, from ``response`` on.

    Follows redirects within the provider, submits the forms a browser would submit by script
    (e.g. ending the previous user's session, confirming a logout), and fills in the sign-in
    form once with ``login``. Stops at the first redirect that leaves the provider and returns
    its Location; or returns None and the page where it got stuck (an error, the sign-in form
    again after an unknown user, a page without a form).
    """
    provider = _origin(response.url)
    submitted = False
    for _page in range(MAX_STEPS):  # pages with a form
        for _hop in range(MAX_STEPS):  # redirects
            if not response.is_redirect:
                break
            location = urljoin(response.url, response.headers["Location"])
            if _origin(location) != provider:
                return location, response
            response = http.get(location, allow_redirects=False, timeout=10)
        form = _post_form(response)
        if form is None:
            return None, response
        action, fields = form
        if _origin(action) != provider:
            raise LoginError(
                f"the provider posts a form to {action} instead of redirecting there "
                "(response_mode=form_post is not supported here)",
                response,
            )
        if "login" in fields:
            if login is None or submitted:
                return None, response
            fields["login"] = login
            submitted = True
        response = http.post(action, data=fields, allow_redirects=False, timeout=10)
    raise LoginError(f"more than {MAX_STEPS} steps within the provider", response)


def complete_login(
    authorize_url: str, login: str, *, session: requests.Session | None = None
) -> str:
    """Sign in as ``login`` (a user's ``sub`` or email) and return the relying party's URL.

    Follows ``authorize_url`` to the provider's sign-in form, submits it, follows the provider's
    redirects and returns the first Location outside the provider: the callback URL with
    ``code``, ``state`` and ``iss`` (or ``error`` when the request was refused). When the
    ``session`` is already signed in, that may happen without the form. Raises ``LoginError``
    when the provider does not send the browser back (unknown user, unknown client, bad
    redirect_uri...). Pass ``session`` to keep the provider's cookies, e.g. to sign out later
    with ``complete_logout``.
    """
    http = session if session is not None else _plain_session()
    first = http.get(authorize_url, allow_redirects=False, timeout=10)
    leaving, response = _browse(http, first, login)
    if leaving is not None:
        return leaving
    if "Unknown user" in response.text:
        reason = "unknown user"
    else:
        reason = f"HTTP {response.status_code}: {_page_text(response)}"
    raise LoginError(f"sign-in as {login!r} did not return to the client ({reason})", response)


def complete_logout(end_session_url: str, *, session: requests.Session | None = None) -> str:
    """Follow an RP-initiated logout URL, confirm it, return where the provider sends us.

    The provider's confirmation page submits itself in a browser; here we post its form. The
    result is the ``post_logout_redirect_uri`` (with ``state``) when the request named a
    registered one, else the URL of the provider's own "Signed out" page. Use the
    ``session`` that signed in to end that provider session.
    """
    http = session if session is not None else _plain_session()
    first = http.get(end_session_url, allow_redirects=False, timeout=10)
    leaving, response = _browse(http, first, None)
    if leaving is not None:
        return leaving
    if response.status_code != 200 or _post_form(response) is not None:
        raise LoginError(
            f"sign-out did not finish (HTTP {response.status_code}): {_page_text(response)}",
            response,
        )
    return response.url
