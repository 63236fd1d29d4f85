"""The database keeps attendance and membership history honest, not only the Python code.

* A membership cannot end before it starts (a CHECK constraint, both databases).
* PostgreSQL (production) triggers:
  - an attendance row can only be written for a session that has taken place: not cancelled
    and started (``starts_at <= clock_timestamp()``, the time of the statement, not of the transaction);
  - a session with attendance recorded cannot be cancelled or moved to a time that has not come
    (its attendance would otherwise count for a session that never happened);
  - a clinician's memberships never overlap: on any day they are in at most one group
    (``[joined_on, left_on)`` ranges of one clinician are disjoint), which every figure "member of
    the group on the session's day" relies on.
  Each raises SQLSTATE 23514 (check_violation), which Django reports as ``IntegrityError``.
SQLite (the embedded default) relies on the services' own checks for the three rules.
"""

from django.db import migrations, models

ATTENDANCE = "sessions_app_attendance"
SESSION = "sessions_app_session"
MEMBERSHIP = "sessions_app_groupmembership"

POSTGRESQL_CREATE = [
    """
    CREATE OR REPLACE FUNCTION ccdg_attendance_held_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (
            SELECT 1 FROM sessions_app_session s
            WHERE s.id = NEW.session_id AND s.status = 'scheduled' AND s.starts_at <= clock_timestamp()
        ) THEN
            RAISE EXCEPTION USING
                MESSAGE = 'attendance can only be recorded for a session that has taken place '
                    || '(session ' || NEW.session_id || ')',
                ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS ccdg_attendance_held_only ON {ATTENDANCE}",
    f"""
    CREATE TRIGGER ccdg_attendance_held_only BEFORE INSERT OR UPDATE ON {ATTENDANCE}
    FOR EACH ROW EXECUTE FUNCTION ccdg_attendance_held_only()
    """,
    """
    CREATE OR REPLACE FUNCTION ccdg_session_keeps_attendance() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF (NEW.status <> 'scheduled' OR NEW.starts_at > clock_timestamp())
           AND EXISTS (SELECT 1 FROM sessions_app_attendance a WHERE a.session_id = NEW.id) THEN
            RAISE EXCEPTION USING
                MESSAGE = 'session ' || NEW.id || ' has attendance recorded: it cannot be '
                    || 'cancelled or moved to a time that has not come',
                ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS ccdg_session_keeps_attendance ON {SESSION}",
    f"""
    CREATE TRIGGER ccdg_session_keeps_attendance BEFORE UPDATE OF status, starts_at ON {SESSION}
    FOR EACH ROW EXECUTE FUNCTION ccdg_session_keeps_attendance()
    """,
    """
    CREATE OR REPLACE FUNCTION ccdg_membership_no_overlap() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM sessions_app_groupmembership m
            WHERE m.clinician_id = NEW.clinician_id AND m.id <> NEW.id
              AND daterange(m.joined_on, m.left_on, '[)')
                  && daterange(NEW.joined_on, NEW.left_on, '[)')
        ) THEN
            RAISE EXCEPTION USING
                MESSAGE = 'clinician ' || NEW.clinician_id || ' would be in two groups on the '
                    || 'same day',
                ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS ccdg_membership_no_overlap ON {MEMBERSHIP}",
    f"""
    CREATE TRIGGER ccdg_membership_no_overlap BEFORE INSERT OR UPDATE ON {MEMBERSHIP}
    FOR EACH ROW EXECUTE FUNCTION ccdg_membership_no_overlap()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS ccdg_attendance_held_only ON {ATTENDANCE}",
    "DROP FUNCTION IF EXISTS ccdg_attendance_held_only()",
    f"DROP TRIGGER IF EXISTS ccdg_session_keeps_attendance ON {SESSION}",
    "DROP FUNCTION IF EXISTS ccdg_session_keeps_attendance()",
    f"DROP TRIGGER IF EXISTS ccdg_membership_no_overlap ON {MEMBERSHIP}",
    "DROP FUNCTION IF EXISTS ccdg_membership_no_overlap()",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0006_program_small_cell_k")]

    operations = [
        migrations.AddConstraint(
            model_name="groupmembership",
            constraint=models.CheckConstraint(
                condition=models.Q(left_on__isnull=True)
                | models.Q(left_on__gte=models.F("joined_on")),
                name="membership_ends_after_it_starts",
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_CREATE}),
            _run({"postgresql": POSTGRESQL_DROP}),
            elidable=False,
        ),
    ]
