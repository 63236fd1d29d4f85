"""Inviting someone with no account and no entry in the program to a role (coordinator,
report viewer), from the Team page: the account they make holds the role."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ccdg.models import AuditEvent
from sessions_app.models import ProgramRole

from .test_views import accept, open_invitation, path_of

pytestmark = pytest.mark.django_db


def test_a_report_viewer_from_outside_the_program_is_invited_and_holds_the_role(
    coordinator_client, client, program, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(
            reverse("sessions_app:role_invite", args=[program.slug]),
            {"name": "Quinn Quality", "email": "Quinn@Example.org", "role": "report_viewer"},
        )

    assert response["Location"] == reverse("sessions_app:program_team", args=[program.slug])
    (email,) = mailoutbox
    assert email.to == ["quinn@example.org"]
    assert email.body.startswith("Hello Quinn Quality,")
    assert "as report viewer" in email.body
    (link,) = re.findall(r"https?://\S+", email.body)
    open_invitation(client, path_of(link))
    accept(client, username="quinn")

    role = ProgramRole.objects.get(user__username="quinn")
    assert (role.program, role.role) == (program, "report_viewer")
    assert role.user.email == "quinn@example.org"
    assert (role.user.first_name, role.user.last_name) == ("Quinn", "Quality")
    assert AuditEvent.objects.filter(action="role.invite").count() == 1
    assert client.get(reverse("reports:index", args=[program.slug])).status_code == 200


def test_a_bad_address_goes_back_to_the_team_page_with_what_was_typed(
    coordinator_client, program, mailoutbox
):
    response = coordinator_client.post(
        reverse("sessions_app:role_invite", args=[program.slug]),
        {"name": "Quinn Quality", "email": "not-an-address", "role": "coordinator"},
        follow=True,
    )

    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert 'value="Quinn Quality"' in page and 'value="not-an-address"' in page
    assert mailoutbox == []
