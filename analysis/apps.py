from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Survey analysis"

    def ready(self) -> None:
        from analysis.exports.services import exports_expire
        from ccdg import housekeeping

        housekeeping.register("exports_expired", exports_expire)  # drop expired exports' content
