"""Who may open which page: every URL of the project against every kind of actor.

The rules (from the foundation issue):

* roster pages and program settings: the program's coordinator (and site staff);
* roster export: coordinator and report viewer (and staff);
* program overview: anyone holding a role in the program (and staff);
* a signed-in person with no role in the program gets 404, a role without the permission 403;
* anonymous visitors are sent to /accounts/login/?next=<page>;
* sign-in, password reset, the invitation link and /healthz/ are public.

A new URL pattern makes ``test_every_url_pattern_has_an_expectation`` fail until this file
says who may open it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse

from sessions_app import services
from sessions_app.models import Clinician, Invitation, ProgramRole
from tests.factories import (
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
    return dict(zip(ACTORS, (anonymous, participant, facilitator, coordinator, report_viewer,
                             staff, other_coordinator), strict=True))


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
}

# Expected status of a POST to the POST-only endpoints: the change is made (redirect back)
# only for those who may manage the roster.
POST_MANAGERS = _row(LOGIN, 403, 403, 302, 403, 302, 404)
POST_EXPECTATIONS: dict[str, dict[str, object]] = {
    "sessions_app:clinician_deactivate": POST_MANAGERS,
    "sessions_app:clinician_reactivate": POST_MANAGERS,
    "sessions_app:clinician_invite": POST_MANAGERS,
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


@pytest.fixture
def world(db) -> World:
    program = ProgramFactory(slug="alpha")
    other_program = ProgramFactory(slug="beta")
    group = GroupFactory(program=program)

    participant = UserFactory(username="participant")
    GroupMembershipFactory(
        group=group, clinician=ClinicianFactory(program=program, user=participant)
    )
    facilitator = UserFactory(username="facilitator")
    FacilitatorAssignmentFactory(
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
        program=other_program, role=ProgramRole.Role.COORDINATOR,
        user__username="other_coordinator",
    ).user

    clinician = ClinicianFactory(program=program)
    invitee = ClinicianFactory(program=program)
    invitation = services.clinician_invite(clinician=invitee, actor=coordinator)
    draft = RosterImportFactory(program=program, uploaded_by=coordinator)
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


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", sorted(POST_EXPECTATIONS))
def test_post_only_endpoint_acts_only_for_roster_managers(client, world, name, actor):
    user = world.users[actor]
    if user is not None:
        client.force_login(user)
    path = url_for(name, world)
    before = (world.clinician.status, Invitation.objects.filter(clinician=world.clinician).count())

    response = client.post(path, {"reason": "left"})

    expected = POST_EXPECTATIONS[name][actor]
    check_status(response, path, expected, f"POST {path} as {actor}")
    world.clinician.refresh_from_db()
    after = (world.clinician.status, Invitation.objects.filter(clinician=world.clinician).count())
    if expected == 302:
        assert response["Location"] == world.clinician.get_absolute_url()
    else:
        assert after == before, f"a refused POST by {actor} changed the clinician"


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
