from django.apps import AppConfig


class CcdgConfig(AppConfig):
    name = "ccdg"
    verbose_name = "CCDG core"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
