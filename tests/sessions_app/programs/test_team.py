"""The team page: coordinators give and take the coordinator and report-viewer roles in the
app (not the Django admin); every change is audited and ends the person's other sessions."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.urls import reverse

from ccdg.models import AuditEvent
from sessions_app.models import ProgramRole
from tests.factories import ClinicianFactory, ProgramRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def team(program) -> str:
    return reverse("sessions_app:program_team", args=[program.slug])


def test_a_coordinator_makes_a_clinician_of_the_program_a_report_viewer(
    coordinator_client, coordinator, program, django_capture_on_commit_callbacks
):
    person = UserFactory(username="rafael", email="rafael@example.org")
    ClinicianFactory(program=program, user=person)
    UserSession.objects.create(user=person, ip="10.0.0.9", session_key="abc", user_agent="Firefox")

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(
            team(program), {"person": "Rafael@Example.org", "role": "report_viewer"}
        )

    assert response.status_code == 302
    assert ProgramRole.objects.filter(program=program, user=person, role="report_viewer").exists()
    grant = AuditEvent.objects.get(action="role.grant")
    assert (grant.actor_id, grant.data) == (coordinator.pk, {"role": "report_viewer"})
    assert not UserSession.objects.filter(user=person).exists()  # signed out elsewhere
    assert "rafael@example.org" in coordinator_client.get(team(program)).content.decode()


def test_a_coordinator_cannot_find_accounts_outside_the_program(coordinator_client, program):
    UserFactory(username="elsewhere", email="elsewhere@example.org")

    response = coordinator_client.post(
        team(program), {"person": "elsewhere@example.org", "role": "coordinator"}
    )

    assert response.status_code == 200
    assert "No active account in this program" in response.content.decode()
    assert not ProgramRole.objects.filter(user__username="elsewhere").exists()
    # What was typed stays in the form.
    assert 'value="elsewhere@example.org"' in response.content.decode()


def test_site_staff_appoint_any_account_as_coordinator(client, staff_user, program):
    person = UserFactory(username="newcoord")
    client.force_login(staff_user)

    client.post(team(program), {"person": "newcoord", "role": "coordinator"})

    assert ProgramRole.objects.filter(program=program, user=person, role="coordinator").exists()


def test_the_last_coordinator_cannot_be_removed(coordinator_client, coordinator, program):
    (held,) = ProgramRole.objects.filter(program=program, role="coordinator")

    response = coordinator_client.post(
        reverse("sessions_app:role_revoke", args=[program.slug, held.pk]), follow=True
    )

    assert "needs at least one coordinator" in response.content.decode()
    assert ProgramRole.objects.filter(pk=held.pk).exists()


def test_a_coordinator_removes_a_co_coordinator(coordinator_client, program):
    other = ProgramRoleFactory(program=program, role="coordinator")

    coordinator_client.post(reverse("sessions_app:role_revoke", args=[program.slug, other.pk]))

    assert not ProgramRole.objects.filter(pk=other.pk).exists()
    revoke = AuditEvent.objects.get(action="role.revoke")
    assert revoke.data == {"role": "coordinator"}


def test_giving_a_role_someone_holds_says_so(coordinator_client, coordinator, program):
    response = coordinator_client.post(
        team(program), {"person": coordinator.username, "role": "coordinator"}
    )

    assert "already coordinator" in response.content.decode()
