"""Changes to survey instruments. Views, commands and tests go through these functions.

A published instrument is immutable: every change here checks :func:`ensure_editable` first
and raises ``ValidationError`` otherwise; editing means :func:`instrument_new_version`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from . import builtin
from .models import Choice, Instrument, Question, Section

SCALE_TYPES = {
    Question.Type.AGREEMENT5,
    Question.Type.CHALLENGE4,
    Question.Type.RATING5,
    Question.Type.YES_NO,
}


def ensure_editable(instrument: Instrument) -> None:
    if instrument.is_published:
        raise ValidationError(
            f"“{instrument.name}” version {instrument.version} is published and cannot be "
            "changed; make a new version to edit it."
        )


def builtin_instrument() -> Instrument:
    """The built-in participant survey, recreated if it was removed."""
    instrument: Instrument = builtin.ensure_builtin_instrument(
        Instrument, Section, Question, Choice
    )
    return instrument


def wellbeing_instrument() -> Instrument:
    """The built-in participant survey with the wellbeing module, recreated if removed."""
    instrument: Instrument = builtin.ensure_wellbeing_instrument(
        Instrument, Section, Question, Choice
    )
    return instrument


@transaction.atomic
def module_add(*, instrument: Instrument, module: str) -> Section:
    """Add a built-in module (``builtin.MODULES``: ``"wellbeing"``) to a draft instrument as a
    section of its own, after the others. Refused for a published version and for a question
    code the instrument already uses."""
    try:
        title, questions = builtin.MODULES[module]
    except KeyError:
        raise ValidationError(
            f"No module “{module}”. Modules: {', '.join(builtin.MODULES)}."
        ) from None
    ensure_editable(instrument)
    taken = set(instrument.questions.values_list("code", flat=True))
    clash = [code for code, *_ in questions if code in taken]
    if clash:
        raise ValidationError(f"The instrument already has question(s) {', '.join(clash)}.")
    section = section_add(instrument=instrument, title=title)
    for code, text, qtype, choices, positive in questions:
        question_add(
            section=section, code=code, text=text, type=qtype, choices=choices,
            positive_values=positive,
        )  # fmt: skip
    return section


def instrument_create(*, slug: str, name: str) -> Instrument:
    """A new draft: version 1 of a new slug, or the next version of an existing one."""
    latest = Instrument.objects.filter(slug=slug).aggregate(v=Max("version"))["v"] or 0
    return Instrument.objects.create(slug=slug, name=name, version=latest + 1)


def section_add(*, instrument: Instrument, title: str, order: int | None = None) -> Section:
    ensure_editable(instrument)
    if order is None:
        order = (instrument.sections.aggregate(o=Max("order"))["o"] or 0) + 1
    return Section.objects.create(instrument=instrument, title=title, order=order)


def _check_question(question: Question, choices: list[tuple[str, str]]) -> None:
    values = [value for value, _ in choices]
    if len(set(values)) != len(values):
        raise ValidationError(f"Question “{question.code}” has duplicated value codes.")
    if question.type == Question.Type.FREE_TEXT and choices:
        raise ValidationError(f"Free-text question “{question.code}” cannot have choices.")
    unknown = [v for v in question.positive_values if v not in values]
    if unknown:
        raise ValidationError(
            f"Question “{question.code}”: positive values {unknown} are not among its value codes."
        )
    clash = (
        Question.objects.filter(instrument_id=question.section.instrument_id, code=question.code)
        .exclude(pk=question.pk)
        .exists()
    )
    if clash:
        raise ValidationError(f"The code “{question.code}” is already used in this instrument.")


@transaction.atomic
def question_add(
    *,
    section: Section,
    code: str,
    text: str,
    type: str,
    required: bool = False,
    positive_values: Iterable[str] | None = None,
    choices: Iterable[tuple[str, str]] | None = None,
    order: int | None = None,
) -> Question:
    """Add a question. Scale types get their standard value codes and dichotomy by default."""
    ensure_editable(section.instrument)
    choices = list(choices) if choices is not None else None
    if type in SCALE_TYPES:
        default_choices, default_positive = builtin.SCALES[type]
        if choices is None:
            choices = list(default_choices)
        if positive_values is None:
            positive_values = default_positive
    choices = choices or []
    if order is None:
        order = (section.questions.aggregate(o=Max("order"))["o"] or 0) + 1
    question = Question(
        section=section,
        order=order,
        code=code,
        text=text,
        type=type,
        required=required,
        positive_values=list(positive_values or []),
    )
    _check_question(question, choices)
    question.save()
    _replace_choices(question, choices)
    return question


def _replace_choices(question: Question, choices: list[tuple[str, str]]) -> None:
    question.choices.all().delete()
    Choice.objects.bulk_create(
        Choice(question=question, order=order, value=value, label=label)
        for order, (value, label) in enumerate(choices, start=1)
    )


@transaction.atomic
def question_update(
    *, question: Question, choices: Iterable[tuple[str, str]] | None = None, **fields: Any
) -> Question:
    """Change a draft question's fields (text, type, required, positive_values, order, code)
    and, when given, replace its choices."""
    ensure_editable(question.instrument)
    allowed = {"text", "type", "required", "positive_values", "order", "code"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))} of a question.")
    for name, value in fields.items():
        setattr(question, name, list(value) if name == "positive_values" else value)
    if choices is None:
        choice_list = list(question.choices.values_list("value", "label"))
    else:
        choice_list = list(choices)
    _check_question(question, choice_list)
    question.save()
    if choices is not None:
        _replace_choices(question, choice_list)
    return question


def question_delete(*, question: Question) -> None:
    ensure_editable(question.instrument)
    question.delete()


def section_delete(*, section: Section) -> None:
    ensure_editable(section.instrument)
    section.delete()


@transaction.atomic
def instrument_publish(*, instrument: Instrument, now: datetime | None = None) -> Instrument:
    """Freeze a draft. It needs at least one question, and every scale question its choices."""
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    ensure_editable(instrument)
    questions = list(instrument.questions.prefetch_related("choices"))
    if not questions:
        raise ValidationError(f"“{instrument.name}” has no questions to publish.")
    for question in questions:
        if question.type in SCALE_TYPES and not question.choices.all():
            raise ValidationError(f"Scale question “{question.code}” has no value codes.")
    instrument.published_at = now or timezone.now()
    instrument.save(update_fields=["published_at"])
    return instrument


@transaction.atomic
def instrument_new_version(*, instrument: Instrument) -> Instrument:
    """Copy ``instrument`` (sections, questions, choices) into a new draft version."""
    latest = Instrument.objects.filter(slug=instrument.slug).aggregate(v=Max("version"))["v"]
    draft = Instrument.objects.create(
        slug=instrument.slug, name=instrument.name, version=latest + 1
    )
    for section in instrument.sections.prefetch_related("questions__choices"):
        new_section = Section.objects.create(
            instrument=draft, order=section.order, title=section.title
        )
        for question in section.questions.all():
            new_question = Question.objects.create(
                section=new_section,
                order=question.order,
                code=question.code,
                text=question.text,
                type=question.type,
                required=question.required,
                positive_values=list(question.positive_values),
            )
            Choice.objects.bulk_create(
                Choice(question=new_question, order=c.order, value=c.value, label=c.label)
                for c in question.choices.all()
            )
    return draft


def instrument_get(*, slug: str, version: int | None = None) -> Instrument:
    """The given version, or else the latest published one (the latest draft if none is).

    Raises ``Instrument.DoesNotExist``.
    """
    if slug == builtin.SLUG:
        builtin_instrument()
    versions = Instrument.objects.filter(slug=slug)
    if version is not None:
        return versions.get(version=version)
    found = versions.filter(published_at__isnull=False).order_by("-version").first()
    found = found or versions.order_by("-version").first()
    if found is None:
        raise Instrument.DoesNotExist(f"No instrument “{slug}”.")
    return found


def codebook(instrument: Instrument) -> list[dict[str, Any]]:
    """Each question's code, section, text, type, value codes with labels and positive values."""
    questions = instrument.questions.select_related("section").prefetch_related("choices")
    return [
        {
            "code": q.code,
            "section": q.section.title,
            "text": q.text,
            "type": q.type,
            "required": q.required,
            "values": [{"value": c.value, "label": c.label} for c in q.choices.all()],
            "positive": list(q.positive_values),
        }
        for q in questions
    ]
