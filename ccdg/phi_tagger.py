"""The identifier guard's second reader: a sequence tagger trained on hand-written notes.

The rules in :mod:`ccdg.phi` read what a pattern can say ("MRN" then digits, "lives in" then a
town). Much of what a careful reader catches is a judgement over several weak signs at once: a
word no dictionary knows, in lower case, after "pt", before an age; a number after "bed" that
is a room, not a record. A linear-chain conditional random field (CRFsuite, through
python-crfsuite) weighs such signs; it is trained on the development part of the hand-written
notes (``bench/train_phi_tagger.py``) and never sees the test part.

Its features are the guard's own knowledge of words (Webster's list, the name lists, towns,
clinical terms) and each word's shape and neighbours; no text of a note is stored in the model,
only weights of features. The model file ships inside the package (``phi_data/phi_tagger.crf``),
and is read once per process, on the first scan.

A span the tagger finds joins the rules' findings only when the tagger is sure of it (every
word's marginal probability at least :data:`MIN_CONFIDENCE`), which keeps false alarms on clean
notes as rare as the rules alone keep them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

MODEL = Path(__file__).resolve().parent / "phi_data" / "phi_tagger.crf"
MIN_CONFIDENCE = 0.5

# Words, numbers with their inner separators ("617-555-0134", "4/12/1931"), and single marks.
_TOKEN = re.compile(
    r"[^\W_]+(?:['’][^\W_]+)*(?:[-./:#][^\W_]+(?:['’][^\W_]+)*)*|[^\w\s]", re.UNICODE
)
# Lab tests and scores, and units: a number after one or before the other is a measurement.
LAB_WORDS = frozenset(
    "plt plts platelets wbc hgb hb hct na k cl co2 bun cr creat egfr inr ptt pt fsbg bg bs "
    "glucose sugar a1c hba1c crp esr ferritin ammonia lactate trop troponin bnp ldh ast alt "
    "alk bili tsh ck lipase albumin psi curb sofa apache gcs nihss mews news hr rr bp sbp dbp "
    "map sat sats spo2 o2 temp tmax t wt weight ht height bmi score level levels pr qrs qtc "
    "qt ef lvef".split()
)
_UNITS = frozenset(
    "kg kgs lb lbs mg mcg g gm ml l dl mmhg bpm mmol meq units u iu cm mm km mi min mins "
    "minute minutes sec secs hr hrs hour hours h d days day wk wks weeks % percent pct "
    "x mg/dl mmol/l g/dl k/ul ng/ml pg/ml over".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)


def tokens(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each token of ``text``."""
    return [m.span() for m in _TOKEN.finditer(text)]


def _shape(word: str) -> str:
    """'Xx', 'x', 'X', 'd', 'Xd' ... with runs collapsed: 'Okafor' -> 'Xx', 'MRN4471' -> 'Xd'."""
    out: list[str] = []
    for char in word:
        kind = "X" if char.isupper() else "x" if char.isalpha() else "d" if char.isdigit() else char
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)[:6]


# What the guard's lexicons know of a word (ccdg.phi.tagger_lexicon): its folded form and
# flags such as "eng" (an English word), "listed" (in the name lists), "town". The guard hands
# it in, so that this module needs nothing of the guard.
Lexicon = Callable[[str], tuple[str, tuple[str, ...]]]


@lru_cache(maxsize=65536)
def _word_features(word: str, lexicon: Lexicon) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the word's own features, the shorter set its neighbours see), cached per word."""
    folded, known = lexicon(word)
    lower = folded.lower()
    own = [
        f"w={lower}",
        f"sh={_shape(word)}",
        f"suf={lower[-3:]}",
        f"suf2={lower[-2:]}",
        f"suf4={lower[-4:]}",
        f"pre={lower[:3]}",
        f"len={min(len(word), 9)}",
    ]
    near = [f"w={lower}", f"sh={_shape(word)}"]
    flags = []
    if word[:1].isupper():
        flags.append("cap")
    if word.isupper() and len(word) > 1:
        flags.append("upper")
    if any(c.isdigit() for c in word):
        digits = sum(c.isdigit() for c in word)
        flags.append(f"dig{min(digits, 9)}")
        if word.isascii() and word.isdigit():
            value = int(word) if len(word) <= 4 else 99999
            flags.append("n90" if 90 <= value <= 119 else f"nlen{len(word)}")
    elif word.isalpha() or "-" in word or "'" in word or "’" in word:
        if lower in _MONTHS:
            flags.append("month")
        if lower in LAB_WORDS and "clin" not in known:
            flags.append("clin")
        if lower in _UNITS:
            flags.append("unit")
        flags.extend(known)
    elif lower in _UNITS:
        flags.append("unit")
    else:
        flags.append("punct")
    own += flags
    near += flags
    return tuple(own), tuple(near)


