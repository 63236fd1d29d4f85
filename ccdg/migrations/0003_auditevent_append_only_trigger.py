"""The audit trail is append-only in the database itself, not only in the Python code.

PostgreSQL (production): a row trigger refuses UPDATE and DELETE on ccdg_auditevent. TRUNCATE
fires no row trigger, so the test suite's flush between transactional tests keeps working; the
operator docs (docs/case-notes.md) say how to take TRUNCATE away from the app's role as well.

SQLite (embedded default): a trigger refuses UPDATE only. Django empties SQLite tables with
DELETE (``flush``, used between transactional tests), so a DELETE trigger there would break the
test suite; the app itself never deletes audit rows on either database.

A migration that rebuilds ccdg_auditevent on SQLite (Django copies the table to change a
column) drops its triggers: such a migration must create the trigger again. The tests in
tests/ccdg/test_audit_trigger.py fail if it is missing.

Both raise an integrity error (SQLSTATE 23001 on PostgreSQL, SQLITE_CONSTRAINT on SQLite), which
Django reports as ``django.db.IntegrityError``.

The actor foreign key becomes PROTECT: SET_NULL would UPDATE audit rows when a user is deleted,
which the trigger refuses.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "ccdg_auditevent"
NAME = "ccdg_auditevent_append_only"

POSTGRESQL_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'audit events are append-only: ' || TG_OP || ' on {TABLE} refused',
            ERRCODE = 'restrict_violation';
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS {NAME} ON {TABLE}",
    f"""
    CREATE TRIGGER {NAME} BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {NAME}()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS {NAME} ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {NAME}()",
]
SQLITE_CREATE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {NAME}_update BEFORE UPDATE ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only: UPDATE on {TABLE} refused');
    END
    """,
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {NAME}_update"]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("ccdg", "0002_auditevent_ip_address"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}),
            _run({"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}),
            elidable=False,
        ),
    ]
