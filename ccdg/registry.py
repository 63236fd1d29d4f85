"""A registry filled by the apps' ``AppConfig.ready()``: things under names, each name once.

Registering the same thing again under its name (``ready()`` run twice) changes nothing;
another thing under a taken name is a configuration error. Used by the housekeeping
clean-ups, the outbox's message kinds and the "needs attention" providers.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what  # "The <what> 'x' is registered twice."
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> None:
        known = self._items.get(name)
        if known is item:
            return
        if known is not None:
            raise ImproperlyConfigured(f"The {self.what} {name!r} is registered twice.")
        self._items[name] = item

    def get(self, name: str) -> T | None:
        return self._items.get(name)

    def all(self) -> dict[str, T]:
        """Name -> item, in registration order."""
        return dict(self._items)

    def values(self) -> list[T]:
        return list(self._items.values())
