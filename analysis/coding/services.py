"""Qualitative coding of a wave's open answers: services and selectors.

The procedure (docs/qualitative-coding.md): the coordinator writes a codebook of themes and
names two reviewers (people with the coordinator or report-viewer role in the program). Each
reviewer codes every *item* (one non-blank free-text answer of an analysable response) on their
own, without seeing the other's codes. Agreement is measured per theme with Cohen's kappa over
the items both have coded; the items where their theme sets differ go to a consensus step; the
final themes are counted and illustrated with short quotes that pass the identifier guard.

Every figure is computed from one :class:`Snapshot`, read in a fixed number of queries
whatever the number of items. The audit trail records ids and field names, never answer text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from analysis.coding.models import Coding, CodingReviewer, Consensus, Theme
from analysis.coding.selectors import (
    ELIGIBLE_ROLES,
    item_text,
    may_decide,
    reviewer_slot,
    theme_uses,
)
from ccdg.audit import acting_user, audit_record
from sessions_app import roles
from surveys.models import Response, Wave

# --- Themes -------------------------------------------------------------------------------------


def _clean_theme(
    wave: Wave, name: str, description: str, exclude_pk: int | None = None
) -> tuple[str, str]:
    name = " ".join((name or "").split())
    description = (description or "").strip()
    if not name:
        raise ValidationError({"name": "Give the theme a name."})
    if len(name) > 80:
        raise ValidationError({"name": "Keep the name under 80 characters."})
    clash = Theme.objects.filter(wave=wave, name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": f"The codebook already has a theme “{name}”."})
    return name, description


def theme_add(
    *, wave: Wave, actor: Any, name: str, description: str = "", order: int | None = None
) -> Theme:
    name, description = _clean_theme(wave, name, description)
    if order is None:
        order = (Theme.objects.filter(wave=wave).aggregate(m=Max("order"))["m"] or 0) + 1
    try:
        with transaction.atomic():
            theme = Theme.objects.create(wave=wave, name=name, description=description, order=order)
            audit_record(
                actor=actor, action="coding.theme_add", obj=theme,
                program_id=wave.program_id, data={"wave": wave.pk},
            )  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError({"name": f"The codebook already has a theme “{name}”."}) from exc
    return theme


def theme_update(
    *, theme: Theme, actor: Any, name: str, description: str = "", order: int | None = None
) -> list[str]:
    """Rename, describe or move a theme (allowed even once it is used). Returns the fields
    that changed."""
    name, description = _clean_theme(theme.wave, name, description, exclude_pk=theme.pk)
    data: dict[str, Any] = {"name": name, "description": description}
    if order is not None:
        data["order"] = order
    changed = sorted(k for k, v in data.items() if getattr(theme, k) != v)
    if not changed:
        return []
    for key in changed:
        setattr(theme, key, data[key])
    try:
        with transaction.atomic():
            theme.save(update_fields=changed)
            audit_record(
                actor=actor, action="coding.theme_update", obj=theme,
                program_id=theme.wave.program_id, data={"fields": changed},
            )  # fmt: skip
    except IntegrityError as exc:
        raise ValidationError({"name": f"The codebook already has a theme “{name}”."}) from exc
    return changed


def theme_delete(*, theme: Theme, actor: Any) -> None:
    """Remove an unused theme. A theme already applied stays: rename or describe it instead."""
    used = theme_uses(theme)
    if used:
        raise ValidationError(
            f"“{theme.name}” has been applied {used} time{'s' if used != 1 else ''}, so it "
            "cannot be deleted (the codes would lose their meaning). Rename it or change its "
            "description instead."
        )
    wave = theme.wave
    with transaction.atomic():
        audit_record(
            actor=actor, action="coding.theme_delete", obj=theme, program_id=wave.program_id,
            data={"wave": wave.pk},
        )  # fmt: skip
        theme.delete()


def reviewers_set(*, wave: Wave, first: Any, second: Any, actor: Any) -> None:
    """Name the two reviewers. Codes already made stay; only the named reviewers' count."""
    if first is None or second is None:
        raise ValidationError("Name two reviewers.")
    if first.pk == second.pk:
        raise ValidationError(
            {
                "second": "The two reviewers must be different people: agreement is measured "
                "between two independent readings."
            }  # fmt: skip
        )
    program = wave.program
    for key, user in (("first", first), ("second", second)):
        if not (user.is_active and roles.roles_in(user, program) & ELIGIBLE_ROLES):
            raise ValidationError(
                {
                    key: f"{user.get_full_name() or user.get_username()} is not a coordinator or "
                    "report viewer of this program, so cannot code its survey."
                }  # fmt: skip
            )
    with transaction.atomic():
        CodingReviewer.objects.filter(wave=wave).delete()
        CodingReviewer.objects.bulk_create(
            [
                CodingReviewer(wave=wave, user=first, slot=CodingReviewer.Slot.FIRST),
                CodingReviewer(wave=wave, user=second, slot=CodingReviewer.Slot.SECOND),
            ]
        )
        audit_record(
            actor=actor, action="coding.reviewers_set", obj=wave, program_id=wave.program_id,
            data={"first": first.pk, "second": second.pk},
        )  # fmt: skip


# --- Coding and consensus -----------------------------------------------------------------------


def _check_themes(wave: Wave, themes: Iterable[Theme]) -> list[Theme]:
    themes = list(themes)
    foreign = [t for t in themes if t.wave_id != wave.pk]
    if foreign:
        raise ValidationError({"themes": "Choose themes from this survey's codebook only."})
    return themes


def coding_save(
    *, reviewer: Any, response: Response, question_code: str, themes: Iterable[Theme]
) -> Coding:
    """Record (or change) one reviewer's themes for one item. No theme = "no theme applies"."""
    wave = response.wave
    if reviewer_slot(reviewer, wave) is None:
        raise PermissionDenied("Only the survey's two named reviewers code its answers.")
    item_text(wave, response, question_code)
    themes = _check_themes(wave, themes)
    with transaction.atomic():
        coding, created = Coding.objects.get_or_create(
            response=response, question_code=question_code, reviewer=reviewer
        )
        if not created:
            coding.save(update_fields=["updated_at"])
        coding.themes.set(themes)
    return coding


def consensus_save(
    *, actor: Any, response: Response, question_code: str, themes: Iterable[Theme]
) -> Consensus:
    """Record the agreed themes of an item that both reviewers have coded."""
    wave = response.wave
    if not may_decide(actor, wave):
        raise PermissionDenied("Only the coordinator or a named reviewer records a consensus.")
    item_text(wave, response, question_code)
    themes = _check_themes(wave, themes)
    named = list(CodingReviewer.objects.filter(wave=wave).values_list("user_id", flat=True))
    coded_by = set(
        Coding.objects.filter(
            response=response, question_code=question_code, reviewer_id__in=named
        ).values_list("reviewer_id", flat=True)
    )
    if len(named) < 2 or len(coded_by) < 2:
        raise ValidationError(
            "Both reviewers must code this answer before a consensus is recorded."
        )
    with transaction.atomic():
        consensus, _ = Consensus.objects.update_or_create(
            response=response,
            question_code=question_code,
            defaults={"decided_by": acting_user(actor), "decided_at": timezone.now()},
        )
        consensus.themes.set(themes)
        audit_record(
            actor=actor, action="coding.consensus", obj=consensus, program_id=wave.program_id,
            data={"response": response.pk, "question": question_code,
                  "themes": sorted(t.pk for t in themes)},
        )  # fmt: skip
    return consensus
