"""Field encryption for confidential text (case notes): Fernet keys, rotated with MultiFernet.

Keys come from ``CCDG_FIELD_KEYS`` (comma-separated, newest first), separate from
``SECRET_KEY``. In the embedded default a key is generated once into ``var/field_keys`` with a
warning. New text is always encrypted with the newest key; older keys still decrypt until
``manage.py rotate_field_keys`` has re-encrypted every row.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class Unreadable(Exception):
    """The text cannot be decrypted: the key is missing or the stored value was altered.

    The stored ciphertext is left as it is, so nothing is lost once the right key is back.
    """


def _embedded_keys(var_dir: Path) -> list[str]:
    path = var_dir / "field_keys"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode() + "\n")
        path.chmod(0o600)
        warnings.warn(
            f"CCDG_FIELD_KEYS is not set: generated a case-note key into {path}. Set "
            "CCDG_FIELD_KEYS in the environment for production and keep a copy of the keys.",
            stacklevel=2,
        )
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "CCDG_FIELD_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes). "
            "Generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def field_keys() -> tuple[str, ...]:
    keys = tuple(settings.FIELD_KEYS)
    if not keys:
        if not settings.EMBEDDED and not settings.DEBUG:
            raise ImproperlyConfigured("CCDG_FIELD_KEYS must be set in production.")
        keys = tuple(_embedded_keys(settings.VAR_DIR))
    return keys


def encrypt(text: str) -> str:
    return _fernet(field_keys()).encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(field_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise Unreadable(
            "This text cannot be decrypted with the configured keys: a key is missing or the "
            "stored value was altered. It is kept unchanged."
        ) from None


def is_current(token: str) -> bool:
    """Whether the newest key alone decrypts ``token`` (it needs no rotation)."""
    try:
        Fernet(field_keys()[0].encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same text encrypted under the newest key (its original timestamp is kept)."""
    try:
        return _fernet(field_keys()).rotate(token.encode()).decode()
    except InvalidToken:
        raise Unreadable("A stored value cannot be decrypted with the configured keys.") from None
