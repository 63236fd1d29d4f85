"""A coordinator assigns participants to groups through the real pages, in a real Chromium:
preview, a manual move (htmx swaps the figures), commit."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from sessions_app.groups import selectors as groups_selectors
from sessions_app.groups import services as groups_services
from sessions_app.models import (
    AssignmentRun,
    Clinician,
    Group,
    GroupMembership,
    Program,
    ProgramRole,
)
from tests.browser.conftest import program_page

PASSWORD = "correct horse battery staple"
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jia"]
LAST = ["Ruiz", "Okoro", "Martin"]
DISCIPLINES = ["physician"] * 7 + ["nurse_practitioner", "nurse_practitioner", "social_worker"]


@pytest.fixture
def program(transactional_db):
    program = Program.objects.create(
        name="Internal Medicine CCDG",
        slug="im-ccdg",
        department="Internal Medicine",
        institution="General Hospital",
        academic_year="2026-2027",
    )
    for i in range(30):
        Clinician.objects.create(
            program=program,
            first_name=FIRST[i % 10],
            last_name=LAST[i // 10],
            email=f"person{i}@example.org",
            discipline=DISCIPLINES[i % 10],
            gender=("female", "male")[i % 2],
            years_at_institution=(1, 7, 15)[i % 3],
            status=Clinician.Status.ACTIVE,
        )
    return program


@pytest.fixture
def coordinator(program):
    user = get_user_model().objects.create_user(
        username="coord", password=PASSWORD, first_name="Cora", last_name="Coordinator"
    )
    ProgramRole.objects.create(program=program, user=user, role=ProgramRole.Role.COORDINATOR)
    return user


def sign_in(page, screenshot):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill("coord")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Cora")).to_be_visible()


def card(page, name: str):
    """The card of the group called ``name`` (preview or groups list)."""
    return page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile(rf"^{re.escape(name)}\b"))
    )


def test_coordinator_previews_moves_and_commits_groups(page, screenshot, program, coordinator):
    sign_in(page, screenshot)
    page.get_by_role("main").get_by_role("link", name=program.name).click()
    program_page(page, "Plan", "Groups")
    expect(page.get_by_role("heading", level=1)).to_have_text("Groups")
    expect(page.get_by_text("No groups yet.")).to_be_visible()
    screenshot(page, "no-groups-yet")

    page.get_by_role("link", name="Assign participants to groups").click()
    expect(page.get_by_role("heading", name="Assign participants to groups")).to_be_visible()
    expect(page.get_by_text("30 active participants to place")).to_be_visible()
    page.get_by_label("Number of groups").fill("3")
    screenshot(page, "assignment-form")
    page.get_by_role("button", name="Compute a preview").click()

    run = AssignmentRun.objects.get()
    expect(page).to_have_url(re.compile(rf"/groups/assign/{run.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Assignment #{run.pk}")
    cards = page.locator("#assignment-groups section.card")
    expect(cards).to_have_count(3)
    names = [g["name"] for g in run.result["groups"]]
    assert names == ["Group 1", "Group 2", "Group 3"]
    for entry in run.result["groups"]:
        expect(card(page, entry["name"])).to_contain_text(f"{len(entry['members'])} people")
    score = page.locator("#assignment-score")
    expect(score).to_have_text(str(run.result["score"]))
    assert not GroupMembership.objects.exists(), "a preview must not change the groups"
    screenshot(page, "preview")

    # Move the first member of Group 1 to Group 3, without leaving the page.
    source, _, target = run.result["groups"]
    person = Clinician.objects.get(pk=source["members"][0])
    expect(card(page, "Group 3")).not_to_contain_text(person.full_name)
    score.evaluate("element => element.dataset.before = 'move'")
    preview_url = page.url
    page.locator("#id_clinician").select_option(str(person.pk))
    page.get_by_label("Move to").select_option(label="Group 3")
    screenshot(page, "move-form")
    page.get_by_role("button", name="Move", exact=True).click()

    expect(card(page, "Group 3")).to_contain_text(person.full_name)
    expect(card(page, "Group 1")).not_to_contain_text(person.full_name)
    expect(card(page, "Group 3")).to_contain_text(f"{len(target['members']) + 1} people")
    # The figures were swapped in: a new score element (the marked one is gone) showing the
    # score of the moved groups.
    expect(page.locator("#assignment-score[data-before]")).to_have_count(0)
    run.refresh_from_db()
    moved_score = groups_services.assignment_run_view(run=run).score
    expect(page.locator("#assignment-score")).to_have_text(str(moved_score))
    assert page.url == preview_url
    assert run.moves == [{"clinician": person.pk, "from": source["key"], "to": target["key"]}]
    screenshot(page, "after-move")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Commit these groups").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Groups")
    expect(page.get_by_role("status").filter(has_text="Groups committed")).to_have_text(
        re.compile(r"Groups committed: 30 joined, 0 moved, 3 new groups\.")
    )
    for entry in run.result["groups"]:
        expected = "1 member" if len(entry["members"]) == 1 else f"{len(entry['members'])} members"
        expect(card(page, entry["name"])).to_contain_text(expected)
    expect(card(page, "Group 3")).to_contain_text(person.full_name)
    expect(card(page, "Group 1")).not_to_contain_text(person.full_name)
    screenshot(page, "committed-groups")

    run.refresh_from_db()
    assert run.status == AssignmentRun.Status.COMMITTED
    current = {
        m.clinician_id: m.group.name
        for m in GroupMembership.objects.filter(left_on=None).select_related("group")
    }
    assert current == {
        pk: entry["name"] for entry in run.result["groups"] for pk in entry["members"]
    }
    assert current[person.pk] == "Group 3"
    assert sorted(Group.objects.values_list("name", flat=True)) == names
    errors = [m for m in page.console_messages if m.startswith("pageerror")]
    assert not errors, errors


def test_regrouping_after_held_sessions_lists_the_moves_and_needs_a_confirmation(
    page, screenshot, program, coordinator
):
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from sessions_app.models import AssignmentConstraint, Session

    first = groups_services.assignment_preview(
        program=program, actor=None, request=groups_services.AssignmentRequest(groups=3)
    )
    groups_services.assignment_commit(run=first, actor=None)
    group_1 = Group.objects.get(program=program, name="Group 1")
    pair = list(groups_selectors.group_members(group=group_1))[:2]
    AssignmentConstraint.objects.create(
        program=program, kind="apart", clinician=pair[0], other=pair[1]
    )
    Session.objects.create(
        group=group_1, starts_at=timezone.now() - timedelta(days=7), uid=uuid.uuid4()
    )
    sign_in(page, screenshot)

    page.goto(f"/programs/{program.slug}/groups/assign/")
    page.get_by_label("Add newcomers to the current groups").check()
    page.get_by_role("button", name="Compute a preview").click()

    changes = page.locator("#assignment-changes")
    expect(changes.get_by_role("heading")).to_have_text("1 person changes group")
    expect(page.locator("#assignment-forced")).to_contain_text("must be kept apart")
    rows = changes.locator("tbody")
    [mover] = [c for c in pair if c.full_name in rows.inner_text()]
    expect(changes.get_by_role("row", name=re.compile(mover.full_name))).to_contain_text("Group 1")
    screenshot(page, "regroup-preview")

    # Moving one more person by hand updates the list and the confirmation with it.
    other = next(c for c in groups_selectors.group_members(group=group_1) if c not in pair)
    page.locator("#id_clinician").select_option(str(other.pk))
    page.get_by_label("Move to").select_option(label="Group 3")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(changes.get_by_role("heading")).to_have_text("2 people change group")
    confirm = page.get_by_label(re.compile("I confirm that"))
    label = page.locator("label[for=confirm-moves]")
    expect(label).to_contain_text(mover.full_name)
    expect(label).to_contain_text(other.full_name)

    # The box must be ticked: the browser refuses to submit without it.
    page.get_by_role("button", name="Commit these groups").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Assignment #")
    assert not GroupMembership.objects.filter(left_on__isnull=False).exists()
    confirm.check()
    screenshot(page, "regroup-confirmed")
    page.get_by_role("button", name="Commit these groups").click()

    expect(page.get_by_role("status").filter(has_text="Groups committed")).to_have_text(
        re.compile(r"Groups committed: 0 joined, 2 moved\.")
    )
    assert GroupMembership.objects.get(clinician=other, left_on=None).group.name == "Group 3"
