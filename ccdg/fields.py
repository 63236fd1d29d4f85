"""An encrypted text field whose value never shows itself by accident.

Reading the field gives a :class:`Sealed` value: printing it, putting it in a template, a log
line, an export or the admin shows a placeholder, never the text. Only an explicit
``.reveal()`` decrypts, and the services that call it check need-to-know and audit the read.
Assigning a ``str`` stores it encrypted under the newest key.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from . import crypto

PLACEHOLDER = "[encrypted]"


class Sealed:
    """Ciphertext from the database, decrypted only on request."""

    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token

    def reveal(self) -> str:
        """The plaintext; raises ``crypto.Unreadable`` if the keys cannot decrypt it."""
        return crypto.decrypt(self.token)

    def __str__(self) -> str:
        return PLACEHOLDER

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; reads back as :class:`Sealed`."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Sealed | None:
        return None if value is None else Sealed(value)

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, Sealed):
            return value
        return value  # plaintext being assigned: encrypted when saved

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.token
        return crypto.encrypt(str(value))

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata) keeps ciphertext only.
        value = self.value_from_object(obj)
        return value.token if isinstance(value, Sealed) else ""
