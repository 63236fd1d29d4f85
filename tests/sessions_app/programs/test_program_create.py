"""Site staff create a program and appoint its first coordinator without the Django admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ccdg.models import AuditEvent
from sessions_app.models import Program, ProgramRole
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Family Medicine CCDG", "slug": "fm-ccdg", "academic_year": "2027-2028",
    "timezone": "America/Chicago", "locale": "en-US", "eligible_clinicians": 40,
    "sessions_per_year_min": 6, "sessions_per_year_max": 10, "format": "ccdg60",
    "small_cell_k": 5,
}  # fmt: skip


def test_staff_create_a_program_with_its_first_coordinator(client, staff_user):
    first = UserFactory(username="maria", email="maria@example.org")
    client.force_login(staff_user)

    response = client.post(
        reverse("sessions_app:program_create"), {**FORM, "coordinator": "maria@example.org"}
    )

    program = Program.objects.get(slug="fm-ccdg")
    assert response["Location"] == program.get_absolute_url()
    assert ProgramRole.objects.filter(program=program, user=first, role="coordinator").exists()
    assert {"program.create", "role.grant"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_an_unknown_first_coordinator_keeps_the_form_as_typed(client, staff_user):
    client.force_login(staff_user)

    response = client.post(
        reverse("sessions_app:program_create"), {**FORM, "coordinator": "nobody@example.org"}
    )

    assert response.status_code == 200
    assert not Program.objects.filter(slug="fm-ccdg").exists()
    assert 'value="Family Medicine CCDG"' in response.content.decode()


def test_a_coordinator_cannot_create_programs(coordinator_client):
    assert coordinator_client.get(reverse("sessions_app:program_create")).status_code == 403
