"""Addresses of the app's pages in tests: one rule for every namespace.

Most pages hang off a program (``/programs/<slug>/...``) or off a survey wave of a program
(``/programs/<slug>/surveys/<wave>/...``). Test modules make their ``url`` with one line:
``url = program_page("surveys")``, ``url = wave_page("coding")``.
"""

from collections.abc import Callable

from django.urls import reverse


def program_page(namespace: str) -> Callable[..., str]:
    """``url(name, program, *args, **kwargs)``: the page ``namespace:name`` of ``program``
    (extra positional arguments follow the program's slug, keywords join it)."""

    def url(name: str, program, /, *args, **kwargs) -> str:
        if args:
            return reverse(f"{namespace}:{name}", args=[program.slug, *args])
        return reverse(f"{namespace}:{name}", kwargs={"slug": program.slug, **kwargs})

    return url


def wave_page(namespace: str) -> Callable[..., str]:
    """``url(name, wave, **kwargs)``: the page ``namespace:name`` of a survey wave."""

    def url(name: str, wave, /, **kwargs) -> str:
        kwargs = {"slug": wave.program.slug, "wave": wave.slug, **kwargs}
        return reverse(f"{namespace}:{name}", kwargs=kwargs)

    return url
