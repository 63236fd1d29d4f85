"""The fetch-and-check helpers (``sessions_app.roles`` "Fetch and check", ``surveys.access``):
a row of another program is a 404 like one that does not exist, a role the decision refuses is
the 403 the page gives, and the right person gets the row with the joins the pages read.

Each refusal is checked twice: the helper on a real request, and the page on the same rows,
so that the helper and the page cannot drift apart."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse

from ccdg.models import AuditEvent
from sessions_app import roles
from sessions_app.models import AgendaTemplate, FacilitatorAssignment, ProgramRole
from surveys.access import wave_for_request
from tests.factories import (
    AgendaTemplateFactory,
    AssignmentRunFactory,
    CaseNoteFactory,
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    SessionFactory,
    UserFactory,
    WaveFactory,
)

pytestmark = pytest.mark.django_db


def request_as(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def page_status(user, name: str, *, post: bool = False, **kwargs) -> int:
    client = Client()
    client.force_login(user)
    url = reverse(name, kwargs=kwargs)
    return (client.post(url) if post else client.get(url)).status_code


def participant_of(group):
    """A user who is a current member of ``group`` (their roster entry linked to them)."""
    user = UserFactory()
    GroupMembershipFactory(
        group=group, clinician=ClinicianFactory(program=group.program, user=user)
    )
    return user


def facilitator_of(group, role=FacilitatorAssignment.Role.LEAD):
    user = UserFactory()
    FacilitatorAssignmentFactory(
        group=group, role=role, facilitator=FacilitatorFactory(program=group.program, user=user)
    )
    return user


@pytest.fixture
def here():
    """A program with one group, its session, the group's lead facilitator and a member."""
    group = GroupFactory()
    session = SessionFactory(group=group)
    return {
        "program": group.program,
        "group": group,
        "session": session,
        "facilitator": facilitator_of(group),
        "member": participant_of(group),
        "coordinator": ProgramRoleFactory(
            program=group.program, role=ProgramRole.Role.COORDINATOR
        ).user,
    }


@pytest.fixture
def elsewhere():
    """Another program, with a group and a session of its own."""
    group = GroupFactory()
    return {"program": group.program, "group": group, "session": SessionFactory(group=group)}


# --- Sessions -----------------------------------------------------------------------------------


def test_a_session_of_another_program_is_not_found_even_for_the_coordinator(here, elsewhere):
    request = request_as(here["coordinator"])

    with pytest.raises(Http404):
        roles.session_for_request(request, here["program"], elsewhere["session"].pk)
    with pytest.raises(Http404):
        roles.session_for_request(
            request, here["program"], elsewhere["session"].pk, may=roles.can_run_session
        )
    slug, pk = here["program"].slug, elsewhere["session"].pk
    assert page_status(here["coordinator"], "sessions_app:session_agenda", slug=slug, pk=pk) == 404


def test_a_session_that_does_not_exist_is_not_found(here):
    missing = here["session"].pk + 1000

    with pytest.raises(Http404):
        roles.session_for_request(request_as(here["coordinator"]), here["program"], missing)
    with pytest.raises(Http404):
        roles.session_checked(request_as(here["coordinator"]), None)


def test_a_member_who_may_not_run_the_session_is_refused_like_the_agenda_page(here):
    request = request_as(here["member"])

    with pytest.raises(PermissionDenied):
        roles.session_for_request(
            request, here["program"], here["session"].pk, may=roles.can_run_session
        )
    slug, pk = here["program"].slug, here["session"].pk
    assert page_status(here["member"], "sessions_app:session_agenda", slug=slug, pk=pk) == 403


def test_a_member_of_another_group_may_not_view_the_session_like_the_session_page(here):
    other_member = participant_of(GroupFactory(program=here["program"]))

    with pytest.raises(PermissionDenied):
        roles.session_for_request(
            request_as(other_member),
            here["program"],
            here["session"].pk,
            may=roles.session_may_view,
        )
    slug, pk = here["program"].slug, here["session"].pk
    assert page_status(other_member, "sessions_app:session_detail", slug=slug, pk=pk) == 403


def test_the_groups_facilitator_gets_the_session_with_group_program_and_room_loaded(
    here, django_assert_num_queries
):
    found = roles.session_for_request(
        request_as(here["facilitator"]),
        here["program"],
        here["session"].pk,
        may=roles.can_run_session,
    )

    assert found == here["session"]
    with django_assert_num_queries(0):
        assert (found.group.program, found.room) == (here["program"], None)


def test_the_member_reads_the_take_home_points_and_is_given_the_session(here):
    found = roles.session_for_request(
        request_as(here["member"]),
        here["program"],
        here["session"].pk,
        may=roles.session_may_view,
    )

    assert found == here["session"]


