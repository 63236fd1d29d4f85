"""Answers: validation against an instrument, paper entry, excluding a response.

Every way a response arrives (a link, a paper form typed in, a CSV row) is checked by
:func:`answers_clean`, so the stored answers only ever hold the instrument's question codes
and, for the scale and choice questions, its value codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ccdg.audit import audit_record
from sessions_app.models import Group

from . import builtin, linking
from .builtin import GROUP_CODE
from .digest import responses_changed
from .models import Instrument, Question, Response, Wave

FREE_TEXT_MAX = 4000
GROUP_LABEL_MAX = 40


@dataclass(frozen=True)
class QuestionSpec:
    """What validation and the forms need of a question, read once per instrument."""

    code: str
    text: str
    type: str
    required: bool
    section_id: int
    section_title: str
    choices: tuple[tuple[str, str], ...]

    @property
    def is_text(self) -> bool:
        return self.type == Question.Type.FREE_TEXT


def question_specs(instrument: Instrument) -> list[QuestionSpec]:
    """The instrument's questions in order, with their choices: two queries."""
    questions = instrument.questions.select_related("section").prefetch_related("choices")
    return [
        QuestionSpec(
            code=q.code,
            text=q.text,
            type=q.type,
            required=q.required,
            section_id=q.section_id,
            section_title=q.section.title,
            choices=tuple((c.value, c.label) for c in q.choices.all()),
        )
        for q in questions
    ]


def sections_of(specs: list[QuestionSpec]) -> list[tuple[str, list[QuestionSpec]]]:
    """The questions grouped by section, in order: one answering page per section."""
    out: list[tuple[str, list[QuestionSpec]]] = []
    last = None
    for s in specs:
        if s.section_id != last:
            out.append((s.section_title, []))
            last = s.section_id
        out[-1][1].append(s)
    return out


def demographic_codes(specs: list[QuestionSpec]) -> set[str]:
    """The questions that describe the respondent: the single-choice questions of the first
    section, and the group question wherever it is (the analysis's Table 1 uses the same)."""
    if not specs:
        return set()
    first = specs[0].section_id
    return {
        s.code
        for s in specs
        if builtin.describes_respondent(
            type=s.type, code=s.code, section=s.section_id, first_section=first
        )
    }


def group_labels_for(wave: Wave) -> list[str] | None:
    """Allowed answers to the ``group`` question: the program's group names for an online
    wave; None (any short label) for a paper wave, whose forms used their own labels."""
    if wave.is_paper:
        return None
    return list(
        Group.objects.filter(program_id=wave.program_id)
        .order_by("name")
        .values_list("name", flat=True)
    )


def choices_for(spec: QuestionSpec, group_labels: list[str] | None) -> tuple[tuple[str, str], ...]:
    if spec.code == GROUP_CODE and not spec.choices and group_labels is not None:
        return tuple((label, label) for label in group_labels)
    return spec.choices


@dataclass(frozen=True)
class _Rule:
    """What a non-blank answer to one question may be, worked out once per question."""

    max_length: int | None  # free text, or a group label of a paper wave: any short value
    too_long: str
    allowed: frozenset[str]
    allowed_text: str  # the value codes, in order, for the message


def _rule(spec: QuestionSpec, group_labels: list[str] | None) -> _Rule:
    if spec.is_text:
        return _Rule(FREE_TEXT_MAX, f"is longer than {FREE_TEXT_MAX} characters", frozenset(), "")
    choices = choices_for(spec, group_labels)
    if spec.code == GROUP_CODE and not choices:
        return _Rule(
            GROUP_LABEL_MAX, f"is longer than {GROUP_LABEL_MAX} characters", frozenset(), ""
        )
    allowed = [v for v, _ in choices]
    return _Rule(None, "", frozenset(allowed), ", ".join(allowed))


def _rule_error(rule: _Rule, value: str) -> str | None:
    if value == "":
        return None
    if rule.max_length is not None:
        return rule.too_long if len(value) > rule.max_length else None
    if value not in rule.allowed:
        return f"“{value}” is not one of {rule.allowed_text}"
    return None


def answer_error(spec: QuestionSpec, value: str, group_labels: list[str] | None) -> str | None:
    """Why ``value`` is not a valid answer to ``spec`` (None when it is). Blank is valid."""
    if spec.type == linking.PART_TYPE:
        return linking.part_error(spec.code, value)
    return _rule_error(_rule(spec, group_labels), value)


