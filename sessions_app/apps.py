from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Programs, roster and groups"

    def ready(self) -> None:
        from allauth.mfa import signals as mfa_signals

        from ccdg import housekeeping
        from sessions_app.casenotes import retention  # noqa: F401  (receives schedule signals)
        from sessions_app.home import attention
        from sessions_app.reminders import handlers
        from sessions_app.reminders.registration import kinds_register
        from sessions_app.roster.housekeeping import invitations_expire, roster_drafts_delete
        from sessions_app.signin import second_factor, sessions_end

        mfa_signals.authenticator_added.connect(second_factor.enrolled)
        mfa_signals.authenticator_removed.connect(second_factor.removed)
        sessions_end.connect()  # a change of someone's roles ends their other sessions
        kinds_register()  # the outbox's messages about a program's schedule
        handlers.register()  # notifications (a session moved...) become outbox messages
        housekeeping.register("roster_drafts_deleted", roster_drafts_delete)
        housekeeping.register("invitations_expired", invitations_expire)
        attention.register()  # the coordinator's "needs attention" list
