"""Wave series: waves of one instrument linked over time (a baseline and follow-ups, or one
wave per program year), and the program's personal-code recipe. Linking itself is
:mod:`surveys.linking`; the paired statistics are the analysis app's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from ccdg.audit import audit_record
from sessions_app.models import Program

from . import linking
from .linking import asks_code
from .models import Response, SeriesWave, SurveySettings, Wave, WaveSeries
from .responses import QuestionSpec, analysable

LABEL_MAX = 60


def series_create(
    *, program: Program, actor: Any, name: str, design: str, instrument_slug: str,
    ask_code: bool = True,
) -> WaveSeries:  # fmt: skip
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the series a name, for example “2027 pre/post”."})
    if design not in WaveSeries.Design.values:
        raise ValidationError({"design": "Choose before-and-after or year-over-year."})
    base = slugify(name)[:50] or "series"
    slug, n = base, 2
    while WaveSeries.objects.filter(program=program, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    with transaction.atomic():
        series = WaveSeries.objects.create(
            program=program, name=name[:120], slug=slug, design=design,
            instrument_slug=instrument_slug, ask_code=ask_code,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )  # fmt: skip
        audit_record(
            actor=actor, action="survey.series_create", obj=series, program_id=program.pk,
            data={"design": design},
        )  # fmt: skip
    return series


def series_add_wave(*, series: WaveSeries, wave: Wave, actor: Any, label: str = "") -> SeriesWave:
    """Put ``wave`` last in ``series``. Refused for a wave of another program or instrument,
    or one already in a series."""
    if wave.program_id != series.program_id:
        raise ValidationError({"wave": "The wave belongs to another program."})
    if wave.instrument.slug != series.instrument_slug:
        raise ValidationError(
            {"wave": f"“{wave.name}” uses another questionnaire ({wave.instrument.name}): a "
                     "series compares answers to the same questions."}
        )  # fmt: skip
    if SeriesWave.objects.filter(wave=wave).exists():
        raise ValidationError({"wave": f"“{wave.name}” is already in a series."})
    with transaction.atomic():
        locked = WaveSeries.objects.select_for_update().get(pk=series.pk)
        last = locked.members.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
        label = (label or "").strip()[:LABEL_MAX] or default_label(locked, position)
        member = SeriesWave.objects.create(series=locked, wave=wave, position=position, label=label)
        audit_record(
            actor=actor, action="survey.series_add_wave", obj=locked,
            program_id=series.program_id, data={"wave": wave.pk, "position": position},
        )  # fmt: skip
    return member


def default_label(series: WaveSeries, position: int) -> str:
    if series.design == WaveSeries.Design.YEARLY:
        return f"Year {position + 1}"
    return "Baseline" if position == 0 else f"Follow-up {position}"


def series_remove_wave(*, member: SeriesWave, actor: Any) -> None:
    """Take a wave out of its series (its responses stay); later waves move up one place."""
    with transaction.atomic():
        series = WaveSeries.objects.select_for_update().get(pk=member.series_id)
        gone = member.position
        member.delete()
        for later in series.members.filter(position__gt=gone).order_by("position"):
            SeriesWave.objects.filter(pk=later.pk).update(position=later.position - 1)
        audit_record(
            actor=actor, action="survey.series_remove_wave", obj=series,
            program_id=series.program_id, data={"wave": member.wave_id},
        )  # fmt: skip


CODE_PAGE_TITLE = "Your personal code"


def code_page(wave: Wave) -> tuple[str, list[QuestionSpec]] | None:
    """The answering page that asks for the personal code, first in a wave that asks for it
    (:func:`asks_code`): one short question per part of the program's recipe."""
    if not asks_code(wave):
        return None
    specs = [
        QuestionSpec(
            code=linking.PART_PREFIX + c.key,
            text=c.question,
            type=linking.PART_TYPE,
            required=False,
            section_id=-1,
            section_title=CODE_PAGE_TITLE,
            choices=(),
        )  # fmt: skip
        for c in linking.recipe_for(wave.program_id)
    ]
    return CODE_PAGE_TITLE, specs


