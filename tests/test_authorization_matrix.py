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
* sign-in, password reset, the invitation link, /healthz/ and a private calendar feed address
  (its token is the secret) are public.

Sessions (issue 4): a session's page is seen by its group's members and facilitators, the
coordinator and staff; running it (agenda, live view, attendance, presenters) is for its
group's facilitators, the coordinator and staff; only group members RSVP and volunteer, and
only the group's lead facilitator (besides coordinator and staff) asks people to present.

Case notes (issue 5): the presenter writes, reads and deletes their note; the group's
facilitators read it (visibility "facilitators") after accepting the confidentiality agreement
(the world's facilitator has not yet: sent to the agreement page first); coordinators, report
viewers and staff get a 403 page with metadata only, never the text; coordinators (and staff)
see who accessed a note. Every refusal is audited (tests/sessions_app/test_views_casenotes.py).

A new URL pattern makes ``test_every_url_pattern_has_an_expectation`` fail until this file
says who may open it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from django.utils import timezone

from sessions_app import scheduling, services, services_agenda, services_schedule
from sessions_app.models import (
    AgendaTemplate,
    AssignmentConstraint,
    AssignmentRun,
    Attendance,
    BlackoutDate,
    CalendarToken,
    CaseNote,
    Clinician,
    ConfidentialityAgreement,
    FacilitatorAbsence,
    FacilitatorAssignment,
    GroupMembership,
    Invitation,
    Presentation,
    ProgramRole,
    Room,
    Rsvp,
    Session,
)
from tests.factories import (
    AgendaSegmentFactory,
    AgendaTemplateFactory,
    AssignmentConstraintFactory,
    AssignmentRunFactory,
    BlackoutDateFactory,
    CaseNoteFactory,
    ClinicianFactory,
    FacilitatorAbsenceFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    RoomFactory,
    RosterImportFactory,
    SessionFactory,
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
# A session of the world's group: its members and facilitators, the coordinator and staff see
# it; a report viewer (no group of their own) does not.
SESSION_VIEWERS = _row(LOGIN, 200, 200, 200, 403, 200, 404)
# Running a session (agenda, live view, attendance, presenters): the group's facilitators, the
# coordinator and staff.
SESSION_RUNNERS = _row(LOGIN, 403, 200, 200, 403, 200, 404)
# Presenter turns: coordinator and facilitators (their own groups); attendance figures and
# credit: the report viewer too.
PRESENTER_MANAGERS = _row(LOGIN, 403, 200, 200, 403, 200, 404)
FIGURES = _row(LOGIN, 403, 200, 200, 200, 200, 404)

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
    # Schedule (issue 4). The session checked is an upcoming one of the world's group.
    "sessions_app:session_list": PROGRAM_MEMBERS,
    "sessions_app:session_detail": SESSION_VIEWERS,
    "sessions_app:session_ics": SESSION_VIEWERS,
    "sessions_app:schedule_generate": COORDINATOR_ONLY,
    "sessions_app:session_coverage": COORDINATOR_ONLY,
    "sessions_app:session_reschedule": COORDINATOR_ONLY,
    "sessions_app:session_cancel": COORDINATOR_ONLY,
    "sessions_app:session_absence_add": POST_ONLY_GET,
    "sessions_app:session_absence_remove": POST_ONLY_GET,
    "sessions_app:room_list": COORDINATOR_ONLY,
    "sessions_app:room_edit": COORDINATOR_ONLY,
    "sessions_app:room_delete": POST_ONLY_GET,
    "sessions_app:blackout_list": COORDINATOR_ONLY,
    "sessions_app:blackout_delete": POST_ONLY_GET,
    "sessions_app:refreshment_list": COORDINATOR_ONLY,
    "sessions_app:refreshment_edit": COORDINATOR_ONLY,
    "sessions_app:calendar_feeds": SIGNED_IN,
    "sessions_app:calendar_feed_revoke": POST_ONLY_GET,
    # The feed address is the secret: it works for whoever holds it, signed in or not (a wrong
    # token is 404 for everyone: test_calendar_feed_with_a_wrong_token_is_404).
    "sessions_app:calendar_feed": PUBLIC,
    # Agendas and the live view (issue 4). agenda_edit is checked on the program's own
    # template, agenda_copy and agenda_apply on a built-in one.
    "sessions_app:agenda_list": COORDINATOR_ONLY,
    "sessions_app:agenda_create": COORDINATOR_ONLY,
    "sessions_app:agenda_edit": COORDINATOR_ONLY,
    "sessions_app:agenda_copy": POST_ONLY_GET,
    "sessions_app:agenda_apply": COORDINATOR_ONLY,
    "sessions_app:session_agenda": SESSION_RUNNERS,
    "sessions_app:session_live": SESSION_RUNNERS,
    "sessions_app:session_live_state": SESSION_RUNNERS,
    "sessions_app:session_live_start": POST_ONLY_GET,
    "sessions_app:session_live_pause": POST_ONLY_GET,
    "sessions_app:session_live_resume": POST_ONLY_GET,
    "sessions_app:session_live_next": POST_ONLY_GET,
    "sessions_app:session_live_extend": POST_ONLY_GET,
    "sessions_app:session_take_home": SESSION_VIEWERS,
    "sessions_app:session_take_home_edit": SESSION_RUNNERS,
    # Presenters and attendance (issue 4). attendance_record is checked on a session that has
    # started (its POST: test_form_post_acts_only_for_those_allowed).
    "sessions_app:my_sessions": PROGRAM_MEMBERS,
    "sessions_app:presenter_volunteer": POST_ONLY_GET,
    "sessions_app:rsvp_set": POST_ONLY_GET,
    "sessions_app:session_presenters": SESSION_RUNNERS,
    "sessions_app:presenter_invite": POST_ONLY_GET,
    "sessions_app:attendance_record": SESSION_RUNNERS,
    "sessions_app:presentation_withdraw": POST_ONLY_GET,
    "sessions_app:presentation_accept": POST_ONLY_GET,
    "sessions_app:presentation_decline": POST_ONLY_GET,
    "sessions_app:presenter_turns": PRESENTER_MANAGERS,
    "sessions_app:attendance_figures": FIGURES,
    "sessions_app:credit_summary": FIGURES,
    "sessions_app:credit_export": FIGURES,
    # Case notes (issue 5), checked on the world's note (visibility "facilitators").
    "sessions_app:case_note_edit": _row(LOGIN, 200, 403, 403, 403, 403, 404),
    "sessions_app:case_note_detail": _row(LOGIN, 200, 302, 403, 403, 403, 404),
    "sessions_app:case_note_delete": POST_ONLY_GET,
    "sessions_app:case_note_list": PROGRAM_MEMBERS,
    "sessions_app:case_note_access": COORDINATOR_ONLY,
    "sessions_app:confidentiality_agreement": PROGRAM_MEMBERS,
    # Reminders (issue 6): the outbox is the coordinator's; the unsubscribe link is public (its
    # token is the secret; a wrong one is 404: tests/ccdg/test_outbox.py).
    "outbox:outbox": COORDINATOR_ONLY,
    "outbox:outbox_preview": COORDINATOR_ONLY,
    "outbox:outbox_resend": POST_ONLY_GET,
    "outbox:outbox_pause": POST_ONLY_GET,
    "outbox:outbox_resume": POST_ONLY_GET,
    "outbox:unsubscribe": PUBLIC,
    # Surveys (issue 7): coordinators and report viewers see waves and responses (names of
    # respondents only for coordinators, in confidential waves); coordinators manage. The
    # codebook is not sensitive. A survey link is public: the token is the key (unknown, used
    # and closed links all get the same 404 page: tests/surveys/test_answer.py).
    "surveys:wave_list": EXPORTERS,
    "surveys:wave_detail": EXPORTERS,
    "surveys:response_list": EXPORTERS,
    "surveys:response_detail": EXPORTERS,
    "surveys:wave_create": COORDINATOR_ONLY,
    "surveys:wave_recipients_count": COORDINATOR_ONLY,
    "surveys:paper_wave_create": COORDINATOR_ONLY,
    "surveys:paper_entry": COORDINATOR_ONLY,
    "surveys:response_import": COORDINATOR_ONLY,
    "surveys:response_import_preview": COORDINATOR_ONLY,
    "surveys:wave_close": POST_ONLY_GET,
    "surveys:wave_extend": POST_ONLY_GET,
    "surveys:wave_remind": POST_ONLY_GET,
    "surveys:wave_pilot": POST_ONLY_GET,
    "surveys:response_exclude": POST_ONLY_GET,
    "surveys:response_include": POST_ONLY_GET,
    "surveys:codebook": SIGNED_IN,
    "surveys:codebook_version": SIGNED_IN,
    "survey_answer:answer": PUBLIC,
    "survey_answer:thanks": PUBLIC,
    # Analysis (issue 8): coordinators and report viewers run analyses and read the results.
    "analysis:run_list": EXPORTERS,
    "analysis:run_detail": EXPORTERS,
    "analysis:run_progress": EXPORTERS,
    "analysis:run_json": EXPORTERS,
    "analysis:run_chart": EXPORTERS,
    "analysis:run_start": POST_ONLY_GET,
    "analysis:run_retry": POST_ONLY_GET,
    # Qualitative coding (issue 8): the figures for coordinators and report viewers; themes and
    # reviewers set by the coordinator; coding only by the two named reviewers (here the
    # coordinator and the report viewer; staff are never reviewers by their flag).
    "coding:overview": EXPORTERS,
    "coding:disagreements": EXPORTERS,
    "coding:themes": COORDINATOR_ONLY,
    "coding:theme_edit": COORDINATOR_ONLY,
    "coding:reviewers": COORDINATOR_ONLY,
    "coding:code": _row(LOGIN, 403, 403, 200, 200, 403, 404),
    "coding:theme_delete": POST_ONLY_GET,
    "coding:consensus": POST_ONLY_GET,
    # Reports and exports (issue 9): coordinators and report viewers (and staff). Jobs are
    # checked on a finished export of the program; download_now on a direct kind.
    "reports:index": EXPORTERS,
    "reports:download_now": EXPORTERS,
    "reports:job": EXPORTERS,
    "reports:job_progress": EXPORTERS,
    "reports:job_download": EXPORTERS,
    "reports:request": POST_ONLY_GET,
    "reports:job_retry": POST_ONLY_GET,
}
# Token links (issue 13): an e-mailed address trades its token for a signed cookie and sends
# whoever holds it on (303) to a page without the token; that page, opened without the cookie,
# is refused like an unknown link, for everyone. These replace the three e-mailed addresses'
# PUBLIC rows above (tests/surveys/test_answer.py, tests/sessions_app/test_views.py,
# tests/ccdg/test_outbox.py).
EXPECTATIONS.update(
    {
        "survey_answer:answer": _row(303, 303, 303, 303, 303, 303, 303),
        "sessions_app:invitation_accept": _row(303, 303, 303, 303, 303, 303, 303),
        "outbox:unsubscribe": _row(303, 303, 303, 303, 303, 303, 303),
        "survey_answer:page": _row(404, 404, 404, 404, 404, 404, 404),
        "sessions_app:invitation_account": _row(404, 404, 404, 404, 404, 404, 404),
        "outbox:unsubscribe_confirm": _row(404, 404, 404, 404, 404, 404, 404),
    }
)

# Expected status of a POST to the POST-only endpoints: the change is made (redirect on) only
# for those who may manage the roster, the groups or the facilitators: coordinator and staff.
POST_MANAGERS = _row(LOGIN, 403, 403, 302, 403, 302, 404)
# Running a session: the group's facilitators too.
POST_RUNNERS = _row(LOGIN, 403, 302, 302, 403, 302, 404)
# Answering for oneself as a member of the group: RSVP, volunteering, an invitation.
POST_MEMBER = _row(LOGIN, 302, 403, 403, 403, 403, 404)
# Asking someone to present: the group's lead facilitator, the coordinator and staff.
POST_INVITERS = _row(LOGIN, 403, 302, 302, 403, 302, 404)
# Withdrawing a presenter: the presenter themself, or whoever may invite.
POST_WITHDRAW = _row(LOGIN, 302, 302, 302, 403, 302, 404)
# One's own case note: its presenter only.
POST_PRESENTER = _row(LOGIN, 302, 403, 403, 403, 403, 404)
# One's own things (calendar feeds): everyone signed in.
POST_SIGNED_IN = _row(LOGIN, 302, 302, 302, 302, 302, 302)
# Starting or retrying an analysis run: coordinators and report viewers.
POST_ANALYSTS = _row(LOGIN, 403, 403, 302, 302, 302, 404)
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
    "sessions_app:session_absence_add": POST_RUNNERS,
    "sessions_app:session_absence_remove": POST_RUNNERS,
    "sessions_app:room_delete": POST_MANAGERS,
    "sessions_app:blackout_delete": POST_MANAGERS,
    "sessions_app:calendar_feed_revoke": POST_SIGNED_IN,
    "sessions_app:agenda_copy": POST_MANAGERS,
    "sessions_app:session_live_start": POST_RUNNERS,
    "sessions_app:session_live_pause": POST_RUNNERS,
    "sessions_app:session_live_resume": POST_RUNNERS,
    "sessions_app:session_live_next": POST_RUNNERS,
    "sessions_app:session_live_extend": POST_RUNNERS,
    "sessions_app:presenter_volunteer": POST_MEMBER,
    "sessions_app:rsvp_set": POST_MEMBER,
    "sessions_app:presenter_invite": POST_INVITERS,
    "sessions_app:presentation_withdraw": POST_WITHDRAW,
    "sessions_app:presentation_accept": POST_MEMBER,
    "sessions_app:presentation_decline": POST_MEMBER,
    # Only the presenter deletes their case note.
    "sessions_app:case_note_delete": POST_PRESENTER,
    "outbox:outbox_resend": POST_MANAGERS,
    "outbox:outbox_pause": POST_MANAGERS,
    "outbox:outbox_resume": POST_MANAGERS,
    "surveys:wave_close": POST_MANAGERS,
    "surveys:wave_extend": POST_MANAGERS,
    "surveys:wave_remind": POST_MANAGERS,
    "surveys:wave_pilot": POST_MANAGERS,
    "surveys:response_exclude": POST_MANAGERS,
    "surveys:response_include": POST_MANAGERS,
    "analysis:run_start": POST_ANALYSTS,
    "analysis:run_retry": POST_ANALYSTS,
    "coding:theme_delete": POST_MANAGERS,
    # A consensus: the coordinator, staff, or either named reviewer.
    "coding:consensus": POST_ANALYSTS,
    "reports:request": POST_ANALYSTS,
    "reports:job_retry": POST_ANALYSTS,
}

