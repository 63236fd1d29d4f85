"""The audit trail's hash chain: the canonical form of an event, its hash, and the walk that
checks a chain. Pure functions, no database: an auditor can read this module next to
docs/operations.md ("Verifying the audit trail") and re-implement it.

Every audit event stores three chain columns:

* ``chain_seq``: its position, 1 for the first event, then 2, 3, ... with no gap. Row ids are
  not used for this: PostgreSQL loses id values to rolled-back transactions, so ids may have
  gaps that mean nothing, while a gap in ``chain_seq`` always means a removed event.
* ``chain_prev``: the ``chain_hash`` of the event before it (64 zeros for the first event).
* ``chain_hash``: SHA-256, as 64 lower-case hexadecimal digits, of the UTF-8 bytes of the
  event's canonical document (below), which includes ``chain_prev``.

The canonical document is a JSON object with exactly these keys::

    seq          chain_seq, an integer
    prev         chain_prev, 64 lower-case hex digits
    created_at   "YYYY-MM-DDTHH:MM:SS.ffffffZ": UTC, always six fraction digits
    actor_id     the acting user's id (integer) or null
    action       string
    program_id   integer or null
    object_type  string (may be empty)
    object_id    string (may be empty)
    data         the event's JSON data
    ip_address   string or null, as the database returns it

serialised with keys sorted (at every depth) by Unicode code point, no whitespace (``,`` and
``:`` as separators), strings as JSON strings with non-ASCII characters written as themselves
(UTF-8), and ``"``, ``\\`` and control characters escaped (``\\n``, ``\\t``... and ``\\u00XX``
with lower-case hex for the others), ``true``/``false``/``null``, integers in plain decimal.
A number with an integral value is an integer (the writer stores ``2.0`` as ``2``, so that
PostgreSQL's ``jsonb``, which may print a large float without its exponent, reads back the
same value); any other number is written as the shortest decimal that reads back to the same
IEEE 754 double, as Python's ``repr`` writes it (``0.1``, ``1.5e-07``). In Python this is
``json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.

The row's database id is not part of the document: it is assigned by the database after the
hash is computed. The document's fields are fixed; a field added to the model later must leave
this document unchanged for the rows written before it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
HASH_PATTERN = re.compile(r"\A[0-9a-f]{64}\Z")

# What each kind of problem means, for the command's output and the docs.
CHANGED = "changed"
REMOVED = "removed"
INSERTED = "inserted"


def canonical_value(value: Any) -> Any:
    """``value`` as the chain hashes it and the database returns it (see the module doc).

    Raises ValueError for what JSON cannot hold (NaN, infinities, non-string keys that are
    not numbers or booleans).
    """
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("audit data cannot hold NaN or infinity")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        # JSON object keys are strings: json.dumps turns 1 into "1" and True into "true".
        return {_key(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_value(item) for item in value]
    raise ValueError(f"audit data cannot hold a {type(value).__name__}")


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    try:
        return str(next(iter(json.loads(json.dumps({key: 0})))))
    except TypeError as exc:
        raise ValueError(f"audit data cannot have a {type(key).__name__} as a key") from exc


def canonical_json(document: dict[str, Any]) -> str:
    return json.dumps(
        canonical_value(document),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def utc_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit times are timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_document(
    *,
    seq: int,
    prev: str,
    created_at: datetime,
    actor_id: int | None,
    action: str,
    program_id: int | None,
    object_type: str,
    object_id: str,
    data: Any,
    ip_address: str | None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "prev": prev,
        "created_at": utc_timestamp(created_at),
        "actor_id": actor_id,
        "action": action,
        "program_id": program_id,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
        "ip_address": ip_address,
    }


def chain_digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


# --- Verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainRow:
    """One stored event as the walk sees it: its id, chain columns and canonical document."""

    id: int
    seq: int
    prev: str
    hash: str
    document: dict[str, Any]


@dataclass(frozen=True)
class ChainProblem:
    """The first broken or missing link: which row, what kind, the hashes that disagree.

    ``expected`` is what the chain says should be there (the stored hash of a changed row,
    the hash of the last intact event that the next one must link to, a recorded head);
    ``found`` is what is there (what the row's content hashes to now, the hash the row
    links to, the chain's current head).
    """

    kind: str  # CHANGED, REMOVED or INSERTED
    row_id: int | None
    seq: int | None
    expected: str
    found: str
    explanation: str

    def summary(self) -> str:
        where = f"row id={self.row_id} (seq {self.seq})" if self.row_id is not None else "head"
        return f"{where}: {self.kind}"


@dataclass(frozen=True)
class ChainReport:
    checked: int  # events checked and found in order before the first problem (or in all)
    head: ChainRow | None  # the last intact event
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def chain_walk(
    rows: Iterable[ChainRow], *, find_hash: Callable[[str], ChainRow | None]
) -> ChainReport:
    """Check ``rows`` (in ``chain_seq`` order, then id) link by link; stop at the first problem.

    ``find_hash`` looks a hash up anywhere in the trail: it tells a row that was inserted out
    of order (it links to an older event that already has a successor) from one whose link
    points nowhere.
    """
    expected_seq, expected_prev = 1, GENESIS
    previous: ChainRow | None = None
    checked = 0

    def report(problem: ChainProblem | None) -> ChainReport:
        return ChainReport(checked=checked, head=previous, problem=problem)

    for row in rows:
        before = f"row id={previous.id} (seq {previous.seq})" if previous else "the start"
        if row.seq < expected_seq:
            return report(
                ChainProblem(
                    INSERTED, row.id, row.seq, expected_prev, row.prev,
                    f"Its position seq {row.seq} is already taken by {before}: a second row "
                    "was inserted at a position in the chain.",
                )
            )  # fmt: skip
        if row.seq > expected_seq:
            missing = (
                f"seq {expected_seq}"
                if row.seq == expected_seq + 1
                else f"seq {expected_seq} to {row.seq - 1}"
            )
            return report(
                ChainProblem(
                    REMOVED, row.id, row.seq, expected_prev, row.prev,
                    f"The event(s) at {missing}, between {before} and this row, are missing: "
                    "removed from the trail.",
                )
            )  # fmt: skip
        recomputed = chain_digest(row.document)
        if recomputed != row.hash:
            return report(
                ChainProblem(
                    CHANGED, row.id, row.seq, row.hash, recomputed,
                    "The row's content now hashes to the found hash, not to the hash stored "
                    "when it was appended: the row was changed.",
                )
            )  # fmt: skip
        if row.prev != expected_prev:
            linked = find_hash(row.prev)
            if linked is not None:
                explanation = (
                    f"It links to row id={linked.id} (seq {linked.seq}) instead of {before}: "
                    "it was inserted out of order."
                )
                kind = INSERTED
            else:
                explanation = (
                    f"It links to a hash that no row has, not to {before}: {before} was "
                    "changed and its hash recomputed, or this row was inserted in its place."
                )
                kind = CHANGED
            return report(ChainProblem(kind, row.id, row.seq, expected_prev, row.prev, explanation))
        checked += 1
        previous = row
        expected_seq, expected_prev = row.seq + 1, row.hash
    return report(None)


def head_check(
    report: ChainReport,
    *,
    head_hash: str,
    head_id: int | None,
    find_hash: Callable[[str], ChainRow | None],
    find_id: Callable[[int], ChainRow | None],
) -> ChainProblem | None:
    """Compare an intact chain with a head recorded elsewhere earlier (the daily log line).

    An attacker who removes the last events leaves a chain that is intact on its own: only a
    head recorded outside the database shows that it once went further.
    """
    current = report.head
    ends = (
        f"The chain now ends at row id={current.id} (seq {current.seq})"
        if current
        else "The trail is now empty"
    )
    found = find_hash(head_hash)
    if found is not None and (head_id is None or found.id == head_id):
        return None
    if found is not None:
        return ChainProblem(
            CHANGED, head_id, found.seq, head_hash, head_hash,
            f"The recorded head's hash belongs to row id={found.id}, not to row id={head_id}: "
            "row ids were changed.",
        )  # fmt: skip
    if head_id is not None:
        row = find_id(head_id)
        if row is not None:
            return ChainProblem(
                CHANGED, row.id, row.seq, head_hash, row.hash,
                f"Row id={row.id} no longer has the hash recorded for it: the events up to it "
                f"were changed, or removed and replaced. {ends}.",
            )  # fmt: skip
    return ChainProblem(
        REMOVED, head_id, None, head_hash, current.hash if current else GENESIS,
        f"The recorded head is no longer in the trail: events at the end were removed. {ends}.",
    )  # fmt: skip
