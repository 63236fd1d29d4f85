"""The audit trail: append-only, ids and field names only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from ccdg.audit import audit_list_for, audit_record
from ccdg.models import AuditEvent
from tests.factories import (
    AuditEventFactory,
    ClinicianFactory,
    ProgramFactory,
    ProgramRoleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_saving_an_existing_event_raises_and_changes_nothing():
    event = AuditEventFactory(action="clinician.create")
    event.action = "something.else"

    with pytest.raises(ValueError, match="append-only"):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).action == "clinician.create"


def test_audit_record_stores_the_object_and_program():
    actor = UserFactory()
    clinician = ClinicianFactory()

    event = audit_record(
        actor=actor,
        action="clinician.update",
        obj=clinician,
        program_id=clinician.program_id,
        data={"fields": ["email"]},
    )

    event.refresh_from_db()
    assert (
        event.actor,
        event.action,
        event.object_type,
        event.object_id,
        event.program_id,
        event.data,
    ) == (
        actor,
        "clinician.update",
        "sessions_app.clinician",
        str(clinician.pk),
        clinician.program_id,
        {"fields": ["email"]},
    )


def test_anonymous_or_no_actor_is_stored_as_none():
    first = audit_record(actor=AnonymousUser(), action="a")
    second = audit_record(actor=None, action="b")

    assert (first.actor, second.actor) == (None, None)


def test_audit_list_for_gives_an_objects_events_newest_first():
    clinician = ClinicianFactory()
    older = audit_record(actor=None, action="clinician.create", obj=clinician)
    newer = audit_record(actor=None, action="clinician.update", obj=clinician)
    audit_record(actor=None, action="clinician.create", obj=ClinicianFactory())

    assert list(audit_list_for(clinician)) == [newer, older]


def test_roster_export_records_an_event(client):
    program = ProgramFactory()
    coordinator = ProgramRoleFactory(program=program).user
    ClinicianFactory(program=program)
    ClinicianFactory(program=program)
    client.force_login(coordinator)

    client.get(reverse("sessions_app:roster_export", kwargs={"slug": program.slug}))

    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.program_id, event.data) == (
        "roster.export",
        coordinator,
        program.pk,
        {"rows": 2},
    )


def test_clinician_edit_records_field_names_not_values(client):
    program = ProgramFactory()
    coordinator = ProgramRoleFactory(program=program).user
    clinician = ClinicianFactory(
        program=program,
        first_name="Ana",
        last_name="Lima",
        email="ana@example.org",
        discipline="physician",
    )
    client.force_login(coordinator)

    client.post(
        reverse("sessions_app:clinician_edit", kwargs={"slug": program.slug, "pk": clinician.pk}),
        {
            "first_name": "Ana",
            "last_name": "Confidential-Name",
            "email": "ana@example.org",
            "discipline": "psychologist",
            "gender": "undisclosed",
        },
    )

    event = AuditEvent.objects.get(action="clinician.update")
    assert event.data == {"fields": ["discipline", "last_name"]}
    assert "Confidential-Name" not in str(event.data)
    assert "psychologist" not in str(event.data)
