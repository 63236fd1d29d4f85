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

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from ccdg import phi
from ccdg.audit import acting_user, audit_record
from sessions_app import roles
from surveys.models import Question, Response, Wave
from surveys.responses import analysable

from .agreement import KappaResult, cohen_kappa, kappa_label
from .models import Coding, CodingReviewer, CodingTheme, Consensus, ConsensusTheme, Theme

QUOTES_PER_THEME = 3
ELIGIBLE_ROLES = frozenset({roles.COORDINATOR, roles.REPORT_VIEWER})

ItemKey = tuple[int, str]


# --- Items --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenQuestion:
    code: str
    text: str


def open_questions(wave: Wave) -> list[OpenQuestion]:
    """The free-text questions of the wave's instrument, in questionnaire order (one query,
    then cached on ``wave``)."""
    cached = getattr(wave, "_coding_open_questions", None)
    if cached is None:
        cached = [
            OpenQuestion(code, text)
            for code, text in Question.objects.filter(
                instrument_id=wave.instrument_id, type=Question.Type.FREE_TEXT
            )
            .order_by("section__order", "order", "id")
            .values_list("code", "text")
        ]
        wave._coding_open_questions = cached
    return cached


def _answer_text(answers: Any, code: str) -> str:
    value = answers.get(code) if isinstance(answers, dict) else None
    return value if isinstance(value, str) and value.strip() else ""


def items(wave: Wave) -> list[tuple[int, str, str]]:
    """``(response_id, question_code, text)`` of every item to code: the non-blank answers to
    the free-text questions in the wave's analysable responses (not excluded; none in a pilot
    wave), by response then question order. One query for the responses (plus one, once, for
    the questions)."""
    codes = [q.code for q in open_questions(wave)]
    if not codes:
        return []
    out = []
    rows = (
        analysable(Response.objects.filter(wave=wave)).order_by("pk").values_list("pk", "answers")
    )
    for pk, answers in rows:
        for code in codes:
            text = _answer_text(answers, code)
            if text:
                out.append((pk, code, text))
    return out


def item_key(response_id: int, question_code: str) -> str:
    """How an item is named in addresses and forms: ids only, never its text."""
    return f"{response_id}-{question_code}"


def parse_item_key(value: str) -> ItemKey | None:
    head, sep, code = (value or "").partition("-")
    if not sep or not head.isdigit() or not code:
        return None
    return int(head), code


def item_text(wave: Wave, response: Response, question_code: str) -> str:
    """The answer text if (response, question_code) is an item of ``wave``; else a
    ``ValidationError`` that says why not."""
    if response.wave_id != wave.pk:
        raise ValidationError("This answer does not belong to the survey.")
    if question_code not in {q.code for q in open_questions(wave)}:
        raise ValidationError(f"“{question_code}” is not an open question of this survey.")
    if wave.is_pilot:
        raise ValidationError("Answers of a pilot wave are not analysed, so they are not coded.")
    if response.excluded_reason:
        raise ValidationError("This response is excluded from the analysis, so it is not coded.")
    text = _answer_text(response.answers, question_code)
    if not text:
        raise ValidationError("This question was left blank in that response: nothing to code.")
    return text


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


def theme_uses(theme: Theme) -> int:
    """How many codes and consensus decisions apply ``theme``."""
    return (
        CodingTheme.objects.filter(theme=theme).count()
        + ConsensusTheme.objects.filter(theme=theme).count()
    )


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


# --- Reviewers ----------------------------------------------------------------------------------