# --- Groups, assignment runs, clinicians --------------------------------------------------------


def test_a_group_of_another_program_is_not_found(here, elsewhere):
    with pytest.raises(Http404):
        roles.group_for_request(
            request_as(here["coordinator"]), here["program"], elsewhere["group"].pk
        )
    slug, pk = here["program"].slug, elsewhere["group"].pk
    assert page_status(here["coordinator"], "sessions_app:group_detail", slug=slug, pk=pk) == 404


def test_a_member_of_another_group_may_not_see_this_groups_members_like_the_group_page(here):
    other_member = participant_of(GroupFactory(program=here["program"]))

    with pytest.raises(PermissionDenied):
        roles.group_for_request(
            request_as(other_member),
            here["program"],
            here["group"].pk,
            may=roles.can_view_group_members,
        )
    slug, pk = here["program"].slug, here["group"].pk
    assert page_status(other_member, "sessions_app:group_detail", slug=slug, pk=pk) == 403


def test_the_groups_own_member_gets_the_group(here):
    found = roles.group_for_request(
        request_as(here["member"]),
        here["program"],
        here["group"].pk,
        may=roles.can_view_group_members,
    )

    assert found == here["group"]


def test_an_assignment_run_of_another_program_is_not_found(here, elsewhere):
    theirs = AssignmentRunFactory(program=elsewhere["program"])
    ours = AssignmentRunFactory(program=here["program"])
    request = request_as(here["coordinator"])

    with pytest.raises(Http404):
        roles.assignment_run_for_request(request, here["program"], theirs.pk)
    assert roles.assignment_run_for_request(request, here["program"], ours.pk) == ours
    slug = here["program"].slug
    assert (
        page_status(here["coordinator"], "sessions_app:assignment_run", slug=slug, pk=theirs.pk)
        == 404
    )


def test_a_clinician_of_another_program_is_not_found_and_ours_comes_with_the_account(
    here, elsewhere, django_assert_num_queries
):
    theirs = ClinicianFactory(program=elsewhere["program"])
    ours = ClinicianFactory(program=here["program"], user=UserFactory())
    request = request_as(here["coordinator"])

    with pytest.raises(Http404):
        roles.clinician_for_request(request, here["program"], theirs.pk)
    found = roles.clinician_for_request(request, here["program"], ours.pk)
    with django_assert_num_queries(0):
        assert found.user == ours.user
    slug = here["program"].slug
    assert (
        page_status(here["coordinator"], "sessions_app:clinician_detail", slug=slug, pk=theirs.pk)
        == 404
    )


# --- Presentations ------------------------------------------------------------------------------


def test_someone_elses_invitation_is_refused_like_the_accept_page(here):
    invited = PresentationFactory(session=here["session"])
    other_member = participant_of(here["group"])

    with pytest.raises(PermissionDenied):
        roles.presentation_for_request(
            request_as(other_member), here["program"], invited.pk, may=roles.is_own_presentation
        )
    slug = here["program"].slug
    status = page_status(
        other_member, "sessions_app:presentation_accept", post=True, slug=slug, pk=invited.pk
    )
    assert status == 403


def test_the_presenter_gets_their_own_presentation_and_the_lead_may_withdraw_it(here):
    presenter = UserFactory()
    presentation = PresentationFactory(
        session=here["session"],
        clinician=ClinicianFactory(program=here["program"], user=presenter),
    )

    assert (
        roles.presentation_for_request(
            request_as(presenter), here["program"], presentation.pk, may=roles.is_own_presentation
        )
        == presentation
    )
    assert (
        roles.presentation_for_request(
            request_as(here["facilitator"]),
            here["program"],
            presentation.pk,
            may=roles.can_withdraw_presentation,
        )
        == presentation
    )


def test_a_backup_facilitator_may_not_withdraw_someone_elses_presentation(here):
    presentation = PresentationFactory(session=here["session"])
    backup = facilitator_of(here["group"], role=FacilitatorAssignment.Role.BACKUP)

    with pytest.raises(PermissionDenied):
        roles.presentation_for_request(
            request_as(backup),
            here["program"],
            presentation.pk,
            may=roles.can_withdraw_presentation,
        )
    slug = here["program"].slug
    status = page_status(
        backup, "sessions_app:presentation_withdraw", post=True, slug=slug, pk=presentation.pk
    )
    assert status == 403


def test_a_presentation_of_another_program_is_not_found(here, elsewhere):
    theirs = PresentationFactory(session=elsewhere["session"])

    with pytest.raises(Http404):
        roles.presentation_for_request(request_as(here["coordinator"]), here["program"], theirs.pk)


# --- Agenda templates ---------------------------------------------------------------------------


