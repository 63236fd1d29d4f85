"""Facilitators who are not on the roster get an invitation too (the demo had five
facilitators without an account and no way to invite them but the Django admin)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ccdg.models import AuditEvent
from sessions_app.models import Clinician
from tests.factories import (
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    UserFactory,
)

from .test_views import accept, open_invitation, path_of

pytestmark = pytest.mark.django_db


def invite(client, program, facilitator, capture):
    with capture(execute=True):
        return client.post(
            reverse("sessions_app:facilitator_invite", args=[program.slug, facilitator.pk])
        )


def test_a_facilitator_of_the_pool_is_invited_and_their_account_leads_their_group(
    coordinator_client, client, program, django_capture_on_commit_callbacks, mailoutbox
):
    helen = FacilitatorFactory(program=program, name="Dr. Helen Marsh", email="helen@example.org")
    FacilitatorAssignmentFactory(group=GroupFactory(program=program), facilitator=helen)
    page = coordinator_client.get(reverse("sessions_app:facilitator_list", args=[program.slug]))
    assert reverse("sessions_app:facilitator_invite", args=[program.slug, helen.pk]) in (
        page.content.decode()
    )

    response = invite(coordinator_client, program, helen, django_capture_on_commit_callbacks)

    assert response["Location"] == reverse("sessions_app:facilitator_list", args=[program.slug])
    (email,) = mailoutbox
    assert email.to == ["helen@example.org"]
    assert email.body.startswith("Hello Dr. Helen Marsh,")
    assert "as a facilitator" in email.body
    (link,) = re.findall(r"https?://\S+", email.body)
    open_invitation(client, path_of(link))
    accept(client, username="hmarsh")

    helen.refresh_from_db()
    assert helen.user.username == "hmarsh"
    assert (helen.user.first_name, helen.user.last_name) == ("Dr. Helen", "Marsh")
    assert AuditEvent.objects.filter(action="facilitator.invite").count() == 1
    home = client.get(reverse("home"))
    assert home.context["facilitator"] is not None  # she leads her group now


def test_a_facilitator_on_the_roster_is_invited_through_their_roster_entry(
    coordinator_client, program, django_capture_on_commit_callbacks, mailoutbox
):
    clinician = ClinicianFactory(program=program, email="sam@example.org", first_name="Sam")
    facilitator = FacilitatorFactory(program=program, clinician=clinician, email="sam@example.org")

    invite(coordinator_client, program, facilitator, django_capture_on_commit_callbacks)

    (invitation,) = clinician.invitations.all()
    assert invitation.facilitator_id is None
    clinician.refresh_from_db()
    assert clinician.status == Clinician.Status.INVITED
    assert mailoutbox[0].body.startswith("Hello Sam,")


def test_a_facilitator_with_an_account_is_not_invited(
    coordinator_client, program, django_capture_on_commit_callbacks, mailoutbox
):
    facilitator = FacilitatorFactory(program=program, user=UserFactory(), name="Dr. Has Account")

    response = invite(coordinator_client, program, facilitator, django_capture_on_commit_callbacks)

    assert mailoutbox == []
    messages = [str(m) for m in coordinator_client.get(response["Location"]).context["messages"]]
    assert messages == ["Dr. Has Account already has an account."]
