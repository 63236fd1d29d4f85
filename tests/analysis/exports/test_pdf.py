"""PDF documents: the continuing-education certificate, the survey results report and the
annual program report, read back as text with pypdf."""

from __future__ import annotations

import io
import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

import pypdf
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from analysis.exports import services as exports
from analysis.exports.pdf import WITHHELD
from analysis.models import AnalysisRun, ExportJob
from analysis.runs import services as runs
from ccdg.models import AuditEvent
from sessions_app.models import Attendance, FacilitatorAssignment, Session
from tests.factories import (
    AttendanceFactory,
    CaseNoteFactory,
    ClinicianFactory,
    FacilitatorAbsenceFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    ResponseFactory,
    SessionFactory,
    UserFactory,
    WaveFactory,
)

Status = Attendance.Status
NOTE_TEXT = "Zebulon-7 distinctive dread of the Thursday clinic visits"
TITLE_TEXT = "Quixotic working title 42"


def pages(content: bytes) -> list[str]:
    """The text of each page, whitespace folded (lines wrap where the layout wants)."""
    assert content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def text(content: bytes) -> str:
    return " ".join(pages(content))


def ago(days: int, hour: int = 17):
    return (timezone.now() - timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def local_day(program, moment) -> str:
    return timezone.localtime(moment, zoneinfo.ZoneInfo(program.timezone)).strftime(
        "%A, %B %-d, %Y"
    )


def whole_percent(count: int, of: int) -> str:
    return f"{int(100 * count / of + 0.5)}%"


def member(group, first: str, last: str):
    return GroupMembershipFactory(
        group=group,
        clinician=ClinicianFactory(program=group.program, first_name=first, last_name=last),
    ).clinician


# --- Continuing-education certificate ------------------------------------------------------------


@pytest.fixture
def credit(program):
    """Marguerite attended two sessions of her group and one as a guest elsewhere: 3 sessions
    at 1.5 hours. An absence, a cancelled session and a future one do not count."""
    program.credit_hours_per_session = Decimal("1.5")
    program.save()
    own, other = (
        GroupFactory(program=program, name="Tuesday group"),
        GroupFactory(program=program, name="Thursday group"),
    )
    marguerite = member(own, "Marguerite", "Okonkwo-Baptiste")
    first = SessionFactory(group=own, starts_at=ago(60))
    second = SessionFactory(group=own, starts_at=ago(30))
    missed = SessionFactory(group=own, starts_at=ago(15))
    visit = SessionFactory(group=other, starts_at=ago(20))
    cancelled = SessionFactory(group=own, starts_at=ago(45), status=Session.Status.CANCELLED)
    future = SessionFactory(group=own, starts_at=timezone.now() + timedelta(days=10))
    for session in (first, second):
        AttendanceFactory(session=session, clinician=marguerite, status=Status.PRESENT)
    AttendanceFactory(session=visit, clinician=marguerite, status=Status.GUEST)
    AttendanceFactory(session=missed, clinician=marguerite, status=Status.ABSENT)
    if connection.vendor != "postgresql":
        # Rows PostgreSQL refuses (attendance at a cancelled or future session); SQLite may
        # hold such rows from before: the figures must ignore them.
        AttendanceFactory(session=cancelled, clinician=marguerite, status=Status.PRESENT)
        AttendanceFactory(session=future, clinician=marguerite, status=Status.PRESENT)
    return {"clinician": marguerite, "attended": [first, visit, second], "missed": missed}


def test_certificate_names_the_person_the_program_the_year_the_sessions_and_the_hours(
    program, viewer, credit
):
    clinician = credit["clinician"]

    result = exports.export_now(
        program=program, key="ce_certificate", params={"clinician": str(clinician.pk)},
        actor=viewer, ip="192.0.2.7",
    )  # fmt: skip

    assert result.content_type == "application/pdf"
    assert result.filename.endswith(".pdf") and "okonkwo" not in result.filename.lower()
    [page] = pages(result.content)
    assert "Certificate of continuing education" in page
    assert "Marguerite Okonkwo-Baptiste" in page
    assert f"attended 3 sessions of {program.name}" in page
    assert "General Internal Medicine, Riverside Hospital" in page
    assert "in the academic year 2026-2027" in page
    assert "4.5 continuing-education hours" in page  # 3 sessions x 1.5 hours
    assert "1.5 hours for each session attended" in page
    for session in credit["attended"]:
        assert local_day(program, session.starts_at) in page
    assert local_day(program, credit["missed"].starts_at) not in page
    assert "Thursday group (as a guest)" in page
    event = AuditEvent.objects.get(action="export.download")
    assert event.actor == viewer and event.program_id == program.pk
    assert event.data["kind"] == "ce_certificate"
    assert event.data["params"] == {"clinician": clinician.pk, "year": "2026-2027"}
    assert "Okonkwo" not in str(event.data)


def test_certificate_metadata_title_names_the_document(program, viewer, credit):
    result = exports.export_now(
        program=program, key="ce_certificate", params={"clinician": credit["clinician"].pk},
        actor=viewer,
    )  # fmt: skip

    title = pypdf.PdfReader(io.BytesIO(result.content)).metadata.title
    assert title == "Continuing-education certificate, Marguerite Okonkwo-Baptiste, 2026-2027"


def test_person_without_attendance_gets_a_notice_not_a_certificate(program, viewer):
    group = GroupFactory(program=program)
    absent = member(group, "Ines", "Vasquez-Lorne")
    AttendanceFactory(session=SessionFactory(group=group, starts_at=ago(9)), clinician=absent,
                      status=Status.ABSENT)  # fmt: skip

    result = exports.export_now(
        program=program, key="ce_certificate", params={"clinician": absent.pk}, actor=viewer
    )

    body = text(result.content)
    assert (
        "No sessions attended were recorded for Ines Vasquez-Lorne in 2026-2027; "
        "no credit can be certified." in body
    )
    assert "Certificate of continuing education" not in body
    assert "continuing-education hours" not in body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Choose the clinician whose certificate to print."),
        ({"clinician": "abc"}, "Choose the clinician whose certificate to print."),
        ({"clinician": 999999}, "There is no clinician 999999 in"),
    ],
)
def test_certificate_refuses_an_unknown_clinician(program, viewer, params, message):
    with pytest.raises(ValidationError) as exc:
        exports.export_now(program=program, key="ce_certificate", params=params, actor=viewer)

    assert message in exc.value.messages[0]
    assert not AuditEvent.objects.filter(action="export.download").exists()


