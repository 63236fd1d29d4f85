"""Both CSV importers, fed random bytes and broken versions of a good file.

The roster import (upload, preview, confirm; ``import_roster``) and the survey responses import
(upload, preview, confirm; ``import_responses``) must answer every file with a page or a
command-line message, never a server error or a traceback, and must save a file completely or
not at all. Each example runs in a transaction rolled back afterwards, so examples do not see
each other's imports. Pages render with undefined template variables raising.

On PostgreSQL (CI runs this file there too) the database itself refuses what SQLite stores
silently (a NUL byte, a value longer than its column), so a check that is missing in the
parsers fails here as a DataError.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sessions_app.models import Clinician, RosterImport
from surveys.models import Response, ResponseImport, Wave
from tests.factories import ClinicianFactory, WaveFactory

pytestmark = pytest.mark.django_db

# Pages cost three requests an example, commands one call: about 5 s each on SQLite.
PAGE_EXAMPLES = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COMMAND_EXAMPLES = settings(PAGE_EXAMPLES, max_examples=150)
MAX_ROWS = 12  # small, so that repeated rows also reach the row limit

ROSTER = [
    ["email", "first_name", "last_name", "discipline", "gender", "years_at_institution",
     "patient_care_halfdays", "status"],
    ["ana.lima@example.org", "Ana", "Lima", "physician", "female", "12", "7", "active"],
    ["ben.okafor@example.org", "Ben", "Okafor", "NP", "male", "3", "9", ""],
    ["cleo.diaz@example.org", "Cleo", "Diaz, Jr.", "Social worker", "", "0", "", "eligible"],
]  # fmt: skip
RESPONSES = [
    ["form_id", "gender", "clinician_type", "group", "skill_empathy", "addressed_isolation",
     "open_unique", "excluded_reason"],
    ["1", "female", "physician", "1", "5", "1", "Time to think", ""],
    ["2", "male", "nurse_practitioner", "2", "4", "0", 'She said "thanks"', ""],
    ["3", "undisclosed", "", "3", "", "", "Honest, and kind", "Damaged paper form"],
]  # fmt: skip

# Cell text a person, a spreadsheet or a damaged file may produce.
CELL_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", '"', '""', ",", ";", "\t", "\r", "\n", "\r\n", "\0", "\ufeff",
                     "=cmd|'/C calc'!A0", "+1", "-1", "@SUM(A1)", "4.0", "Female", "é", "🙂"]),
    st.sampled_from([101, 255, 321, 4001, 140_000]).map(lambda n: "x" * n),
    st.sampled_from([250, 300]).map(lambda n: "a" * 64 + "@" + "b" * (n - 69) + ".org"),
)  # fmt: skip


@st.composite
def broken_csv(draw, rows: list[list[str]]) -> bytes:
    """A good file with a few cells, rows, quotes, line ends and bytes changed."""
    rows = [list(row) for row in rows]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(
            st.sampled_from(["drop_field", "add_field", "cell", "quote", "formula", "drop_row",
                             "repeat_row", "blank_row", "swap_columns"])
        )  # fmt: skip
        if not rows:
            break
        r = draw(st.integers(0, len(rows) - 1))
        row = rows[r]
        c = draw(st.integers(0, max(len(row) - 1, 0)))
        if kind == "drop_field" and row:
            del row[c]
        elif kind == "add_field":
            row.insert(c, draw(CELL_TEXT))
        elif kind == "cell" and row:
            row[c] = draw(CELL_TEXT)
        elif kind == "quote" and row:
            at = draw(st.integers(0, len(row[c])))
            row[c] = row[c][:at] + '"' + row[c][at:]
        elif kind == "formula" and row:
            row[c] = draw(st.sampled_from("=+-@")) + row[c]
        elif kind == "drop_row":
            del rows[r]
        elif kind == "repeat_row":
            rows[r + 1 : r + 1] = [list(row)] * draw(st.sampled_from([1, MAX_ROWS]))
        elif kind == "blank_row":
            rows.insert(r, [])
        elif kind == "swap_columns" and len(row) > 1:
            row[0], row[-1] = row[-1], row[0]

    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if draw(st.booleans()):  # quoted as a spreadsheet writes it
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator=line_end).writerows(rows)
        text = out.getvalue()
    else:  # typed by hand, without quoting
        text = "".join(delimiter.join(row) + line_end for row in rows)

    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = bytearray(text.encode(encoding, errors="replace"))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(
            st.sampled_from([b"\0", b"\xff", b"\xc3", b"\xe9", b"\xef\xbb\xbf", b"\x07", b"\r"])
        )
    if draw(st.booleans()) and data:
        del data[draw(st.integers(0, len(data) - 1)) :]  # cut short, as a failed download
    return bytes(data)


def _good(rows: list[list[str]], **replace: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    text = out.getvalue()
    for old, new in replace.items():
        text = text.replace(old, new)
    return text.encode()


GOOD_ROSTER = _good(ROSTER)
GOOD_RESPONSES = _good(RESPONSES)
# What the reported crashes were made of, tried on every run whatever the random examples are.
ROSTER_EXAMPLES = [
    _good(ROSTER, Okafor="Ok\0afor"),
    _good(ROSTER, Okafor="Okafor,extra"),
    _good(ROSTER, Okafor="Okafor\n"),
    _good(ROSTER, Okafor='"Okafor'),
    _good(ROSTER, **{"ana.lima@": "a" * 64 + "." + "b" * 200 + "@"}),
]
RESPONSES_EXAMPLES = [
    _good(RESPONSES, thanks="tha\0nks"),
    _good(RESPONSES, thanks="tha\x07nks"),
    _good(RESPONSES, Time="Time,extra"),
    _good(RESPONSES, Time='"Time'),
]


def with_examples(contents: list[bytes], **arguments):
    """Hypothesis ``@example`` for each file, with the test's other arguments fixed."""

    def decorate(test):
        for content in reversed(contents):
            test = example(content=content, **arguments)(test)
        return test

    return decorate


