"""Analysis runs: one computation of a survey wave's results, kept with what it rests on.

The statistics are pure functions (:mod:`analysis.stats`); the tables are computed by
:func:`analysis.runs.compute.analyse` from the wave's analysable responses. A run records the
fingerprint of its inputs, the code version, its timings and the results as JSON; running
again makes a new run and keeps the old ones.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["AnalysisRun"]


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    wave = models.ForeignKey("surveys.Wave", on_delete=models.CASCADE, related_name="analysis_runs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    include_pilot = models.BooleanField(
        default=False, help_text="Also analyse the responses of pilot waves."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0, help_text="0 to 1.")
    step = models.CharField(max_length=80, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    inputs_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the responses and instrument analysed."
    )
    code_version = models.CharField(max_length=80, blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="Seconds per step.")
    results = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["wave", "-created_at", "-id"]
        indexes = [models.Index(fields=["wave", "-created_at"], name="analysisrun_wave_recent")]

    def __str__(self) -> str:
        return f"analysis {self.pk} of wave {self.wave_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
