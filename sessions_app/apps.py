from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Programs, roster and groups"

    def ready(self) -> None:
        # Receivers of the schedule's signals, from the features above it.
        from sessions_app.casenotes import retention  # noqa: F401
