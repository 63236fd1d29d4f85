from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Survey analysis"

    def ready(self) -> None:
        from ccdg import housekeeping

        from .exports import exports_expire

        housekeeping.register("exports_expired", exports_expire)  # drop expired exports' content
