"""Who may open which page: every URL of the project against every kind of actor.

The rules (from the foundation issue):

* roster pages and program settings: the program's coordinator (and site staff);
* roster export: coordinator and report viewer (and staff);
* program overview: anyone holding a role in the program (and staff);
* groups list: anyone holding a role in the program; a group's page (its members): the
  coordinator, staff, and that group's own current facilitators and members;
* group assignment, rules, group settings and the facilitator pool: the coordinator (and staff);
* a signed-in person with no role in the program gets 404, a role without the permission 403;
* anonymous visitors are sent to /accounts/login/?next=<page>;
* sign-in, password reset, the invitation link and /healthz/ are public.

A new URL pattern makes ``test_every_url_pattern_has_an_expectation`` fail until this file
says who may open it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse

from sessions_app import services
from sessions_app.models import (
    AssignmentConstraint,
    AssignmentRun,
    Clinician,
    FacilitatorAssignment,
    GroupMembership,
    Invitation,
    ProgramRole,
)
from tests.factories import (
    AssignmentConstraintFactory,
    AssignmentRunFactory,
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    RosterImportFactory,
    UserFactory,
)

ACTORS = (
    "anonymous",
    "participant",
    "facilitator",
    "coordinator",
    "report_viewer",
    "staff",
    "other_coordinator",
)

# A redirect to the sign-in page, with the requested page as ``next``.
LOGIN = "redirect to /accounts/login/"
# The admin's own sign-in page: what a signed-in non-staff user gets from the admin.
ADMIN_LOGIN = "redirect to /admin/login/"

# The admin is checked as one entry for its index plus one model changelist.
ADMIN_ENTRIES = ("admin:index", "admin:sessions_app_clinician_changelist")


def _row(
    anonymous, participant, facilitator, coordinator, report_viewer, staff, other_coordinator
) -> dict[str, object]:
    return dict(
        zip(
            ACTORS,
            (
                anonymous,
                participant,
                facilitator,
                coordinator,
                report_viewer,
                staff,
                other_coordinator,
            ),
            strict=True,
        )
    )


PUBLIC = _row(200, 200, 200, 200, 200, 200, 200)
SIGNED_IN = _row(LOGIN, 200, 200, 200, 200, 200, 200)
PROGRAM_MEMBERS = _row(LOGIN, 200, 200, 200, 200, 200, 404)
COORDINATOR_ONLY = _row(LOGIN, 403, 403, 200, 403, 200, 404)
EXPORTERS = _row(LOGIN, 403, 403, 200, 200, 200, 404)
# GET on a view that only accepts POST: sign-in is required first (middleware), then 405.
POST_ONLY_GET = _row(LOGIN, 405, 405, 405, 405, 405, 405)
# The admin index has its own sign-in page, for anonymous visitors and non-staff users alike.
ADMIN = _row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, ADMIN_LOGIN)
# Model pages of the admin are not exempt from the site's sign-in requirement.
ADMIN_MODEL_PAGE = _row(LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, ADMIN_LOGIN)

# Expected status of a GET, per URL name and actor.
EXPECTATIONS: dict[str, dict[str, object]] = {
    "home": SIGNED_IN,
    "healthz": PUBLIC,
    # Signed-in users are sent on from the sign-in page (redirect_authenticated_user).
    "login": _row(200, 302, 302, 302, 302, 302, 302),
    "logout": POST_ONLY_GET,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "admin:index": ADMIN,
    "admin:sessions_app_clinician_changelist": ADMIN_MODEL_PAGE,
    "sessions_app:program_detail": PROGRAM_MEMBERS,
    "sessions_app:program_edit": COORDINATOR_ONLY,
    "sessions_app:roster_list": COORDINATOR_ONLY,
    "sessions_app:clinician_create": COORDINATOR_ONLY,
    "sessions_app:roster_export": EXPORTERS,
    "sessions_app:roster_import": COORDINATOR_ONLY,
    "sessions_app:roster_import_preview": COORDINATOR_ONLY,
    "sessions_app:clinician_detail": COORDINATOR_ONLY,
    "sessions_app:clinician_edit": COORDINATOR_ONLY,
    "sessions_app:clinician_deactivate": POST_ONLY_GET,
    "sessions_app:clinician_reactivate": POST_ONLY_GET,
    "sessions_app:clinician_invite": POST_ONLY_GET,
    "sessions_app:invitation_accept": PUBLIC,
    # Groups (issue 3). The world's participant and facilitator belong to the group checked
    # here; another group's page is 403 for them (test_group_page_of_another_group_is_403).
    "sessions_app:group_list": PROGRAM_MEMBERS,
    "sessions_app:group_detail": _row(LOGIN, 200, 200, 200, 403, 200, 404),
    "sessions_app:group_edit": COORDINATOR_ONLY,
    "sessions_app:group_facilitation_add": POST_ONLY_GET,
    "sessions_app:facilitation_end": POST_ONLY_GET,
    "sessions_app:assignment_start": COORDINATOR_ONLY,
    "sessions_app:assignment_run": COORDINATOR_ONLY,
    "sessions_app:assignment_move": POST_ONLY_GET,
    "sessions_app:assignment_commit": POST_ONLY_GET,
    "sessions_app:assignment_discard": POST_ONLY_GET,
    "sessions_app:constraint_list": COORDINATOR_ONLY,
    "sessions_app:constraint_delete": POST_ONLY_GET,
    "sessions_app:facilitator_list": COORDINATOR_ONLY,
    "sessions_app:facilitator_create": COORDINATOR_ONLY,
    "sessions_app:facilitator_edit": COORDINATOR_ONLY,
}

# Expected status of a POST to the POST-only endpoints: the change is made (redirect on) only
# for those who may manage the roster, the groups or the facilitators: coordinator and staff.
POST_MANAGERS = _row(LOGIN, 403, 403, 302, 403, 302, 404)
POST_EXPECTATIONS: dict[str, dict[str, object]] = {
    "sessions_app:clinician_deactivate": POST_MANAGERS,
    "sessions_app:clinician_reactivate": POST_MANAGERS,
    "sessions_app:clinician_invite": POST_MANAGERS,
    "sessions_app:group_facilitation_add": POST_MANAGERS,
    "sessions_app:facilitation_end": POST_MANAGERS,
    "sessions_app:assignment_move": POST_MANAGERS,
    "sessions_app:assignment_commit": POST_MANAGERS,
    "sessions_app:assignment_discard": POST_MANAGERS,
    "sessions_app:constraint_delete": POST_MANAGERS,
}


def project_url_names() -> tuple[set[str], list[str]]:
    """Every named URL pattern of the project (the admin as ADMIN_ENTRIES), and unnamed ones."""
    names: set[str] = set()
    unnamed: list[str] = []

    def walk(patterns, namespace: str, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    names.update(ADMIN_ENTRIES)
                    continue
                inner = entry.namespace or ""
                full = f"{namespace}:{inner}" if namespace and inner else namespace or inner
                walk(entry.url_patterns, full, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                if not entry.name:
                    unnamed.append(prefix + str(entry.pattern))
                    continue
                names.add(f"{namespace}:{entry.name}" if namespace else entry.name)

    walk(get_resolver().url_patterns, "", "")
    return names, unnamed


@dataclass
class World:
    program: object
    other_program: object
    clinician: Clinician
    draft: object
    invitation_token: str
    users: dict[str, object]
    group: object
    other_group: object
    facilitation: object
    spare_facilitator: object
    mover: Clinician
    run: object
    move_run: object
    rule: object


def run_result(groups: list[tuple[object, list[int]]], current: dict[str, str]) -> dict:
    return {
        "groups": [
            {"key": f"g{group.pk}", "name": group.name, "members": members}
            for group, members in groups
        ],
        "score": 0,
        "best_bound": 0,
        "optimal": True,
        "unmet": [],
        "current": current,
    }


@pytest.fixture
def world(db) -> World:
    program = ProgramFactory(slug="alpha")
    other_program = ProgramFactory(slug="beta")
    group = GroupFactory(program=program, name="Group 1")
    other_group = GroupFactory(program=program, name="Group 2")

    participant = UserFactory(username="participant")
    membership = GroupMembershipFactory(
        group=group, clinician=ClinicianFactory(program=program, user=participant)
    )
    facilitator = UserFactory(username="facilitator")
    facilitation = FacilitatorAssignmentFactory(
        group=group, facilitator=FacilitatorFactory(program=program, user=facilitator)
    )
    coordinator = ProgramRoleFactory(
        program=program, role=ProgramRole.Role.COORDINATOR, user__username="coordinator"
    ).user
    report_viewer = ProgramRoleFactory(
        program=program, role=ProgramRole.Role.REPORT_VIEWER, user__username="report_viewer"
    ).user
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    other_coordinator = ProgramRoleFactory(
        program=other_program,
        role=ProgramRole.Role.COORDINATOR,
        user__username="other_coordinator",
    ).user

    clinician = ClinicianFactory(program=program)
    invitee = ClinicianFactory(program=program)
    invitation = services.clinician_invite(clinician=invitee, actor=coordinator)
    draft = RosterImportFactory(program=program, uploaded_by=coordinator)

    # The one active participant without a group, and two previews placing them: one that can
    # be committed as it is (groups of 1 to 12), one with an empty second group to move into.
    mover = ClinicianFactory(program=program, status=Clinician.Status.ACTIVE)
    current = {str(membership.clinician_id): f"g{group.pk}"}
    params = {"groups": 1, "target_size": None, "min_size": 1, "max_size": 12, "seed": 0}
    run = AssignmentRunFactory(
        program=program, params=params, result=run_result([(group, [mover.pk])], current)
    )
    move_run = AssignmentRunFactory(
        program=program,
        params={**params, "groups": 2},
        result=run_result([(group, [mover.pk]), (other_group, [])], current),
    )
    return World(
        program=program,
        other_program=other_program,
        clinician=clinician,
        draft=draft,
        invitation_token=services.invitation_token(invitation),
        users={
            "anonymous": None,
            "participant": participant,
            "facilitator": facilitator,
            "coordinator": coordinator,
            "report_viewer": report_viewer,
            "staff": staff,
            "other_coordinator": other_coordinator,
        },
        group=group,
        other_group=other_group,
        facilitation=facilitation,
        spare_facilitator=FacilitatorFactory(program=program),
        mover=mover,
        run=run,
        move_run=move_run,
        rule=AssignmentConstraintFactory(program=program),
    )


def url_for(name: str, world: World) -> str:
    slug = {"slug": world.program.slug}
    kwargs: dict[str, dict[str, object]] = {
        "password_reset_confirm": {"uidb64": "MQ", "token": "not-a-valid-token"},
        "sessions_app:program_detail": slug,
        "sessions_app:program_edit": slug,
        "sessions_app:roster_list": slug,
        "sessions_app:clinician_create": slug,
        "sessions_app:roster_export": slug,
        "sessions_app:roster_import": slug,
        "sessions_app:roster_import_preview": {**slug, "pk": world.draft.pk},
        "sessions_app:clinician_detail": {**slug, "pk": world.clinician.pk},
        "sessions_app:clinician_edit": {**slug, "pk": world.clinician.pk},
        "sessions_app:clinician_deactivate": {**slug, "pk": world.clinician.pk},
        "sessions_app:clinician_reactivate": {**slug, "pk": world.clinician.pk},
        "sessions_app:clinician_invite": {**slug, "pk": world.clinician.pk},
        "sessions_app:invitation_accept": {"token": world.invitation_token},
        "sessions_app:group_list": slug,
        "sessions_app:group_detail": {**slug, "pk": world.group.pk},
        "sessions_app:group_edit": {**slug, "pk": world.group.pk},
        "sessions_app:group_facilitation_add": {**slug, "pk": world.group.pk},
        "sessions_app:facilitation_end": {**slug, "pk": world.facilitation.pk},
        "sessions_app:assignment_start": slug,
        "sessions_app:assignment_run": {**slug, "pk": world.run.pk},
        "sessions_app:assignment_move": {**slug, "pk": world.move_run.pk},
        "sessions_app:assignment_commit": {**slug, "pk": world.run.pk},
        "sessions_app:assignment_discard": {**slug, "pk": world.move_run.pk},
        "sessions_app:constraint_list": slug,
        "sessions_app:constraint_delete": {**slug, "pk": world.rule.pk},
        "sessions_app:facilitator_list": slug,
        "sessions_app:facilitator_create": slug,
        "sessions_app:facilitator_edit": {**slug, "pk": world.spare_facilitator.pk},
    }
    return reverse(name, kwargs=kwargs.get(name, {}))


def check_status(response, path: str, expected: object, label: str) -> None:
    if expected == LOGIN:
        assert (response.status_code, response["Location"]) == (
            302,
            f"/accounts/login/?next={quote(path)}",
        ), label
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302, label
        assert response["Location"].startswith("/admin/login/?next="), label
    else:
        assert response.status_code == expected, label


def test_every_url_pattern_has_an_expectation():
    names, unnamed = project_url_names()
    assert unnamed == [], f"give these URL patterns a name: {unnamed}"
    missing = sorted(names - EXPECTATIONS.keys())
    assert missing == [], "; ".join(f"add an expectation for {name}" for name in missing)
    stale = sorted(EXPECTATIONS.keys() - names)
    assert stale == [], f"expectations for URLs that no longer exist: {stale}"


def _new_view(request):
    return HttpResponse()


# The project's URLs plus two new ones: the enumeration must notice both.
urlpatterns = [
    path("", include("ccdg.urls")),
    path("brand-new/", _new_view, name="brand_new"),
    path("programs/<slug:slug>/brand-new/", _new_view),
]


@pytest.mark.urls(__name__)
def test_the_enumeration_notices_a_new_url_pattern():
    names, unnamed = project_url_names()

    assert names - EXPECTATIONS.keys() == {"brand_new"}
    assert unnamed == ["programs/<slug:slug>/brand-new/"]


def test_every_expectation_covers_every_actor():
    incomplete = {
        name: sorted(set(ACTORS) - row.keys())
        for name, row in {**EXPECTATIONS, **POST_EXPECTATIONS}.items()
        if set(ACTORS) - row.keys()
    }
    assert incomplete == {}


def test_post_expectations_cover_exactly_the_post_only_urls():
    post_only = {name for name, row in EXPECTATIONS.items() if row is POST_ONLY_GET}
    assert post_only - {"logout"} == set(POST_EXPECTATIONS)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_get_status_matches_the_expectation(client, world, name, actor):
    user = world.users[actor]
    if user is not None:
        client.force_login(user)
    path = url_for(name, world)

    response = client.get(path)

    check_status(response, path, EXPECTATIONS[name][actor], f"GET {path} as {actor}")


@dataclass(frozen=True)
class PostCase:
    """What a POST-only endpoint is sent, the state it may change, where it then leads."""

    data: Callable[[World], dict]
    state: Callable[[World], object]
    location: Callable[[World], str]
    changes: bool = True  # whether a permitted POST changes ``state`` in the world


def _clinician_state(world: World) -> object:
    world.clinician.refresh_from_db()
    return (world.clinician.status, Invitation.objects.filter(clinician=world.clinician).count())


def _page(name: str, **kwargs) -> Callable[[World], str]:
    return lambda world: reverse(
        f"sessions_app:{name}",
        kwargs={"slug": world.program.slug, **{k: f(world) for k, f in kwargs.items()}},
    )


def _run_state(world: World) -> object:
    return sorted(AssignmentRun.objects.values_list("pk", "status", "result"), key=str)


def _facilitations(world: World) -> object:
    return sorted(
        FacilitatorAssignment.objects.values_list("facilitator_id", "role", "ends_on"), key=str
    )


def _memberships(world: World) -> object:
    return sorted(
        GroupMembership.objects.values_list("clinician_id", "group_id", "left_on"), key=str
    )


_CLINICIAN = PostCase(
    data=lambda world: {"reason": "left"},
    state=_clinician_state,
    location=lambda world: world.clinician.get_absolute_url(),
)
POST_CASES: dict[str, PostCase] = {
    "sessions_app:clinician_deactivate": _CLINICIAN,
    # Reactivating a clinician who is not inactive changes nothing, for anyone.
    "sessions_app:clinician_reactivate": PostCase(
        _CLINICIAN.data, _CLINICIAN.state, _CLINICIAN.location, changes=False
    ),
    "sessions_app:clinician_invite": _CLINICIAN,
    "sessions_app:group_facilitation_add": PostCase(
        data=lambda world: {"facilitator": world.spare_facilitator.pk, "role": "backup"},
        state=_facilitations,
        location=_page("group_detail", pk=lambda world: world.group.pk),
    ),
    "sessions_app:facilitation_end": PostCase(
        data=lambda world: {},
        state=_facilitations,
        location=_page("group_detail", pk=lambda world: world.group.pk),
    ),
    "sessions_app:assignment_move": PostCase(
        data=lambda world: {"clinician": world.mover.pk, "to": f"g{world.other_group.pk}"},
        state=_run_state,
        location=_page("assignment_run", pk=lambda world: world.move_run.pk),
    ),
    "sessions_app:assignment_commit": PostCase(
        data=lambda world: {},
        state=lambda world: (_run_state(world), _memberships(world)),
        location=_page("group_list"),
    ),
    "sessions_app:assignment_discard": PostCase(
        data=lambda world: {},
        state=_run_state,
        location=_page("assignment_start"),
    ),
    "sessions_app:constraint_delete": PostCase(
        data=lambda world: {},
        state=lambda world: list(AssignmentConstraint.objects.values_list("pk", flat=True)),
        location=_page("constraint_list"),
    ),
}


def test_every_post_expectation_has_a_case():
    assert set(POST_CASES) == set(POST_EXPECTATIONS)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", sorted(POST_EXPECTATIONS))
def test_post_only_endpoint_acts_only_for_managers(client, world, name, actor):
    case = POST_CASES[name]
    user = world.users[actor]
    if user is not None:
        client.force_login(user)
    path = url_for(name, world)
    before = case.state(world)

    response = client.post(path, case.data(world))

    expected = POST_EXPECTATIONS[name][actor]
    check_status(response, path, expected, f"POST {path} as {actor}")
    after = case.state(world)
    if expected == 302:
        assert response["Location"] == case.location(world)
        assert (after != before) == case.changes, f"POST {path} as {actor} did not act"
    else:
        assert after == before, f"a refused POST by {actor} changed something"


def test_group_page_of_another_group_is_403_for_participants_and_facilitators(client, world):
    path = reverse(
        "sessions_app:group_detail", kwargs={"slug": "alpha", "pk": world.other_group.pk}
    )
    statuses = {}
    for actor in ACTORS[1:]:
        client.force_login(world.users[actor])
        statuses[actor] = client.get(path).status_code

    assert statuses == {
        "participant": 403,
        "facilitator": 403,
        "coordinator": 200,
        "report_viewer": 403,
        "staff": 200,
        "other_coordinator": 404,
    }


def test_post_deactivate_by_coordinator_makes_the_clinician_inactive(client, world):
    client.force_login(world.users["coordinator"])

    client.post(url_for("sessions_app:clinician_deactivate", world))

    world.clinician.refresh_from_db()
    assert world.clinician.status == Clinician.Status.INACTIVE


def test_post_invite_by_coordinator_creates_an_open_invitation(client, world):
    client.force_login(world.users["coordinator"])

    client.post(url_for("sessions_app:clinician_invite", world))

    assert Invitation.objects.filter(clinician=world.clinician, used_at=None).count() == 1


def test_someone_without_a_role_gets_404_for_an_unknown_program_too(client, world):
    client.force_login(world.users["other_coordinator"])

    existing = client.get(reverse("sessions_app:roster_list", kwargs={"slug": "alpha"}))
    unknown = client.get(reverse("sessions_app:roster_list", kwargs={"slug": "no-such-program"}))

    assert (existing.status_code, unknown.status_code) == (404, 404)
