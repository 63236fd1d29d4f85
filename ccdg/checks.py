"""System checks: refuse to start production without usable case-note keys; warn when the app's
database role could erase the audit trail.

``manage.py`` commands (``migrate``, ``check``, ``runserver``...) run these before anything
else, so a deployment that forgot ``CCDG_FIELD_KEYS`` fails at its first step instead of on the
first case note someone writes. Messages name keys by position, never by value.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Info, Tags, Warning, register
from django.db import DatabaseError, connections

from .models import AuditEvent

GENERATE = (
    "Generate a key with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


@register(Tags.security)
def check_field_keys(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    keys = list(settings.FIELD_KEYS)
    errors: list[Error] = []
    if not keys and not settings.EMBEDDED and not settings.DEBUG:
        errors.append(
            Error(
                "CCDG_FIELD_KEYS is not set: case-note text cannot be encrypted.",
                hint=f"Production (DATABASE_URL set) needs its own keys, kept apart from "
                f"SECRET_KEY and from database backups. {GENERATE}",
                id="ccdg.E001",
            )
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"CCDG_FIELD_KEYS entry {position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes).",
                    hint=GENERATE,
                    id="ccdg.E002",
                )
            )
    return errors


# Privileges a runtime role must not hold on the audit table (docs/sql/runtime_grants.sql).
AUDIT_FORBIDDEN = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


@register(Tags.security, deploy=True)
def check_audit_role(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``check --deploy`` on PostgreSQL: the role in DATABASE_URL may only read and append to
    the audit trail. A role that owns the table (or may act as its owner) can disable its
    trigger and rewrite it; one with TRUNCATE, UPDATE or DELETE can erase it.

    Deploy-only, so that ``migrate``, run as the owner, does not warn about the owner. An
    unreachable database is not this check's business: it says so and moves on.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    table = AuditEvent._meta.db_table
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT current_user, t.tableowner,
                       pg_has_role(current_user, t.tableowner, 'MEMBER'),
                       has_table_privilege(c.oid, 'UPDATE'),
                       has_table_privilege(c.oid, 'DELETE'),
                       has_table_privilege(c.oid, 'TRUNCATE'),
                       has_table_privilege(c.oid, 'TRIGGER'),
                       has_table_privilege(c.oid, 'REFERENCES')
                FROM pg_tables t
                JOIN pg_namespace n ON n.nspname = t.schemaname
                JOIN pg_class c ON c.relname = t.tablename AND c.relnamespace = n.oid
                WHERE t.tablename = %s AND t.schemaname = ANY (current_schemas(false))
                """,
                [table],
            )
            row = cursor.fetchone()
    except DatabaseError as exc:
        return [
            Info(
                f"The audit table's privileges were not checked: the database could not be "
                f"reached ({type(exc).__name__}).",
                id="ccdg.I004",
            )
        ]
    if row is None:
        return []  # not migrated yet
    role, owner, acts_as_owner, *granted = row
    problems = [name for name, has in zip(AUDIT_FORBIDDEN, granted, strict=True) if has]
    if acts_as_owner:
        problems.insert(0, "owns it" if role == owner else f"is a member of its owner {owner}")
    if not problems:
        return []
    return [
        Warning(
            f"The database role {role} can erase or rewrite the audit trail ({table}): "
            + ", ".join(problems)
            + ".",
            hint="Run the app as a role that may only SELECT and INSERT on the audit table, and "
            "migrations as the owner: docs/operations.md, 'Database roles'.",
            id="ccdg.W003",
        )
    ]
