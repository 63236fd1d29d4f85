"""The audit trail is a hash chain, and ``manage.py audit_verify`` finds what was changed,
removed or inserted behind the app's back (by a database owner who set the trigger aside).

The expected hashes here are computed from the rows by a separate implementation of the
canonical form that docs/operations.md and ccdg/audit_chain.py document, as an auditor would:
json.dumps with sorted keys and no whitespace, SHA-256 of its UTF-8.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import threading
from datetime import UTC, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from ccdg.audit import audit_event, audit_record
from ccdg.models import AuditEvent
from ccdg.tasks import task_audit_checkpoint
from sessions_app.roster.services import roster_import_commit
from tests.factories import AuditEventFactory, ClinicianFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table
TRIGGER = "ccdg_auditevent_append_only"
ZEROS = "0" * 64
COLUMNS = (
    "id", "chain_seq", "chain_prev", "chain_hash", "created_at", "actor_id", "action",
    "program_id", "object_type", "object_id", "data", "ip_address",
)  # fmt: skip


# --- An auditor's implementation of the documented canonical form ----------------------------


def documented_hash(row: dict) -> str:
    document = {
        "seq": row["chain_seq"],
        "prev": row["chain_prev"],
        "created_at": row["created_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": row["actor_id"],
        "action": row["action"],
        "program_id": row["program_id"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "data": row["data"],
        "ip_address": row["ip_address"],
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rows() -> list[dict]:
    """Every stored event, read back from the database, in chain order."""
    return list(AuditEvent.objects.order_by("chain_seq").values(*COLUMNS))


def assert_chained(stored: list[dict]) -> None:
    assert [row["chain_seq"] for row in stored] == list(range(1, len(stored) + 1))
    previous = ZEROS
    for row in stored:
        assert row["chain_prev"] == previous
        assert row["chain_hash"] == documented_hash(row)
        previous = row["chain_hash"]


# --- Tampering as the table's owner ------------------------------------------------------------


def as_owner(sql: str, params: list | tuple = ()) -> None:
    """Run ``sql`` the way the table's owner can: with the append-only trigger set aside."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own open transaction holds deferred foreign-key checks of the rows it
            # wrote, and ALTER TABLE waits for none: run them now (an owner's session has none).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
            cursor.execute(sql, params)
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(f"DROP TRIGGER {TRIGGER}_update")
            cursor.execute(sql, params)
            cursor.execute(
                f"CREATE TRIGGER {TRIGGER}_update BEFORE UPDATE ON {TABLE} BEGIN "
                f"SELECT RAISE(ABORT, 'audit events are append-only: UPDATE on {TABLE} refused'); "
                "END"
            )


def verify(*args: str) -> tuple[int, str]:
    """Run ``manage.py audit_verify``; its exit status and output."""
    out = io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def events(n: int, action: str = "casenote.read") -> list[AuditEvent]:
    return [audit_record(actor=None, action=action, data={"n": i}) for i in range(n)]


# --- Writing ---------------------------------------------------------------------------------


def test_every_write_path_links_each_event_to_the_one_before_by_the_documented_hash():
    actor = UserFactory()
    program = ProgramFactory()
    clinician = ClinicianFactory(program=program)
    audit_record(
        actor=actor,
        action="clinician.update",
        obj=clinician,
        program_id=program.pk,
        data={"fields": ["email"], "note": "Zoë — ünïcode", "nested": {"b": [1, 2], "a": None}},
        ip="192.0.2.7",
    )
    AuditEventFactory(action="test.factory")
    AuditEvent.objects.create(action="test.create", data={"z": 1, "a": 2})
    AuditEvent.objects.bulk_create(
        [audit_event(actor=None, action="test.bulk", data={"i": i}) for i in range(3)]
    )
    # The roster import writes its per-clinician events with bulk_create.
    roster_import_commit(
        program=program,
        actor=actor,
        content=b"email,first_name,last_name,discipline\n"
        b"ana.ruiz@example.org,Ana,Ruiz,physician\nben.okoro@example.org,Ben,Okoro,NP\n",
    )

    stored = rows()

    assert [row["action"] for row in stored] == [
        "clinician.update",
        "test.factory",
        "test.create",
        "test.bulk",
        "test.bulk",
        "test.bulk",
        "clinician.create",
        "clinician.create",
        "roster.import",
    ]
    assert [row["data"].get("i") for row in stored[3:6]] == [0, 1, 2]
    assert_chained(stored)


def test_values_are_stored_exactly_as_they_were_hashed():
    # What the database gives back must hash as what the writer hashed: PostgreSQL's inet
    # prints IPv6 compressed in lower case, its jsonb prints a large float without exponent.
    cases = [
        ("2001:DB8:0:0:0:0:0:1", {"score": 1e20}),
        ("::ffff:192.0.2.1", {"p": 0.1, "tiny": 1.5e-07, "whole": 2.0}),
        ("10.0.0.1", {1: "int key", "list": (1, 2), "deep": {"y": [{"b": 1, "a": 2}]}}),
        (None, {"text": 'quote " backslash \\ newline \n tab \t bell \x07 emoji \U0001f600'}),
    ]
    for ip, data in cases:
        audit_record(actor=None, action="test.values", data=data, ip=ip)

    stored = rows()

    assert [row["ip_address"] for row in stored] == [
        "2001:db8::1",
        "::ffff:192.0.2.1",
        "10.0.0.1",
        None,
    ]
    assert stored[0]["data"] == {"score": 100000000000000000000}
    assert stored[1]["data"] == {"p": 0.1, "tiny": 1.5e-07, "whole": 2}
    assert stored[2]["data"] == {"1": "int key", "list": [1, 2], "deep": {"y": [{"b": 1, "a": 2}]}}
    assert_chained(stored)
    assert verify()[0] == 0


def test_data_json_cannot_hold_is_refused_and_nothing_is_written():
    with pytest.raises(ValueError, match="NaN or infinity"):
        audit_record(actor=None, action="test.nan", data={"x": float("nan")})
    with pytest.raises(ValueError, match="merged"):
        AuditEvent.objects.bulk_create([AuditEvent(action="x")], ignore_conflicts=True)

    assert AuditEvent.objects.count() == 0


def test_an_event_is_timed_when_it_joins_the_chain_not_when_it_was_prepared():
    prepared = audit_event(actor=None, action="test.late")
    prepared.created_at -= timedelta(days=3)

    AuditEvent.objects.bulk_create([prepared])

    stored = AuditEvent.objects.get()
    assert timezone.now() - stored.created_at < timedelta(minutes=1)
    assert_chained(rows())


# --- Verifying ---------------------------------------------------------------------------------


def test_verify_reports_an_intact_chain_with_exit_status_0():
    written = events(4)

    status, output = verify()

    assert status == 0
    assert "Checked 4 audit events" in output
    assert f"up to row id={written[-1].pk} hash={written[-1].chain_hash}" in output
    assert "The audit chain is intact." in output


def test_verify_of_an_empty_trail_is_intact():
    assert verify() == (0, "Checked 0 audit events.\nThe audit chain is intact.\n")


def test_verify_names_a_row_changed_by_the_owner_with_the_expected_and_found_hash():
    written = events(5)
    target = written[2]
    as_owner(f"UPDATE {TABLE} SET data = %s WHERE id = %s", ['{"n": 99}', target.pk])  # noqa: S608
    changed = next(row for row in rows() if row["id"] == target.pk)

    status, output = verify()

    assert status == 1
    assert f"BROKEN at row id={target.pk} (seq 3): changed." in output
    assert f"expected hash: {target.chain_hash}" in output
    assert f"found hash:    {documented_hash(changed)}" in output
    assert "Checked 2 audit events" in output


def test_verify_names_the_link_after_a_row_changed_with_its_hash_recomputed():
    written = events(4)
    target = written[1]
    forged = {**next(row for row in rows() if row["id"] == target.pk), "data": {"n": 42}}
    as_owner(
        f"UPDATE {TABLE} SET data = %s, chain_hash = %s WHERE id = %s",  # noqa: S608
        ['{"n": 42}', documented_hash(forged), target.pk],
    )

    status, output = verify()

    assert status == 1
    assert f"BROKEN at row id={written[2].pk} (seq 3): changed." in output
    assert f"expected hash: {documented_hash(forged)}" in output
    assert f"found hash:    {target.chain_hash}" in output
    assert f"row id={target.pk} (seq 2) was changed and its hash recomputed" in output


def test_verify_names_a_deleted_row_as_removed():
    written = events(5)
    as_owner(f"DELETE FROM {TABLE} WHERE id = %s", [written[1].pk])  # noqa: S608

    status, output = verify()

    assert status == 1
    assert f"BROKEN at row id={written[2].pk} (seq 3): removed." in output
    assert "The event(s) at seq 2" in output
    assert f"expected hash: {written[0].chain_hash}" in output
    assert f"found hash:    {written[1].chain_hash}" in output


def test_verify_names_a_row_inserted_out_of_order():
    written = events(3)
    forged = {
        "chain_seq": 4,
        "chain_prev": written[0].chain_hash,  # claims to follow the first event
        "created_at": written[-1].created_at,
        "actor_id": None,
        "action": "casenote.read",
        "program_id": None,
        "object_type": "",
        "object_id": "",
        "data": {},
        "ip_address": None,
    }
    as_owner(
        f"INSERT INTO {TABLE} (chain_seq, chain_prev, chain_hash, created_at, action, "  # noqa: S608
        "object_type, object_id, data) VALUES (4, %s, %s, %s, 'casenote.read', '', '', '{}')",
        [forged["chain_prev"], documented_hash(forged), forged["created_at"]],
    )
    inserted = AuditEvent.objects.get(chain_seq=4)

    status, output = verify()

    assert status == 1
    assert f"BROKEN at row id={inserted.pk} (seq 4): inserted." in output
    assert f"links to row id={written[0].pk} (seq 1) instead of row id={written[2].pk}" in output


