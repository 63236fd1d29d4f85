"""The roster import preview says what an update changes in words: each field by its label,
with the value now and the value after importing ("years at institution: 3 → 4"), never by
its name in the code (``years_at_institution``)."""

from __future__ import annotations

import html
import re

import pytest

from sessions_app.models import Gender
from tests.factories import ClinicianFactory
from tests.sessions_app.helpers import upload

pytestmark = pytest.mark.django_db


def result_cells(response) -> list[str]:
    """The text of the preview table's "Result" cells (the last cell of each row)."""
    page = response.content.decode()
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page.split("<tbody>", 1)[1], flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)[-1] for row in rows]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", c)).split()) for c in cells]


def test_preview_names_changed_fields_by_their_labels_with_old_and_new_values(
    coordinator_client, program
):
    ClinicianFactory(
        program=program,
        email="ana@example.org",
        first_name="Ana",
        last_name="Lima",
        years_at_institution=3,
        gender=Gender.UNDISCLOSED,
    )
    content = (
        b"email,first_name,last_name,discipline,gender,years_at_institution\r\n"
        b"ana@example.org,Ana,Lima,physician,female,4\r\n"
    )

    preview = coordinator_client.get(upload(coordinator_client, program, content)["Location"])

    [cell] = result_cells(preview)
    assert cell == "update gender: Prefer not to say → Female; years at institution: 3 → 4"
    page = preview.content.decode()
    assert "years_at_institution" not in page
    assert "years at institution: 3 → 4" in page


def test_preview_shows_a_blank_value_as_a_dash(coordinator_client, program):
    ClinicianFactory(program=program, email="ben@example.org", first_name="Ben", last_name="Okafor")
    content = (
        b"email,first_name,last_name,discipline,patient_care_halfdays\r\n"
        b"ben@example.org,Ben,Okafor,physician,6\r\n"
    )

    preview = coordinator_client.get(upload(coordinator_client, program, content)["Location"])

    assert result_cells(preview) == ["update half-days of direct patient care per week: — → 6"]
