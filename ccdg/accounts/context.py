"""Template context for the sign-in pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def sign_in(request: HttpRequest) -> dict[str, Any]:
    return {"local_passwords": settings.LOCAL_PASSWORDS}
