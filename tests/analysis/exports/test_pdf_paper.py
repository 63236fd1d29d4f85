"""The PDF documents are laid out on the program's paper: US Letter in a United States (or
Canadian) program, A4 in a United Kingdom one; certificates landscape, reports portrait. Their
dates are written the program's way."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pypdf
import pytest
from django.utils import timezone

from analysis.exports import services as exports
from sessions_app.models import Attendance, Program, ProgramRole
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

# Page sizes in points (width, height), portrait.
LETTER = (612, 792)
A4 = (595, 842)


def page_sizes(content: bytes) -> set[tuple[int, int]]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return {(round(p.mediabox.width), round(p.mediabox.height)) for p in reader.pages}


def landscape(size: tuple[int, int]) -> tuple[int, int]:
    return size[1], size[0]


def certificate(locale: str) -> tuple[bytes, datetime]:
    """The certificate of someone who attended one session of a program in ``locale``, and
    when that session was (on the program's clock)."""
    program = ProgramFactory(locale=locale, timezone="Europe/London")
    viewer = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    group = GroupFactory(program=program)
    clinician = GroupMembershipFactory(
        group=group, clinician=ClinicianFactory(program=program)
    ).clinician
    starts_at = (timezone.now() - timedelta(days=20)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    session = SessionFactory(group=group, starts_at=starts_at)
    AttendanceFactory(session=session, clinician=clinician, status=Attendance.Status.PRESENT)
    result = exports.export_now(
        program=program, key="ce_certificate", params={"clinician": clinician.pk}, actor=viewer
    )
    return result.content, program.local(starts_at)


def annual_report(locale: str) -> bytes:
    program = ProgramFactory(locale=locale)
    viewer = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    return exports.export_now(program=program, key="annual_report", params={}, actor=viewer).content


def text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


def test_certificate_is_landscape_letter_in_a_us_program_and_landscape_a4_in_a_uk_one():
    us, us_day = certificate(Program.Locale.US)
    uk, uk_day = certificate(Program.Locale.GB)

    assert page_sizes(us) == {landscape(LETTER)}
    assert page_sizes(uk) == {landscape(A4)}
    assert f"{us_day:%A, %B} {us_day.day}, {us_day:%Y}" in text(us)
    assert f"{uk_day:%A} {uk_day.day} {uk_day:%B %Y}" in text(uk)


def test_annual_report_is_portrait_letter_in_a_us_program_and_portrait_a4_in_a_uk_one():
    assert page_sizes(annual_report(Program.Locale.US)) == {LETTER}
    assert page_sizes(annual_report(Program.Locale.CA)) == {LETTER}
    assert page_sizes(annual_report(Program.Locale.GB)) == {A4}
