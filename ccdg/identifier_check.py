"""The guard's findings as the pages show them: the typed text cut into segments with each
finding marked, and a numbered list of what was found and what to write instead.

One shape for every page that explains a refusal (the case-note form after a save) and for the
check made while the person types (:func:`ccdg.views.identifiers_check`), so both say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccdg import phi

# What the live check accepts: a case note's longest field, with room to spare.
MAX_CHARS = 10_000


@dataclass(frozen=True)
class Explained:
    findings: list[dict[str, Any]]  # ref, text, category (label), reason
    segments: list[dict[str, Any]]  # text, finding (or None), ref (or None)


def explain(text: str, findings: list[phi.Finding], *, ref_prefix: str) -> Explained:
    """``findings`` of ``text`` for a page; ``ref_prefix-1``, ``-2``... are the ids of the
    reasons, which the marks in the text point to (``aria-describedby``)."""
    refs = {f: f"{ref_prefix}-{i}" for i, f in enumerate(findings, start=1)}
    return Explained(
        findings=[
            {
                "ref": refs[f],
                "text": f.text,
                "category": phi.CATEGORIES[f.category],
                "reason": f.reason,
            }
            for f in findings
        ],
        segments=[
            {"text": segment, "finding": finding, "ref": refs.get(finding) if finding else None}
            for segment, finding in phi.highlight(text, findings)
        ],
    )
