"""The Celery task of an analysis run: an id in, the work in
:func:`analysis.runs.services.run_execute`."""

from __future__ import annotations

from celery import shared_task

from analysis.runs.models import AnalysisRun
from analysis.runs.services import run_execute


@shared_task(name="analysis.run", acks_late=True, ignore_result=True)
def task_analysis_run(run_id: int) -> str:
    """Execute one analysis run.

    Acknowledged late: a worker that dies mid-run leaves the message to be delivered again;
    the run is then "running" already, so the second delivery does nothing and the page shows
    the run as interrupted once it has been silent for ``ANALYSIS_STALE_MINUTES`` (the
    coordinator retries it). A run that is gone, or not queued, is left alone.
    """
    try:
        return run_execute(run_id).status
    except AnalysisRun.DoesNotExist:
        return "gone"