# Expected status of a POST to pages that take GET and POST, where the POST is checked too.
FORM_POST_EXPECTATIONS: dict[str, dict[str, object]] = {
    # A new personal feed address, shown once on the page itself.
    "sessions_app:calendar_feeds": _row(LOGIN, 200, 200, 200, 200, 200, 200),
    "sessions_app:attendance_record": POST_RUNNERS,
    "sessions_app:case_note_edit": POST_PRESENTER,
    # Anyone with a role in the program may promise confidentiality.
    "sessions_app:confidentiality_agreement": _row(LOGIN, 302, 302, 302, 302, 302, 404),
    "coding:themes": POST_MANAGERS,
    "coding:theme_edit": POST_MANAGERS,
    "coding:reviewers": POST_MANAGERS,
    "coding:code": _row(LOGIN, 403, 403, 302, 302, 403, 404),
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
    # Issue 4: sessions of world.group, and what the schedule and agenda pages need.
    participant_clinician: Clinician
    lead: object  # the facilitator row of the "facilitator" actor (the group's lead)
    session: Session  # upcoming, scheduled with the built-in agenda, nobody presenting yet
    past_session: Session  # started two hours ago: attendance can be recorded
    presentation: Presentation  # the participant presents at another upcoming session
    invitation: Presentation  # the participant is asked to present at a third one
    room: Room
    blackout: BlackoutDate
    agenda: AgendaTemplate  # the program's own
    built_in_agenda: AgendaTemplate
    feed_token: str  # the participant's personal calendar feed
    case_note: CaseNote  # the participant's note on ``presentation``, shared with facilitators
    survey: dict | None = None  # issue 7's wave, link, response and upload (see _survey)


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
        **_session_world(program, group, membership.clinician, facilitation, participant),
    )


