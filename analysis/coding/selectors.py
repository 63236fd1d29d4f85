"""Reading qualitative coding: the items to code, the reviewers, one snapshot of everything coded
and the progress, agreement (Cohen's kappa), disagreements and final themes computed from it.
The writes (themes, reviewers, coding, consensus) are in :mod:`analysis.coding.services`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from analysis.coding.agreement import KappaResult, cohen_kappa, kappa_label
from analysis.coding.models import (
    Coding,
    CodingReviewer,
    CodingTheme,
    Consensus,
    ConsensusTheme,
    Theme,
)
from ccdg import phi
from sessions_app import roles
from surveys.models import Question, Response, Wave
from surveys.responses import analysable

ItemKey = tuple[int, str]

QUOTES_PER_THEME = 3
ELIGIBLE_ROLES = frozenset({roles.COORDINATOR, roles.REPORT_VIEWER})


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


def theme_uses(theme: Theme) -> int:
    """How many codes and consensus decisions apply ``theme``."""
    return (
        CodingTheme.objects.filter(theme=theme).count()
        + ConsensusTheme.objects.filter(theme=theme).count()
    )


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


def may_decide(user: Any, wave: Wave) -> bool:
    """The coordinator (and staff) or either named reviewer records a consensus."""
    return roles.can(user, "coding.manage", wave.program) or reviewer_slot(user, wave) is not None


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
