"""Rules one row per URL cannot say: other groups, other people's feeds, wrong tokens, unknown
programs, people who left; and that the matrix itself notices a refusal that changes
something."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import include, path, reverse
from django.utils import timezone

from sessions_app.models import (
    CalendarToken,
    Clinician,
    FacilitatorAbsence,
    Invitation,
    Presentation,
    Room,
    Rsvp,
    Session,
)
from tests.factories import GroupMembershipFactory, PresentationFactory, SessionFactory

from .expectations import EXPECTATIONS
from .harness import Checks
from .urls import project_urls
from .world import ACTORS


def test_calendar_feed_with_a_wrong_or_revoked_token_is_404(world, db):
    token = world.alpha.feed_token
    # one character changed (a random token may itself start with "x")
    wrong_token = ("y" if token.startswith("x") else "x") + token[1:]
    wrong = reverse("sessions_app:calendar_feed", kwargs={"token": wrong_token})
    valid = reverse("sessions_app:calendar_feed", kwargs={"token": token})
    statuses = {actor: world.client(actor).get(wrong).status_code for actor in ACTORS}
    CalendarToken.objects.update(revoked_at=timezone.now())

    assert statuses == dict.fromkeys(ACTORS, 404)
    assert world.client("anonymous").get(valid).status_code == 404


def test_nobody_revokes_someone_elses_calendar_feed(world, db):
    participants_feed = CalendarToken.objects.get(
        user=world.users["participant"], program=None, revoked_at=None
    )
    for actor in ACTORS[2:]:
        world.client(actor).post(
            reverse("sessions_app:calendar_feed_revoke"), {"token": participants_feed.pk}
        )

    participants_feed.refresh_from_db()
    assert participants_feed.revoked_at is None


def test_group_page_of_another_group_is_403_for_participants_and_facilitators(world, db):
    path_ = reverse(
        "sessions_app:group_detail", kwargs={"slug": "alpha", "pk": world.alpha.other_group.pk}
    )
    statuses = {actor: world.client(actor).get(path_).status_code for actor in ACTORS[1:]}

    assert statuses == {
        "participant": 403,
        "facilitator": 403,
        "coordinator": 200,
        "report_viewer": 403,
        "staff": 200,
        "other_coordinator": 404,
    }


OTHER_GROUP_SESSION_PAGES = (
    "session_detail",
    "session_ics",
    "session_agenda",
    "session_live",
    "session_live_state",
    "session_take_home",
    "session_take_home_edit",
    "session_presenters",
    "attendance_record",
)


def test_sessions_of_another_group_are_403_for_participants_and_facilitators(world, db):
    session = SessionFactory(
        group=world.alpha.other_group, starts_at=timezone.now() - timedelta(hours=2)
    )
    statuses = {}
    for name in OTHER_GROUP_SESSION_PAGES:
        path_ = reverse(f"sessions_app:{name}", kwargs={"slug": "alpha", "pk": session.pk})
        for actor in ACTORS[1:]:
            statuses[(name, actor)] = world.client(actor).get(path_).status_code

    expected = {"coordinator": 200, "staff": 200, "other_coordinator": 404}
    assert statuses == {
        (name, actor): expected.get(actor, 403)
        for name in OTHER_GROUP_SESSION_PAGES
        for actor in ACTORS[1:]
    }


def _session_rows() -> object:
    return (
        sorted(Presentation.objects.values_list("pk", "status"), key=str),
        sorted(FacilitatorAbsence.objects.values_list("session_id", "facilitator_id")),
        Rsvp.objects.count(),
    )


def test_nobody_acts_on_a_session_of_another_group_they_are_not_in(world, db):
    session = SessionFactory(group=world.alpha.other_group)
    member = GroupMembershipFactory(group=world.alpha.other_group).clinician
    presentation = PresentationFactory(session=session, clinician=member)
    posts = {
        "presenter_invite": {"clinician": member.pk},
        "session_absence_add": {},
        "session_live_start": {},
        "presenter_volunteer": {},
        "rsvp_set": {"answer": Rsvp.Answer.GOING},
    }
    before = _session_rows()
    statuses = {}
    for actor in ("participant", "facilitator"):
        client = world.client(actor)
        for name, data in posts.items():
            path_ = reverse(f"sessions_app:{name}", kwargs={"slug": "alpha", "pk": session.pk})
            statuses[(name, actor)] = client.post(path_, data).status_code
        withdraw = reverse(
            "sessions_app:presentation_withdraw", kwargs={"slug": "alpha", "pk": presentation.pk}
        )
        statuses[("presentation_withdraw", actor)] = client.post(withdraw).status_code

    assert _session_rows() == before
    assert Session.objects.get(pk=session.pk).live_started_at is None
    # A member of another group may try to RSVP or volunteer: refused with a message (302).
    assert statuses == {
        (name, actor): 302
        if (actor, name) in {("participant", "presenter_volunteer"), ("participant", "rsvp_set")}
        else 403
        for actor in ("participant", "facilitator")
        for name in (*posts, "presentation_withdraw")
    }


def test_post_deactivate_by_coordinator_makes_the_clinician_inactive(world, db):
    clinician = world.alpha.clinician

    world.client("coordinator").post(
        reverse("sessions_app:clinician_deactivate", kwargs={"slug": "alpha", "pk": clinician.pk})
    )

    assert Clinician.objects.get(pk=clinician.pk).status == Clinician.Status.INACTIVE


def test_post_invite_by_coordinator_creates_an_open_invitation(world, db):
    clinician = world.alpha.clinician

    world.client("coordinator").post(
        reverse("sessions_app:clinician_invite", kwargs={"slug": "alpha", "pk": clinician.pk})
    )

    assert Invitation.objects.filter(clinician=clinician, used_at=None).count() == 1


def test_someone_without_a_role_gets_404_for_an_unknown_program_too(world, db):
    client = world.client("other_coordinator")

    existing = client.get(reverse("sessions_app:roster_list", kwargs={"slug": "alpha"}))
    unknown = client.get(reverse("sessions_app:roster_list", kwargs={"slug": "no-such-program"}))

    assert (existing.status_code, unknown.status_code) == (404, 404)


def _careless_view(request, pk):
    """Deletes the room, then refuses: what the matrix must catch."""
    Room.objects.filter(pk=pk).delete()
    raise PermissionDenied


urlpatterns = [
    path("", include("ccdg.urls")),
    path("careless/<int:pk>/", _careless_view, name="careless"),
]


@pytest.mark.urls(__name__)
def test_a_refusal_that_changes_something_is_reported(world, db):
    checks = Checks(world, {}, "matrix")
    room = world.alpha.room

    checks.expect("participant", "POST", f"/careless/{room.pk}/", 403)

    assert checks.failures == [
        f"POST /careless/{room.pk}/ as participant: answered 403 but changed "
        f"sessions_app_room (before [{room.pk}])"
    ]
    assert Room.objects.filter(pk=room.pk).exists()  # the check left the world as it was


def _leave(actor: str, world):
    """The participant leaves their group, or the facilitator stops facilitating it, today."""
    from sessions_app.models import FacilitatorAssignment, GroupMembership

    def leave() -> None:
        today = timezone.localdate()
        user = world.users[actor]
        GroupMembership.objects.filter(clinician__user=user).update(left_on=today)
        FacilitatorAssignment.objects.filter(facilitator__user=user).update(ends_on=today)

    return leave


def _program_urls() -> list[str]:
    names, _ = project_urls()
    # A pattern without an expectation fails test_every_url_pattern_has_an_expectation.
    return sorted(n for n, params in names.items() if "slug" in params and n in EXPECTATIONS)


@pytest.mark.parametrize("name", _program_urls())
def test_someone_who_left_the_program_gets_what_an_outsider_gets(
    name, world, db, authorization_counts
):
    expect = EXPECTATIONS[name]
    side = world.alpha
    path_ = reverse(name, kwargs=expect.kwargs(side))
    checks = Checks(world, authorization_counts, "matrix")
    for actor in ("participant", "facilitator"):
        user = world.users[actor]
        setups = (_leave(actor, world),) + ((lambda: expect.setup(side),) if expect.setup else ())
        for method, row_ in (("GET", expect.get), ("POST", expect.post)):
            checks.expect(
                actor, method, path_, row_["other_coordinator"], setups=setups,
                data=lambda user=user: expect.data(side, user), acts=expect.acts,
                via=expect.via(side) if expect.via else None,
            )  # fmt: skip
    checks.assert_none()
