"""System checks: refuse to start production without usable case-note keys.

``manage.py`` commands (``migrate``, ``check``, ``runserver``...) run these before anything
else, so a deployment that forgot ``CCDG_FIELD_KEYS`` fails at its first step instead of on the
first case note someone writes. Messages name keys by position, never by value.
"""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register

GENERATE = (
    "Generate a key with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


@register(Tags.security)
def check_field_keys(app_configs=None, **kwargs) -> list[Error]:
    keys = list(settings.FIELD_KEYS)
    errors: list[Error] = []
    if not keys and not settings.EMBEDDED and not settings.DEBUG:
        errors.append(
            Error(
                "CCDG_FIELD_KEYS is not set: case-note text cannot be encrypted.",
                hint=f"Production (DATABASE_URL set) needs its own keys, kept apart from "
                f"SECRET_KEY and from database backups. {GENERATE}",
                id="ccdg.E001",
            )
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"CCDG_FIELD_KEYS entry {position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes).",
                    hint=GENERATE,
                    id="ccdg.E002",
                )
            )
    return errors
