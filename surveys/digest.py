"""A digest of a wave's responses that is kept up to date as they change, so that telling
whether an analysis is still current costs one row read, not a read of every response.

The running total also counts the wave's returned and excluded responses, for its figures.

The digest is a sum, lane by lane, of a hash of each response (its answers and its exclusion
reason) modulo a prime: the order of the responses does not matter, adding a response adds its
terms, excluding one swaps its terms for those of the excluded row, and the same responses
always give the same digest, whoever computes it (the analysis computes it from the rows it
read; the running total on :class:`~surveys.models.ResponsesDigest` is the same sum kept by the
code that writes responses). It tells an analysis that is current from one that is not; it is
not a signature against someone who can write to the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import Response, ResponsesDigest

#: Each lane sums 61-bit terms modulo the Mersenne prime 2**61 - 1: a lane plus a term stays
#: below 2**62, inside the signed 64-bit integer of both databases' atomic UPDATE.
MODULUS = 2**61 - 1
LANES = ("lane_0", "lane_1", "lane_2", "lane_3")

Row = tuple[Any, str]  # (answers, excluded_reason)


def row_terms(answers: Any, excluded_reason: str) -> tuple[int, ...]:
    """The response's terms: SHA-256 of its canonical JSON line, cut into one 61-bit term per
    lane."""
    line = json.dumps(
        [answers, excluded_reason or ""], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    digest = hashlib.sha256(line.encode()).digest()
    return tuple(
        int.from_bytes(digest[8 * i : 8 * i + 8], "big") % MODULUS for i in range(len(LANES))
    )


def sums_of(rows: Iterable[Row]) -> list[int]:
    sums = [0] * len(LANES)
    for answers, reason in rows:
        for i, term in enumerate(row_terms(answers, reason)):
            sums[i] = (sums[i] + term) % MODULUS
    return sums


def text_of(sums: Iterable[int]) -> str:
    """The digest as text: the lanes in hexadecimal, 16 digits each."""
    return "".join(f"{value:016x}" for value in sums)


def digest_of(rows: Iterable[Row]) -> str:
    """The digest of these (answers, excluded_reason) rows."""
    return text_of(sums_of(rows))


def _excluded(rows: list[Row]) -> int:
    return sum(1 for _answers, reason in rows if reason)


def _rows_now(wave_id: int) -> list[Row]:
    return list(
        Response.objects.filter(wave_id=wave_id)
        .order_by()
        .values_list("answers", "excluded_reason")
    )


def responses_changed(
    *, wave_id: int, added: Iterable[Row] = (), removed: Iterable[Row] = ()
) -> None:
    """Keep the wave's running digest in step with a change made in the current transaction
    (call it in the same transaction as the change, after it). One atomic UPDATE; the first
    change of a wave creates the row from the responses it can see, its own included."""
    if not ResponsesDigest.objects.filter(wave_id=wave_id).exists() and _created(wave_id):
        return
    added, removed = list(added), list(removed)
    delta = [(a - r) % MODULUS for a, r in zip(sums_of(added), sums_of(removed), strict=True)]
    increments: dict[str, Any] = {
        lane: (F(lane) + delta[i]) % MODULUS for i, lane in enumerate(LANES)
    }
    increments["returned"] = F("returned") + len(added) - len(removed)
    increments["excluded"] = F("excluded") + _excluded(added) - _excluded(removed)
    ResponsesDigest.objects.filter(wave_id=wave_id).update(**increments)


def _created(wave_id: int) -> bool:
    """Make the wave's first digest from the responses the transaction can see (its own change
    included, so rows just added are not hashed twice); False if another transaction made it
    first (from what it could see, without our change: that is then added as a change)."""
    rows = _rows_now(wave_id)
    fields = dict(zip(LANES, sums_of(rows), strict=True))
    try:
        with transaction.atomic():
            ResponsesDigest.objects.create(
                wave_id=wave_id, returned=len(rows), excluded=_excluded(rows), **fields
            )
    except IntegrityError:
        return False
    return True


def stored_digest(wave_id: int, *, lock: bool = False) -> str:
    """The wave's digest: the running total (one query), made from the responses the first
    time it is asked for a wave whose responses predate it.

    ``lock=True`` (inside a transaction) also locks the running total until the transaction
    ends: every change of the wave's responses updates it in the change's own transaction, so
    the responses read after it are exactly the ones it sums (a change in flight either
    committed before the lock, or waits for the reader)."""
    rows = ResponsesDigest.objects.filter(wave_id=wave_id)
    if lock:
        rows = rows.select_for_update()
    row = rows.values_list(*LANES).first()
    if row is not None:
        return text_of(row)
    responses_changed(wave_id=wave_id)
    return stored_digest(wave_id, lock=lock)


def kept_digests(wave_ids) -> dict[int, str]:
    """The running digests the waves have (one query; waves without one are left out: unlike
    :func:`stored_digest`, this never writes)."""
    rows = ResponsesDigest.objects.filter(wave_id__in=list(wave_ids)).values_list("wave_id", *LANES)
    return {wave_id: text_of(lanes) for wave_id, *lanes in rows}
