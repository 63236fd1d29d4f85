"""An analysis reads the wave's running digest locked, then the responses: a response typed in
meanwhile waits for the read, so the fingerprint is always the digest of the rows analysed.
On real PostgreSQL with real threads (each thread has its own connection)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from surveys import digest
from surveys.models import Response
from surveys.responses import paper_response_add
from tests.factories import ResponseFactory, WaveFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(
            "row locks need PostgreSQL (SQLite serialises writers); the suite's PostgreSQL "
            "pass runs it: python -m tests.services -- ... pytest"
        )


def test_a_response_typed_in_during_the_read_waits_and_then_counts(program, coordinator):
    wave = WaveFactory(program=program, distributed_count=30)
    for value in ("2", "4", "5"):
        ResponseFactory(wave=wave, answers={"skill_empathy": value})
    typed_in = threading.Event()
    errors: list[BaseException] = []

    def type_in() -> None:
        try:
            paper_response_add(wave=wave, actor=coordinator, answers={"skill_empathy": "1"})
            typed_in.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        held = digest.stored_digest(wave.pk, lock=True)
        writer = threading.Thread(target=type_in)
        writer.start()
        # The writer's row is inserted but cannot update the locked digest: it waits.
        assert not typed_in.wait(timeout=1.0)
        rows = list(Response.objects.filter(wave=wave).values_list("answers", "excluded_reason"))
        assert len(rows) == 3
        assert digest.digest_of(rows) == held
    writer.join(timeout=30)

    assert not errors
    assert typed_in.is_set()
    assert Response.objects.filter(wave=wave).count() == 4
    assert digest.stored_digest(wave.pk) != held
    rows = Response.objects.filter(wave=wave).values_list("answers", "excluded_reason")
    assert digest.stored_digest(wave.pk) == digest.digest_of(rows)