def _session_world(program, group, participant_clinician, facilitation, participant) -> dict:
    """The rows of issue 4: sessions of the world's group, rooms, agendas, a feed."""
    built_in = scheduling.agenda_for_program(program)
    soon = (timezone.now() + timedelta(days=14)).replace(
        hour=12, minute=30, second=0, microsecond=0
    )
    session = scheduling.session_create(
        group=group,
        starts_at=soon,
        duration_minutes=built_in.duration_minutes,
        room=None,
        agenda=built_in,
        actor=None,
    )
    agenda = AgendaTemplateFactory(program=program, name="Our agenda")
    AgendaSegmentFactory(template=agenda, start_minute=0, title="Welcome")
    presentation = PresentationFactory(
        session=SessionFactory(group=group, starts_at=soon + timedelta(days=7)),
        clinician=participant_clinician,
        status=Presentation.Status.CONFIRMED,
        slot=1,
    )
    return {
        "participant_clinician": participant_clinician,
        "lead": facilitation.facilitator,
        "session": session,
        "past_session": SessionFactory(group=group, starts_at=timezone.now() - timedelta(hours=2)),
        "presentation": presentation,
        "case_note": CaseNoteFactory(
            presentation=presentation, visibility=CaseNote.Visibility.FACILITATORS
        ),
        "invitation": PresentationFactory(
            session=SessionFactory(group=group, starts_at=soon + timedelta(days=14)),
            clinician=participant_clinician,
            status=Presentation.Status.INVITED,
            slot=None,
        ),
        "room": RoomFactory(program=program),
        "blackout": BlackoutDateFactory(program=program),
        "agenda": agenda,
        "built_in_agenda": built_in,
        "feed_token": services_schedule.calendar_token_create(user=participant),
    }


