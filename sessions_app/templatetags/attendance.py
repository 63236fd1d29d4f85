"""Template filters of the attendance sheet."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

register = template.Library()


@register.filter
def rsvp_counts(rows: Iterable[tuple[Any, ...]]) -> dict[str, int]:
    """How the people listed on the sheet answered, counted from the very rows shown (each a
    ``(person, field, rsvp answer or None)``): the summary above the list then always matches
    it, and leaves out answers of people no longer listed (someone who moved group)."""
    counts = {"listed": 0, "answered": 0, "going": 0, "not_going": 0}
    for row in rows:
        answer = row[2]
        counts["listed"] += 1
        if answer in ("going", "not_going"):
            counts["answered"] += 1
            counts[answer] += 1
    return counts
