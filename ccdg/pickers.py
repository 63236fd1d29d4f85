"""What the pickers of long lists send: a choice among the ids offered (``?group=12``) and the
name typed into a search-as-you-type picker (``?q=oka chi``, answered as
``{"results": [{"value", "text"}]}``, the shape ``static/js/ccdg.js`` reads)."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, JsonResponse

#: Words of a name search that are used (first, last, and one more for a double surname).
SEARCH_WORDS = 3


def chosen_pk(value: str | None, offered: Container[int]) -> int | None:
    """The id asked for in the address, if it is one of those offered; else None."""
    try:
        wanted = int(value or "")
    except ValueError:
        return None
    return wanted if wanted in offered else None


def people_found(
    request: HttpRequest, people: QuerySet[Any], *, limit: int, label: Callable[[Any], str]
) -> JsonResponse:
    """The people (first_name and last_name fields) each word of ``q`` starts one of the names
    of, at most ``limit``, as the picker's JSON; nothing for an empty ``q``."""
    query = (request.GET.get("q") or "").strip()[:100]
    for word in query.split()[:SEARCH_WORDS]:
        people = people.filter(Q(last_name__istartswith=word) | Q(first_name__istartswith=word))
    rows = list(people[:limit]) if query else []
    return JsonResponse({"results": [{"value": p.pk, "text": label(p)} for p in rows]})