def _outbox_row(world: World):
    """A failed outbox message of the program (made on first use)."""
    from ccdg.models import OutboxMessage
    from tests.factories import OutboxMessageFactory

    row = OutboxMessage.objects.filter(program=world.program).first()
    return row or OutboxMessageFactory(program=world.program, status="failed")


def _survey(world: World) -> dict:
    """An open anonymous online wave of the program with the participant's link, one response
    and an uploaded CSV awaiting confirmation (made on first use, without outbox rows)."""
    if world.survey is not None:
        return world.survey
    import secrets

    from surveys import responses_csv
    from surveys import waves as survey_waves
    from surveys.models import Wave, WaveRecipient
    from surveys.services import builtin_instrument
    from tests.factories import ResponseFactory

    now = timezone.now()
    wave = Wave.objects.create(
        program=world.program, instrument=builtin_instrument(), name="Spring", slug="spring",
        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=14),
        audience=Wave.Audience.ALL_ACTIVE,
    )  # fmt: skip
    link = WaveRecipient(
        wave=wave,
        clinician=world.participant_clinician,
        email=world.participant_clinician.email,
        nonce=secrets.token_hex(16),
    )
    link.token_hash = survey_waves.token_hash(survey_waves.link_token(link))
    link.save()
    world.survey = {
        "wave": wave,
        "token": survey_waves.link_token(link),
        "response": ResponseFactory(
            wave=wave,
            source="online",
            answers={"skill_empathy": "4", "open_unique": "A place to think aloud."},
        ),  # fmt: skip
        "upload": responses_csv.responses_upload(
            wave=wave,
            actor=world.users["coordinator"],
            filename="forms.csv",
            content=b"gender,skill_empathy\nfemale,4\n",
        ),  # fmt: skip
    }
    return world.survey


def _survey_url(name: str, world: World) -> str:
    if name == "survey_answer:thanks":
        return reverse(name)
    if name in ("surveys:codebook", "surveys:codebook_version"):
        kwargs = {"instrument": "ccdg-participant"}
        return reverse(
            name, kwargs={**kwargs, "version": 1} if name.endswith("version") else kwargs
        )
    survey = _survey(world)
    if name == "survey_answer:answer":
        return reverse(name, kwargs={"token": survey["token"]})
    slug = {"slug": world.program.slug}
    if name in ("surveys:wave_list", "surveys:wave_create", "surveys:wave_recipients_count",
                "surveys:paper_wave_create"):  # fmt: skip
        return reverse(name, kwargs=slug)
    kwargs = {**slug, "wave": survey["wave"].slug}
    if name in ("surveys:response_detail", "surveys:response_exclude", "surveys:response_include"):
        kwargs["pk"] = survey["response"].pk
    if name == "surveys:response_import_preview":
        kwargs["pk"] = survey["upload"].pk
    return reverse(name, kwargs=kwargs)


def _analysis_run(world: World):
    """A finished analysis of the world's wave (computed on first use)."""
    from analysis.models import AnalysisRun
    from analysis.runs import run_create, run_execute

    wave = _survey(world)["wave"]
    done = AnalysisRun.objects.filter(wave=wave, status=AnalysisRun.Status.DONE).first()
    if done is None:
        done = run_execute(run_create(wave=wave, actor=world.users["coordinator"]).pk)
    return done


def _failed_run(world: World):
    from analysis.models import AnalysisRun

    wave = _survey(world)["wave"]
    failed = AnalysisRun.objects.filter(wave=wave, status=AnalysisRun.Status.FAILED).first()
    return failed or AnalysisRun.objects.create(
        wave=wave, status=AnalysisRun.Status.FAILED, error="compute: ValueError"
    )


def _analysis_url(name: str, world: World) -> str:
    kwargs = {"slug": world.program.slug, "wave": _survey(world)["wave"].slug}
    if name in ("analysis:run_list", "analysis:run_start"):
        return reverse(name, kwargs=kwargs)
    if name == "analysis:run_retry":
        return reverse(name, kwargs={**kwargs, "pk": _failed_run(world).pk})
    kwargs["pk"] = _analysis_run(world).pk
    if name == "analysis:run_chart":
        kwargs["name"] = "agreement"
    return reverse(name, kwargs=kwargs)


def _coding(world: World) -> dict:
    """The world's wave with a theme, the coordinator and the report viewer as its two
    reviewers, and its response's open answer as the item to code."""
    from analysis import coding
    from analysis.models_coding import Theme

    survey = _survey(world)
    theme = Theme.objects.filter(wave=survey["wave"]).first()
    if theme is None:
        theme = coding.theme_add(wave=survey["wave"], actor=None, name="Safe space")
        coding.reviewers_set(
            wave=survey["wave"], first=world.users["coordinator"],
            second=world.users["report_viewer"], actor=None,
        )  # fmt: skip
    return {"wave": survey["wave"], "theme": theme, "item": f"{survey['response'].pk}-open_unique"}


def _coding_url(name: str, world: World) -> str:
    c = _coding(world)
    kwargs = {"slug": world.program.slug, "wave": c["wave"].slug}
    if name in ("coding:theme_edit", "coding:theme_delete"):
        kwargs["pk"] = c["theme"].pk
    return reverse(name, kwargs=kwargs)


def _coding_state(world: World) -> object:
    from analysis.models_coding import CodingReviewer, Consensus, Theme

    _coding(world)
    return (
        sorted(Theme.objects.values_list("pk", "name")),
        sorted(CodingReviewer.objects.values_list("slot", "user_id")),
        sorted((c.pk, c.reviewer_id, c.updated_at) for c in _codings()),
        sorted(Consensus.objects.values_list("pk", "decided_by_id", "decided_at")),
    )


def _codings():
    from analysis.models_coding import Coding

    return list(Coding.objects.all())


def _both_reviewers_coded(world: World) -> None:
    from analysis import coding

    c = _coding(world)
    response = _survey(world)["response"]
    for actor, themes in (("coordinator", [c["theme"]]), ("report_viewer", [])):
        coding.coding_save(
            reviewer=world.users[actor], response=response, question_code="open_unique",
            themes=themes,
        )  # fmt: skip


