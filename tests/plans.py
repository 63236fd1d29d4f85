"""What PostgreSQL's executor actually did for a query: rows per plan node, from
``EXPLAIN (ANALYZE, FORMAT JSON)``. Tests use it to show that a query's work grows with the
data it reads, not with the product of two tables (query counts cannot show that)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.db import connection


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def largest_node_rows(queryset) -> int:
    """The most rows any single plan node produced over all its loops (PostgreSQL only)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return max(int(n["Actual Rows"] * n["Actual Loops"]) for n in _nodes(plan))
