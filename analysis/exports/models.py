"""Export jobs: a file built in the background, downloadable through a link that expires.

The file is kept in the database (exports are small enough, and every web and worker host
sees it) until ``expires_at``; the hourly housekeeping then drops the content and keeps the
row, so the audit trail's "what was exported, by whom, when" still points somewhere.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["ExportJob"]


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    program = models.ForeignKey(
        "sessions_app.Program", on_delete=models.CASCADE, related_name="export_jobs"
    )
    kind = models.CharField(max_length=40, help_text="A key of analysis.exports.REGISTRY.")
    params = models.JSONField(default=dict, blank=True, help_text="Ids and options, never content.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    step = models.CharField(max_length=80, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["program", "-created_at", "-id"]
        indexes = [models.Index(fields=["program", "-created_at"], name="exportjob_program_recent")]

    def __str__(self) -> str:
        return f"export {self.pk} {self.kind} ({self.status})"