def _coding_page(page: str) -> Callable[[World], str]:
    return lambda world: reverse(
        f"coding:{page}", kwargs={"slug": world.program.slug, "wave": _coding(world)["wave"].slug}
    )


def _coding_item(world: World, user: object) -> dict:
    return {"item": _coding(world)["item"], "no_theme": "on"}


def _export_job(world: World, status: str = "done"):
    """An export job of the program in ``status`` (made on first use)."""
    from analysis.models import ExportJob

    job = ExportJob.objects.filter(program=world.program, status=status).first()
    if job is None:
        ready = status == "done"
        job = ExportJob.objects.create(
            program=world.program, kind="attendance", params={"format": "xlsx"}, status=status,
            filename="attendance.csv" if ready else "", content_type="text/csv",
            content=b"session,present\n" if ready else None, size=16 if ready else 0,
            expires_at=timezone.now() + timedelta(hours=1) if ready else None,
            error="" if ready else "ValueError: the export could not be built.",
        )  # fmt: skip
    return job


def _reports_url(name: str, world: World) -> str:
    slug = {"slug": world.program.slug}
    if name == "reports:index":
        return reverse(name, kwargs=slug)
    if name == "reports:download_now":
        return reverse(name, kwargs={**slug, "key": "ce_hours"})
    if name == "reports:request":
        return reverse(name, kwargs={**slug, "key": "attendance"})
    status = "failed" if name == "reports:job_retry" else "done"
    return reverse(name, kwargs={**slug, "pk": _export_job(world, status).pk})


def _jobs_state(world: World) -> object:
    from analysis.models import ExportJob

    return sorted(ExportJob.objects.values_list("pk", "status", "attempts"))


def _newest_job_page(world: World) -> str:
    from analysis.models import ExportJob

    job = ExportJob.objects.latest("pk")
    return reverse("reports:job", kwargs={"slug": world.program.slug, "pk": job.pk})


def _runs_state(world: World) -> object:
    from analysis.models import AnalysisRun

    return sorted(AnalysisRun.objects.values_list("pk", "status", "attempts"))


def _newest_run_page(world: World) -> str:
    from analysis.models import AnalysisRun

    run = AnalysisRun.objects.latest("pk")
    return reverse(
        "analysis:run_detail",
        kwargs={"slug": world.program.slug, "wave": run.wave.slug, "pk": run.pk},
    )


def _wave_state(world: World) -> object:
    wave = _survey(world)["wave"]
    wave.refresh_from_db()
    return (wave.closed_at, wave.closes_at, wave.is_pilot)


def _response_state(world: World) -> object:
    response = _survey(world)["response"]
    response.refresh_from_db()
    return response.excluded_reason


def _reminders_queued(world: World) -> object:
    from ccdg.models import OutboxMessage

    return OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SURVEY_REMINDER).count()


def _exclude_response(world: World) -> None:
    from surveys.models import Response

    Response.objects.filter(pk=_survey(world)["response"].pk).update(excluded_reason="Damaged")


def _wave_page(world: World) -> str:
    return reverse(
        "surveys:wave_detail",
        kwargs={"slug": world.program.slug, "wave": _survey(world)["wave"].slug},
    )


def _response_page(world: World) -> str:
    survey = _survey(world)
    return reverse(
        "surveys:response_detail",
        kwargs={
            "slug": world.program.slug,
            "wave": survey["wave"].slug,
            "pk": survey["response"].pk,
        },
    )


def url_for(name: str, world: World) -> str:
    slug = {"slug": world.program.slug}
    if name in ("outbox:outbox_preview", "outbox:outbox_resend"):
        return reverse(name, kwargs={**slug, "pk": _outbox_row(world).pk})
    if name == "outbox:unsubscribe":
        from ccdg.outbox.rendering import unsubscribe_token

        token = unsubscribe_token(program_id=world.program.pk, email="someone@example.org")
        return reverse(name, kwargs={"token": token})
    if name.startswith("outbox:"):
        return reverse(name, kwargs=slug)
    if name.startswith(("surveys:", "survey_answer:")):
        return _survey_url(name, world)
    if name.startswith("analysis:"):
        return _analysis_url(name, world)
    if name.startswith("coding:"):
        return _coding_url(name, world)
    if name.startswith("reports:"):
        return _reports_url(name, world)
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
        "sessions_app:session_list": slug,
        "sessions_app:schedule_generate": slug,
        "sessions_app:session_coverage": slug,
        "sessions_app:room_list": slug,
        "sessions_app:blackout_list": slug,
        "sessions_app:refreshment_list": slug,
        "sessions_app:agenda_list": slug,
        "sessions_app:agenda_create": slug,
        "sessions_app:my_sessions": slug,
        "sessions_app:presenter_turns": slug,
        "sessions_app:attendance_figures": slug,
        "sessions_app:credit_summary": slug,
        "sessions_app:credit_export": slug,
        "sessions_app:room_edit": {**slug, "pk": world.room.pk},
        "sessions_app:room_delete": {**slug, "pk": world.room.pk},
        "sessions_app:blackout_delete": {**slug, "pk": world.blackout.pk},
        "sessions_app:refreshment_edit": {**slug, "day": "2027-02-09"},
        "sessions_app:calendar_feed": {"token": world.feed_token},
        "sessions_app:agenda_edit": {**slug, "pk": world.agenda.pk},
        "sessions_app:agenda_copy": {**slug, "pk": world.built_in_agenda.pk},
        "sessions_app:agenda_apply": {**slug, "pk": world.built_in_agenda.pk},
        "sessions_app:attendance_record": {**slug, "pk": world.past_session.pk},
        "sessions_app:presentation_withdraw": {**slug, "pk": world.presentation.pk},
        "sessions_app:presentation_accept": {**slug, "pk": world.invitation.pk},
        "sessions_app:presentation_decline": {**slug, "pk": world.invitation.pk},
        "sessions_app:case_note_edit": {**slug, "pk": world.presentation.pk},
        "sessions_app:case_note_detail": {**slug, "pk": world.case_note.pk},
        "sessions_app:case_note_delete": {**slug, "pk": world.case_note.pk},
        "sessions_app:case_note_list": slug,
        "sessions_app:case_note_access": {**slug, "pk": world.case_note.pk},
        "sessions_app:confidentiality_agreement": slug,
    }
    if name in SESSION_URLS:
        return reverse(name, kwargs={**slug, "pk": world.session.pk})
    return reverse(name, kwargs=kwargs.get(name, {}))


