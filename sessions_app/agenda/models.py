"""Agenda templates and their segments, a session's copy of its agenda, and the
take-home points a group keeps."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class AgendaTemplate(models.Model):
    """An ordered agenda. Built-in templates have no program and cannot be edited."""

    program = models.ForeignKey(
        "sessions_app.Program",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="agenda_templates",
    )
    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(10), MaxValueValidator(240)]
    )
    built_in = models.BooleanField(default=False)

    class Meta:
        ordering = ["-built_in", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="agenda_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class AgendaSegment(models.Model):
    template = models.ForeignKey(AgendaTemplate, on_delete=models.CASCADE, related_name="segments")
    start_minute = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)
    guidance = models.TextField(blank=True)

    class Meta:
        ordering = ["start_minute"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "start_minute"], name="agendasegment_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_minute // 60}:{self.start_minute % 60:02d} {self.title}"


class SessionSegment(models.Model):
    """The session's own copy of its agenda, taken when it was scheduled."""

    session = models.ForeignKey(
        "sessions_app.Session", on_delete=models.CASCADE, related_name="segments"
    )
    start_minute = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)
    guidance = models.TextField(blank=True)

    class Meta:
        ordering = ["start_minute"]

    def __str__(self) -> str:
        return f"{self.start_minute // 60}:{self.start_minute % 60:02d} {self.title}"


class TakeHomePoint(models.Model):
    """A point the group takes home from a session (no patient identifiers: ccdg.phi.RULE)."""

    session = models.ForeignKey(
        "sessions_app.Session", on_delete=models.CASCADE, related_name="take_home"
    )
    text = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Take-home point #{self.pk}"
