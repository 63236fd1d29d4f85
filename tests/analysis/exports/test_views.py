"""The reports page: who may open it and export what, direct downloads, background jobs with
progress, expiring links, retry, and the audit trail of every export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from analysis.exports import services as exports
from analysis.exports import views
from analysis.models import ExportJob
from ccdg.models import AuditEvent
from sessions_app.models import Attendance
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    SessionFactory,
    UserFactory,
    WaveFactory,
)
from tests.pages import program_page

Status = ExportJob.Status


url = program_page("reports")


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def attended(program):
    """One group, two members, one held session: Ana present, Ben absent."""
    group = GroupFactory(program=program, name="Red")
    ana = ClinicianFactory(program=program, first_name="Ana", last_name="Alves")
    ben = ClinicianFactory(program=program, first_name="Ben", last_name="Brown")
    for c in (ana, ben):
        GroupMembershipFactory(group=group, clinician=c)
    session = SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=3))
    AttendanceFactory(session=session, clinician=ana, status=Attendance.Status.PRESENT)
    AttendanceFactory(session=session, clinician=ben, status=Attendance.Status.ABSENT)
    return {"group": group, "ana": ana, "ben": ben}


def participant_of(program):
    user = UserFactory()
    clinician = ClinicianFactory(program=program, user=user)
    GroupMembershipFactory(group=GroupFactory(program=program), clinician=clinician)
    return user


def request_job(client, program, key, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("request", program, key), data)
    assert response.status_code == 302
    job = ExportJob.objects.latest("id")
    assert response["Location"] == url("job", program, job.pk)
    return job


# --- The page ----------------------------------------------------------------------------------


def test_reports_page_lists_the_exports_grouped(coordinator_client, program):
    response = coordinator_client.get(url("index", program))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Attendance", "Presentations", "Continuing-education hours",
                  "Facilitator coverage", "Roster (CSV)", "Roster (Excel)"):  # fmt: skip
        assert label in html
    # Direct kinds are links to a GET form, background ones a POST form.
    assert f'action="{url("download_now", program, "ce_hours")}"' in html
    assert f'action="{url("request", program, "attendance")}"' in html
    assert 'value="csv-people"' in html
    assert "No background exports yet." in html


def test_report_viewer_sees_the_page(viewer_client, program):
    assert viewer_client.get(url("index", program)).status_code == 200


def test_page_query_count_does_not_grow_with_jobs(
    coordinator_client, program, coordinator, django_assert_max_num_queries
):
    for _ in range(3):
        ExportJob.objects.create(program=program, kind="attendance", requested_by=coordinator)
    coordinator_client.get(url("index", program))  # warm the registry
    with django_assert_max_num_queries(15) as few:
        coordinator_client.get(url("index", program))
    baseline = len(few.captured_queries)
    for _ in range(10):
        ExportJob.objects.create(
            program=program, kind="roster_xlsx", requested_by=UserFactory(), status=Status.FAILED
        )
    with django_assert_max_num_queries(baseline):
        response = coordinator_client.get(url("index", program))
    assert response.content.decode().count("Failed") >= 10


def test_participant_is_refused_and_outsider_sees_nothing(client, program):
    client.force_login(participant_of(program))
    assert client.get(url("index", program)).status_code == 403
    assert client.get(url("download_now", program, "ce_hours")).status_code == 403
    assert client.post(url("request", program, "attendance")).status_code == 403
    other = ProgramRoleFactory(program=ProgramFactory()).user
    client.force_login(other)
    assert client.get(url("index", program)).status_code == 404
    assert client.get(url("download_now", program, "ce_hours")).status_code == 404
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


def test_signed_out_goes_to_sign_in(client, program):
    response = client.get(url("index", program))
    assert response.status_code == 302 and "login" in response["Location"]


# --- Direct downloads --------------------------------------------------------------------------


def test_report_viewer_downloads_ce_hours_and_it_is_audited(
    viewer_client, viewer, program, attended
):
    response = viewer_client.get(url("download_now", program, "ce_hours"), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["first_name"], r["sessions_attended"]) for r in rows] == [("Ana", "1"), ("Ben", "0")]
    event = AuditEvent.objects.get(action="export.download")
    assert event.actor == viewer and event.program_id == program.pk
    assert event.data["kind"] == "ce_hours" and event.data["params"] == {"format": "csv"}


def test_report_viewer_may_export_the_roster(viewer_client, program, attended):
    response = viewer_client.get(url("download_now", program, "roster_csv"))
    assert response.status_code == 200
    assert b"Ana" in response.content and b"Red" in response.content


def test_bad_format_is_refused_with_a_message(coordinator_client, program):
    response = coordinator_client.get(
        url("download_now", program, "presentations"), {"format": "docx"}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("index", program)
    assert "Unknown format “docx”" in response.content.decode()
    assert not AuditEvent.objects.filter(action="export.download").exists()


def test_unknown_export_is_404(coordinator_client, program):
    assert coordinator_client.get(url("download_now", program, "nope")).status_code == 404
    assert coordinator_client.post(url("request", program, "nope")).status_code == 404


def test_background_kind_is_not_built_by_a_get(coordinator_client, program):
    response = coordinator_client.get(url("download_now", program, "attendance"))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="export.download").exists()


def test_download_now_refuses_post(coordinator_client, program):
    assert coordinator_client.post(url("download_now", program, "ce_hours")).status_code == 405


# --- Background jobs ---------------------------------------------------------------------------


def test_background_job_runs_to_done_and_downloads_until_it_expires(
    coordinator_client, coordinator, program, attended, django_capture_on_commit_callbacks
):
    job = request_job(
        coordinator_client, program, "attendance", django_capture_on_commit_callbacks, format="xlsx"
    )
    job.refresh_from_db()
    assert job.status == Status.DONE and job.progress == 1.0
    assert job.params == {"format": "xlsx"} and job.requested_by == coordinator
    requested = AuditEvent.objects.get(action="export.request")
    assert requested.actor == coordinator
    assert requested.data == {"kind": "attendance", "params": {"format": "xlsx"}}

    page = coordinator_client.get(url("job", program, job.pk)).content.decode()
    assert url("job_download", program, job.pk) in page
    assert "The link works until" in page

    response = coordinator_client.get(url("job_download", program, job.pk))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    people = {r[1]: r for r in wb["Per person"].iter_rows(min_row=2, values_only=True)}
    assert people["Ana"][3] == 1 and people["Ben"][3] == 0
    downloaded = AuditEvent.objects.get(action="export.download")
    assert downloaded.actor == coordinator
    assert downloaded.object_id == str(job.pk)
    assert downloaded.data["kind"] == "attendance" and downloaded.data["params"] == {
        "format": "xlsx"
    }

    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = coordinator_client.get(url("job_download", program, job.pk), follow=True)
    assert response.redirect_chain[-1][0] == url("job", program, job.pk)
    html = response.content.decode()
    assert "This download link has expired" in html
    assert "Make it again" in html
    assert AuditEvent.objects.filter(action="export.download").count() == 1

    # "Make it again" posts the same options: a new job.
    again = request_job(
        coordinator_client, program, "attendance", django_capture_on_commit_callbacks, format="xlsx"
    )
    assert again.pk != job.pk
    again.refresh_from_db()
    assert again.status == Status.DONE


def test_progress_fragment_polls_then_asks_for_a_reload(coordinator_client, program, coordinator):
    job = ExportJob.objects.create(
        program=program, kind="attendance", status=Status.RUNNING, progress=0.42, step="Counting"
    )
    response = coordinator_client.get(url("job_progress", program, job.pk), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "analysis-pct-42" in html and "Counting" in html
    assert "HX-Refresh" not in response
    ExportJob.objects.filter(pk=job.pk).update(
        status=Status.DONE, progress=1.0, expires_at=timezone.now() + timedelta(hours=1)
    )
    response = coordinator_client.get(url("job_progress", program, job.pk), HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    assert "hx-trigger" not in response.content.decode()


def test_failed_job_shows_the_error_and_can_be_retried(
    coordinator_client, program, attended, django_capture_on_commit_callbacks
):
    job = ExportJob.objects.create(
        program=program,
        kind="roster_xlsx",
        params={"format": "xlsx"},
        status=Status.FAILED,
        attempts=1,
        error="OperationalError: the export could not be built.",
    )
    page = coordinator_client.get(url("job", program, job.pk)).content.decode()
    assert "The export failed." in page and "could not be built" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(url("job_retry", program, job.pk))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.DONE and job.attempts == 2 and job.filename.endswith(".xlsx")
    assert AuditEvent.objects.filter(action="export.retry", object_id=str(job.pk)).exists()
    # A job that is not failed cannot be retried.
    response = coordinator_client.post(url("job_retry", program, job.pk), follow=True)
    assert "Only a failed export can be retried." in response.content.decode()


def test_download_of_a_job_not_ready_is_refused(coordinator_client, program):
    job = ExportJob.objects.create(program=program, kind="attendance")
    response = coordinator_client.get(url("job_download", program, job.pk), follow=True)
    assert "This export is not ready." in response.content.decode()
    assert "Waiting for a worker" in response.content.decode()


def test_jobs_are_shared_within_the_program(
    client, coordinator_client, program, viewer, attended, django_capture_on_commit_callbacks
):
    job = request_job(
        coordinator_client,
        program,
        "roster_xlsx",
        django_capture_on_commit_callbacks,
        format="xlsx",
    )
    client.force_login(viewer)
    assert client.get(url("job", program, job.pk)).status_code == 200
    response = client.get(url("job_download", program, job.pk))
    assert response.status_code == 200
    assert AuditEvent.objects.get(action="export.download").actor == viewer


def test_job_of_another_program_is_404_and_participant_403(
    client, coordinator_client, program, coordinator
):
    other = ProgramFactory()
    foreign = ExportJob.objects.create(program=other, kind="attendance", status=Status.FAILED)
    for name in ("job", "job_progress", "job_download"):
        assert coordinator_client.get(url(name, program, foreign.pk)).status_code == 404
    assert coordinator_client.post(url("job_retry", program, foreign.pk)).status_code == 404
    mine = ExportJob.objects.create(program=program, kind="attendance", status=Status.FAILED)
    client.force_login(participant_of(program))
    assert client.get(url("job", program, mine.pk)).status_code == 403
    assert client.post(url("job_retry", program, mine.pk)).status_code == 403


def test_expired_by_housekeeping_offers_to_make_it_again(coordinator_client, program):
    job = ExportJob.objects.create(
        program=program, kind="attendance", params={"format": "csv-people"}, status=Status.EXPIRED
    )
    html = coordinator_client.get(url("job", program, job.pk)).content.decode()
    assert "Make it again" in html
    assert 'name="format" value="csv-people"' in html
    assert f'action="{url("request", program, "attendance")}"' in html


# --- The parameter convention for kinds registered elsewhere ---------------------------------


def _fake_build(*, program, params, progress=None):
    return exports.ExportFile(
        "x.csv", exports.CONTENT_TYPES["csv"], repr(sorted(params.items())).encode()
    )


def _keep(program, params):
    return {k: params[k] for k in ("wave", "clinician") if k in params}


def test_survey_kinds_get_a_wave_select_and_certificates_a_clinician_select(
    coordinator_client, program, monkeypatch
):
    exports.kind_get("attendance")  # the registry is loaded
    monkeypatch.setitem(exports.REGISTRY, "test_survey", exports.ExportKind(
        key="test_survey", label="Test survey export", description="d", build=_fake_build,
        group="Survey", clean_params=_keep, formats=("csv",),
    ))  # fmt: skip
    monkeypatch.setitem(exports.REGISTRY, "test_certificate", exports.ExportKind(
        key="test_certificate", label="Test certificate", description="d", build=_fake_build,
        group="People", clean_params=_keep, formats=("pdf",),
    ))  # fmt: skip
    WaveFactory(program=program, name="Spring 2027", slug="spring-2027")
    ana = ClinicianFactory(program=program, first_name="Ana", last_name="Alves")
    html = coordinator_client.get(url("index", program)).content.decode()
    assert 'name="wave" id="wave-test_survey"' in html
    assert '<option value="spring-2027">Spring 2027</option>' in html
    assert 'name="clinician" id="clinician-test_certificate"' in html
    assert f'<option value="{ana.pk}">Alves, Ana</option>' in html
    assert 'id="wave-attendance"' not in html
    response = coordinator_client.get(
        url("download_now", program, "test_survey"), {"wave": "spring-2027", "junk": "x"}
    )
    assert response.content == b"[('wave', 'spring-2027')]"


def test_the_other_engineers_kinds_follow_the_convention(coordinator_client, program):
    """The kinds registered for surveys, analysis and certificates get their selects."""
    WaveFactory(program=program, name="Spring 2027", slug="spring-2027")
    html = coordinator_client.get(url("index", program)).content.decode()
    assert 'id="wave-survey_responses"' in html
    assert 'id="small-cells-survey_responses"' in html
    assert 'id="wave-analysis_report"' in html
    assert 'id="clinician-ce_certificate"' in html
    assert 'id="clinician-ce_certificates"' not in html  # everyone's: no one to choose


def test_a_large_roster_is_searched_by_name_not_put_into_the_page(coordinator_client, program):
    ClinicianFactory.create_batch(
        views.CLINICIANS_IN_PAGE, program=program, last_name="Nguyen", first_name="Lan"
    )
    ClinicianFactory(program=program, last_name="Okafor", first_name="Chiamaka")
    ClinicianFactory(program=program, last_name="Okonkwo", first_name="Emeka")
    ClinicianFactory(program=ProgramFactory(), last_name="Okoye", first_name="Ada")

    page = coordinator_client.get(url("index", program)).content.decode()
    found = coordinator_client.get(url("clinician_search", program) + "?q=oko").json()
    two_words = coordinator_client.get(url("clinician_search", program) + "?q=ok chi").json()

    assert "Nguyen, Lan" not in page
    assert f'data-search-url="{url("clinician_search", program)}"' in page
    assert [r["text"] for r in found["results"]] == ["Okonkwo, Emeka"]
    assert [r["text"] for r in two_words["results"]] == ["Okafor, Chiamaka"]


def test_a_small_roster_is_listed_in_the_page(coordinator_client, program):
    ClinicianFactory(program=program, last_name="Okafor", first_name="Chiamaka")

    page = coordinator_client.get(url("index", program)).content.decode()

    assert "Okafor, Chiamaka" in page and "data-search-url" not in page
