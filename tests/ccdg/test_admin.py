"""The site admin: staff open every registered model's list; the audit trail is read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from ccdg.models import AuditEvent
from tests.factories import (
    AuditEventFactory,
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    GroupMembershipFactory,
    InvitationFactory,
    ProgramRoleFactory,
    RosterImportFactory,
    UserFactory,
)

REGISTERED = sorted(
    f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
    for model in admin.site._registry
)


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    ProgramRoleFactory()
    ClinicianFactory()
    GroupMembershipFactory()
    FacilitatorAssignmentFactory()
    InvitationFactory()
    RosterImportFactory()
    AuditEventFactory()
    return client


def test_the_project_models_are_registered():
    names = {name.split(":", 1)[1] for name in REGISTERED}

    assert {
        "ccdg_auditevent_changelist",
        "sessions_app_program_changelist",
        "sessions_app_programrole_changelist",
        "sessions_app_clinician_changelist",
        "sessions_app_facilitator_changelist",
        "sessions_app_group_changelist",
        "sessions_app_invitation_changelist",
        "sessions_app_rosterimport_changelist",
    } <= names


@pytest.mark.parametrize("name", REGISTERED)
def test_staff_open_each_changelist(staff_client, name):
    response = staff_client.get(reverse(name))

    assert response.status_code == 200


def test_audit_events_cannot_be_added_changed_or_deleted_in_the_admin(staff_client):
    event = AuditEvent.objects.get()

    add = staff_client.get(reverse("admin:ccdg_auditevent_add"))
    change = staff_client.post(
        reverse("admin:ccdg_auditevent_change", args=[event.pk]), {"action": "rewritten"}
    )
    delete = staff_client.post(
        reverse("admin:ccdg_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert AuditEvent.objects.get().action == event.action


def test_group_change_page_opens_with_its_inlines(staff_client):
    group = GroupMembershipFactory().group

    response = staff_client.get(reverse("admin:sessions_app_group_change", args=[group.pk]))

    assert response.status_code == 200