def test_certificate_refuses_a_clinician_of_another_program_and_another_year(program, viewer):
    stranger = ClinicianFactory(program=ProgramFactory())
    mine = ClinicianFactory(program=program)

    with pytest.raises(ValidationError, match=f"no clinician {stranger.pk} in"):
        exports.export_now(
            program=program, key="ce_certificate", params={"clinician": stranger.pk}, actor=viewer
        )
    with pytest.raises(ValidationError, match="is the academic year 2026-2027"):
        exports.export_now(
            program=program, key="ce_certificate",
            params={"clinician": mine.pk, "year": "2025-2026"}, actor=viewer,
        )  # fmt: skip


def test_a_facilitator_may_not_print_certificates(program):
    facilitator_user = UserFactory()
    assignment = FacilitatorAssignmentFactory(group=GroupFactory(program=program))
    assignment.facilitator.user = facilitator_user
    assignment.facilitator.save()
    clinician = ClinicianFactory(program=program)

    with pytest.raises(PermissionDenied):
        exports.export_now(
            program=program, key="ce_certificate", params={"clinician": clinician.pk},
            actor=facilitator_user,
        )  # fmt: skip


def test_all_certificates_in_one_background_file_one_page_per_person_with_credit(
    program, viewer, credit
):
    group = GroupFactory(program=program, name="Friday group")
    other = member(group, "Tomasz", "Wiercinski")
    member(group, "Never", "Present")
    AttendanceFactory(session=SessionFactory(group=group, starts_at=ago(5)), clinician=other)

    job = exports.export_request(
        program=program, key="ce_certificates", params={}, actor=viewer, ip="192.0.2.8"
    )
    job = exports.export_run(job.pk)

    assert job.status == ExportJob.Status.DONE, job.error
    assert AuditEvent.objects.filter(action="export.request", object_id=str(job.pk)).exists()
    downloaded = exports.export_download(job=job, actor=viewer)
    first, second = pages(downloaded.content)
    assert "Marguerite Okonkwo-Baptiste" in first and "4.5 continuing-education hours" in first
    assert "Tomasz Wiercinski" in second and "1.5 continuing-education hours" in second
    assert "Never Present" not in first + second
    assert AuditEvent.objects.filter(action="export.download", object_id=str(job.pk)).exists()


