"""The password-reset form that answers the same for every address (``ACCOUNT_FORMS``)."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm
from django.http import HttpRequest

from .reset import password_reset_request


class QueuedResetPasswordForm(ResetPasswordForm):
    def clean_email(self) -> str:
        # No lookup here: whether the address has an account is the worker's business.
        self.users: list[object] = []
        return self.cleaned_data["email"].strip()

    def save(self, request: HttpRequest, **kwargs) -> str:  # type: ignore[no-untyped-def]
        email = self.cleaned_data["email"]
        password_reset_request(email=email)
        return email
