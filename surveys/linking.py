"""Linking a person's answers over the waves of a series, without names.

Confidential waves know their respondents: answers link by the recipient's roster entry.
Anonymous waves do not, and must not: there, each respondent builds a *personal code* from
stable facts only they know (a self-generated identification code), the same at every wave,
and the app stores only a keyed hash of it on the response (:func:`link_hash`). The code's
recipe is a program setting (:class:`surveys.models.SurveySettings`), chosen from
:data:`COMPONENTS`; the default asks for the second letter of one's first name, one's birth
month and the first letter of one's mother's first name.

The hash is an HMAC-SHA-256 with a key of its own (``CCDG_LINK_CODE_KEY``, else derived from
``SECRET_KEY``) and the program's id: a reader of the database without the key cannot compute
anyone's hash from facts about them, and the same code in two programs gives two hashes. The
code space is small (about 8,000 codes with the default recipe): whoever holds the key can
try every code, which tells them which responses share a code, never whose they are.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from .models import DEFAULT_LINK_CODE_RECIPE, SeriesWave, SurveySettings, Wave

#: The field name prefix of a code part in an answering page and its draft.
PART_PREFIX = "link:"
#: The question type of a code part on the answering page (never stored in the answers).
PART_TYPE = "link_code_part"


@dataclass(frozen=True)
class Component:
    """One part of the personal code: what the respondent is asked, and its kind (one letter,
    or a number from ``low`` to ``high`` written with two digits)."""

    key: str
    question: str
    kind: str  # "letter" or "number"
    low: int = 0
    high: int = 0

    @property
    def width(self) -> int:
        return 1 if self.kind == "letter" else 2

    @property
    def hint(self) -> str:
        if self.kind == "letter":
            return "One letter, A to Z."
        return f"A number from {self.low} to {self.high}."


COMPONENTS: dict[str, Component] = {
    c.key: c
    for c in (
        Component("first_name_letter2", "The second letter of your first name", "letter"),
        Component("birth_month", "The month you were born (1 to 12)", "number", 1, 12),
        Component("mother_initial", "The first letter of your mother's first name", "letter"),
        Component("birth_day", "The day of the month you were born (1 to 31)", "number", 1, 31),
        Component("father_initial", "The first letter of your father's first name", "letter"),
        Component(
            "birthplace_initial",
            "The first letter of the town or city where you were born",
            "letter",
        ),
    )
}
DEFAULT_RECIPE = DEFAULT_LINK_CODE_RECIPE
#: Recipes a coordinator picks from (the first is the default): facts that do not change,
#: that a person remembers, and that colleagues are unlikely to know.
RECIPE_PRESETS: tuple[tuple[str, ...], ...] = (
    DEFAULT_RECIPE,
    ("birth_day", "mother_initial", "father_initial"),
    ("first_name_letter2", "birth_day", "birth_month", "birthplace_initial"),
)


def recipe_label(recipe: Iterable[str]) -> str:
    """The recipe in words, its parts in order."""
    return "; ".join(COMPONENTS[k].question.lower() for k in recipe if k in COMPONENTS)


def recipe_error(recipe: Any) -> str | None:
    """Why ``recipe`` is not a usable recipe (None when it is): two to five known parts, each
    once."""
    if not isinstance(recipe, list | tuple) or not all(isinstance(k, str) for k in recipe):
        return "The recipe is a list of part names."
    unknown = [k for k in recipe if k not in COMPONENTS]
    if unknown:
        return f"Unknown part(s): {', '.join(unknown)}. Known: {', '.join(COMPONENTS)}."
    if len(set(recipe)) != len(recipe):
        return "Each part may appear once."
    if not 2 <= len(recipe) <= 5:
        return "A code has two to five parts."
    return None


def recipe_for(program_id: int) -> tuple[Component, ...]:
    """The program's recipe (the default when the program has not chosen one)."""
    keys = (
        SurveySettings.objects.filter(program_id=program_id)
        .values_list("link_code_recipe", flat=True)
        .first()
    )
    if not keys or recipe_error(keys):
        keys = DEFAULT_RECIPE
    return tuple(COMPONENTS[k] for k in keys)


def series_of(wave: Wave):
    """The wave's series, if any: no query when the wave was read with
    ``select_related("series_membership__series")``."""
    try:
        return wave.series_membership.series
    except SeriesWave.DoesNotExist:
        return None


def asks_code(wave: Wave) -> bool:
    """Whether the wave's respondents are asked for their personal code: an anonymous wave of
    a series that links by code. (Confidential waves link by recipient.)"""
    if not wave.is_anonymous:
        return False
    series = series_of(wave)
    return bool(series and series.ask_code)


def _letter(value: str) -> str | None:
    """One letter, accents and case ignored (É is E), or None."""
    folded = unicodedata.normalize("NFKD", value.strip()).encode("ascii", "ignore").decode()
    folded = folded.upper()
    return folded if len(folded) == 1 and "A" <= folded <= "Z" else None


