"""Every export, whatever its format, leaves out case-note text and free text that the
identifier guard refuses (issue 9, item 3). The test walks the whole registry, so an export
added later is checked too."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from analysis.exports import services as exports
from analysis.runs.services import run_create, run_execute
from ccdg import phi
from sessions_app.models import Attendance, CaseNote, Presentation
from surveys import series as survey_series
from surveys.models import Response
from surveys.responses import paper_response_add
from surveys.services import builtin_instrument
from tests.factories import (
    AttendanceFactory,
    CaseNoteFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    SessionFactory,
    WaveFactory,
)

CASE_TEXT = "Quietly furious about the locked medication cart on ward nine"
IDENTIFYING = "Mr. Jonathan Whitfield, MRN 4829175, born 03/14/1952, still haunts me."


def text_of(result: exports.ExportFile) -> str:
    """Everything a reader of the file could see, as text."""
    content = result.content
    if result.content_type.startswith("application/pdf"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)
    if "spreadsheetml" in result.content_type:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            " ".join(str(c) for c in row if c is not None)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    if result.content_type == "application/zip":
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return "\n".join(
                text_of(exports.ExportFile(n, _type_of(n), z.read(n))) for n in z.namelist()
            )
    return content.decode("utf-8", errors="replace")


# An online session's meeting link: for the group only, never in an export.
MEETING_URL = "https://meet.example.org/j/ccdg-wednesday-4417"


def _type_of(name: str) -> str:
    ext = name.rsplit(".", 1)[-1]
    return exports.CONTENT_TYPES.get(ext, "text/plain")


@pytest.fixture
def busy_program(program, coordinator):
    group = GroupFactory(program=program, name="Group 1")
    members = [GroupMembershipFactory(group=group).clinician for _ in range(6)]
    FacilitatorAssignmentFactory(group=group, facilitator__program=program)
    held = SessionFactory(
        group=group, starts_at=timezone.now() - timedelta(days=7), mode="hybrid",
        meeting_url=MEETING_URL,
    )  # fmt: skip
    for c in members:
        AttendanceFactory(session=held, clinician=c, status=Attendance.Status.PRESENT)
    presentation = PresentationFactory(
        session=held, clinician=members[0], status=Presentation.Status.CONFIRMED, slot=1
    )
    CaseNoteFactory(
        presentation=presentation, difficulty=CASE_TEXT, visibility=CaseNote.Visibility.GROUP
    )
    wave = WaveFactory(program=program, slug="spring", distributed_count=8)
    for n in range(len(members)):
        Response.objects.create(
            wave=wave, source="paper", submitted_at=timezone.now(),
            answers={
                "group": "Group 1", "skill_empathy": "5" if n % 2 else "4",
                "relevance_communicate": str(3 + n % 3),
                "open_unique": IDENTIFYING if n == 0 else "Time to think with colleagues.",
            },
        )  # fmt: skip
    run_execute(run_create(wave=wave, actor=coordinator).pk)
    # A wave series whose linked respondents wrote the identifying text too.
    series = survey_series.series_create(
        program=program, actor=coordinator, name="Pre/post", design="pre_post",
        instrument_slug=builtin_instrument().slug,
    )  # fmt: skip
    for position in range(2):
        later = WaveFactory(program=program)
        survey_series.series_add_wave(series=series, wave=later, actor=coordinator)
        for n in range(6):
            paper_response_add(
                wave=later, actor=coordinator, link_code=f"A{n + 1:02d}B",
                answers={"skill_empathy": str(1 + (n + position) % 5), "open_unique": IDENTIFYING},
            )  # fmt: skip
    return {"program": program, "wave": wave, "clinician": members[0], "series": series}


def params_for(kind: exports.ExportKind, world: dict) -> dict:
    """The params convention of the reports page (docs/exports.md)."""
    params: dict = {}
    if kind.group in ("Survey", "Analysis"):
        params["wave"] = world["wave"].slug
    if kind.group == "Series":
        params["series"] = world["series"].slug
    if "certificate" in kind.key and not kind.key.endswith("s"):
        params["clinician"] = world["clinician"].pk
    return params


def test_the_identifying_answer_is_one_the_guard_refuses():
    assert phi.scan(IDENTIFYING)


def test_no_export_contains_case_note_text_or_refused_free_text(busy_program, coordinator):
    exports._load_builders()
    assert len(exports.REGISTRY) >= 6
    seen = []
    for key, kind in sorted(exports.REGISTRY.items()):
        program = busy_program["program"]
        params = params_for(kind, busy_program)
        if kind.clean_params:
            params = kind.clean_params(program, params)
        result = kind.build(program=program, params=params, progress=None)
        text = text_of(result)
        assert text.strip(), f"{key} produced an empty file"
        assert "medication cart" not in text, f"{key} contains case-note text"
        assert "Whitfield" not in text and "4829175" not in text, f"{key} leaks an identifier"
        assert "meet.example.org" not in text, f"{key} contains a session's meeting link"
        if key == "survey_responses":
            # Free text is exported: only the identifying answer is withheld.
            assert "Time to think with colleagues." in text
            assert "[withheld: may identify a patient]" in text
        seen.append(key)
    assert {"survey_responses", "analysis_workbook", "annual_report", "ce_certificate",
            "series_data", "series_report", "series_workbook"} <= set(seen)  # fmt: skip