# URLs of one session, checked on world.session.
SESSION_URLS = {
    f"sessions_app:{name}"
    for name in (
        "session_detail",
        "session_ics",
        "session_reschedule",
        "session_cancel",
        "session_absence_add",
        "session_absence_remove",
        "session_agenda",
        "session_live",
        "session_live_state",
        "session_live_start",
        "session_live_pause",
        "session_live_resume",
        "session_live_next",
        "session_live_extend",
        "session_take_home",
        "session_take_home_edit",
        "presenter_volunteer",
        "rsvp_set",
        "session_presenters",
        "presenter_invite",
    )
}


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
    """What a POST endpoint is sent, the state it may change, where it then leads."""

    # The form data, from the world and the user posting (None: anonymous).
    data: Callable[[World, object], dict]
    state: Callable[[World], object]
    location: Callable[[World], str]
    changes: bool = True  # whether a permitted POST changes ``state`` in the world
    # Brings the world into the state the endpoint acts on (a running session, say).
    setup: Callable[[World], None] | None = None


def _no_data(world: World, user: object) -> dict:
    return {}


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


def _absences(world: World) -> object:
    return sorted(FacilitatorAbsence.objects.values_list("session_id", "facilitator_id"))


def _live(world: World) -> object:
    return Session.objects.values_list(
        "live_started_at",
        "live_paused_at",
        "live_paused_seconds",
        "live_segment",
        "live_extra_minutes",
    ).get(pk=world.session.pk)


def _presentations(world: World) -> object:
    return sorted(
        Presentation.objects.values_list("pk", "session_id", "clinician_id", "status", "slot"),
        key=str,
    )


def _case_notes(world: World) -> object:
    # Sealed values compare by ciphertext: a rewrite changes it (a fresh IV every time).
    return sorted(
        CaseNote.objects.values_list(
            "pk", "visibility", "destroyed_at", *CaseNote.ENCRYPTED_FIELDS
        ),
        key=str,
    )


def _feeds(world: World) -> object:
    return sorted(CalendarToken.objects.values_list("pk", "user_id", "revoked_at"), key=str)


def _start(world: World) -> None:
    services_agenda.session_live_start(session=world.session, actor=world.users["facilitator"])


def _start_and_pause(world: World) -> None:
    _start(world)
    services_agenda.session_live_pause(session=world.session, actor=world.users["facilitator"])


def _lead_absent(world: World) -> None:
    FacilitatorAbsenceFactory(session=world.session, facilitator=world.lead)


def _everyone_has_a_feed(world: World) -> None:
    for user in world.users.values():
        if user is not None and user != world.users["participant"]:
            services_schedule.calendar_token_create(user=user)


def _own_feed(world: World, user: object) -> dict:
    """The poster's own feed address (the participant's for an anonymous visitor)."""
    owner = user or world.users["participant"]
    return {"token": CalendarToken.objects.get(user=owner, revoked_at=None).pk}


def _paused(world: World) -> object:
    from ccdg.models import ReminderSettings

    return list(ReminderSettings.objects.values_list("program_id", "paused"))


def _pause_sending(world: World) -> None:
    from ccdg.outbox.services import outbox_pause

    outbox_pause(program=world.program, paused=True, actor=None)


def _outbox_page(world: World) -> str:
    return reverse("outbox:outbox", kwargs={"slug": world.program.slug})


