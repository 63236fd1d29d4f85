"""The home page and a program's page: what they list and their query counts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
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


@pytest.mark.django_db
def test_the_navigation_bar_names_four_programs_and_links_to_all_of_them(client):
    user = UserFactory()
    programs = [
        ProgramFactory(name=f"Program {year}", academic_year=f"{year}-{year + 1}")
        for year in range(2020, 2027)
    ]
    for program in programs:
        ProgramRoleFactory(user=user, program=program)
    client.force_login(user)

    page = client.get(reverse("home")).content.decode()
    bar = page[page.index('id="nav-main"') : page.index("</nav>", page.index('id="nav-main"'))]

    assert [p.name in bar for p in programs] == [False] * 3 + [True] * 4  # newest first
    assert "All programs" in bar
    # The home lists them all, and lets one pick the program shown from a list.
    assert all(p.name in page for p in programs)
    assert 'id="program-shown"' in page


@pytest.mark.django_db
def test_the_navigation_costs_the_same_queries_for_one_program_or_twenty(client):
    few, many = UserFactory(), UserFactory()
    ProgramRoleFactory(user=few)
    for _ in range(20):
        ProgramRoleFactory(user=many)

    def queries(user) -> int:
        client.force_login(user)
        client.get(reverse("account_change_password"))
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("account_change_password"))
        return len(captured)

    assert queries(few) == queries(many)