def test_all_certificates_of_a_program_without_attendance_say_so(program, viewer):
    job = exports.export_request(program=program, key="ce_certificates", params={}, actor=viewer)
    job = exports.export_run(job.pk)

    assert job.status == ExportJob.Status.DONE
    assert (
        f"No sessions attended were recorded for anyone in {program.name} in 2026-2027; "
        "no credit can be certified." in text(bytes(job.content))
    )


# --- Survey results report -----------------------------------------------------------------------


def answers(group: str, empathy: str, reflection: str = "4") -> dict:
    return {
        "gender": "female",
        "clinician_type": "physician",
        "group": group,
        "skill_self_reflection": reflection,
        "skill_empathy": empathy,
        "relevance_communicate": "4",
        "challenge_isolation": "3",
        "addressed_isolation": "1",
    }


@pytest.fixture
def wave(program):
    """Group A all agree that the group fostered empathy, group B none: a difference."""
    wave = WaveFactory(program=program, name="Spring survey", slug="spring", distributed_count=14)
    for _ in range(5):
        ResponseFactory(wave=wave, answers=answers("A", empathy="5"))
        ResponseFactory(wave=wave, answers=answers("B", empathy="2", reflection="2"))
    ResponseFactory(wave=wave, answers=answers("B", "5"), excluded_reason="damaged form")
    return wave


def run_of(wave) -> AnalysisRun:
    run = runs.run_execute(runs.run_create(wave=wave, actor=None).pk)
    assert run.status == AnalysisRun.Status.DONE, run.error
    return run


def test_analysis_report_prints_the_tables_with_the_figures_of_the_run(program, viewer, wave):
    run = run_of(wave)
    results = run.results
    empathy = next(r for r in results["table2"] if r["item"] == "skill_empathy")
    reflection = next(r for r in results["table2"] if r["item"] == "skill_self_reflection")

    job = exports.export_request(
        program=program, key="analysis_report", params={"wave": "spring"}, actor=viewer
    )
    job = exports.export_run(job.pk)

    assert job.status == ExportJob.Status.DONE, job.error
    assert job.params == {"wave": "spring"}
    body = text(bytes(job.content))
    assert "Survey results: Spring survey" in body
    assert f"Run {run.pk}" in body
    assert run.inputs_fingerprint in body.replace(" ", "")
    assert "14 distributed · 11 returned (79%) · 10 analysed · 1 excluded" in body
    assert results["summary"][:80] in body
    assert "Table 1. Respondents" in body
    assert "Table 2. Agreement" in body
    # The agree counts and p-values are those of the results JSON, p as the summary prints it.
    assert empathy["overall"]["agree"] == 5 and empathy["overall"]["n"] == 10
    assert "5/10 (50%) 5/5 (100%) 0/5 (0%)" in body
    assert empathy["significant"] and empathy["p_value"] < 0.01
    p = f"{empathy['p_value']:.3f}".lstrip("0")  # 2/252 = .0079... -> ".008"
    assert f"{p}*" in body
    assert reflection["overall"]["agree"] == 5
    assert "* p < .05" in body
    assert "Relevance to daily practice" in body and "Stressors" in body
    assert "Figure 1." in body
    reader = pypdf.PdfReader(io.BytesIO(bytes(job.content)))
    assert reader.metadata.title == f"Survey results, Spring survey, {program.name}"


def test_analysis_report_prints_a_chosen_run(program, viewer, wave):
    first = run_of(wave)
    run_of(wave)

    result = exports.export_now(
        program=program, key="analysis_report", params={"wave": "spring", "run": first.pk},
        actor=viewer,
    )  # fmt: skip

    assert f"Run {first.pk}," in text(result.content)
    assert result.filename.endswith(f"run{first.pk}-report.pdf")


def test_analysis_report_without_a_run_says_how_to_run_one(program, viewer, wave):
    result = exports.export_now(
        program=program, key="analysis_report", params={"wave": "spring"}, actor=viewer
    )

    body = text(result.content)
    assert "No analysis has been run for Spring survey yet: there are no results to print." in body
    assert "Run the analysis" in body
    assert f"python manage.py run_analysis {program.slug} spring" in body
    assert "Table 1" not in body


