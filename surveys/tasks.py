"""Survey jobs for Celery: thin, they call the services in :mod:`surveys.waves`."""

from __future__ import annotations

from celery import shared_task

from .waves import drafts_of_closed_waves_delete, respondents_record_all


@shared_task(name="surveys.respondents_record")
def task_respondents_record() -> dict[str, int]:
    """Beat: record, in batches of at least k, who has answered an anonymous wave; drop the
    saved answers of waves that have closed."""
    return {
        "respondents_recorded": respondents_record_all(),
        "drafts_deleted": drafts_of_closed_waves_delete(),
    }
