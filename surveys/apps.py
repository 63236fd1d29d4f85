from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from ccdg import attention, housekeeping

        from .attention import waves_attention
        from .housekeeping import response_drafts_delete
        from .outbox_kinds import kinds_register

        kinds_register()  # the invitation and reminder of an online wave
        housekeeping.register("response_drafts_deleted", response_drafts_delete)
        attention.register("survey_waves", waves_attention)  # the coordinator's home page
