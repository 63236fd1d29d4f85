"""Helpers shared by the sessions_app tests: a page's address, its text and messages, signing in,
uploading a roster, and the texts several features show or refuse."""

from __future__ import annotations

import zoneinfo

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.pages import program_page

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")

# The header line of a roster CSV file.
ROSTER_HEADER = "email,first_name,last_name,discipline"

# The identifier rule as the forms' help texts and the guard's refusals state it.
RULE = (
    "No patient identifiers beyond age, gender and a first name or initials: no last names, "
    "dates more specific than the year, places, facilities, numbers or contact details."
)

# One text per category of the identifier guard, each refused in a free-text field.
IDENTIFIERS = {
    "name": "I saw Mrs. Alvarez again.",
    "date": "She came in on March 14th.",
    "phone": "Her son calls from 555-123-4567 every day.",
    "email": "She writes to me at ana.p@example.com at night.",
    "url": "She posts about me on http://example.org/ana.",
    "ip": "The portal logs show 10.0.0.1.",
    "ssn": "Her SSN 123-45-6789 was on the form.",
    "record_number": "MRN 4471923 is on every letter.",
    "address": "She lives at 12 Main Street.",
    "zip": "She moved to ZIP 02139.",
    "age_over_89": "She is 94 and lives alone.",
    "device_id": "Her pacemaker serial AB12345 keeps alarming.",
    "facility": "She was sent to Mass General Hospital.",
}

# The address of the sessions_app page ``name`` of ``program``.
url = program_page("sessions_app")


def page_text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def as_user(client, user):
    client.force_login(user)
    return client


def upload(client, program, content: bytes, name: str = "roster.csv"):
    """Post a roster file to ``program``'s import page."""
    return client.post(
        url("roster_import", program),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )
