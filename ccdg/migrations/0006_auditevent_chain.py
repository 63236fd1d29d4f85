"""Hash-chain the audit trail (ccdg.audit_chain), including the events written before.

Existing events are chained in id order, with the time they were written. Writing the chain
columns into them is an UPDATE, which the append-only trigger (migration 0003) refuses; this
migration runs as the table's owner (docs/operations.md: migrations run as the owner role),
which may set the trigger aside for the length of its own transaction:

* PostgreSQL: ``ALTER TABLE ... DISABLE TRIGGER`` then ``ENABLE TRIGGER``. Both are inside the
  migration's transaction, which also holds the table's ACCESS EXCLUSIVE lock from the first
  ALTER TABLE on: nobody else can write, or see the trigger disabled, meanwhile, and a failure
  rolls the whole migration back with the trigger enabled.
* SQLite: the UPDATE trigger is dropped and created again at the end (rebuilding the table
  for the new columns drops it anyway, as migration 0003 warns).

The hashes are computed by ccdg.audit_chain itself, not a copy of it: its canonical form is
fixed (documented for auditors), so the rows chained here and the rows the app appends are
hashed the same way and cannot drift apart.

The app must be stopped while this runs: the previous code does not write the chain columns,
so its inserts would be refused once they are required (docs/operations.md, Upgrades).
"""

import django.utils.timezone
from django.db import migrations, models

from ccdg.audit_chain import GENESIS, chain_digest, chain_document

TABLE = "ccdg_auditevent"
TRIGGER = "ccdg_auditevent_append_only"
SQLITE_TRIGGER = f"""
    CREATE TRIGGER IF NOT EXISTS {TRIGGER}_update BEFORE UPDATE ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only: UPDATE on {TABLE} refused');
    END
"""
BATCH = 1000


def chain_existing(apps, schema_editor):
    AuditEvent = apps.get_model("ccdg", "AuditEvent")
    vendor = schema_editor.connection.vendor
    events = AuditEvent.objects.using(schema_editor.connection.alias)
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}", params=None)
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}_update", params=None)
    seq, prev, last_id = 0, GENESIS, 0
    while True:
        batch = list(events.filter(id__gt=last_id).order_by("id")[:BATCH])
        if not batch:
            break
        for event in batch:
            seq += 1
            event.chain_seq, event.chain_prev = seq, prev
            event.chain_hash = prev = chain_digest(
                chain_document(
                    seq=seq,
                    prev=event.chain_prev,
                    created_at=event.created_at,
                    actor_id=event.actor_id,
                    action=event.action,
                    program_id=event.program_id,
                    object_type=event.object_type,
                    object_id=event.object_id,
                    data=event.data,
                    ip_address=event.ip_address,
                )
            )
        events.bulk_update(batch, ["chain_seq", "chain_prev", "chain_hash"])
        last_id = batch[-1].id
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}", params=None)


def sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("ccdg", "0005_survey_message_kinds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_seq",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_prev",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        # Backwards, this runs last: the SQLite trigger comes back after the rebuilds.
        migrations.RunPython(chain_existing, sqlite_trigger, elidable=False),
        migrations.AlterField(
            model_name="auditevent",
            name="chain_seq",
            field=models.BigIntegerField(editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="chain_prev",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        # The table rebuilds above dropped SQLite's trigger: create it again, last.
        migrations.RunPython(sqlite_trigger, migrations.RunPython.noop, elidable=False),
    ]
