"""Survey instruments as data: versioned instruments, their sections, questions and choices.

A published version is immutable; :mod:`surveys.services` refuses changes to it and
:func:`surveys.services.instrument_new_version` copies it into a new draft to edit.
"""

from __future__ import annotations

from django.db import models


class Instrument(models.Model):
    """One version of a questionnaire, identified by ``slug`` and ``version``."""

    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="instrument_slug_version"),
        ]

    def __str__(self) -> str:
        state = "published" if self.is_published else "draft"
        return f"{self.name} v{self.version} ({state})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Section(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["instrument", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """A question with a stable ``code``, unique within its instrument.

    ``positive_values`` lists the value codes counted as the "positive" category when the
    answers are dichotomised for analysis (for example ``["4", "5"]`` = agree).
    """

    class Type(models.TextChoices):
        AGREEMENT5 = "agreement5", "Agreement, 5 points"
        CHALLENGE4 = "challenge4", "Challenge, 4 points"
        RATING5 = "rating5", "Rating 1-5"
        YES_NO = "yes_no", "Yes / no"
        SINGLE_CHOICE = "single_choice", "Single choice"
        FREE_TEXT = "free_text", "Free text"

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="questions", editable=False
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    code = models.SlugField(max_length=60)
    text = models.TextField()
    type = models.CharField(max_length=20, choices=Type.choices)
    required = models.BooleanField(default=False)
    positive_values = models.JSONField(
        default=list,
        blank=True,
        help_text="Value codes counted as the positive category for analysis.",
    )

    class Meta:
        ordering = ["instrument", "section__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "code"], name="question_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        self.instrument_id = self.section.instrument_id
        super().save(*args, **kwargs)


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveSmallIntegerField(default=0)
    value = models.CharField(max_length=40)
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["question", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="choice_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.value}: {self.label}"
