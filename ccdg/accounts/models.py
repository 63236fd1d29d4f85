"""The sign-in package's one table: password-reset requests waiting for the worker."""

from __future__ import annotations

from datetime import timedelta

from django.db import models


class PasswordResetRequest(models.Model):
    """Someone asked for a reset link for this address. The page answers at once, the same
    for every address; the worker looks the address up and sends the link (or nothing) and
    deletes the row. Rows the worker never reached are dropped by the hourly housekeeping."""

    LIFETIME = timedelta(hours=1)

    email = models.EmailField()
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "ccdg"

    def __str__(self) -> str:
        return f"reset request {self.pk} ({self.requested_at:%Y-%m-%d %H:%M})"
