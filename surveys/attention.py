"""The surveys' part of the coordinator's "needs attention" list (``ccdg.attention``): each
open online wave with its response rate and the days left. One query."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.urls import reverse

from ccdg.attention import Item

from .models import Wave
from .waves import figures, waves_with_figures


def waves_attention(*, program: Any, now: datetime, until: datetime) -> list[Item]:
    waves = waves_with_figures(
        Wave.objects.filter(
            program=program, source=Wave.Source.ONLINE, closed_at__isnull=True, opens_at__lte=now
        ).exclude(closes_at__lte=now)
    ).order_by("closes_at", "name")
    items = []
    for wave in waves:
        numbers = figures(wave)
        rate = numbers.rate
        answered = f"{numbers.returned} of {numbers.distributed} answered"
        if rate is not None:
            answered += f" ({round(100 * rate)}%)"
        if wave.closes_at is None:
            left, level = "no closing date", "info"
        else:
            days = max(math.ceil((wave.closes_at - now).total_seconds() / 86400), 0)
            left = f"{days} day{'s' if days != 1 else ''} left"
            # Closing within a week with fewer than half answered: worth a reminder now.
            level = "warning" if days <= 7 and (rate or 0) < 0.5 else "info"
        items.append(Item(
            kind="survey.open", level=level, when=wave.closes_at,
            text=f"Survey “{wave.name}” is open: {answered}, {left}",
            url=reverse("surveys:wave_detail", args=[program.slug, wave.slug]),
            action="Open",
        ))  # fmt: skip
    return items
