"""Case-note retention's beat task: destroys the text of notes whose time has come."""

from __future__ import annotations

from celery import shared_task

from sessions_app.casenotes.retention import casenote_destroy_expired


@shared_task(name="sessions_app.casenote_retention")
def task_casenote_retention() -> int:
    """Destroy the case notes that are past their retention (beat, every 15 minutes)."""
    return casenote_destroy_expired()
