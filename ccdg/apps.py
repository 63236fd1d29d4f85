from django.apps import AppConfig


class CcdgConfig(AppConfig):
    name = "ccdg"
    verbose_name = "CCDG core"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            housekeeping,
        )
        from .accounts import signals
        from .accounts.reset import password_reset_requests_expire

        signals.connect()  # sign-ins, sign-outs, lockouts, second factors into the audit trail
        housekeeping.register("password_reset_requests_expired", password_reset_requests_expire)