def roster_files():
    return st.one_of(st.binary(max_size=300), broken_csv(ROSTER))


def responses_files():
    return st.one_of(st.binary(max_size=300), broken_csv(RESPONSES))


class _UndefinedVariable(str):
    def __contains__(self, item):
        return item == "%s"

    def __mod__(self, name):
        raise AssertionError(f"the template uses an undefined variable: {name}")


@pytest.fixture(autouse=True)
def limits_and_strict_templates(settings):
    settings.ROSTER_IMPORT_MAX_ROWS = MAX_ROWS
    settings.SURVEY_IMPORT_MAX_ROWS = MAX_ROWS
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = _UndefinedVariable("%s")
    settings.TEMPLATES = templates


class _RolledBack:
    """One example's changes, undone when it ends (also when it fails)."""

    def __enter__(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def __exit__(self, *exc):
        transaction.set_rollback(True)
        return self.atomic.__exit__(*exc)


def holds_nul(state) -> bool:
    """Whether any stored text holds a NUL (PostgreSQL refuses it; SQLite must not differ)."""
    if isinstance(state, str):
        return "\0" in state
    if isinstance(state, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in state.items())
    if isinstance(state, (list, tuple)):
        return any(holds_nul(item) for item in state)
    return False


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Roster ------------------------------------------------------------------------------------


@pytest.fixture
def roster_program(program):
    # An existing clinician whom the good file updates: a refused file must leave her as is.
    ClinicianFactory(
        program=program, email="ana.lima@example.org", first_name="Ana", last_name="Lima",
        discipline="physician", gender="undisclosed", years_at_institution=None,
    )  # fmt: skip
    return program


def roster_state(program) -> list[tuple]:
    return list(Clinician.objects.filter(program=program).order_by("pk").values_list())


def test_the_good_roster_file_imports(coordinator_client, roster_program):
    # The fuzzing below starts from this file: it must be importable as it is.
    path = reverse("sessions_app:roster_import", kwargs={"slug": roster_program.slug})
    uploaded = coordinator_client.post(
        path, {"file": SimpleUploadedFile("roster.csv", GOOD_ROSTER)}
    )
    coordinator_client.post(uploaded["Location"])

    assert Clinician.objects.filter(program=roster_program).count() == 3


@PAGE_EXAMPLES
@given(content=roster_files())
@with_examples(ROSTER_EXAMPLES)
def test_roster_pages_answer_every_file_and_save_all_rows_or_none(
    coordinator_client, roster_program, content
):
    program = roster_program
    with _RolledBack():
        before = roster_state(program)
        upload = coordinator_client.post(
            reverse("sessions_app:roster_import", kwargs={"slug": program.slug}),
            {"file": SimpleUploadedFile("roster.csv", content, content_type="text/csv")},
        )
        assert upload.status_code in (200, 302)
        if upload.status_code == 200:
            assert upload.context["form"].errors or upload.context["report"].file_errors
            assert not RosterImport.objects.filter(program=program).exists()
            assert roster_state(program) == before
            return

        preview = coordinator_client.get(upload["Location"])
        assert preview.status_code == 200
        confirm = coordinator_client.post(upload["Location"])

        assert confirm.status_code in (200, 302)
        draft = RosterImport.objects.get(program=program)
        if confirm.status_code == 200:
            assert any("Nothing was imported" in m for m in messages_of(confirm))
            assert draft.committed_at is None
            assert roster_state(program) == before
        else:
            roster = coordinator_client.get(confirm["Location"])
            added = int(re.search(r"(\d+) added", " ".join(messages_of(roster))).group(1))
            assert draft.committed_at is not None
            assert len(roster_state(program)) == len(before) + added
            assert not holds_nul(roster_state(program))


@COMMAND_EXAMPLES
@given(content=roster_files(), dry_run=st.booleans())
@with_examples(ROSTER_EXAMPLES, dry_run=False)
def test_import_roster_answers_every_file_with_a_message_and_saves_all_rows_or_none(
    roster_program, tmp_path, content, dry_run
):
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    out, err = StringIO(), StringIO()
    args = ["--dry-run"] if dry_run else []
    with _RolledBack():
        before = roster_state(roster_program)
        try:
            call_command(
                "import_roster", roster_program.slug, str(path), *args, stdout=out, stderr=err
            )
        except CommandError as exc:
            assert "Nothing was imported" in str(exc)
            assert roster_state(roster_program) == before
        else:
            added = int(re.search(r"(\d+) added", out.getvalue()).group(1))
            expected = len(before) + (0 if dry_run else added)
            assert len(roster_state(roster_program)) == expected
            assert not holds_nul(roster_state(roster_program))
        assert "Traceback" not in err.getvalue()


# --- Survey responses --------------------------------------------------------------------------


@pytest.fixture
def paper_wave(program):
    wave = WaveFactory(program=program, slug="paper", distributed_count=35)
    Response.objects.create(
        wave=wave, source=Response.Source.PAPER, form_id="9", answers={"skill_empathy": "4"},
        submitted_at=wave.opens_at,
    )  # fmt: skip
    return wave


def responses_state(program) -> tuple[list[tuple], list[tuple]]:
    return (
        list(Wave.objects.filter(program=program).order_by("pk").values_list("pk", "slug")),
        list(
            Response.objects.filter(wave__program=program)
            .order_by("pk")
            .values_list("pk", "form_id", "answers", "excluded_reason")
        ),
    )


def test_the_good_responses_file_imports(coordinator_client, paper_wave):
    kwargs = {"slug": paper_wave.program.slug, "wave": paper_wave.slug}
    uploaded = coordinator_client.post(
        reverse("surveys:response_import", kwargs=kwargs),
        {"file": SimpleUploadedFile("forms.csv", GOOD_RESPONSES)},
    )
    coordinator_client.post(uploaded["Location"])

    assert Response.objects.filter(wave=paper_wave).count() == 4


@PAGE_EXAMPLES
@given(content=responses_files())
@with_examples(RESPONSES_EXAMPLES)
def test_responses_pages_answer_every_file_and_save_all_rows_or_none(
    coordinator_client, paper_wave, content
):
    program = paper_wave.program
    kwargs = {"slug": program.slug, "wave": paper_wave.slug}
    with _RolledBack():
        before = responses_state(program)
        upload = coordinator_client.post(
            reverse("surveys:response_import", kwargs=kwargs),
            {"file": SimpleUploadedFile("forms.csv", content, content_type="text/csv")},
        )
        assert upload.status_code in (302, 400)
        if upload.status_code == 400:
            assert upload.context["form"].errors
            assert not ResponseImport.objects.filter(wave=paper_wave).exists()
            assert responses_state(program) == before
            return

        preview = coordinator_client.get(upload["Location"])
        assert preview.status_code == 200
        confirm = coordinator_client.post(upload["Location"])

        assert confirm.status_code in (302, 400)
        draft = ResponseImport.objects.get(wave=paper_wave)
        if confirm.status_code == 400:
            assert any("Nothing was imported" in m for m in messages_of(confirm))
            assert draft.committed_at is None
            assert responses_state(program) == before
        else:
            created = draft.summary["created"]
            assert draft.committed_at is not None
            assert len(responses_state(program)[1]) == len(before[1]) + created
            assert not holds_nul(responses_state(program))


@COMMAND_EXAMPLES
@given(content=responses_files(), wave_slug=st.sampled_from(["paper", "new-wave"]))
@with_examples(RESPONSES_EXAMPLES, wave_slug="paper")
def test_import_responses_answers_every_file_with_a_message_and_saves_all_rows_or_none(
    paper_wave, tmp_path, content, wave_slug
):
    program = paper_wave.program
    path = tmp_path / "forms.csv"
    path.write_bytes(content)
    out, err = StringIO(), StringIO()
    with _RolledBack():
        before = responses_state(program)
        try:
            call_command(
                "import_responses", program.slug, wave_slug, str(path), stdout=out, stderr=err
            )
        except CommandError as exc:
            assert "nothing was imported" in str(exc).lower()
            assert responses_state(program) == before
        else:
            created = int(re.search(r"Imported ([\d,]+) response", out.getvalue()).group(1))
            assert len(responses_state(program)[1]) == len(before[1]) + created
            assert not holds_nul(responses_state(program))
        assert "Traceback" not in err.getvalue()