def test_analysis_report_of_a_wave_without_responses_says_so(program, viewer):
    empty = WaveFactory(program=program, name="Quiet wave", slug="quiet", distributed_count=8)
    run_of(empty)

    body = text(
        exports.export_now(
            program=program, key="analysis_report", params={"wave": "quiet"}, actor=viewer
        ).content
    )

    assert "No responses could be analysed for this wave" in body
    assert "8 distributed · 0 returned (0%) · 0 analysed · 0 excluded" in body
    assert "No analysable responses: nothing to analyse." in body


def test_analysis_report_refuses_unknown_waves_and_runs(program, viewer, wave):
    other_wave = WaveFactory(program=program, slug="autumn")
    foreign = run_of(other_wave)
    failed = AnalysisRun.objects.create(wave=wave, status=AnalysisRun.Status.FAILED)

    for params, message in [
        ({}, "Choose the survey wave"),
        ({"wave": "nope"}, "There is no survey wave “nope”"),
        ({"wave": "spring", "run": foreign.pk}, f"has no analysis run {foreign.pk}"),
        ({"wave": "spring", "run": failed.pk}, "has no results (failed)"),
    ]:
        with pytest.raises(ValidationError) as exc:
            exports.export_request(
                program=program, key="analysis_report", params=params, actor=viewer
            )
        assert message in exc.value.messages[0]
    assert not ExportJob.objects.exists()


def test_analysis_report_withholds_free_text_the_identifier_guard_refuses(program, viewer, wave):
    ResponseFactory(wave=wave, answers=answers("A", "4"), excluded_reason="Mrs. Jane Doe form")
    run_of(wave)

    body = text(
        exports.export_now(
            program=program, key="analysis_report", params={"wave": "spring"}, actor=viewer
        ).content
    )

    assert "Jane Doe" not in body
    assert WITHHELD in body
    assert "damaged form (1)" in body


# --- Annual program report -----------------------------------------------------------------------


@pytest.fixture
def year(program):
    """Two groups. North: 3 members, 3 held sessions, one cancelled, one to come; lead and
    backup, the lead absent once. South: 2 members, 1 held session, no facilitator."""
    north = GroupFactory(program=program, name="North")
    south = GroupFactory(program=program, name="South")
    n_members = [member(north, f"N{i}", "Member") for i in range(3)]
    s_members = [member(south, f"S{i}", "Member") for i in range(2)]
    lead = FacilitatorAssignmentFactory(group=north, starts_on=date(2020, 1, 1))
    backup = FacilitatorAssignmentFactory(
        group=north, role=FacilitatorAssignment.Role.BACKUP, starts_on=date(2020, 1, 1)
    )
    n_held = [SessionFactory(group=north, starts_at=ago(d)) for d in (50, 36, 22)]
    SessionFactory(group=north, starts_at=ago(29), status=Session.Status.CANCELLED)
    SessionFactory(group=north, starts_at=timezone.now() + timedelta(days=6))
    s_held = [SessionFactory(group=south, starts_at=ago(40))]
    FacilitatorAbsenceFactory(session=n_held[1], facilitator=lead.facilitator)
    present = [
        (n_held[0], n_members[0]), (n_held[0], n_members[1]), (n_held[0], n_members[2]),
        (n_held[1], n_members[0]), (n_held[1], n_members[1]),
        (n_held[2], n_members[0]),
        (s_held[0], s_members[0]),
    ]  # fmt: skip
    for session, clinician in present:
        AttendanceFactory(session=session, clinician=clinician, status=Status.PRESENT)
    AttendanceFactory(session=n_held[2], clinician=n_members[2], status=Status.ABSENT)
    presenter = PresentationFactory(
        session=n_held[0], clinician=n_members[0], working_title=TITLE_TEXT
    )
    PresentationFactory(session=n_held[1], clinician=n_members[0])
    PresentationFactory(session=s_held[0], clinician=s_members[0])
    CaseNoteFactory(presentation=presenter, difficulty=NOTE_TEXT)
    return {
        "held": n_held + s_held,
        "present": present,
        "members": n_members + s_members,
        "backup": backup,
    }