def eligible_reviewers(wave: Wave) -> QuerySet[Any]:
    """The users who may be named reviewers: coordinators and report viewers of the program."""
    return (
        get_user_model()
        .objects.filter(
            program_roles__program_id=wave.program_id,
            program_roles__role__in=sorted(ELIGIBLE_ROLES),
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def reviewers(wave: Wave) -> dict[int, Any]:
    """Slot (1, 2) -> the named user (one query)."""
    return {
        r.slot: r.user
        for r in CodingReviewer.objects.filter(wave=wave).select_related("user").order_by("slot")
    }


def reviewer_slot(user: Any, wave: Wave) -> int | None:
    """1 or 2 if ``user`` is a named reviewer of ``wave``, else None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        CodingReviewer.objects.filter(wave=wave, user=user).values_list("slot", flat=True).first()
    )


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


def may_decide(user: Any, wave: Wave) -> bool:
    """The coordinator (and staff) or either named reviewer records a consensus."""
    return roles.can(user, "coding.manage", wave.program) or reviewer_slot(user, wave) is not None


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


# --- Reading everything at once -----------------------------------------------------------------


@dataclass
class Snapshot:
    """Everything the coding pages show of a wave, read in a fixed number of queries."""

    wave: Wave
    questions: list[OpenQuestion]
    items: list[tuple[int, str, str]]
    themes: list[Theme]
    reviewers: dict[int, Any]  # slot -> user
    codes: dict[ItemKey, dict[int, frozenset[int]]]  # item -> reviewer user id -> theme ids
    consensus: dict[ItemKey, frozenset[int]]  # item -> theme ids
    text: dict[ItemKey, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.text = {(r, q): t for r, q, t in self.items}

    @property
    def keys(self) -> list[ItemKey]:
        return [(r, q) for r, q, _ in self.items]

    @property
    def reviewer_ids(self) -> tuple[int, int] | None:
        if 1 in self.reviewers and 2 in self.reviewers:
            return self.reviewers[1].pk, self.reviewers[2].pk
        return None

    def pair(self, key: ItemKey) -> tuple[frozenset[int], frozenset[int]] | None:
        """Both reviewers' theme sets for an item, or None unless both have coded it."""
        ids = self.reviewer_ids
        if ids is None:
            return None
        coded = self.codes.get(key, {})
        if ids[0] in coded and ids[1] in coded:
            return coded[ids[0]], coded[ids[1]]
        return None

    def both_coded(self) -> list[ItemKey]:
        return [k for k in self.keys if self.pair(k) is not None]

    def question_text(self, code: str) -> str:
        return next((q.text for q in self.questions if q.code == code), code)

    def theme_names(self, ids: Iterable[int]) -> list[str]:
        wanted = set(ids)
        return [t.name for t in self.themes if t.pk in wanted]


def snapshot(wave: Wave) -> Snapshot:
    """Read the wave's coding state: questions, items, themes, reviewers, codes, consensus."""
    questions = open_questions(wave)
    found_items = items(wave)
    themes = list(Theme.objects.filter(wave=wave))
    named = reviewers(wave)
    codes: dict[ItemKey, dict[int, frozenset[int]]] = defaultdict(dict)
    consensus: dict[ItemKey, frozenset[int]] = {}
    if found_items:
        applied: dict[int, set[int]] = defaultdict(set)
        for coding_id, theme_id in CodingTheme.objects.filter(
            coding__response__wave=wave
        ).values_list("coding_id", "theme_id"):
            applied[coding_id].add(theme_id)
        for pk, response_id, code, reviewer_id in Coding.objects.filter(
            response__wave=wave
        ).values_list("pk", "response_id", "question_code", "reviewer_id"):
            codes[(response_id, code)][reviewer_id] = frozenset(applied.get(pk, ()))
        decided: dict[int, set[int]] = defaultdict(set)
        for consensus_id, theme_id in ConsensusTheme.objects.filter(
            consensus__response__wave=wave
        ).values_list("consensus_id", "theme_id"):
            decided[consensus_id].add(theme_id)
        for pk, response_id, code in Consensus.objects.filter(response__wave=wave).values_list(
            "pk", "response_id", "question_code"
        ):
            consensus[(response_id, code)] = frozenset(decided.get(pk, ()))
    return Snapshot(
        wave=wave,
        questions=questions,
        items=found_items,
        themes=themes,
        reviewers=named,
        codes=dict(codes),
        consensus=consensus,
    )


# --- Progress and agreement ---------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    slot: int
    user: Any
    coded: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.coded / self.total) if self.total else 0


def reviewer_progress(wave: Wave, snap: Snapshot | None = None) -> list[Progress]:
    """For each named reviewer: how many of the wave's items they have coded."""
    snap = snap or snapshot(wave)
    out = []
    for slot, user in sorted(snap.reviewers.items()):
        coded = sum(1 for k in snap.keys if user.pk in snap.codes.get(k, {}))
        out.append(Progress(slot=slot, user=user, coded=coded, total=len(snap.items)))
    return out


@dataclass(frozen=True)
class ThemeAgreement:
    theme: Theme
    n: int  # items coded by both reviewers
    first: int  # how many of them reviewer 1 applied the theme to
    second: int
    both: int
    kappa: KappaResult

    @property
    def label(self) -> str:
        return kappa_label(self.kappa.kappa)


@dataclass(frozen=True)
class Agreement:
    n: int  # items coded by both reviewers
    identical: int  # of which the two theme sets are identical
    themes: list[ThemeAgreement]

    @property
    def percent(self) -> float | None:
        """Overall agreement: share of items with identical theme sets, in percent."""
        return 100 * self.identical / self.n if self.n else None

    @property
    def disagreements(self) -> int:
        return self.n - self.identical


def agreement(wave: Wave, snap: Snapshot | None = None) -> Agreement:
    """Per theme, Cohen's kappa between the two reviewers over the items both have coded; and
    the overall share of those items on which their theme sets are identical."""
    snap = snap or snapshot(wave)
    pairs = [p for p in (snap.pair(k) for k in snap.keys) if p is not None]
    per_theme = []
    for theme in snap.themes:
        a = [theme.pk in first for first, _ in pairs]
        b = [theme.pk in second for _, second in pairs]
        per_theme.append(
            ThemeAgreement(
                theme=theme,
                n=len(pairs),
                first=sum(a),
                second=sum(b),
                both=sum(1 for x, y in zip(a, b, strict=True) if x and y),
                kappa=cohen_kappa(a, b),
            )
        )
    identical = sum(1 for first, second in pairs if first == second)
    return Agreement(n=len(pairs), identical=identical, themes=per_theme)


@dataclass(frozen=True)
class Disagreement:
    response_id: int
    question_code: str
    question_text: str
    text: str
    first: list[str]  # theme names given by reviewer 1
    second: list[str]
    first_ids: frozenset[int]
    second_ids: frozenset[int]
    consensus: list[str] | None  # None: not decided yet
    consensus_ids: frozenset[int] | None

    @property
    def key(self) -> str:
        return item_key(self.response_id, self.question_code)


def disagreements(wave: Wave, snap: Snapshot | None = None) -> list[Disagreement]:
    """The items both reviewers have coded with different theme sets, each with the themes
    each reviewer gave and the consensus if one has been recorded."""
    snap = snap or snapshot(wave)
    out = []
    for key in snap.keys:
        pair = snap.pair(key)
        if pair is None or pair[0] == pair[1]:
            continue
        decided = snap.consensus.get(key)
        out.append(
            Disagreement(
                response_id=key[0],
                question_code=key[1],
                question_text=snap.question_text(key[1]),
                text=snap.text[key],
                first=snap.theme_names(pair[0]),
                second=snap.theme_names(pair[1]),
                first_ids=pair[0],
                second_ids=pair[1],
                consensus=None if decided is None else snap.theme_names(decided),
                consensus_ids=decided,
            )
        )
    return out


# --- Final themes -------------------------------------------------------------------------------


def final_set(snap: Snapshot, key: ItemKey) -> frozenset[int] | None:
    """The final themes of an item: the consensus if there is one, else the reviewers' set
    when both coded it identically; None while unresolved or not coded by both."""
    if key in snap.consensus:
        return snap.consensus[key]
    pair = snap.pair(key)
    if pair is not None and pair[0] == pair[1]:
        return pair[0]
    return None


@dataclass(frozen=True)
class FinalTheme:
    theme: Theme
    items: int
    responses: int
    quotes: list[str]


@dataclass(frozen=True)
class FinalThemes:
    themes: list[FinalTheme]
    resolved: int  # items with a final set (possibly empty: no theme applies)
    no_theme: int  # of which the final set is empty
    unresolved: int  # both coded, sets differ, no consensus yet
    pending: int  # not yet coded by both reviewers (and no consensus)
    withheld: int  # quotes left out because the identifier guard found something


def final_themes(wave: Wave, snap: Snapshot | None = None) -> FinalThemes:
    """Per theme, how many items (and distinct responses) have it among their final themes,
    and up to three example quotes, shortest first. A quote in which the identifier guard
    (:func:`ccdg.phi.scan`) finds anything is never shown: it is skipped and counted in
    ``withheld`` (each item once)."""
    snap = snap or snapshot(wave)
    by_theme: dict[int, list[ItemKey]] = defaultdict(list)
    resolved = no_theme = unresolved = pending = 0
    for key in snap.keys:
        final = final_set(snap, key)
        if final is None:
            if snap.pair(key) is not None:
                unresolved += 1
            else:
                pending += 1
            continue
        resolved += 1
        if not final:
            no_theme += 1
        for theme_id in final:
            by_theme[theme_id].append(key)
    verdicts: dict[ItemKey, bool] = {}  # item -> passes the identifier guard
    withheld: set[ItemKey] = set()
    out = []
    for theme in snap.themes:
        keys = by_theme.get(theme.pk, [])
        quotes: list[str] = []
        for key in sorted(keys, key=lambda k: (len(snap.text[k]), k)):
            if len(quotes) == QUOTES_PER_THEME:
                break
            if key not in verdicts:
                verdicts[key] = not phi.scan(snap.text[key])
            if verdicts[key]:
                quotes.append(snap.text[key].strip())
            else:
                withheld.add(key)
        out.append(
            FinalTheme(
                theme=theme,
                items=len(keys),
                responses=len({r for r, _ in keys}),
                quotes=quotes,
            )
        )
    return FinalThemes(
        themes=out,
        resolved=resolved,
        no_theme=no_theme,
        unresolved=unresolved,
        pending=pending,
        withheld=len(withheld),
    )
