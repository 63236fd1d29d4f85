"""The home page and a program's page: what they list and their query counts."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramRoleFactory,
    UserFactory,
)
from tests.sessions_app.helpers import page_text, url


def test_program_detail_costs_the_same_queries_for_1_and_4_groups(
    coordinator_client, program, django_assert_num_queries
):
    def add_group():
        group = GroupFactory(program=program)
        FacilitatorAssignmentFactory(group=group)
        FacilitatorAssignmentFactory(group=group, role="backup")
        GroupMembershipFactory(group=group)

    add_group()
    coordinator_client.get(url("program_detail", program))
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(url("program_detail", program))
    for _ in range(3):
        add_group()

    with django_assert_num_queries(len(one.captured_queries)):
        response = coordinator_client.get(url("program_detail", program))

    assert len(response.context["groups"]) == 4


def test_home_costs_the_same_queries_for_1_and_4_programs(client, db, django_assert_num_queries):
    user = UserFactory()
    ProgramRoleFactory(user=user)
    client.force_login(user)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("home"))
    for _ in range(3):
        GroupMembershipFactory(clinician__user=user)

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("home"))

    assert len(response.context["programs"]) == 4


def test_program_detail_shows_groups_with_facilitators_and_member_counts(
    coordinator_client, program
):
    group = GroupFactory(program=program, name="Tuesday group")
    FacilitatorAssignmentFactory(group=group, facilitator__name="Dr. Lead", role="lead")
    GroupMembershipFactory(group=group)
    GroupMembershipFactory(group=group, left_on=timezone.localdate())

    response = coordinator_client.get(url("program_detail", program))

    (shown,) = response.context["groups"]
    assert (shown.name, shown.member_count) == ("Tuesday group", 1)
    assert "Dr. Lead" in page_text(response)


def test_the_groups_table_lists_backups_without_stray_punctuation(coordinator_client, program):
    """A backup listed before the lead used to get a trailing comma ("Dr. Backup, ")."""
    group = GroupFactory(program=program, name="Tuesday group")
    FacilitatorAssignmentFactory(group=group, facilitator__name="Dr. Backup", role="backup")
    FacilitatorAssignmentFactory(group=group, facilitator__name="Dr. Second", role="backup")
    FacilitatorAssignmentFactory(group=group, facilitator__name="Dr. Lead", role="lead")

    response = coordinator_client.get(url("program_detail", program))

    html = page_text(response)
    row = html[html.index("Tuesday group") :].split("</tr>", 1)[0]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in row.split("<td>")[1:]]
    assert cells[1:] == ["Dr. Lead", "Dr. Backup, Dr. Second"]
