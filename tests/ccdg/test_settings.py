"""The settings module under controlled environments, each in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, warnings
warnings.simplefilter("always")
import django
from django.conf import settings
names = {names!r}
print(json.dumps({{n: getattr(settings, n, None) for n in names}}, default=str))
"""


def load_settings(tmp_path, names: list[str], **env: str) -> subprocess.CompletedProcess:
    """Import ccdg.settings in a new interpreter with only ``env`` (plus PATH) set."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "ccdg.settings",
        "CCDG_VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(names=names)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def values(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_database_url_without_secret_key_is_refused(tmp_path):
    result = load_settings(
        tmp_path, ["SECRET_KEY"], DATABASE_URL="postgres://ccdg@localhost:5432/ccdg"
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_database_url_with_secret_key_uses_postgresql(tmp_path):
    result = load_settings(
        tmp_path,
        ["DATABASES"],
        DATABASE_URL="postgres://ccdg@localhost:5432/ccdg",
        SECRET_KEY="x" * 50,
    )

    assert values(result)["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_embedded_mode_generates_the_secret_key_once_with_a_warning(tmp_path):
    first = load_settings(tmp_path, ["SECRET_KEY", "DATABASES"])
    second = load_settings(tmp_path, ["SECRET_KEY"])

    key_file = tmp_path / "var" / "secret_key"
    assert values(first)["SECRET_KEY"] == key_file.read_text().strip()
    assert len(values(first)["SECRET_KEY"]) >= 50
    assert values(second)["SECRET_KEY"] == values(first)["SECRET_KEY"]
    assert "SECRET_KEY is not set" in first.stderr
    assert "SECRET_KEY is not set" not in second.stderr
    assert oct(key_file.stat().st_mode & 0o777) == oct(0o600)
    assert values(first)["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"


def test_secret_key_from_the_environment_wins_and_no_file_is_written(tmp_path):
    result = load_settings(tmp_path, ["SECRET_KEY"], SECRET_KEY="k" * 50)

    assert values(result)["SECRET_KEY"] == "k" * 50
    assert not (tmp_path / "var" / "secret_key").exists()


SECURITY = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
]


def test_https_turns_on_hsts_secure_cookies_and_redirect(tmp_path):
    result = load_settings(tmp_path, SECURITY, CCDG_HTTPS="1", SECRET_KEY="k" * 50)

    assert values(result) == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    }


def test_without_https_none_of_it_is_on(tmp_path):
    result = load_settings(tmp_path, SECURITY, SECRET_KEY="k" * 50)

    assert values(result) == {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
    }


@pytest.mark.parametrize(
    ("env", "debug"),
    [({}, False), ({"CCDG_DEBUG": "0"}, False), ({"CCDG_DEBUG": "1"}, True)],
    ids=["unset", "zero", "one"],
)
def test_debug_only_with_ccdg_debug_1(tmp_path, env, debug):
    result = load_settings(tmp_path, ["DEBUG"], SECRET_KEY="k" * 50, **env)

    assert values(result)["DEBUG"] is debug


def test_argon2_is_the_first_hasher_in_a_real_run(tmp_path):
    result = load_settings(tmp_path, ["PASSWORD_HASHERS"], SECRET_KEY="k" * 50)

    assert values(result)["PASSWORD_HASHERS"][0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


def test_security_defaults(tmp_path):
    names = [
        "SESSION_COOKIE_AGE",
        "SESSION_SAVE_EVERY_REQUEST",
        "SESSION_COOKIE_HTTPONLY",
        "X_FRAME_OPTIONS",
        "AXES_FAILURE_LIMIT",
    ]

    result = load_settings(tmp_path, names, SECRET_KEY="k" * 50)

    assert values(result) == {
        "SESSION_COOKIE_AGE": 1800,
        "SESSION_SAVE_EVERY_REQUEST": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "X_FRAME_OPTIONS": "DENY",
        "AXES_FAILURE_LIMIT": 5,
    }
