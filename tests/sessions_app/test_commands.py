"""Management commands: import_roster, seed_demo and assign_groups."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from sessions_app import roles
from sessions_app.models import (
    AssignmentRun,
    Clinician,
    Facilitator,
    FacilitatorAssignment,
    Group,
    GroupMembership,
    Program,
    ProgramRole,
)
from tests.factories import (
    AssignmentConstraintFactory,
    ClinicianFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    SessionFactory,
    csv_bytes,
)
from tests.sessions_app.helpers import ROSTER_HEADER

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- import_roster ---------------------------------------------------------------------------


def test_import_roster_imports_and_reports_counts(tmp_path):
    program = ProgramFactory(slug="gim")
    ClinicianFactory(
        program=program,
        email="ana@example.org",
        first_name="Ana",
        last_name="Lima",
        discipline="physician",
    )
    path = tmp_path / "roster.csv"
    path.write_bytes(
        csv_bytes(
            ROSTER_HEADER,
            "ana@example.org,Ana,Lima,physician",
            "ben@example.org,Ben,Okafor,NP",
            "cleo@example.org,Cleo,Diaz,md",
        )
    )

    out, err = run("import_roster", "gim", str(path))

    assert "2 added" in out
    assert "0 updated" in out
    assert "1 unchanged" in out
    assert err == ""
    assert Clinician.objects.filter(program=program).count() == 3


def test_import_roster_with_a_bad_row_fails_names_the_line_and_saves_nothing(tmp_path):
    ProgramFactory(slug="gim")
    path = tmp_path / "roster.csv"
    path.write_bytes(
        csv_bytes(
            ROSTER_HEADER,
            "ana@example.org,Ana,Lima,physician",
            "ben@example.org,Ben,Okafor,NP",
            "cleo@example.org,Cleo,Diaz,md",
            "dan@@example.org,Dan,Ruiz,md",
        )
    )
    err = StringIO()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_roster", "gim", str(path), stdout=StringIO(), stderr=err)

    assert "line 5" in err.getvalue()
    assert "dan@@example.org" in err.getvalue()
    assert Clinician.objects.count() == 0


def test_import_roster_with_a_non_utf8_file_fails_and_saves_nothing(tmp_path):
    ProgramFactory(slug="gim")
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(ROSTER_HEADER, "jose@example.org,José,Núñez,md", encoding="latin-1"))
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_roster", "gim", str(path), stdout=StringIO(), stderr=err)

    assert "line 2" in err.getvalue()
    assert Clinician.objects.count() == 0


def test_import_roster_dry_run_reports_and_saves_nothing(tmp_path):
    ProgramFactory(slug="gim")
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician"))

    out, _ = run("import_roster", "gim", str(path), "--dry-run")

    assert "Would import" in out
    assert "1 added" in out
    assert Clinician.objects.count() == 0


def test_import_roster_dry_run_of_a_bad_file_fails(tmp_path):
    ProgramFactory(slug="gim")
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes("email,first_name", "ana@example.org,Ana"))

    with pytest.raises(CommandError):
        call_command(
            "import_roster", "gim", str(path), "--dry-run", stdout=StringIO(), stderr=StringIO()
        )


def test_import_roster_unknown_program_slug_fails(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician"))

    with pytest.raises(CommandError, match="no-such-program"):
        call_command("import_roster", "no-such-program", str(path))

    assert Clinician.objects.count() == 0


def test_import_roster_missing_file_fails(tmp_path):
    ProgramFactory(slug="gim")

    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_roster", "gim", str(tmp_path / "missing.csv"))


def test_import_roster_twice_is_idempotent(tmp_path):
    program = ProgramFactory(slug="gim")
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician"))
    run("import_roster", "gim", str(path))

    out, _ = run("import_roster", "gim", str(path))

    assert "0 added" in out
    assert "1 unchanged" in out
    assert Clinician.objects.filter(program=program).count() == 1


# --- seed_demo -------------------------------------------------------------------------------


def test_seed_demo_refuses_without_debug_or_force(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())

    assert Program.objects.count() == 0


def test_seed_demo_runs_in_debug_mode(settings):
    settings.DEBUG = True

    run("seed_demo")

    assert Program.objects.count() == 1


def demo(*args: str) -> tuple[str, str]:
    """seed_demo as `make run` runs it: in debug mode (outside it: tests/sessions_app/
    test_seed_demo.py)."""
    with override_settings(DEBUG=True):
        return run("seed_demo", *args)


def demo_counts() -> dict[str, object]:
    program = Program.objects.get()
    return {
        "clinicians": Clinician.objects.filter(program=program).count(),
        "disciplines": Counter(Clinician.objects.values_list("discipline", flat=True)),
        "groups": Group.objects.filter(program=program).count(),
        "active_members": GroupMembership.objects.filter(left_on=None).count(),
        "facilitators": Counter(Facilitator.objects.values_list("background", flat=True)),
        "assignments": sorted(FacilitatorAssignment.objects.values_list("group__name", "role")),
        "roles": sorted(ProgramRole.objects.values_list("user__username", "role")),
    }


def test_seed_demo_creates_the_reference_program():
    demo()

    counts = demo_counts()
    assert counts["clinicians"] == 66
    assert counts["disciplines"] == {
        "physician": 57,
        "nurse_practitioner": 6,
        "social_worker": 1,
        "pharmacist": 1,
        "psychologist": 1,
    }
    assert counts["groups"] == 3
    assert counts["active_members"] == 30
    assert counts["facilitators"] == {
        "clinician_educator": 4,
        "psychologist": 1,
        "clinician_investigator": 1,
    }
    groups = sorted(Group.objects.values_list("name", flat=True))
    assert counts["assignments"] == [(g, r) for g in groups for r in ("backup", "lead")]
    assert counts["roles"] == [("coordinator", "coordinator"), ("reports", "report_viewer")]


def test_seed_demo_members_are_active_and_groups_are_balanced():
    demo()

    members = Clinician.objects.filter(memberships__isnull=False, memberships__left_on=None)
    sizes = sorted(Counter(GroupMembership.objects.values_list("group_id", flat=True)).values())
    assert set(members.values_list("status", flat=True)) == {Clinician.Status.ACTIVE}
    assert sizes == [10, 10, 10]


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("coordinator", roles.COORDINATOR),
        ("facilitator", roles.FACILITATOR),
        ("participant", roles.PARTICIPANT),
        ("reports", roles.REPORT_VIEWER),
    ],
)
def test_seed_demo_sign_ins_work_with_the_demo_password_and_hold_their_role(client, username, role):
    demo()

    response = client.post(reverse("account_login"), {"login": username, "password": "ccdg-demo"})

    assert response.status_code == 302
    user = response.wsgi_request.user
    assert user.username == username
    assert roles.roles_in(user, Program.objects.get()) == {role}


def test_seed_demo_admin_is_site_staff(client):
    demo()

    client.post(reverse("account_login"), {"login": "admin", "password": "ccdg-demo"})

    assert client.get(reverse("admin:index")).status_code == 200


def test_seed_demo_twice_changes_no_counts():
    demo()
    first = demo_counts()

    demo()

    assert demo_counts() == first


def test_seed_demo_if_empty_does_nothing_when_a_program_exists():
    ProgramFactory()

    out, _ = demo("--if-empty")

    assert Program.objects.count() == 1
    assert Clinician.objects.count() == 0
    assert "already has a program" in out


def test_seed_demo_if_empty_loads_an_empty_database():
    demo("--if-empty")

    assert Clinician.objects.count() == 66


def test_seed_demo_assigns_30_participants_to_3_balanced_covered_groups():
    demo()

    program = Program.objects.get()
    current = GroupMembership.objects.filter(group__program=program, left_on=None)
    members = list(current.values_list("clinician_id", flat=True))
    sizes = Counter(current.values_list("group__name", flat=True))
    active = set(
        Clinician.objects.filter(program=program, status=Clinician.Status.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    assert len(members) == len(set(members)) == 30
    assert set(members) == active
    assert sorted(sizes) == ["Group 1", "Group 2", "Group 3"]
    assert all(8 <= size <= 12 for size in sizes.values())
    roles_per_group = {
        name: sorted(
            FacilitatorAssignment.objects.filter(group__name=name, ends_on=None).values_list(
                "role", flat=True
            )
        )
        for name in sizes
    }
    assert roles_per_group == {name: ["backup", "lead"] for name in sizes}
    # Through the assignment service: one committed run, every non-physician spread out.
    (assignment,) = AssignmentRun.objects.filter(program=program)
    assert assignment.status == AssignmentRun.Status.COMMITTED
    nurse_practitioners = Counter(
        current.filter(clinician__discipline="nurse_practitioner").values_list(
            "group__name", flat=True
        )
    )
    assert sorted(nurse_practitioners.values()) == [2, 2, 2]


# --- assign_groups ---------------------------------------------------------------------------


def active_roster(program, n: int) -> list[Clinician]:
    disciplines = ["physician"] * 7 + ["nurse_practitioner"] * 2 + ["social_worker"]
    return [
        ClinicianFactory(
            program=program,
            status=Clinician.Status.ACTIVE,
            discipline=disciplines[i % len(disciplines)],
            gender=("female", "male")[i % 2],
            years_at_institution=i % 15,
        )
        for i in range(n)
    ]


def test_assign_groups_json_prints_the_groups_and_saves_no_membership():
    program = ProgramFactory(slug="gim")
    people = active_roster(program, 30)
    ClinicianFactory(program=program)  # eligible, not active: not placed

    out, err = run("assign_groups", "gim", "--groups", "3", "--json")

    data = json.loads(out)
    members = [pk for group in data["groups"] for pk in group["members"]]
    assert sorted(members) == sorted(c.pk for c in people)
    assert [g["name"] for g in data["groups"]] == ["Group 1", "Group 2", "Group 3"]
    assert data["committed"] is False
    for group in data["groups"]:
        assert 8 <= group["composition"]["size"] == len(group["members"]) <= 12
        assert sum(group["composition"]["disciplines"].values()) == len(group["members"])
        assert sum(group["composition"]["genders"].values()) == len(group["members"])
        assert sum(group["composition"]["experience"].values()) == len(group["members"])
    assert sorted(g["composition"]["disciplines"]["social_worker"] for g in data["groups"]) == [
        1,
        1,
        1,
    ]
    # Without --commit nothing at all is saved: no run, no group, no membership.
    assert data["run"] is None
    assert AssignmentRun.objects.count() == 0
    assert err == ""
    assert GroupMembership.objects.count() == 0
    assert Group.objects.count() == 0


def test_assign_groups_prints_a_readable_summary():
    program = ProgramFactory(slug="gim")
    active_roster(program, 9)

    out, _ = run("assign_groups", "gim", "--groups", "3", "--min", "2", "--max", "4")

    assert re.search(r"^Group 1 \([234] people\)$", out, re.M)
    assert "  Disciplines: " in out
    assert "Score " in out
    assert "Nothing was saved (add --commit" in out
    assert AssignmentRun.objects.count() == 0
    assert GroupMembership.objects.count() == 0


def test_assign_groups_is_deterministic_for_a_seed():
    program = ProgramFactory(slug="gim")
    active_roster(program, 12)
    args = (
        "assign_groups",
        "gim",
        "--groups",
        "3",
        "--min",
        "3",
        "--max",
        "5",
        "--seed",
        "4",
        "--json",
    )

    first, _ = run(*args)
    second, _ = run(*args)

    groups = [[g["members"] for g in json.loads(out)["groups"]] for out in (first, second)]
    assert groups[0] == groups[1]


def test_assign_groups_commit_changes_the_memberships():
    program = ProgramFactory(slug="gim")
    people = active_roster(program, 9)

    out, _ = run(
        "assign_groups", "gim", "--groups", "3", "--min", "2", "--max", "4", "--commit", "--json"
    )

    data = json.loads(out)
    assert data["committed"] is True
    assert set(
        GroupMembership.objects.filter(left_on=None).values_list("group__name", "clinician_id")
    ) == {(g["name"], pk) for g in data["groups"] for pk in g["members"]}
    assert GroupMembership.objects.count() == len(people)
    assert AssignmentRun.objects.get().status == AssignmentRun.Status.COMMITTED


def test_assign_groups_newcomers_keeps_existing_members():
    program = ProgramFactory(slug="gim")
    group = GroupFactory(program=program, min_size=2, max_size=6)
    people = active_roster(program, 4)
    kept = GroupMembershipFactory(group=group, clinician=people[0])

    run("assign_groups", "gim", "--newcomers", "--commit")

    assert set(
        GroupMembership.objects.filter(left_on=None).values_list("clinician_id", "group_id")
    ) == {(c.pk, group.pk) for c in people}
    assert GroupMembership.objects.get(clinician=people[0]).pk == kept.pk


def test_assign_groups_infeasible_explains_and_saves_nothing():
    program = ProgramFactory(slug="gim")
    active_roster(program, 7)
    err = StringIO()

    with pytest.raises(CommandError, match="nothing was saved"):
        call_command(
            "assign_groups", "gim", "--groups", "3", "--commit", stdout=StringIO(), stderr=err
        )

    assert "7 people cannot fill 3 groups of at least 8 (24 places needed)." in err.getvalue()
    assert AssignmentRun.objects.count() == 0
    assert GroupMembership.objects.count() == 0


def test_assign_groups_unknown_program_fails():
    with pytest.raises(CommandError, match="no-such-program"):
        call_command("assign_groups", "no-such-program", "--groups", "3")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Give --groups K or --target-size S"),
        (("--groups", "3", "--min", "9", "--max", "8"), "--min 9 is larger than --max 8"),
    ],
)
def test_assign_groups_needs_a_group_count_and_sane_bounds(args, message):
    program = ProgramFactory(slug="gim")
    active_roster(program, 9)

    with pytest.raises(CommandError, match=message):
        call_command("assign_groups", "gim", *args, stdout=StringIO())

    assert AssignmentRun.objects.count() == 0


def test_assign_groups_target_size_derives_the_group_count():
    program = ProgramFactory(slug="gim")
    active_roster(program, 30)

    out, _ = run("assign_groups", "gim", "--target-size", "10", "--json")

    assert [len(g["members"]) for g in json.loads(out)["groups"]] == [10, 10, 10]


def test_assign_groups_commit_needs_confirm_moves_once_sessions_were_held():
    program = ProgramFactory(slug="gim")
    group = GroupFactory(program=program, name="Group A", min_size=2, max_size=6)
    other = GroupFactory(program=program, name="Group B", min_size=2, max_size=6)
    people = active_roster(program, 6)
    for person in people[:3]:
        GroupMembershipFactory(group=group, clinician=person)
    for person in people[3:]:
        GroupMembershipFactory(group=other, clinician=person)
    AssignmentConstraintFactory(program=program, kind="apart", clinician=people[0], other=people[1])
    SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=1))
    before = list(GroupMembership.objects.values_list("id", "left_on"))

    with pytest.raises(CommandError) as refused:
        run("assign_groups", "gim", "--newcomers", "--commit")
    unchanged = list(GroupMembership.objects.values_list("id", "left_on"))
    out, _ = run("assign_groups", "gim", "--newcomers", "--commit", "--confirm-moves")

    assert "moving people needs your confirmation. 1 person changes group" in str(refused.value)
    assert unchanged == before
    assert "1 person changes group." in out
    assert "Had to move: " in out
    assert "Committed: 0 joined, 1 moved." in out
