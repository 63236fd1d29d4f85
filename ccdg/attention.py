"""What needs a coordinator's attention in a program: the registry behind the coordinator's
home page. Each app registers, in its ``AppConfig.ready()``, a provider that looks at one
program and returns :class:`Item` s (a session without a presenter, failed messages, an open
survey wave); the core gathers them and knows nothing of what they are about.

A provider costs a fixed number of queries whatever the program's size: the home page's
query count is the sum of theirs (tests/sessions_app/home).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .registry import Registry

# How far ahead the home page looks.
WINDOW = timedelta(days=28)
# The order of levels on the page: what is urgent first.
LEVELS = ("danger", "warning", "info")


@dataclass(frozen=True)
class Item:
    """One thing to do: what (``text``), where it is fixed (``url``, ``action`` the link's
    words), how urgent (``level``: danger, warning or info) and when it matters (``when``,
    for the order within a level)."""

    kind: str
    text: str
    url: str
    action: str
    level: str = "warning"
    when: datetime | None = None


# (program, now, until) -> items
Provider = Callable[..., list[Item]]

_providers: Registry[Provider] = Registry("attention provider")


def register(name: str, provider: Provider) -> None:
    """Add a provider under ``name``; the same one again (``ready()`` run twice) changes
    nothing, another one under a taken name is an error."""
    _providers.add(name, provider)


def registered() -> dict[str, Provider]:
    return _providers.all()


def attention_for(program: Any, *, now: datetime) -> list[Item]:
    """Every provider's items for ``program`` over the next :data:`WINDOW`, the urgent first,
    then by when they matter."""
    items = [
        item
        for provider in _providers.values()
        for item in provider(program=program, now=now, until=now + WINDOW)
    ]
    far = now + WINDOW * 100
    return sorted(items, key=lambda i: (LEVELS.index(i.level), i.when or far, i.text))
