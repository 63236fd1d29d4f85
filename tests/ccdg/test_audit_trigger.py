"""The audit trail is append-only in the database too (migration ccdg 0003).

UPDATE is refused on SQLite and PostgreSQL; DELETE on PostgreSQL (Django empties SQLite tables
with DELETE between transactional tests, so SQLite keeps DELETE). Users who appear in the trail
cannot be deleted: clearing the actor would be an UPDATE of the trail.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from ccdg.audit import audit_record
from ccdg.models import AuditEvent
from tests.factories import AuditEventFactory, UserFactory

pytestmark = pytest.mark.django_db

ONLY_POSTGRESQL = "DELETE is refused on PostgreSQL only: Django's SQLite flush deletes rows"
TABLE = AuditEvent._meta.db_table


def execute(sql: str, params: list) -> None:
    # A savepoint, so that the refused statement does not break the test's transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_update_of_an_audit_row_is_refused_by_the_database():
    event = AuditEventFactory(action="casenote.read")

    with pytest.raises(IntegrityError, match="append-only"):
        execute(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["nothing", event.pk])  # noqa: S608

    assert AuditEvent.objects.get(pk=event.pk).action == "casenote.read"


def test_queryset_update_of_the_trail_is_refused_by_the_database():
    AuditEventFactory(action="casenote.read")

    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.update(data={"changed": True})

    assert list(AuditEvent.objects.values_list("data", flat=True)) == [{}]


def test_raw_delete_of_an_audit_row_is_refused_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(ONLY_POSTGRESQL)
    event = AuditEventFactory(action="casenote.read")

    with pytest.raises(IntegrityError, match="append-only: DELETE"):
        execute(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_inserting_events_still_works():
    actor = UserFactory()
    audit_record(actor=actor, action="casenote.create", data={"fields": ["difficulty"]})
    AuditEvent.objects.bulk_create([AuditEvent(action="casenote.read") for _ in range(2)])
    # The trigger lets a raw INSERT through (the chain columns are the writer's business).
    execute(
        f"INSERT INTO {TABLE} (created_at, action, object_type, object_id, data, "  # noqa: S608
        "chain_seq, chain_prev, chain_hash) "
        "VALUES (CURRENT_TIMESTAMP, %s, '', '', '{}', 4, %s, %s)",
        ["casenote.read", "a" * 64, "b" * 64],
    )

    assert AuditEvent.objects.filter(action="casenote.read").count() == 3
    assert AuditEvent.objects.get(action="casenote.create").actor == actor


def test_deleting_a_user_who_appears_in_the_trail_is_refused_and_keeps_the_trail():
    user = UserFactory()
    event = audit_record(actor=user, action="casenote.read")

    with pytest.raises(ProtectedError), transaction.atomic():
        user.delete()

    assert AuditEvent.objects.get(pk=event.pk).actor_id == user.pk
    user.refresh_from_db()


def test_deleting_a_user_with_no_audit_events_works():
    user = UserFactory()
    AuditEventFactory(action="casenote.read")  # someone else's event

    user.delete()

    assert not type(user).objects.filter(pk=user.pk).exists()
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_can_still_empty_the_trail_between_tests():
    # The flush after this test (TRUNCATE on PostgreSQL, DELETE on SQLite) must not be refused,
    # or every later transactional test would see these rows.
    audit_record(actor=UserFactory(), action="casenote.read")

    assert AuditEvent.objects.count() == 1
