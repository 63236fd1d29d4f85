"""The Celery task of an analysis run: an id in, the work in :func:`analysis.runs.run_execute`."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="analysis.run", acks_late=True, ignore_result=True)
def task_analysis_run(run_id: int) -> str:
    """Execute one analysis run.

    Acknowledged late: a worker that dies mid-run leaves the message to be delivered again;
    the run is then "running" already, so the second delivery does nothing and the page shows
    the run as interrupted once it has been silent for ``ANALYSIS_STALE_MINUTES`` (the
    coordinator retries it). A run that is gone, or not queued, is left alone.
    """
    from .models import AnalysisRun
    from .runs import run_execute

    try:
        return run_execute(run_id).status
    except AnalysisRun.DoesNotExist:
        return "gone"


@shared_task(name="analysis.export", acks_late=True, ignore_result=True)
def task_export_run(job_id: int) -> str:
    """Build one background export (:func:`analysis.exports.export_run`); an id in."""
    from .exports import export_run
    from .models import ExportJob

    try:
        return export_run(job_id).status
    except ExportJob.DoesNotExist:
        return "gone"
