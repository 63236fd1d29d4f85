"""No secret token in a log line: Django's own lines (404s, refused methods and CSRF checks,
runserver's request lines) and gunicorn's access log mask the token of every token address,
and every URL pattern with a token in its route is covered."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, SlugConverter
from gunicorn.config import Config

from ccdg.gunicorn_logging import TokenMaskingLogger
from ccdg.log_filters import mask_tokens
from sessions_app.schedule import services as schedule_services
from tests.factories import UserFactory

SECRETS = ("token", "key")


def secret_params(name: str) -> set[str]:
    """A ``token`` is always a secret; a ``key`` is one in the sign-in pages (a reset link's
    key), not in the reports' (a report's name)."""
    return set(SECRETS) if name.startswith("account_") else {"token"}


def token_routes() -> list[tuple[str, dict]]:
    """(URL name, sample kwargs) of every pattern whose route takes a secret (a ``token`` or a
    ``key``); the secret's own value is left to the test (``{"token": None}``)."""
    found = []

    def walk(patterns, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                inner = entry.namespace or ""
                walk(entry.url_patterns, f"{namespace}:{inner}".strip(":") if inner else namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                converters = dict(getattr(entry.pattern, "converters", {}))
                params = set(converters) | set(entry.pattern.regex.groupindex)
                secret = secret_params(entry.name)
                if params & secret:
                    kwargs = {}
                    for key in sorted(params):
                        converter = converters.get(key)
                        if key in secret:
                            kwargs[key] = None
                        elif isinstance(converter, IntConverter):
                            kwargs[key] = 7
                        elif isinstance(converter, SlugConverter):
                            kwargs[key] = "some-slug"
                        else:
                            kwargs[key] = "MQ"
                    name = f"{namespace}:{entry.name}" if namespace else entry.name
                    found.append((name, kwargs))

    walk(get_resolver().url_patterns, "")
    return found


def test_the_project_has_the_token_addresses_this_file_knows():
    assert {name for name, _ in token_routes()} == {
        "account_reset_password_from_key",
        "account_confirm_email",
        "sessions_app:invitation_accept",
        "sessions_app:calendar_feed",
        "outbox:unsubscribe",
        "survey_answer:answer",
    }


@pytest.mark.parametrize(("name", "kwargs"), token_routes(), ids=lambda v: str(v))
@pytest.mark.parametrize(
    "token",
    [secrets.token_hex(20), secrets.token_urlsafe(32), f"12-{secrets.token_hex(20)}", "thanksx"],
)
def test_every_token_address_is_masked(name, kwargs, token):
    path = reverse(name, kwargs={k: token if v is None else v for k, v in kwargs.items()})
    line = f'"GET {path}?page=2 HTTP/1.1" 200 "https://ccdg.example{path}"'

    masked = mask_tokens(line)

    assert token not in masked
    assert masked.count("[token]") == 2


def test_pages_without_a_secret_are_left_as_they_are():
    paths = [
        "/s/thanks/",
        "/survey/im-ccdg/spring-2027/?saved=1",
        "/accounts/invitation/",
        "/programs/im-ccdg/unsubscribe/",
        "/unsubscribe/",
        "/accounts/password/reset/key/MQ-set-password/",
        "/accounts/password/reset/key/done/",
        "/accounts/password/reset/",
        "/accounts/confirm-email/",
        "/calendar/",
        "/programs/im-ccdg/surveys/spring-2027/",
    ]
    assert [mask_tokens(p) for p in paths] == paths


def test_a_masked_path_keeps_its_shape():
    assert mask_tokens("Not Found: /s/0123abcd/extra/") == "Not Found: /s/[token]/extra/"
    assert mask_tokens("GET /calendar/Ab-_9.ics") == "GET /calendar/[token].ics"
    assert (
        mask_tokens("/accounts/password/reset/key/MQ-c5x-1234/")
        == "/accounts/password/reset/key/MQ-[token]/"
    )


def test_a_calendar_feed_404_is_logged_without_its_token(client, db, caplog):
    caplog.set_level(logging.DEBUG)
    token = schedule_services.calendar_token_create(user=UserFactory())
    feed = reverse("sessions_app:calendar_feed", kwargs={"token": token})

    assert client.get(feed).status_code == 200
    assert client.get(feed.removesuffix(".ics")).status_code == 404  # a truncated address
    assert client.get(feed + "/").status_code == 404
    assert client.post(feed).status_code == 405

    messages = [r.getMessage() for r in caplog.records]
    assert "Not Found: /calendar/[token]" in messages
    assert "Method Not Allowed (POST): /calendar/[token].ics" in messages
    assert token not in caplog.text


def test_a_password_reset_link_refused_is_logged_without_its_key(db, caplog):
    caplog.set_level(logging.DEBUG)
    token = "c5x1pq-" + secrets.token_hex(16)

    # A form posted without its CSRF token: Django logs the refused path.
    response = Client(enforce_csrf_checks=True).post(f"/accounts/password/reset/key/MQ-{token}/")

    assert response.status_code == 403
    messages = [r.getMessage() for r in caplog.records]
    assert any("/accounts/password/reset/key/MQ-[token]/" in m for m in messages), messages
    assert token not in caplog.text


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def server_log():
    """What the development server's logger (``django.server``, not propagated) writes."""
    handler = Collect()
    logger = logging.getLogger("django.server")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_the_development_servers_request_lines_are_masked(server_log):
    token = secrets.token_hex(20)
    # As runserver's request handler logs a request line.
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /s/{token}/ HTTP/1.1", "303", "0", extra={"status_code": 303}
    )

    assert server_log == ['"GET /s/[token]/ HTTP/1.1" 303 0']


def test_the_gunicorn_access_log_is_masked():
    token = secrets.token_urlsafe(32)
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = TokenMaskingLogger(cfg)
    lines = Collect()
    logger.access_log.addHandler(lines)
    path = f"/calendar/{token}.ics"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_REFERER": f"https://ccdg.example/s/{token}/",
        "HTTP_USER_AGENT": "Calendar/1.0",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=512)
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])

    logger.access(response, request, environ, timedelta(milliseconds=12))

    (line,) = lines.lines
    assert '"GET /calendar/[token].ics HTTP/1.1" 200 512 "https://ccdg.example/s/[token]/"' in line
    assert token not in line