_OFFSETS = (-2, -1, 1, 2)


@lru_cache(maxsize=65536)
def _as_seen(word: str, lexicon: Lexicon) -> tuple[tuple[str, ...], ...]:
    """The word's own features, then what the words 2 and 1 before it and 1 and 2 after it see
    of it (the far neighbours see only the word and its shape)."""
    own, near = _word_features(word, lexicon)
    return (
        own,
        *(tuple(f"{o}{f}" for f in (near if o in (-1, 1) else near[:2])) for o in _OFFSETS),
    )


_EDGES = {o: (f"{o}edge",) for o in _OFFSETS}


def features(text: str, spans: list[tuple[int, int]], lexicon: Lexicon) -> list[tuple[str, ...]]:
    """CRFsuite's items: the feature names of each token."""
    seen = [_as_seen(text[start:end], lexicon) for start, end in spans]
    letters = [c for c in text if c.isalpha()]
    upper = sum(c.isupper() for c in letters) / max(len(letters), 1)
    # how the whole note is typed: in capitals, without any, or as usual
    case = ("note=caps",) if upper > 0.6 else ("note=lower",) if upper < 0.01 else ()
    count = len(seen)
    items = []
    for index, (own, *_rest) in enumerate(seen):
        before2 = seen[index - 2][1] if index >= 2 else _EDGES[-2]
        before1 = seen[index - 1][2] if index >= 1 else _EDGES[-1]
        after1 = seen[index + 1][3] if index + 1 < count else _EDGES[1]
        after2 = seen[index + 2][4] if index + 2 < count else _EDGES[2]
        items.append(own + before2 + before1 + after1 + after2 + case)
    return items


# What the tagger labels: the categories whose rules miss what a reader catches, one label for
# the exactly-shaped contacts and numbers the rules always find, and "O" for everything else.
# One label per category (no begin/inside split): two identifiers of a kind never touch, and ten
# labels keep the tagger fast (its cost grows with the square of the labels).
TAGGED = (
    "name",
    "date",
    "record_number",
    "address",
    "age_over_89",
    "device_id",
    "facility",
    "place",
)
OTHER = "contact"


def labels(spans: list[tuple[int, int]], gold: list[dict[str, Any]]) -> list[str]:
    """The label of each token from gold spans ``{"category", "start", "end"}``."""
    out = ["O"] * len(spans)
    for mark in gold:
        label = mark["category"] if mark["category"] in TAGGED else OTHER
        for index, (start, end) in enumerate(spans):
            if start < mark["end"] and mark["start"] < end:
                out[index] = label
    return out


@cache
def _tagger():  # type: ignore[no-untyped-def]
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    tagger.open(str(MODEL))
    return tagger


def available() -> bool:
    return MODEL.is_file()


def find(
    text: str, lexicon: Lexicon, min_confidence: float | None = None
) -> list[tuple[str, int, int, float]]:
    """The spans the tagger is sure of: (category, start, end, confidence)."""
    if min_confidence is None:
        min_confidence = MIN_CONFIDENCE
    spans = tokens(text)
    if not spans or not available():
        return []
    tagger = _tagger()
    tagged = tagger.tag(features(text, spans, lexicon))
    found = []
    index = 0
    while index < len(tagged):
        label = tagged[index]
        if label == "O" or label == OTHER:
            index += 1
            continue
        first = index
        confidence = tagger.marginal(label, index)
        index += 1
        while index < len(tagged) and tagged[index] == label:
            confidence = min(confidence, tagger.marginal(label, index))
            index += 1
        if confidence >= min_confidence:
            found.append((label, spans[first][0], spans[index - 1][1], confidence))
    return found
