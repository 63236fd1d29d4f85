"""The project's URL patterns, as the matrix enumerates them."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver


def project_urls() -> tuple[dict[str, set[str]], list[str]]:
    """Every named URL pattern of the project outside the admin (see test_admin.py), with the
    names of its parameters, and the unnamed patterns."""
    names: dict[str, set[str]] = {}
    unnamed: list[str] = []

    def walk(patterns, namespace: str, prefix: str, params: set[str]) -> None:
        for entry in patterns:
            found = params | set(entry.pattern.regex.groupindex)
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                inner = entry.namespace or ""
                full = f"{namespace}:{inner}" if namespace and inner else namespace or inner
                walk(entry.url_patterns, full, prefix + str(entry.pattern), found)
            elif isinstance(entry, URLPattern):
                if not entry.name:
                    unnamed.append(prefix + str(entry.pattern))
                    continue
                names[f"{namespace}:{entry.name}" if namespace else entry.name] = found

    walk(get_resolver().url_patterns, "", "", set())
    return names, unnamed


# URL parameters that name an object of a program (the rest name kinds, days, tokens).
OBJECT_PARAMS = ("wave", "series", "pk")


def program_object_urls() -> list[str]:
    """URL patterns addressed by a program's slug and the id of one of its objects (those with
    an expectation: a pattern without one fails test_every_url_pattern_has_an_expectation)."""
    from .expectations import EXPECTATIONS

    names, _ = project_urls()
    return sorted(
        name
        for name, params in names.items()
        if "slug" in params and params.intersection(OBJECT_PARAMS) and name in EXPECTATIONS
    )
