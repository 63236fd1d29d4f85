"""The app's Celery tasks, for autodiscovery: each lives with the feature that owns its data."""

from sessions_app.casenotes.tasks import task_casenote_retention
from sessions_app.roster.tasks import task_invitation_send

__all__ = ["task_casenote_retention", "task_invitation_send"]
