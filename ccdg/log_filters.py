"""Secret tokens out of log lines.

Some addresses carry their secret in the path: a survey link ``/s/<token>/``, an invitation
``/invitations/<token>/``, an unsubscribe link ``/unsubscribe/<token>/``, a private calendar
feed ``/calendar/<token>.ics``, a password-reset link ``/accounts/password/reset/key/<uid>-<key>/``
and an address-confirmation link ``/accounts/confirm-email/<key>/`` (django-allauth's).
Django writes the path of every 4xx and 5xx response (``django.request``), of a refused CSRF
check (``django.security.csrf``) and, under ``runserver``, of every request
(``django.server``). The settings put :class:`MaskTokens` on those loggers and on the console
handler, so the token is replaced by ``[token]`` before any handler sees the line; the path
stays readable (``Not Found: /s/[token]/extra/``).

The same function masks gunicorn's access log (``ccdg.gunicorn_logging``). A test checks that
every URL pattern with a ``token`` or ``key`` in its route is masked here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

MASK = "[token]"

_STOP = r"/?#\s\"'<>"  # what ends a path segment in a log line
TOKEN_PATH = re.compile(
    rf"(?P<prefix>/(?:s|invitations|unsubscribe|calendar|accounts/confirm-email)/"
    r"|/accounts/password/reset/key/[0-9A-Za-z]+-)"
    # The fixed pages next to them hold no secret.
    rf"(?!(?:thanks|set-password)(?:[{_STOP}]|$))"
    rf"(?P<token>[^{_STOP}]+?)(?P<suffix>\.ics)?(?=[{_STOP}]|$)"
)


def mask_tokens(text: str) -> str:
    """``text`` with the secret segment of every token address replaced by ``[token]``."""
    return TOKEN_PATH.sub(lambda m: f"{m['prefix']}{MASK}{m['suffix'] or ''}", text)


def _masked(value: object) -> object:
    return mask_tokens(value) if isinstance(value, str) else value


class MaskTokens(logging.Filter):
    """Rewrites a record's message and string arguments in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_masked(value) for value in record.args)
        return True