class AnswerRules:
    """:func:`answers_clean` for one instrument and set of group labels, with each question's
    rule worked out once: a file of 50,000 rows checks them in memory, row after row."""

    def __init__(self, specs: list[QuestionSpec], group_labels: list[str] | None = None):
        self.specs = specs
        self._rules = {s.code: (s.is_text, _rule(s, group_labels)) for s in specs}
        self._required = [s.code for s in specs if s.required]

    def clean(self, answers: dict[str, Any], *, check_required: bool = True) -> dict[str, str]:
        """See :func:`answers_clean`."""
        errors: dict[str, str] = {}
        clean: dict[str, str] = {}
        rules = self._rules
        for code, raw in answers.items():
            found = rules.get(code)
            if found is None:
                errors[code] = f"“{code}” is not a question of this survey."
                continue
            is_text, rule = found
            if is_text:
                value = str(raw or "").strip()
            else:
                value = "" if raw is None else str(raw).strip()
            if value == "":
                continue
            if value in rule.allowed:  # the common case, first
                clean[code] = value
                continue
            problem = _rule_error(rule, value)
            if problem:
                errors[code] = f"{code}: {problem}."
            else:
                clean[code] = value
        if check_required:
            for code in self._required:
                if code not in clean and code not in errors:
                    errors[code] = f"{code}: an answer is required."
        if errors:
            raise ValidationError(errors)
        return clean


def answers_clean(
    instrument: Instrument | list[QuestionSpec],
    answers: dict[str, Any],
    *,
    group_labels: list[str] | None = None,
    check_required: bool = True,
) -> dict[str, str]:
    """Answers reduced to known codes with valid values; blank answers are left out.

    Raises ``ValidationError`` with a dict of question code -> message for unknown codes,
    invalid values and missing required answers.
    """
    specs = instrument if isinstance(instrument, list) else question_specs(instrument)
    return AnswerRules(specs, group_labels).clean(answers, check_required=check_required)


def paper_response_add(
    *,
    wave: Wave,
    actor: Any,
    answers: dict[str, Any],
    form_id: str = "",
    excluded_reason: str = "",
    link_code: str = "",
) -> Response:
    """A paper form typed in by the coordinator. Raises ``ValidationError`` (field keys).
    ``link_code``: the personal code written on the form, in a wave of a series that links by
    code (stored as its keyed hash only)."""
    clean = answers_clean(wave.instrument, answers, group_labels=group_labels_for(wave))
    hashed = written_code_hash(wave, link_code)
    form_id = (form_id or "").strip()
    if form_id and Response.objects.filter(wave=wave, form_id=form_id).exists():
        raise ValidationError({"form_id": f"Form “{form_id}” has already been entered."})
    try:
        with transaction.atomic():
            response = Response.objects.create(
                wave=wave,
                source=Response.Source.PAPER,
                form_id=form_id,
                answers=clean,
                submitted_at=timezone.now(),
                excluded_reason=(excluded_reason or "").strip()[:200],
                link_hash=hashed,
                entered_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            responses_changed(wave_id=wave.pk, added=[(clean, response.excluded_reason)])
            audit_record(
                actor=actor, action="survey.paper_entry", obj=response,
                program_id=wave.program_id, data={"wave": wave.pk},
            )  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError({"form_id": f"Form “{form_id}” has already been entered."}) from exc
    return response


def written_code_hash(wave: Wave, text: str, *, key: str = "link_code") -> str:
    """The keyed hash of a personal code written in one piece (a paper form, a CSV cell), ""
    for none. ``ValidationError`` under ``key`` for a code that does not follow the program's
    recipe, or a code given for a wave that asks for none."""
    if not (text or "").strip():
        return ""
    if not linking.asks_code(wave):
        raise ValidationError(
            {key: "This wave does not link answers by personal code: it is not an anonymous "
                  "wave of a series."}
        )  # fmt: skip
    try:
        code = linking.code_from_text(linking.recipe_for(wave.program_id), text)
    except ValidationError as exc:
        raise ValidationError({key: exc.messages}) from exc
    return linking.link_hash(wave.program_id, code)


def _reason_set(response: Response, reason: str) -> None:
    """Set the exclusion reason and move the wave's digest with it, in one transaction."""
    with transaction.atomic():
        answers, old = (
            Response.objects.select_for_update()
            .values_list("answers", "excluded_reason")
            .get(pk=response.pk)
        )
        Response.objects.filter(pk=response.pk).update(excluded_reason=reason)
        responses_changed(
            wave_id=response.wave_id, added=[(answers, reason)], removed=[(answers, old)]
        )
    response.excluded_reason = reason


def response_exclude(*, response: Response, actor: Any, reason: str) -> Response:
    """Keep the response as returned but leave it out of the analysis, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the response is excluded (for example "
                                         "“damaged form”)."})  # fmt: skip
    if len(reason) > 200:
        raise ValidationError({"reason": "Keep the reason under 200 characters."})
    _reason_set(response, reason)
    audit_record(
        actor=actor, action="survey.response_exclude", obj=response,
        program_id=response.wave.program_id, data={"reason": reason},
    )  # fmt: skip
    return response


def response_include(*, response: Response, actor: Any) -> Response:
    _reason_set(response, "")
    audit_record(
        actor=actor, action="survey.response_include", obj=response,
        program_id=response.wave.program_id,
    )  # fmt: skip
    return response


def analysable(queryset, *, include_pilot: bool = False):
    """Responses that enter the analysis: not excluded, and not from a pilot wave unless
    asked for."""
    qs = queryset.filter(excluded_reason="")
    if not include_pilot:
        qs = qs.filter(wave__is_pilot=False)
    return qs
