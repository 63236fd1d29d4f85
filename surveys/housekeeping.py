"""The surveys' hourly clean-up, registered with the core's housekeeping in
``SurveysConfig.ready`` (``ccdg.housekeeping``)."""

from __future__ import annotations

from datetime import datetime

from surveys.models import ResponseImport


def response_drafts_delete(*, now: datetime) -> int:
    """Uploaded survey responses: an import nobody confirmed within a day is dropped."""
    deleted, _ = ResponseImport.objects.abandoned(now).delete()
    return deleted