_CLINICIAN = PostCase(
    data=lambda world, user: {"reason": "left"},
    state=_clinician_state,
    location=lambda world: world.clinician.get_absolute_url(),
)
# The coordinator and staff name the facilitator; a facilitator is always about themself.
_ABSENCE = PostCase(
    data=lambda world, user: {"facilitator": world.lead.pk, "reason": "conference"},
    state=_absences,
    location=_page("session_detail", pk=lambda world: world.session.pk),
)
_LIVE = PostCase(
    data=_no_data,
    state=_live,
    location=_page("session_live", pk=lambda world: world.session.pk),
    setup=_start,
)
_MY_SESSIONS = _page("my_sessions")
POST_CASES: dict[str, PostCase] = {
    "sessions_app:clinician_deactivate": _CLINICIAN,
    # Reactivating a clinician who is not inactive changes nothing, for anyone.
    "sessions_app:clinician_reactivate": PostCase(
        _CLINICIAN.data, _CLINICIAN.state, _CLINICIAN.location, changes=False
    ),
    "sessions_app:clinician_invite": _CLINICIAN,
    "sessions_app:group_facilitation_add": PostCase(
        data=lambda world, user: {"facilitator": world.spare_facilitator.pk, "role": "backup"},
        state=_facilitations,
        location=_page("group_detail", pk=lambda world: world.group.pk),
    ),
    "sessions_app:facilitation_end": PostCase(
        data=_no_data,
        state=_facilitations,
        location=_page("group_detail", pk=lambda world: world.group.pk),
    ),
    "sessions_app:assignment_move": PostCase(
        data=lambda world, user: {"clinician": world.mover.pk, "to": f"g{world.other_group.pk}"},
        state=_run_state,
        location=_page("assignment_run", pk=lambda world: world.move_run.pk),
    ),
    "sessions_app:assignment_commit": PostCase(
        data=_no_data,
        state=lambda world: (_run_state(world), _memberships(world)),
        location=_page("group_list"),
    ),
    "sessions_app:assignment_discard": PostCase(
        data=_no_data,
        state=_run_state,
        location=_page("assignment_start"),
    ),
    "sessions_app:constraint_delete": PostCase(
        data=_no_data,
        state=lambda world: list(AssignmentConstraint.objects.values_list("pk", flat=True)),
        location=_page("constraint_list"),
    ),
    # Schedule
    "sessions_app:session_absence_add": _ABSENCE,
    "sessions_app:session_absence_remove": PostCase(
        _ABSENCE.data, _ABSENCE.state, _ABSENCE.location, setup=_lead_absent
    ),
    "sessions_app:room_delete": PostCase(
        data=_no_data,
        state=lambda world: list(Room.objects.values_list("pk", flat=True)),
        location=_page("room_list"),
    ),
    "sessions_app:blackout_delete": PostCase(
        data=_no_data,
        state=lambda world: list(BlackoutDate.objects.values_list("pk", flat=True)),
        location=_page("blackout_list"),
    ),
    "sessions_app:calendar_feed_revoke": PostCase(
        data=_own_feed,
        state=_feeds,
        location=lambda world: reverse("sessions_app:calendar_feeds"),
        setup=_everyone_has_a_feed,
    ),
    # Agendas and the live view
    "sessions_app:agenda_copy": PostCase(
        data=_no_data,
        state=lambda world: sorted(AgendaTemplate.objects.values_list("pk", "name")),
        location=_page(
            "agenda_edit",
            pk=lambda world: AgendaTemplate.objects.filter(program=world.program).latest("pk").pk,
        ),
    ),
    "sessions_app:session_live_start": PostCase(_LIVE.data, _LIVE.state, _LIVE.location),
    "sessions_app:session_live_pause": _LIVE,
    "sessions_app:session_live_resume": PostCase(
        _LIVE.data, _LIVE.state, _LIVE.location, setup=_start_and_pause
    ),
    "sessions_app:session_live_next": _LIVE,
    "sessions_app:session_live_extend": _LIVE,
    # Presenters
    "sessions_app:presenter_volunteer": PostCase(
        data=lambda world, user: {"working_title": "A difficult conversation"},
        state=_presentations,
        location=_MY_SESSIONS,
    ),
    "sessions_app:rsvp_set": PostCase(
        data=lambda world, user: {"answer": Rsvp.Answer.GOING},
        state=lambda world: sorted(
            Rsvp.objects.values_list("session_id", "clinician_id", "answer")
        ),
        location=_MY_SESSIONS,
    ),
    "sessions_app:presenter_invite": PostCase(
        data=lambda world, user: {"clinician": world.participant_clinician.pk},
        state=_presentations,
        location=_page("session_presenters", pk=lambda world: world.session.pk),
    ),
    "sessions_app:presentation_withdraw": PostCase(
        data=_no_data, state=_presentations, location=_MY_SESSIONS
    ),
    "sessions_app:presentation_accept": PostCase(
        data=_no_data, state=_presentations, location=_MY_SESSIONS
    ),
    "sessions_app:presentation_decline": PostCase(
        data=_no_data, state=_presentations, location=_MY_SESSIONS
    ),
    "sessions_app:case_note_delete": PostCase(
        data=_no_data, state=_case_notes, location=_MY_SESSIONS
    ),
    # Reminders
    "outbox:outbox_resend": PostCase(
        data=_no_data,
        state=lambda world: _outbox_row(world).status,
        location=lambda world: (
            reverse("outbox:outbox", kwargs={"slug": world.program.slug}) + "?tab=failed"
        ),
    ),
    "outbox:outbox_pause": PostCase(data=_no_data, state=_paused, location=_outbox_page),
    "outbox:outbox_resume": PostCase(
        data=_no_data, state=_paused, location=_outbox_page, setup=_pause_sending
    ),
    # Surveys
    "surveys:wave_close": PostCase(data=_no_data, state=_wave_state, location=_wave_page),
    "surveys:wave_extend": PostCase(
        data=lambda world, user: {
            "closes_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "closes_time": "18:00",
        },
        state=_wave_state,
        location=_wave_page,
    ),
    "surveys:wave_remind": PostCase(data=_no_data, state=_reminders_queued, location=_wave_page),
    "surveys:wave_pilot": PostCase(
        data=lambda world, user: {"is_pilot": "1"}, state=_wave_state, location=_wave_page
    ),
    "surveys:response_exclude": PostCase(
        data=lambda world, user: {"reason": "Damaged form"},
        state=_response_state,
        location=_response_page,
    ),
    "surveys:response_include": PostCase(
        data=_no_data, state=_response_state, location=_response_page, setup=_exclude_response
    ),
    # Analysis
    "analysis:run_start": PostCase(
        data=_no_data, state=_runs_state, location=_newest_run_page, setup=_survey
    ),
    "analysis:run_retry": PostCase(
        data=_no_data, state=_runs_state, location=_newest_run_page, setup=_failed_run
    ),
    # Reports
    "reports:request": PostCase(data=_no_data, state=_jobs_state, location=_newest_job_page),
    "reports:job_retry": PostCase(
        data=_no_data,
        state=_jobs_state,
        location=_newest_job_page,  # the failed job itself, the only one
        setup=lambda world: _export_job(world, "failed"),
    ),
    # Qualitative coding
    "coding:theme_delete": PostCase(
        data=_no_data, state=_coding_state, location=_coding_page("themes"), setup=_coding
    ),
    "coding:consensus": PostCase(
        data=_coding_item,
        state=_coding_state,
        location=lambda world: (
            _coding_page("disagreements")(world) + f"#item-{_coding(world)['item']}"
        ),
        setup=_both_reviewers_coded,
    ),
}

