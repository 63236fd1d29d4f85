"""Fetch and check for the pages of one survey wave (the surveys pages, the analysis runs and
the qualitative coding of a wave).

The decisions are :mod:`sessions_app.roles`': a page first gets its program from
``roles.program_for_request`` with the permission it needs ("surveys.view", "analysis.run",
"coding.manage"...), which answers 404 to someone with no role in the program and 403 to a
role without the permission; then the wave from :func:`wave_for_request`, which looks it up
within that program only, so that a wave of another program is a 404 like one that does not
exist.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from sessions_app.models import Program

from .models import Wave


def wave_for_request(request: Any, program: Program, slug: str) -> Wave:
    """The wave ``slug`` of ``program``, with its program, instrument and audience group (one
    query): the program's permission is the whole decision for a wave's pages."""
    wave = (
        Wave.objects.select_related("program", "instrument", "audience_group")
        .filter(program=program, slug=slug)
        .first()
    )
    if wave is None:
        raise Http404("No such survey wave.")
    return wave
