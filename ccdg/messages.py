"""A refused change, told to the person who asked: a service's ValidationError as messages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def messages_from(
    request: HttpRequest, exc: ValidationError, *, joined: bool = False, prefix: str = ""
) -> None:
    """Add the reasons of ``exc`` to the next page as error messages: one message a reason, or
    with ``joined`` all of them in one message, separated by spaces, after ``prefix`` (a page
    that must say what did not happen, such as "Nothing was changed: ")."""
    if joined:
        messages.error(request, prefix + " ".join(exc.messages))
        return
    for message in exc.messages:
        messages.error(request, prefix + message)