def test_a_built_in_agenda_is_usable_but_not_editable_and_another_programs_is_neither(
    here, elsewhere
):
    built_in = AgendaTemplate.objects.filter(built_in=True).first()
    theirs = AgendaTemplateFactory(program=elsewhere["program"])
    ours = AgendaTemplateFactory(program=here["program"])
    request = request_as(here["coordinator"])

    assert roles.agenda_template_for_request(request, here["program"], built_in.pk) == built_in
    with pytest.raises(Http404):
        roles.agenda_template_for_request(request, here["program"], built_in.pk, editable=True)
    with pytest.raises(Http404):
        roles.agenda_template_for_request(request, here["program"], theirs.pk)
    assert (
        roles.agenda_template_for_request(request, here["program"], ours.pk, editable=True) == ours
    )
    slug = here["program"].slug
    assert (
        page_status(here["coordinator"], "sessions_app:agenda_edit", slug=slug, pk=built_in.pk)
        == 404
    )


# --- Case notes ---------------------------------------------------------------------------------


def test_a_case_note_of_another_program_is_not_found_and_the_refusal_is_recorded(here, elsewhere):
    note = CaseNoteFactory(presentation=PresentationFactory(session=elsewhere["session"]))
    refused = []

    with pytest.raises(Http404):
        roles.case_note_for_reader(
            request_as(here["coordinator"]),
            here["program"].slug,
            note.pk,
            refused=lambda request, n: refused.append(n),
        )
    with pytest.raises(Http404):
        roles.case_note_for_request(request_as(here["coordinator"]), here["program"], note.pk)

    assert refused == [note]
    slug = here["program"].slug
    before = AuditEvent.objects.filter(action="casenote.refused").count()
    assert (
        page_status(here["coordinator"], "sessions_app:case_note_detail", slug=slug, pk=note.pk)
        == 404
    )
    assert AuditEvent.objects.filter(action="casenote.refused").count() == before + 1


def test_a_case_note_that_does_not_exist_is_not_found_and_nothing_is_recorded(here):
    refused = []

    with pytest.raises(Http404):
        roles.case_note_for_reader(
            request_as(here["member"]),
            here["program"].slug,
            999_999,
            refused=lambda request, n: refused.append(n),
        )

    assert refused == []


def test_someone_with_no_role_in_the_notes_program_is_not_found_and_recorded(here):
    note = CaseNoteFactory(presentation=PresentationFactory(session=here["session"]))
    outsider = participant_of(GroupFactory(program=ProgramFactory()))
    refused = []

    with pytest.raises(Http404):
        roles.case_note_for_reader(
            request_as(outsider),
            here["program"].slug,
            note.pk,
            refused=lambda request, n: refused.append(n),
        )

    assert refused == [note]


def test_a_member_of_the_notes_program_gets_the_note_with_its_presentation_loaded(
    here, django_assert_num_queries
):
    note = CaseNoteFactory(presentation=PresentationFactory(session=here["session"]))

    found = roles.case_note_for_reader(
        request_as(here["member"]),
        here["program"].slug,
        note.pk,
        refused=lambda request, n: pytest.fail("refused"),
    )

    assert found == note
    with django_assert_num_queries(0):
        assert found.presentation.session.group.program == here["program"]


# --- Survey waves -------------------------------------------------------------------------------


def test_a_wave_of_another_program_is_not_found(here, elsewhere):
    theirs = WaveFactory(program=elsewhere["program"])

    with pytest.raises(Http404):
        wave_for_request(request_as(here["coordinator"]), here["program"], theirs.slug)
    slug = here["program"].slug
    for name in ("surveys:wave_detail", "analysis:run_list", "coding:overview"):
        assert page_status(here["coordinator"], name, slug=slug, wave=theirs.slug) == 404


def test_a_report_viewer_may_see_a_wave_but_not_close_it_like_the_close_page(here):
    wave = WaveFactory(program=here["program"])
    viewer = ProgramRoleFactory(program=here["program"], role=ProgramRole.Role.REPORT_VIEWER).user
    request = request_as(viewer)

    program = roles.program_for_request(request, here["program"].slug, "surveys.view")
    assert wave_for_request(request, program, wave.slug) == wave
    with pytest.raises(PermissionDenied):
        roles.program_for_request(request, here["program"].slug, "surveys.manage")
    slug = here["program"].slug
    assert page_status(viewer, "surveys:wave_close", post=True, slug=slug, wave=wave.slug) == 403


def test_the_coordinator_gets_the_wave_with_program_and_instrument_in_one_query(
    here, django_assert_num_queries
):
    wave = WaveFactory(program=here["program"])

    with django_assert_num_queries(1):
        found = wave_for_request(request_as(here["coordinator"]), here["program"], wave.slug)
        assert (found.program, found.instrument, found.audience_group) == (
            here["program"],
            wave.instrument,
            None,
        )
