"""Roles in the app, in a real Chromium: the coordinator opens Team from the Administer menu,
makes a facilitator of the program a report viewer, removes the role again, and invites a
facilitator without an account from the Facilitators page."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from ccdg.models import AuditEvent
from sessions_app.models import Facilitator, Program, ProgramRole
from tests.browser.conftest import program_page


@pytest.fixture
def demo(transactional_db, settings):
    settings.DEBUG = True  # the demo's published password
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the invitation e-mail, sent at once
    return Program.objects.get()


def test_a_coordinator_gives_and_takes_a_role_and_invites_a_facilitator(new_page, screenshot, demo):
    helen = Facilitator.objects.filter(program=demo, user__isnull=False).first()
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("coordinator")
    page.get_by_label("Password").fill("ccdg-demo")
    page.get_by_role("button", name="Sign in").click()
    page.goto(demo.get_absolute_url())

    program_page(page, "Administer", "Team")
    page.get_by_label("E-mail address or username").fill(helen.user.username)
    page.locator("#id_role").select_option("report_viewer")
    page.get_by_role("button", name="Give the role").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text(
        "is now report viewer"
    )
    row = page.locator("#team-table tr", has_text=helen.user.email)
    expect(row).to_contain_text("Report viewer")
    screenshot(page, "team")
    assert ProgramRole.objects.filter(program=demo, user=helen.user, role="report_viewer").exists()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Remove").click()
    expect(page.locator("#team-table")).not_to_contain_text(helen.user.email)
    changes = AuditEvent.objects.filter(action__startswith="role.").order_by("pk")
    assert [e.action for e in changes] == ["role.grant", "role.revoke"]

    without = Facilitator.objects.filter(program=demo, user__isnull=True, active=True).first()
    program_page(page, "Plan", "Facilitators")
    page.locator(f"#facilitator-{without.pk}").get_by_role("button", name="Invite").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text(
        f"Invitation sent to {without.email}"
    )
    assert [m.to for m in mail.outbox][-1] == [without.email]
    screenshot(page, "facilitator-invited")