def test_a_truncated_tail_is_caught_only_against_the_head_recorded_by_the_daily_task(caplog):
    events(3)
    with caplog.at_level(logging.INFO, logger="ccdg.audit"):
        task_audit_checkpoint()
    line = next(r.getMessage() for r in caplog.records if "audit chain head" in r.getMessage())
    head_id, head_hash, count = re.fullmatch(
        r"audit chain head id=(\d+) hash=([0-9a-f]{64}) count=(\d+)", line
    ).groups()
    assert count == "4"
    events(2, action="after.checkpoint")
    assert verify("--head-id", head_id, "--head", head_hash)[0] == 0

    # The owner removes the last three events (the checkpoint and the two after it); the app
    # goes on appending.
    tail = list(AuditEvent.objects.filter(chain_seq__gte=4).values_list("pk", flat=True))
    as_owner(f"DELETE FROM {TABLE} WHERE id IN ({', '.join(['%s'] * len(tail))})", tail)  # noqa: S608
    audit_record(actor=None, action="casenote.read")

    alone = verify()
    status, output = verify("--head-id", head_id, "--head", head_hash)

    assert alone[0] == 0  # on its own, a shortened chain is still a chain
    assert status == 1
    assert f"BROKEN at the recorded head (id={head_id}): removed." in output
    assert f"expected hash: {head_hash}" in output
    assert "The recorded head is no longer in the trail: events at the end were removed." in output


def test_verify_refuses_a_head_that_is_not_a_hash():
    with pytest.raises(CommandError, match="64 hexadecimal digits"):
        call_command("audit_verify", "--head", "abc")
    with pytest.raises(CommandError, match="needs --head"):
        call_command("audit_verify", "--head-id", "3")


# --- The daily checkpoint ----------------------------------------------------------------------


def test_the_daily_checkpoint_is_scheduled():
    beat = settings.CELERY_BEAT_SCHEDULE.values()
    schedule = {entry["task"]: entry["schedule"] for entry in beat}

    assert schedule["ccdg.audit_checkpoint"] == timedelta(days=1)


def test_the_checkpoint_records_a_broken_chain_and_logs_an_error(caplog):
    written = events(3)
    as_owner(f"UPDATE {TABLE} SET action = 'nothing' WHERE id = %s", [written[1].pk])  # noqa: S608

    with caplog.at_level(logging.INFO, logger="ccdg.audit"):
        result = task_audit_checkpoint()

    checkpoint = AuditEvent.objects.get(action="audit.checkpoint")
    assert result == {"id": checkpoint.pk, "count": 4, "verified": False}
    assert checkpoint.data == {
        "verified": False,
        "checked": 1,
        "problem": {"kind": "changed", "row_id": written[1].pk, "seq": 2},
    }
    assert [r.levelname for r in caplog.records if r.name == "ccdg.audit"] == ["INFO", "ERROR"]


def test_the_admin_audit_page_shows_the_head_and_the_last_verification(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    events(2)
    url = reverse("admin:ccdg_auditevent_changelist")

    before = client.get(url).content.decode()
    task_audit_checkpoint()
    head = AuditEvent.objects.get(chain_seq=3)
    after = client.get(url).content.decode()

    assert "never: the daily checkpoint has not run yet" in before
    assert f"id={head.pk} count=3" in after
    assert head.chain_hash in after
    assert "intact, 2 events checked." in after


# --- The migration chains the events written before it ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_events_in_id_order_and_keeps_their_times():
    executor = MigrationExecutor(connection)
    executor.migrate([("ccdg", "0005_survey_message_kinds")])
    with connection.cursor() as cursor:
        for i, when in enumerate(["2024-01-02 03:04:05.123456+00", "2024-01-01 00:00:00+00"]):
            cursor.execute(
                f"INSERT INTO {TABLE} (created_at, action, object_type, object_id, data) "  # noqa: S608
                "VALUES (%s, %s, '', '', %s)",
                [when, f"old.{i}", json.dumps({"i": i})],
            )
    executor = MigrationExecutor(connection)
    executor.migrate([("ccdg", executor.loader.graph.leaf_nodes("ccdg")[0][1])])

    stored = rows()
    assert [row["action"] for row in stored] == ["old.0", "old.1"]
    assert stored[0]["created_at"].isoformat() == "2024-01-02T03:04:05.123456+00:00"
    assert_chained(stored)
    # The trigger is back: the migration set it aside for its own transaction only.
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(action="x")
    audit_record(actor=None, action="new")
    assert_chained(rows())


# --- Two writers at once (PostgreSQL) -----------------------------------------------------------

WRITERS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_appending_at_the_same_moment_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; the PostgreSQL pass runs this race")
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            for i in range(5):
                audit_record(actor=None, action="race.one", data={"writer": n, "i": i})
            with transaction.atomic():
                AuditEvent.objects.bulk_create(
                    [audit_event(actor=None, action="race.bulk", data={"writer": n}) for _ in "ab"]
                )
                audit_record(actor=None, action="race.one", data={"writer": n, "i": 5})
        except BaseException as exc:  # noqa: BLE001 - every failure is reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    stored = rows()
    assert len(stored) == WRITERS * 8
    assert len({row["chain_prev"] for row in stored}) == len(stored)  # no fork
    assert_chained(stored)
    assert verify()[0] == 0