FORM_POST_CASES: dict[str, PostCase] = {
    "sessions_app:calendar_feeds": PostCase(
        data=_no_data,  # no program: the person's own feed
        state=_feeds,
        location=lambda world: "",  # the new address is shown on the page, no redirect
    ),
    "sessions_app:attendance_record": PostCase(
        data=lambda world, user: {f"member_{world.participant_clinician.pk}": "present"},
        state=lambda world: sorted(
            Attendance.objects.values_list("session_id", "clinician_id", "status")
        ),
        location=_page("attendance_record", pk=lambda world: world.past_session.pk),
    ),
    "sessions_app:case_note_edit": PostCase(
        data=lambda world, user: {
            "patient_name": "Ana",
            "difficulty": "She reminds me of my mother.",
            "visibility": CaseNote.Visibility.GROUP,
        },
        state=_case_notes,
        location=_page("case_note_detail", pk=lambda world: world.case_note.pk),
    ),
    "sessions_app:confidentiality_agreement": PostCase(
        data=_no_data,
        state=lambda world: sorted(
            ConfidentialityAgreement.objects.values_list("program_id", "user_id")
        ),
        location=_page("case_note_list"),
    ),
    "coding:themes": PostCase(
        data=lambda world, user: {"name": "Belonging"},
        state=_coding_state,
        location=_coding_page("themes"),
        setup=_coding,
    ),
    "coding:theme_edit": PostCase(
        data=lambda world, user: {"name": "A safe space"},
        state=_coding_state,
        location=_coding_page("themes"),
        setup=_coding,
    ),
    "coding:reviewers": PostCase(
        data=lambda world, user: {
            "first": world.users["report_viewer"].pk,
            "second": world.users["coordinator"].pk,
        },
        state=_coding_state,
        location=_coding_page("overview"),
        setup=_coding,
    ),
    "coding:code": PostCase(
        data=_coding_item,
        state=_coding_state,
        location=_coding_page("code"),
        setup=_coding,
    ),
}


def test_every_post_expectation_has_a_case():
    assert set(POST_CASES) == set(POST_EXPECTATIONS)
    assert set(FORM_POST_CASES) == set(FORM_POST_EXPECTATIONS)


def _check_post(client, world: World, name: str, actor: str, case: PostCase, expected) -> None:
    user = world.users[actor]
    if case.setup is not None:
        case.setup(world)
    if user is not None:
        client.force_login(user)
    path = url_for(name, world)
    before = case.state(world)

    response = client.post(path, case.data(world, user))

    check_status(response, path, expected, f"POST {path} as {actor}")
    after = case.state(world)
    if expected == 302:
        assert response["Location"] == case.location(world)
    if expected in (200, 302):
        assert (after != before) == case.changes, f"POST {path} as {actor} did not act"
    else:
        assert after == before, f"a refused POST by {actor} changed something"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", sorted(POST_EXPECTATIONS))
def test_post_only_endpoint_acts_only_for_managers(client, world, name, actor):
    _check_post(client, world, name, actor, POST_CASES[name], POST_EXPECTATIONS[name][actor])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", sorted(FORM_POST_EXPECTATIONS))
def test_form_post_acts_only_for_those_allowed(client, world, name, actor):
    _check_post(
        client, world, name, actor, FORM_POST_CASES[name], FORM_POST_EXPECTATIONS[name][actor]
    )


def test_calendar_feed_with_a_wrong_or_revoked_token_is_404(client, world):
    wrong = reverse("sessions_app:calendar_feed", kwargs={"token": "x" + world.feed_token[1:]})
    valid = url_for("sessions_app:calendar_feed", world)
    statuses = {}
    for actor in ACTORS:
        client.logout()
        if world.users[actor] is not None:
            client.force_login(world.users[actor])
        statuses[actor] = client.get(wrong).status_code
    CalendarToken.objects.update(revoked_at=timezone.now())
    client.logout()

    assert statuses == dict.fromkeys(ACTORS, 404)
    assert client.get(valid).status_code == 404


def test_nobody_revokes_someone_elses_calendar_feed(client, world):
    participants_feed = CalendarToken.objects.get(user=world.users["participant"])
    for actor in ACTORS[2:]:
        client.force_login(world.users[actor])
        client.post(reverse("sessions_app:calendar_feed_revoke"), {"token": participants_feed.pk})

    participants_feed.refresh_from_db()
    assert participants_feed.revoked_at is None


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


def test_sessions_of_another_group_are_403_for_participants_and_facilitators(client, world):
    session = SessionFactory(group=world.other_group, starts_at=timezone.now() - timedelta(hours=2))
    statuses = {}
    for name in OTHER_GROUP_SESSION_PAGES:
        path = reverse(f"sessions_app:{name}", kwargs={"slug": "alpha", "pk": session.pk})
        for actor in ACTORS[1:]:
            client.force_login(world.users[actor])
            statuses[(name, actor)] = client.get(path).status_code

    expected = {"coordinator": 200, "staff": 200, "other_coordinator": 404}
    assert statuses == {
        (name, actor): expected.get(actor, 403)
        for name in OTHER_GROUP_SESSION_PAGES
        for actor in ACTORS[1:]
    }


def test_nobody_acts_on_a_session_of_another_group_they_are_not_in(client, world):
    session = SessionFactory(group=world.other_group)
    member = GroupMembershipFactory(group=world.other_group).clinician
    presentation = PresentationFactory(session=session, clinician=member)
    posts = {
        "presenter_invite": {"clinician": member.pk},
        "session_absence_add": {},
        "session_live_start": {},
        "presenter_volunteer": {},
        "rsvp_set": {"answer": Rsvp.Answer.GOING},
    }
    before = (_presentations(world), _absences(world), _live(world), Rsvp.objects.count())
    statuses = {}
    for actor in ("participant", "facilitator"):
        client.force_login(world.users[actor])
        for name, data in posts.items():
            path = reverse(f"sessions_app:{name}", kwargs={"slug": "alpha", "pk": session.pk})
            statuses[(name, actor)] = client.post(path, data).status_code
        withdraw = reverse(
            "sessions_app:presentation_withdraw", kwargs={"slug": "alpha", "pk": presentation.pk}
        )
        statuses[("presentation_withdraw", actor)] = client.post(withdraw).status_code

    session.refresh_from_db()
    assert (_presentations(world), _absences(world), _live(world), Rsvp.objects.count()) == before
    assert session.live_started_at is None
    # A member of another group may try to RSVP or volunteer: refused with a message (302).
    assert statuses == {
        (name, actor): 302
        if (actor, name)
        in {
            ("participant", "presenter_volunteer"),
            ("participant", "rsvp_set"),
        }
        else 403
        for actor in ("participant", "facilitator")
        for name in (*posts, "presentation_withdraw")
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
