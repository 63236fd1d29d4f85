"""How one combination (an address, an actor, a method) is checked, and what counts as a change.

Every request runs inside two savepoints: the outer one holds the setup a check needs (a
running session, say), the inner one the request. After the request the tables it wrote to are
read, the inner savepoint is rolled back and the same tables are read again: the difference is
exactly what the request changed, whatever the view did. Both savepoints are then rolled back,
so the next check starts from the world as it was built.

A request "writes" a table when it runs an INSERT, UPDATE or DELETE on it that touches a row.
The audit trail, the session table and the sign-in lockout tables are written by refusals too
(a refused case-note read is audited, every request saves its session), the admin's log by any
form the admin saves: they never count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from django.db import connection, transaction

from .world import ACTORS, World, project_tables

# A redirect to the site's sign-in page, with the requested page as ``next``.
LOGIN = "redirect to /accounts/login/"
# The admin's own sign-in page.
ADMIN_LOGIN = "redirect to /admin/login/"
# The admin's index (which then sends a non-staff user to the admin's sign-in page).
ADMIN_HOME = "redirect to /admin/"

Row = dict[str, object]

EXEMPT_TABLES = frozenset(
    {
        "ccdg_auditevent",
        "django_admin_log",
        "django_session",
        "axes_accessattempt",
        "axes_accesslog",
        "axes_accessfailurelog",
        "axes_accessattemptexpiration",
    }
)
_WRITE = re.compile(
    r'^\s*(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?', re.IGNORECASE
)


def row(
    anonymous, participant, facilitator, coordinator, report_viewer, staff, other_coordinator
) -> Row:
    """Expected answers, one per actor, in the order of ``ACTORS``."""
    return dict(
        zip(
            ACTORS,
            (
                anonymous,
                participant,
                facilitator,
                coordinator,
                report_viewer,
                staff,
                other_coordinator,
            ),
            strict=True,
        )
    )


def refused(expected: object) -> bool:
    """Whether an expected answer is a refusal: then the request must change nothing."""
    if expected in (LOGIN, ADMIN_LOGIN, ADMIN_HOME):
        return True
    return isinstance(expected, int) and expected >= 400


@dataclass(frozen=True)
class Expect:
    """What one URL pattern answers each actor, for GET and for POST, and how to call it.

    ``kwargs`` builds the URL's arguments from one program's objects (a :class:`Side`);
    ``data`` the POST body from the program's objects and the user posting (None: anonymous).
    ``acts``: a POST answered as expected with a success (2xx, 3xx) changes the database; when
    False, no POST changes anything. ``done``: where a permitted POST redirects to.
    ``setup`` brings the program into the state the POST acts on (a running session, say).
    ``via``: a page the same visitor opens first, for pages that need what it leaves in the
    browser (an e-mailed link that trades its token for a cookie, say).
    """

    get: Row | None = None
    post: Row | None = None
    kwargs: Callable[[object], dict] = lambda side: {}
    data: Callable[[object, object], dict] = lambda side, user: {}
    acts: bool = False
    done: Callable[[object], str] | None = None
    setup: Callable[[object], None] | None = None
    via: Callable[[object], str] | None = None


class WriteLog:
    """Records the tables an SQL statement wrote a row to (``connection.execute_wrapper``)."""

    def __init__(self) -> None:
        self.tables: set[str] = set()

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        found = _WRITE.match(sql)
        if found and found.group(2) not in EXEMPT_TABLES:
            # An UPDATE or DELETE that matched no row wrote nothing. (An INSERT's row count is
            # not known yet when it returns the new id, on SQLite.)
            if found.group(1).upper().startswith("INSERT") or context["cursor"].rowcount != 0:
                self.tables.add(found.group(2))
        return result


def _plain(value):
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def snapshot(tables: set[str]) -> dict[str, tuple[list[str], set[tuple]]]:
    """Every row of ``tables``: table -> (column names, rows)."""
    found = {}
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            found[table] = (columns, {tuple(_plain(v) for v in r) for r in cursor.fetchall()})
    return found


@dataclass
class Change:
    table: str
    columns: list[str]
    added: set[tuple]  # rows as they are after the request (new or changed)
    removed: set[tuple]  # rows as they were before (deleted or changed)

    def ids(self, rows: set[tuple]) -> list:
        index = self.columns.index("id") if "id" in self.columns else 0
        return sorted((r[index] for r in rows), key=str)

    def __str__(self) -> str:
        parts = []
        if self.added:
            parts.append(f"now {self.ids(self.added)}")
        if self.removed:
            parts.append(f"before {self.ids(self.removed)}")
        return f"{self.table} ({', '.join(parts)})"


def changes(before: dict, after: dict) -> list[Change]:
    found = []
    for table, (columns, rows_after) in after.items():
        rows_before = before[table][1]
        if rows_after != rows_before:
            found.append(Change(table, columns, rows_after - rows_before, rows_before - rows_after))
    return found


def foreign(change: Change, world: World) -> list[str]:
    """What of ``change`` touches the other program: one of its rows changed, or a changed row
    now points to one of its rows."""
    model = project_tables().get(change.table)
    beta_rows = world.beta_rows
    problems = []
    index = change.columns.index("id") if "id" in change.columns else None
    for r in change.added | change.removed:
        if index is not None and r[index] in beta_rows.get(change.table, ()):
            problems.append(f"{change.table} row {r[index]} of the other program changed")
    if model is None:
        return problems
    for f in model._meta.concrete_fields:
        if not f.is_relation or f.column not in change.columns:
            continue
        target = f.related_model._meta.db_table
        column = change.columns.index(f.column)
        for r in change.added:
            if r[column] in beta_rows.get(target, ()):
                problems.append(
                    f"{change.table}.{f.column} now points to {target} row {r[column]} "
                    "of the other program"
                )
    return problems


def show(expected: object) -> str:
    return str(expected)


def got(response) -> str:
    if response.status_code in (301, 302, 303, 307, 308):
        return f"{response.status_code} to {response['Location']}"
    return str(response.status_code)


def matches(response, path: str, expected: object) -> bool:
    if expected == LOGIN:
        return (
            response.status_code == 302
            and response["Location"] == f"/accounts/login/?next={quote(path)}"
        )
    if expected == ADMIN_LOGIN:
        return response.status_code == 302 and response["Location"].startswith(
            "/admin/login/?next="
        )
    if expected == ADMIN_HOME:
        return response.status_code == 302 and response["Location"] == "/admin/"
    return response.status_code == expected


@dataclass
class Result:
    """What one request did: its response (None if the view raised), and what it changed."""

    response: object
    error: str
    changed: list[Change]
    after: object = None  # what ``after`` found, in the database as the request left it


def send(
    world: World,
    actor: str,
    method: str,
    path: str,
    *,
    data: Callable[[], dict] | None = None,
    setups: tuple[Callable[[], object], ...] = (),
    after: Callable[[object], object] | None = None,
    via: str | None = None,
) -> Result:
    """``method`` ``path`` as ``actor`` (who opened ``via`` first); the database is as it was
    afterwards. ``after`` is called with the response, the database as the request left it."""
    with transaction.atomic():
        for setup in setups:
            setup()
        client = world.client(actor)
        if via is not None:
            client.get(via)
        body = data() if data is not None else {}
        log = WriteLog()
        result = Result(response=None, error="", changed=[])
        try:
            with transaction.atomic():
                with connection.execute_wrapper(log):
                    if method == "GET":
                        response = client.get(path)
                    else:
                        response = client.post(path, body)
                written = snapshot(log.tables)
                if after is not None:
                    result.after = after(response)
                transaction.set_rollback(True)
        except Exception as exc:  # noqa: BLE001 - a server error is a finding, reported
            result.error = f"500 ({type(exc).__name__}: {exc})"
        else:
            result.response = response
            result.changed = changes(snapshot(log.tables), written)
        transaction.set_rollback(True)
    return result


@dataclass
class Checks:
    """Failures collected over many combinations, and how many were checked."""

    world: World
    counts: dict
    kind: str  # "matrix", "cross-program" or "admin"

    def __post_init__(self) -> None:
        self.failures: list[str] = []

    def count(self) -> None:
        self.counts[self.kind] = self.counts.get(self.kind, 0) + 1

    def fail(self, label: str, text: str) -> None:
        self.failures.append(f"{label}: {text}")

    def expect(
        self,
        actor: str,
        method: str,
        path: str,
        expected: object,
        *,
        acts: bool = False,
        data: Callable[[], dict] | None = None,
        setups: tuple = (),
        done: Callable[[], str] | None = None,
        via: str | None = None,
    ) -> Result:
        """One combination: the answer is ``expected``; a refusal changes nothing; a permitted
        POST changes something if ``acts`` (and leads to ``done``), nothing otherwise."""
        self.count()
        label = f"{method} {path} as {actor}"
        where = (lambda r: done() if r.status_code == 302 else None) if done else None
        result = send(world=self.world, actor=actor, method=method, path=path, data=data,
                      setups=setups, after=where, via=via)  # fmt: skip
        if result.response is None:
            self.fail(label, f"expected {show(expected)}, got {result.error}")
            return result
        response = result.response
        if not matches(response, path, expected):
            self.fail(label, f"expected {show(expected)}, got {got(response)}")
        changed = ", ".join(str(c) for c in result.changed)
        if refused(expected):
            if result.changed:
                self.fail(label, f"answered {got(response)} but changed {changed}")
        elif method == "POST":
            if acts and not result.changed and matches(response, path, expected):
                self.fail(label, f"answered {got(response)} but changed nothing")
            elif not acts and result.changed:
                self.fail(label, f"answered {got(response)} and changed {changed}")
        if expected == 302 and done is not None and response.status_code == 302:
            if response["Location"] != result.after:
                self.fail(label, f"redirected to {response['Location']}, not {result.after}")
        return result

    def assert_none(self) -> None:
        assert not self.failures, f"{len(self.failures)} failures:\n" + "\n".join(self.failures)
