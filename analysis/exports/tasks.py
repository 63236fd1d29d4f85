"""The Celery task of a background export: an id in, the work in
:func:`analysis.exports.services.export_run`."""

from __future__ import annotations

from celery import shared_task

from analysis.exports.models import ExportJob
from analysis.exports.services import export_run


@shared_task(name="analysis.export", acks_late=True, ignore_result=True)
def task_export_run(job_id: int) -> str:
    """Build one background export (:func:`analysis.exports.services.export_run`); an id in."""
    try:
        return export_run(job_id).status
    except ExportJob.DoesNotExist:
        return "gone"
