"""One rule about patient identifiers, said the same way wherever a clinician types about a
patient (take-home points, a case note, a presenter's working title) and in the guard's
refusals: age, gender and a first name or initials are allowed, nothing else that identifies."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import TakeHomePoint
from tests.factories import (
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    SessionFactory,
    UserFactory,
)
from tests.sessions_app.helpers import RULE, url


@pytest.fixture
def world(program):
    group = GroupFactory(program=program)
    session = SessionFactory(group=group, starts_at=timezone.now() + timedelta(days=10))
    member = GroupMembershipFactory(group=group, clinician__user=UserFactory()).clinician
    lead = FacilitatorAssignmentFactory(
        group=group, facilitator=FacilitatorFactory(program=program, user=UserFactory())
    ).facilitator
    return {"program": program, "session": session, "member": member, "lead": lead.user}


def text(response) -> str:
    """The page's words, tags removed, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_take_home_form_states_the_rule_and_allows_a_first_name_and_age(client, world):
    client.force_login(world["lead"])
    edit = url("session_take_home_edit", world["program"], pk=world["session"].pk)

    page = client.get(edit)
    saved = client.post(edit, {"points": "Ana, 45, taught us to slow down."})

    assert RULE in text(page)
    assert "no names, initials" not in text(page).lower()
    assert saved.status_code == 302
    assert list(TakeHomePoint.objects.values_list("text", flat=True)) == [
        "Ana, 45, taught us to slow down."
    ]


def test_the_take_home_refusal_states_the_same_rule(client, world):
    client.force_login(world["lead"])

    refused = client.post(
        url("session_take_home_edit", world["program"], pk=world["session"].pk),
        {"points": "Mrs. Alvarez taught us to slow down."},
    )

    assert refused.status_code == 400
    assert RULE in text(refused)
    assert not TakeHomePoint.objects.exists()


def test_the_case_note_form_states_the_same_rule_before_and_on_refusal(client, world):
    presentation = PresentationFactory(session=world["session"], clinician=world["member"])
    client.force_login(world["member"].user)
    edit = url("case_note_edit", world["program"], pk=presentation.pk)

    page = client.get(edit)
    refused = client.post(
        edit,
        {
            "patient_name": "Ben",
            "difficulty": "Mrs. Alvarez says I never listen.",
            "visibility": "facilitators",
        },
    )

    assert RULE in text(page)
    assert refused.status_code == 400
    assert text(refused).count(RULE) == 2  # the rules above the form and the refusal


def test_the_presenters_working_title_help_states_the_same_rule(client, world):
    client.force_login(world["member"].user)

    page = client.get(url("my_sessions", world["program"]))

    assert RULE in text(page)
    assert "no names, initials" not in text(page).lower()


def test_the_ground_rules_on_the_agenda_page_state_the_same_rule(client, world):
    client.force_login(world["lead"])

    page = client.get(url("session_agenda", world["program"], pk=world["session"].pk))

    assert page.status_code == 200
    assert RULE in text(page)
