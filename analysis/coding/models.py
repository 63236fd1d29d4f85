"""Qualitative coding of a wave's open answers: a codebook of themes, two named reviewers who
code each answer independently, and the consensus on the answers where they differ.

An *item* is one non-blank free-text answer (a response and a question code) of the wave's
analysable responses; the set of items is derived from the responses, never stored (see
:func:`analysis.coding.services.items`). A theme that has been applied cannot be deleted: the links
from codes and consensus decisions to their themes restrict it (deleting the whole wave still
removes everything).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["Coding", "CodingReviewer", "CodingTheme", "Consensus", "ConsensusTheme", "Theme"]


class Theme(models.Model):
    """One entry of a wave's codebook."""

    wave = models.ForeignKey("surveys.Wave", on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(max_length=80)
    description = models.TextField(
        blank=True, help_text="When the theme applies (and when it does not)."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["wave", "order", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "name"], name="coding_theme_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class CodingReviewer(models.Model):
    """One of the two people the coordinator named to code a wave's open answers."""

    class Slot(models.IntegerChoices):
        FIRST = 1, "Reviewer 1"
        SECOND = 2, "Reviewer 2"

    wave = models.ForeignKey(
        "surveys.Wave", on_delete=models.CASCADE, related_name="coding_reviewers"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    slot = models.PositiveSmallIntegerField(choices=Slot.choices)

    class Meta:
        ordering = ["wave", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "slot"], name="coding_reviewer_slot_unique"),
            models.UniqueConstraint(fields=["wave", "user"], name="coding_reviewer_user_unique"),
            models.CheckConstraint(
                condition=models.Q(slot__in=[1, 2]), name="coding_reviewer_slot_1_or_2"
            ),
        ]

    def __str__(self) -> str:
        return f"reviewer {self.slot} of wave {self.wave_id}"


class Coding(models.Model):
    """One reviewer's themes for one item. No theme at all means "no theme applies"."""

    response = models.ForeignKey(
        "surveys.Response", on_delete=models.CASCADE, related_name="codings"
    )
    question_code = models.SlugField(max_length=60)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    themes = models.ManyToManyField(
        Theme, through="CodingTheme", related_name="codings", blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["response", "question_code", "reviewer"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question_code", "reviewer"], name="coding_item_reviewer_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"coding of {self.response_id}-{self.question_code} by {self.reviewer_id}"


class CodingTheme(models.Model):
    coding = models.ForeignKey(Coding, on_delete=models.CASCADE, related_name="+")
    theme = models.ForeignKey(Theme, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["coding", "theme"], name="coding_theme_unique"),
        ]

    def __str__(self) -> str:
        return f"theme {self.theme_id} in coding {self.coding_id}"


class Consensus(models.Model):
    """The themes agreed for an item after the reviewers' codes were compared."""

    response = models.ForeignKey(
        "surveys.Response", on_delete=models.CASCADE, related_name="coding_consensus"
    )
    question_code = models.SlugField(max_length=60)
    themes = models.ManyToManyField(
        Theme, through="ConsensusTheme", related_name="consensus", blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["response", "question_code"]
        verbose_name_plural = "consensus decisions"
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question_code"], name="coding_consensus_item_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"consensus on {self.response_id}-{self.question_code}"


class ConsensusTheme(models.Model):
    consensus = models.ForeignKey(Consensus, on_delete=models.CASCADE, related_name="+")
    theme = models.ForeignKey(Theme, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consensus", "theme"], name="consensus_theme_unique"),
        ]

    def __str__(self) -> str:
        return f"theme {self.theme_id} in consensus {self.consensus_id}"