def test_annual_report_counts_sessions_attendance_presentations_and_cover(
    program, viewer, year, wave
):
    program.eligible_clinicians = 20
    program.save()
    run = run_of(wave)
    WaveFactory(program=program, name="Pilot try-out", is_pilot=True)
    held = len(year["held"])  # 4
    # Possible attendances: members x held sessions, per group: 3 x 3 + 2 x 1.
    possible = 3 * 3 + 2 * 1
    attended = len(year["present"])

    job = exports.export_request(program=program, key="annual_report", params={}, actor=viewer)
    job = exports.export_run(job.pk)

    assert job.status == ExportJob.Status.DONE, job.error
    body = text(bytes(job.content))
    assert f"Annual report 2026-2027: {program.name}" in body
    assert f"{held} sessions held, 1 cancelled, 1 still to come" in body
    assert (
        f"Attendance rate: {whole_percent(attended, possible)} "
        f"({attended} attendances of {possible} possible" in body
    )
    assert f"5 of 20 eligible clinicians ({whole_percent(5, 20)}) are members of a group" in body
    # Credit: 7 attended sessions by 4 different people at 1 hour each.
    credited = len({clinician.pk for _session, clinician in year["present"]})
    assert f"Continuing-education credit: {credited} clinicians earned {attended} hours" in body
    assert "3 of 4 held sessions had a presenter; 2 different clinicians presented." in body
    assert (
        "Of 4 held sessions, 2 were led by the group's lead facilitator, 1 covered by a backup "
        "facilitator and 1 had no facilitator available." in body
    )
    assert "14 distributed · 11 returned (79%) · 10 analysed · 1 excluded" in body
    assert run.results["summary"][:80] in body
    assert "Pilot try-out" not in body
    assert "This report contains no case content" in body
    assert NOTE_TEXT not in body and "Zebulon" not in body
    assert TITLE_TEXT not in body


def test_annual_report_group_rates_are_per_group(program, viewer, year):
    body = text(
        exports.export_now(program=program, key="annual_report", params={}, actor=viewer).content
    )

    # North: 6 attendances of 3 x 3; South: 1 of 2 x 1.
    assert f"North 3 3 6 {whole_percent(6, 9)}" in body
    assert f"South 2 1 1 {whole_percent(1, 2)}" in body


def test_annual_report_of_an_empty_program_says_so_section_by_section(program, viewer):
    body = text(
        exports.export_now(program=program, key="annual_report", params={}, actor=viewer).content
    )

    assert f"No sessions have been scheduled in {program.name} for 2026-2027" in body
    assert "No sessions have been held yet: there is no attendance to report." in body
    assert "there are no presentations to report" in body
    assert "there is no facilitator cover to report" in body
    assert f"No surveys have been run in {program.name} for 2026-2027" in body
    assert "This report contains no case content" in body


def test_annual_report_refuses_another_year(program, viewer):
    with pytest.raises(ValidationError, match="nothing to report for 2030-2031"):
        exports.export_request(
            program=program, key="annual_report", params={"year": "2030-2031"}, actor=viewer
        )


# --- Nothing confidential in any PDF ----------------------------------------------------------


def test_case_note_text_appears_in_no_pdf(program, viewer, year, wave):
    run_of(wave)
    presenter = year["members"][0]
    made = [
        exports.export_now(
            program=program, key="ce_certificate", params={"clinician": presenter.pk},
            actor=viewer,
        ),
    ]  # fmt: skip
    for key, params in [
        ("ce_certificates", {}),
        ("analysis_report", {"wave": wave.slug}),
        ("annual_report", {}),
    ]:
        job = exports.export_run(
            exports.export_request(program=program, key=key, params=params, actor=viewer).pk
        )
        assert job.status == ExportJob.Status.DONE, job.error
        made.append(exports.export_download(job=job, actor=viewer))

    for result in made:
        body = text(result.content)
        assert "Zebulon" not in body and "Thursday clinic" not in body
        assert TITLE_TEXT not in body
        assert NOTE_TEXT.encode() not in result.content


def test_pdf_kinds_are_registered_with_their_permissions_and_groups(program, viewer):
    kinds = {k.key: k for k in exports.kinds_for(viewer, program)}

    assert kinds["ce_certificate"].group == "People" and not kinds["ce_certificate"].background
    assert kinds["ce_certificates"].group == "People" and kinds["ce_certificates"].background
    assert kinds["analysis_report"].perm == "analysis.run"
    assert kinds["analysis_report"].group == "Analysis" and kinds["analysis_report"].background
    assert kinds["annual_report"].group == "Program" and kinds["annual_report"].background
    assert all(kinds[k].formats == ("pdf",) for k in kinds if k in {
        "ce_certificate", "ce_certificates", "analysis_report", "annual_report"})  # fmt: skip
