"""A coordinator makes a background export from the reports page, in a real Chromium: the job
runs (a Celery task, eager here, after the request's commit), the progress reaches 100%, the
file downloads and opens as a workbook with the program's attendance."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from analysis.models import ExportJob
from ccdg.celery_app import app as celery_app
from ccdg.models import AuditEvent
from sessions_app.models import (
    Attendance,
    Clinician,
    Group,
    GroupMembership,
    Program,
    ProgramRole,
    Session,
)
from tests.browser.conftest import program_page

PASSWORD = "correct horse battery staple"


@pytest.fixture
def eager():
    """Run the export task in the web request (after its commit), as CCDG_CELERY_EAGER does."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.update(task_always_eager=True)
    yield
    celery_app.conf.update(task_always_eager=before)


@pytest.fixture
def world(transactional_db):
    program = Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        academic_year="2026-2027",
        timezone="America/New_York",
        eligible_clinicians=12,
    )
    coordinator = get_user_model().objects.create_user(
        username="coord", password=PASSWORD, first_name="Cora", last_name="Coordinator"
    )
    ProgramRole.objects.create(program=program, user=coordinator, role=ProgramRole.Role.COORDINATOR)
    group = Group.objects.create(program=program, name="Tuesday group")
    people = []
    for first, last in (("Ana", "Ruiz"), ("Ben", "Okoro"), ("Chloe", "Martin")):
        clinician = Clinician.objects.create(
            program=program,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@example.org",
            discipline="physician",
            status=Clinician.Status.ACTIVE,
        )
        GroupMembership.objects.create(
            group=group, clinician=clinician, joined_on=timezone.localdate() - timedelta(days=60)
        )
        people.append(clinician)
    past = (timezone.now() - timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    session = Session.objects.create(group=group, starts_at=past, uid=uuid.uuid4())
    ana, ben, chloe = people
    for clinician, status in ((ana, "present"), (ben, "present"), (chloe, "absent")):
        Attendance.objects.create(session=session, clinician=clinician, status=status)
    return program, coordinator


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("coord")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def test_coordinator_makes_and_downloads_a_background_export(
    new_page, screenshot, world, eager, tmp_path
):
    program, coordinator = world
    page = new_page(accept_downloads=True)
    sign_in(page)
    page.goto(f"/programs/{program.slug}/")
    program_page(page, "Evaluate", "Reports")
    expect(page).to_have_title(re.compile(r"^Reports · "))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports and exports")
    screenshot(page, "reports-page")

    card = page.locator("#export-attendance")
    card.get_by_label("Format").select_option("xlsx")
    card.get_by_role("button", name="Make the export").click()

    expect(page).to_have_title(re.compile(r"^Attendance export \d+ · "))
    bar = page.get_by_role("progressbar", name="Progress of the export")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#job-ready")).to_contain_text("The export is ready")
    expect(page.locator("#job-expiry")).to_contain_text("The link works until")
    screenshot(page, "export-ready")

    with page.expect_download() as info:
        page.locator("#job-download").click()
    download = info.value
    assert re.fullmatch(r"im-ccdg-attendance-2026-2027\.xlsx", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    wb = load_workbook(path)
    assert wb.sheetnames[0] == "About"
    people = {row[1]: row for row in wb["Per person"].iter_rows(min_row=2, values_only=True)}
    assert set(people) == {"Ana", "Ben", "Chloe"}
    assert people["Ana"][3] == 1 and people["Chloe"][3] == 0
    sessions = list(wb["Per session"].iter_rows(min_row=2, values_only=True))
    assert [(s[1], s[2], s[3]) for s in sessions] == [("Tuesday group", 2, 1)]
    figures = {row[0]: row for row in wb["Program"].iter_rows(min_row=2, values_only=True)}
    assert figures["eligible clinicians"][1] == 12

    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE and job.progress == 1.0
    actions = set(
        AuditEvent.objects.filter(actor=coordinator, program_id=program.pk).values_list(
            "action", flat=True
        )
    )
    assert {"export.request", "export.download"} <= actions

    # Back on the reports page, the job is listed as ready.
    page.get_by_role("link", name="Reports and exports").click()
    expect(page.locator("#recent-jobs")).to_contain_text("Attendance")
    expect(page.locator("#recent-jobs")).to_contain_text("Ready")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
