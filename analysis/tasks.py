"""The Celery tasks of the analysis app, where autodiscovery looks for them (``<app>.tasks``).

Each task lives in the feature package that owns its work: analysis runs
(:mod:`analysis.runs.tasks`, ``"analysis.run"``) and background exports
(:mod:`analysis.exports.tasks`, ``"analysis.export"``).
"""

from analysis.exports.tasks import task_export_run
from analysis.runs.tasks import task_analysis_run

__all__ = ["task_analysis_run", "task_export_run"]
