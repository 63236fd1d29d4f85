"""The sign-in form's wording, and the password-reset form that answers the same for every
address (``ACCOUNT_FORMS``)."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm, ResetPasswordForm
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


class SignInForm(LoginForm):
    """allauth's sign-in form, labelled for people ("Username or email", not "Login"); the
    page links to the password reset itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or email"
        login.widget.attrs.update({"autocomplete": "username", "placeholder": ""})
        self.fields["password"].help_text = ""
        self.fields["password"].widget.attrs["placeholder"] = ""
