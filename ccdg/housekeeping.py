"""The registry of hourly clean-ups (``ccdg.housekeeping`` task): each app registers, in its
``AppConfig.ready()``, the callables that remove what it no longer needs and holds personal
data. The core runs them and knows nothing of what they remove."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .registry import Registry

# now -> how many rows it removed or changed
Cleanup = Callable[..., int]

_cleanups: Registry[Cleanup] = Registry("housekeeping clean-up")


def register(name: str, cleanup: Cleanup) -> None:
    """Add a clean-up under ``name`` (the key of its count in the task's result). A name
    taken by another clean-up is an error; the same one again (``ready()`` run twice)
    changes nothing."""
    _cleanups.add(name, cleanup)


def registered() -> dict[str, Cleanup]:
    """The clean-ups by name, in registration order."""
    return _cleanups.all()


def housekeeping_run(*, now: datetime) -> dict[str, int]:
    """Run every clean-up, in registration order; their counts by name."""
    return {name: cleanup(now=now) for name, cleanup in _cleanups.all().items()}
