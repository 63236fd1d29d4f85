"""A program's settings page."""

from __future__ import annotations

from ccdg.models import AuditEvent
from tests.sessions_app.helpers import url


def program_form_data(program, **changes) -> dict[str, object]:
    data = {
        "name": program.name,
        "department": program.department,
        "institution": program.institution,
        "academic_year": program.academic_year,
        "timezone": program.timezone,
        "eligible_clinicians": 66,
        "sessions_per_year_min": 6,
        "sessions_per_year_max": 8,
        "format": program.format,
        "small_cell_k": program.small_cell_k,
        "small_cell_k_reason": program.small_cell_k_reason,
    }
    data.update(changes)
    return data


def test_coordinator_saves_program_settings(coordinator_client, program):
    response = coordinator_client.post(
        url("program_edit", program), program_form_data(program, name="Renamed")
    )

    program.refresh_from_db()
    assert response.status_code == 302
    assert program.name == "Renamed"
    assert AuditEvent.objects.filter(action="program.update", program_id=program.pk).count() == 1


def test_program_settings_refuse_min_above_max_and_unknown_timezone(coordinator_client, program):
    response = coordinator_client.post(
        url("program_edit", program),
        program_form_data(
            program, sessions_per_year_min=9, sessions_per_year_max=8, timezone="Mars/Olympus"
        ),
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"sessions_per_year_max", "timezone"}
    program.refresh_from_db()
    assert program.sessions_per_year_min == 6