def part_value(component: Component, value: str) -> str | None:
    """The part as it enters the code (``"E"``, ``"07"``), or None when it is not valid."""
    if component.kind == "letter":
        return _letter(value)
    text = value.strip()
    if not text.isdigit() or len(text) > 2:
        return None
    number = int(text)
    return f"{number:02d}" if component.low <= number <= component.high else None


def part_error(key: str, value: str) -> str | None:
    """Why ``value`` is not a valid part ``key`` (None when it is, or when blank)."""
    component = COMPONENTS.get(key.removeprefix(PART_PREFIX))
    if component is None:
        return "is not a part of the personal code"
    if not value.strip():
        return None
    return None if part_value(component, value) else component.hint.rstrip(".").lower()


def code_from_parts(recipe: Iterable[Component], parts: dict[str, str]) -> str:
    """The code made of the respondent's answers to the recipe's parts ("" when every part is
    blank: the respondent chose not to link). Raises ``ValidationError`` (keyed by part field)
    when some parts are missing or invalid: half a code would link to nobody."""
    recipe = tuple(recipe)
    raw = {c.key: str(parts.get(PART_PREFIX + c.key) or "").strip() for c in recipe}
    if not any(raw.values()):
        return ""
    errors = {}
    values = []
    for c in recipe:
        value = part_value(c, raw[c.key]) if raw[c.key] else None
        if value is None:
            what = "is needed too" if not raw[c.key] else c.hint.rstrip(".").lower()
            errors[PART_PREFIX + c.key] = f"{c.question}: {what}."
        values.append(value or "")
    if errors:
        raise ValidationError(errors)
    return "".join(values)


def code_from_text(recipe: Iterable[Component], text: str) -> str:
    """A code written in one piece on a paper form or in a CSV file (``"E07M"``: the parts in
    the recipe's order, spaces, dots and dashes ignored); "" for a blank one. Raises
    ``ValidationError`` for a code that does not follow the recipe."""
    recipe = tuple(recipe)
    compact = "".join(ch for ch in (text or "") if ch not in " .-_/")
    if not compact:
        return ""
    pattern = " + ".join(
        "a letter" if c.kind == "letter" else f"{c.low:02d}-{c.high:02d}" for c in recipe
    )
    problem = ValidationError(
        f"“{text.strip()}” is not a personal code of this program: {pattern}."
    )
    if len(compact) != sum(c.width for c in recipe):
        raise problem
    values, at = [], 0
    for c in recipe:
        value = part_value(c, compact[at : at + c.width])
        if value is None:
            raise problem
        values.append(value)
        at += c.width
    return "".join(values)


def _key() -> bytes:
    own = getattr(settings, "LINK_CODE_KEY", "")
    if own:
        return own.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"ccdg.link-code", hashlib.sha256).digest()


def link_hash(program_id: int, code: str) -> str:
    """The keyed hash stored on a response for ``code`` in the program ("" for no code)."""
    if not code:
        return ""
    message = f"{program_id}:{code}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


# -- Linking the answers of a series ------------------------------------------------------------


@dataclass
class WaveLinks:
    """One wave's respondents by linking key: ``("r", clinician id)`` in a confidential wave,
    ``("c", hash)`` in an anonymous one. A key given by two responses of the wave (two people
    who built the same code, or one person who answered twice) links neither."""

    wave_id: int
    responses: int = 0
    without_key: int = 0
    duplicated_keys: int = 0
    duplicated_responses: int = 0
    by_key: dict[tuple[str, Any], int] = field(default_factory=dict)  # key -> response id


def wave_links(wave_id: int, rows: Iterable[tuple[int, str, int | None, str]]) -> WaveLinks:
    """From ``(response id, mode, clinician id, link hash)`` rows of the wave's analysable
    responses."""
    rows = list(rows)
    links = WaveLinks(wave_id=wave_id, responses=len(rows))
    keyed: list[tuple[tuple[str, Any], int]] = []
    for pk, mode, clinician_id, hashed in rows:
        if mode == "confidential" and clinician_id is not None:
            keyed.append((("r", clinician_id), pk))
        elif hashed:
            keyed.append((("c", hashed), pk))
        else:
            links.without_key += 1
    counts = Counter(key for key, _pk in keyed)
    for key, pk in keyed:
        if counts[key] > 1:
            links.duplicated_responses += 1
        else:
            links.by_key[key] = pk
    links.duplicated_keys = sum(1 for n in counts.values() if n > 1)
    return links


def pairs(first: WaveLinks, later: WaveLinks) -> list[tuple[int, int]]:
    """``(response id in first, response id in later)`` of the respondents linked in both."""
    return [(pk, later.by_key[key]) for key, pk in first.by_key.items() if key in later.by_key]
