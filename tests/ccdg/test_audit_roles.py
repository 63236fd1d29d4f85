"""Two database roles: the owner runs migrations, the app runs as a role that may only read and
append to the audit trail (docs/operations.md, "Database roles").

The roles are made by executing docs/sql/*.sql, the files the operations guide quotes, so the
guide and this test cannot drift apart. The app then runs as the runtime role in a separate
process (``manage.py`` with that role's DATABASE_URL), as web, worker and beat would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.db import connection

from ccdg.audit import audit_record
from ccdg.checks import check_audit_role
from ccdg.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
CREATE_ROLES = ROOT / "docs" / "sql" / "create_roles.sql"
RUNTIME_GRANTS = ROOT / "docs" / "sql" / "runtime_grants.sql"
TABLE = AuditEvent._meta.db_table
TRIGGER = "ccdg_auditevent_append_only"
RUNTIME = "ccdg_app"


def production_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """What `check --deploy` needs to pass in production, as .ci/run sets it."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "k" * 20 + "production-check-secret-key-of-sixty-chars-x",
        "CCDG_FIELD_KEYS": Fernet.generate_key().decode(),
        "CCDG_HTTPS": "1",
        "CCDG_ALLOWED_HOSTS": "ccdg.example.org",
        "CCDG_VAR_DIR": str(tmp_path / "var"),
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- The guide and the files -------------------------------------------------------------------


def test_the_operations_guide_quotes_the_role_sql_verbatim():
    guide = (ROOT / "docs" / "operations.md").read_text()

    for path in (CREATE_ROLES, RUNTIME_GRANTS):
        assert f"```sql\n{path.read_text()}```" in guide, path.name


def test_deploy_check_passes_when_the_database_cannot_be_reached(tmp_path):
    # .ci/run checks the production settings against an address where nothing listens.
    result = manage(
        production_env(tmp_path, "postgres://u:p@127.0.0.1:5/x"),
        "check", "--deploy", "--fail-level", "WARNING",
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ccdg.I004" in result.stdout + result.stderr
    assert "ccdg.W003" not in result.stdout + result.stderr


# --- PostgreSQL: the roles themselves ----------------------------------------------------------


@pytest.fixture
def runtime_url(transactional_db):
    """Create the roles exactly as the guide says; the test's own role plays the owner (it ran
    the migrations and owns the tables). Yields the runtime role's DATABASE_URL."""
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's; the PostgreSQL pass runs these tests")
    with connection.cursor() as cursor:
        cursor.execute(CREATE_ROLES.read_text())
        cursor.execute(RUNTIME_GRANTS.read_text())
    db = connection.settings_dict
    yield f"postgres://{RUNTIME}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {RUNTIME}, ccdg_owner")
        cursor.execute(f"DROP ROLE {RUNTIME}")
        cursor.execute("DROP ROLE ccdg_owner")


pg = pytest.mark.postgres


@pg
def test_the_runtime_role_cannot_truncate_disable_the_trigger_update_or_delete_the_trail(
    runtime_url,
):
    event = audit_record(actor=None, action="casenote.read")
    refused = {}
    with psycopg.connect(runtime_url, autocommit=True) as runtime:
        for name, sql in {
            "TRUNCATE": f"TRUNCATE {TABLE}",
            "DISABLE TRIGGER": f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}",
            "DROP TRIGGER": f"DROP TRIGGER {TRIGGER} ON {TABLE}",
            "UPDATE": f"UPDATE {TABLE} SET action = 'nothing'",  # noqa: S608
            "DELETE": f"DELETE FROM {TABLE}",  # noqa: S608
            "DROP TABLE": f"DROP TABLE {TABLE}",
        }.items():
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as refusal:
                runtime.execute(sql)
            refused[name] = refusal.value.sqlstate
        (count,) = runtime.execute(f"SELECT count(*) FROM {TABLE}").fetchone()  # noqa: S608

    # 42501: refused for want of the privilege, before the trigger is even asked.
    assert set(refused.values()) == {"42501"}
    assert count == 1
    assert AuditEvent.objects.get().chain_hash == event.chain_hash


@pg
def test_the_app_runs_as_the_runtime_role_and_appends_through_its_writer(runtime_url, tmp_path):
    audit_record(actor=None, action="casenote.read")
    env = production_env(tmp_path, runtime_url)

    wrote = manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from ccdg.audit import audit_record\n"
        "user = get_user_model().objects.create_user('runtime-check')\n"
        "event = audit_record(actor=user, action='clinician.update', data={'fields': ['email']})\n"
        "print('seq', event.chain_seq)\n"
        "from ccdg.tasks import task_audit_checkpoint\n"
        "print(task_audit_checkpoint())\n",
    )
    verified = manage(env, "audit_verify")

    assert wrote.returncode == 0, wrote.stderr
    assert "seq 2" in wrote.stdout
    assert "'count': 3, 'verified': True" in wrote.stdout
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Checked 3 audit events" in verified.stdout
    assert list(AuditEvent.objects.order_by("chain_seq").values_list("action", flat=True)) == [
        "casenote.read",
        "clinician.update",
        "audit.checkpoint",
    ]


@pg
def test_audit_verify_as_the_runtime_role_catches_a_change_by_the_owner(runtime_url, tmp_path):
    events = [audit_record(actor=None, action="casenote.read", data={"n": n}) for n in range(3)]
    with connection.cursor() as owner:
        owner.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
        owner.execute(f"UPDATE {TABLE} SET data = '{{}}' WHERE id = %s", [events[1].pk])  # noqa: S608
        owner.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")

    result = manage(production_env(tmp_path, runtime_url), "audit_verify")

    assert result.returncode == 1
    assert f"BROKEN at row id={events[1].pk} (seq 2): changed." in result.stdout
    assert f"expected hash: {events[1].chain_hash}" in result.stdout


@pg
def test_tables_a_later_migration_creates_are_granted_to_the_runtime_role(runtime_url):
    with connection.cursor() as owner:
        owner.execute("CREATE TABLE later_feature (id bigint GENERATED BY DEFAULT AS IDENTITY)")
    try:
        with psycopg.connect(runtime_url, autocommit=True) as runtime:
            runtime.execute("INSERT INTO later_feature DEFAULT VALUES")
            runtime.execute("UPDATE later_feature SET id = id")
            (count,) = runtime.execute("SELECT count(*) FROM later_feature").fetchone()
            runtime.execute("DELETE FROM later_feature")
        assert count == 1
    finally:
        with connection.cursor() as owner:
            owner.execute("DROP TABLE later_feature")


@pg
def test_the_deploy_check_warns_for_the_owner_and_is_silent_for_the_runtime_role(
    runtime_url, tmp_path
):
    as_owner = check_audit_role()
    as_runtime = manage(
        production_env(tmp_path, runtime_url), "check", "--deploy", "--fail-level", "WARNING"
    )
    with connection.cursor() as owner:
        owner.execute(f"GRANT TRUNCATE ON {TABLE} TO {RUNTIME}")
    truncating = manage(
        production_env(tmp_path, runtime_url), "check", "--deploy", "--fail-level", "WARNING"
    )

    assert [message.id for message in as_owner] == ["ccdg.W003"]
    assert re.search(r"role \w+ can erase or rewrite the audit trail .*owns it", as_owner[0].msg)
    assert as_runtime.returncode == 0, as_runtime.stdout + as_runtime.stderr
    assert "ccdg.W003" not in as_runtime.stdout + as_runtime.stderr
    assert truncating.returncode != 0
    assert f"role {RUNTIME} can erase or rewrite the audit trail" in truncating.stderr
    assert "TRUNCATE" in truncating.stderr