def link_hash_of(wave: Wave, answers: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(the keyed hash of the personal code in ``answers``, the answers without its parts).
    "" when the wave asks for no code or the respondent left it blank; ``ValidationError``
    for half a code."""
    parts = {k: v for k, v in answers.items() if k.startswith(linking.PART_PREFIX)}
    rest = {k: v for k, v in answers.items() if not k.startswith(linking.PART_PREFIX)}
    if not parts or not asks_code(wave):
        return "", rest
    code = linking.code_from_parts(linking.recipe_for(wave.program_id), parts)
    return linking.link_hash(wave.program_id, code), rest


def recipe_set(*, program: Program, actor: Any, recipe: list[str]) -> SurveySettings:
    """Change the program's personal-code recipe. Refused once an anonymous wave of a series has
    codes: a new recipe would link nobody to their earlier answers."""
    problem = linking.recipe_error(recipe)
    if problem:
        raise ValidationError({"recipe": problem})
    used = Response.objects.filter(wave__program=program).exclude(link_hash="").exists()
    current = [c.key for c in linking.recipe_for(program.pk)]
    if used and list(recipe) != current:
        raise ValidationError(
            {"recipe": "Responses already carry codes made with the current recipe: a new "
                       "recipe would link none of them to later answers."}
        )  # fmt: skip
    with transaction.atomic():
        settings_row, _ = SurveySettings.objects.update_or_create(
            program=program, defaults={"link_code_recipe": list(recipe)}
        )
        audit_record(
            actor=actor, action="survey.link_recipe_set", program_id=program.pk,
            data={"recipe": list(recipe)},
        )  # fmt: skip
    return settings_row


def members_of(series: WaveSeries) -> list[SeriesWave]:
    return list(series.members.select_related("wave__instrument").order_by("position"))


def links_of(
    series: WaveSeries, *, include_pilot: bool = False, members: list[SeriesWave] | None = None
) -> dict[int, linking.WaveLinks]:
    """Wave id -> its analysable responses by linking key (one query for the series, and one
    for its waves unless ``members`` are given)."""
    if members is None:
        members = members_of(series)
    rows: dict[int, list] = {m.wave_id: [] for m in members}
    queryset = analysable(
        Response.objects.filter(wave_id__in=list(rows)), include_pilot=include_pilot
    ).values_list("pk", "wave_id", "wave__mode", "recipient__clinician_id", "link_hash")
    for pk, wave_id, mode, clinician_id, hashed in queryset:
        rows[wave_id].append((pk, mode, clinician_id, hashed))
    return {wave_id: linking.wave_links(wave_id, wave_rows) for wave_id, wave_rows in rows.items()}


@dataclass
class WaveLinkRow:
    """One wave of a series on its page: its analysable responses and how they link."""

    member: SeriesWave
    links: linking.WaveLinks
    paired_with_baseline: int | None  # None for the baseline itself
    baseline_linkable: int


@dataclass
class LinkingSummary:
    rows: list[WaveLinkRow]
    k: int

    @property
    def baseline(self) -> WaveLinkRow | None:
        return self.rows[0] if self.rows else None


def linking_summary(
    series: WaveSeries, *, k: int, members: list[SeriesWave] | None = None
) -> LinkingSummary:
    """Each wave's responses, those without a linking key, duplicated keys, and how many of
    the baseline's linkable respondents answered it again (two queries, one if ``members``
    are given)."""
    if members is None:
        members = members_of(series)
    links = links_of(series, members=members)
    rows: list[WaveLinkRow] = []
    base = links[members[0].wave_id] if members else None
    for i, member in enumerate(members):
        own = links[member.wave_id]
        paired = None if i == 0 or base is None else len(linking.pairs(base, own))
        rows.append(
            WaveLinkRow(
                member=member,
                links=own,
                paired_with_baseline=paired,
                baseline_linkable=len(base.by_key) if base else 0,
            )  # fmt: skip
        )
    return LinkingSummary(rows=rows, k=k)
