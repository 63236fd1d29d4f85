"""The world the authorization matrix runs in: two programs, each holding objects of every kind.

``alpha`` is the program whose pages are checked; its people are the actors. ``beta`` is another
program built the same way (and with a row of every other program-scoped kind too): its ids are
tried under alpha's address, and its rows must never change through alpha's pages.

The world is built once for the package (see ``conftest.py``); every check runs inside a
savepoint that is rolled back, so each starts from the state built here. Objects are Python
instances from that moment: use their ids (and refetch rows before handing them to a service).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import timezone

from sessions_app.models import (
    AgendaTemplate,
    CaseNote,
    Clinician,
    Presentation,
    ProgramRole,
    Room,
    Session,
)
from sessions_app.roster import services
from sessions_app.schedule import services as schedule_services
from tests.factories import (
    AgendaSegmentFactory,
    AgendaTemplateFactory,
    AssignmentConstraintFactory,
    AssignmentRunFactory,
    AttendanceFactory,
    BlackoutDateFactory,
    CaseNoteFactory,
    ClinicianFactory,
    ConfidentialityAgreementFactory,
    FacilitatorAbsenceFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    OutboxMessageFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    RefreshmentOrderFactory,
    RoomFactory,
    RosterImportFactory,
    RsvpFactory,
    SessionFactory,
    TakeHomePointFactory,
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

# Models not held by any program: the questionnaires, the audit trail, the join rows of
# many-to-many fields are checked through their parents.
GLOBAL_MODELS = {
    "surveys.Instrument",
    "surveys.Section",
    "surveys.Question",
    "surveys.Choice",
    "ccdg.AuditEvent",
    # A queued password-reset request names an address, not a program (ccdg/accounts).
    "ccdg.PasswordResetRequest",
}
PROJECT_APPS = ("ccdg", "sessions_app", "surveys", "analysis")


@dataclass
class Side:
    """One program and one object of every kind a page of the program is about."""

    program: object
    people: dict[str, object]  # participant, facilitator, coordinator, report_viewer
    clinician: Clinician  # on the roster, in no group: the clinician pages
    invitation_token: str  # an open invitation of another clinician
    draft: object  # a roster import awaiting confirmation
    group: object  # the participant's group, led by the facilitator
    other_group: object
    facilitation: object  # the facilitator's lead assignment to ``group``
    lead: object  # the facilitator's row in the pool
    spare_facilitator: object  # in the pool, assigned to no group
    participant_clinician: Clinician
    mover: Clinician  # the one active participant without a group
    run: object  # an assignment preview placing ``mover``, committable as it is
    move_run: object  # a preview with an empty second group to move into
    rule: object  # a keep-apart rule
    session: Session  # upcoming, scheduled with the built-in agenda, nobody presenting yet
    past_session: Session  # started two hours ago: attendance can be recorded
    presentation: Presentation  # the participant presents at another upcoming session
    invitation: Presentation  # the participant is asked to present at a third one
    case_note: CaseNote  # the participant's note on ``presentation``, shared with facilitators
    room: Room
    blackout: object
    agenda: AgendaTemplate  # the program's own
    built_in_agenda: AgendaTemplate
    feed_token: str  # the participant's personal calendar feed
    outbox_row: object  # a failed message
    unsubscribe_token: str
    wave: object  # an open anonymous online wave
    paper_wave: object  # another wave of the program, of paper forms
    series: object  # a wave series: the online wave, then a paper follow-up (not paper_wave)
    survey_token: str  # the participant's link to it
    response: object
    upload: object  # a response CSV awaiting confirmation
    analysis_run: object  # finished
    failed_run: object
    theme: object  # coding: the coordinator and the report viewer are the two reviewers
    export_job: object  # finished, with its file
    failed_job: object
    report_role: object = None  # the report viewer's role in the program

    @property
    def slug(self) -> str:
        return self.program.slug

    @property
    def item(self) -> str:
        """The response's open answer as an item to code."""
        return f"{self.response.pk}-open_unique"


@dataclass
class World:
    alpha: Side
    beta: Side
    users: dict[str, object]  # actor -> user (None: anonymous)
    # Table -> primary keys of the rows that belong to beta (made while building it).
    beta_rows: dict[str, set] = field(default_factory=dict)
    _cookies: dict[str, str] = field(default_factory=dict)

    def client(self, actor: str) -> Client:
        """A fresh client signed in as ``actor`` (the session was made once, with the world)."""
        client = Client()
        if actor in self._cookies:
            client.cookies[settings.SESSION_COOKIE_NAME] = self._cookies[actor]
        return client


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


def build_side(program, people: dict[str, object]) -> Side:
    """The program's groups, roster, schedule, notes, survey, analysis and exports, with
    ``people`` holding its roles (participant, facilitator, coordinator, report_viewer)."""
    ProgramRoleFactory(
        program=program, user=people["coordinator"], role=ProgramRole.Role.COORDINATOR
    )
    report_role = ProgramRoleFactory(
        program=program, user=people["report_viewer"], role=ProgramRole.Role.REPORT_VIEWER
    )
    group = GroupFactory(program=program, name="Group 1")
    other_group = GroupFactory(program=program, name="Group 2")
    membership = GroupMembershipFactory(
        group=group, clinician=ClinicianFactory(program=program, user=people["participant"])
    )
    facilitation = FacilitatorAssignmentFactory(
        group=group, facilitator=FacilitatorFactory(program=program, user=people["facilitator"])
    )
    coordinator = people["coordinator"]
    clinician = ClinicianFactory(program=program)
    invitee = ClinicianFactory(program=program)
    invitation = services.clinician_invite(clinician=invitee, actor=coordinator)

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
    side = Side(
        report_role=report_role,
        program=program,
        people=people,
        clinician=clinician,
        invitation_token=services.invitation_token(invitation),
        draft=RosterImportFactory(program=program, uploaded_by=coordinator),
        group=group,
        other_group=other_group,
        facilitation=facilitation,
        lead=facilitation.facilitator,
        spare_facilitator=FacilitatorFactory(program=program),
        participant_clinician=membership.clinician,
        mover=mover,
        run=run,
        move_run=move_run,
        rule=AssignmentConstraintFactory(program=program),
        **_schedule(program, group, membership.clinician, people["participant"]),
        **_outbox(program, membership.clinician),
        **_survey(program, membership.clinician, people),
    )
    return side


def _schedule(program, group, participant_clinician, participant) -> dict:
    """Sessions of the group, rooms, agendas, a presentation with its case note, a feed."""
    built_in = schedule_services.agenda_for_program(program)
    soon = (timezone.now() + timedelta(days=14)).replace(
        hour=12, minute=30, second=0, microsecond=0
    )
    session = schedule_services.session_create(
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
        "feed_token": schedule_services.calendar_token_create(user=participant),
    }


def _outbox(program, participant_clinician) -> dict:
    from ccdg.outbox.rendering import unsubscribe_token

    group = participant_clinician.memberships.get().group
    return {
        "outbox_row": OutboxMessageFactory(
            program=program,
            status="failed",
            object_id=group.sessions.filter(starts_at__gt=timezone.now()).earliest("starts_at").pk,
            recipient_id=participant_clinician.pk,
        ),
        "unsubscribe_token": unsubscribe_token(
            program_id=program.pk, email=f"someone@{program.slug}.example.org"
        ),
    }


def survey_link(wave, clinician):
    """``clinician``'s single-use link to ``wave``."""
    from surveys import waves as survey_waves
    from surveys.models import WaveRecipient

    link = WaveRecipient(
        wave=wave, clinician=clinician, email=clinician.email, nonce=secrets.token_hex(16)
    )
    link.token_hash = survey_waves.token_hash(survey_waves.link_token(link))
    link.save()
    return link


def _survey(program, participant_clinician, people) -> dict:
    """An open anonymous online wave with the participant's link, one response, an uploaded
    CSV awaiting confirmation, a finished and a failed analysis, a coding theme with its two
    reviewers, and a finished and a failed export job."""
    from analysis.coding import services as coding
    from analysis.models import AnalysisRun, ExportJob
    from analysis.runs.services import run_create, run_execute
    from surveys import responses_csv
    from surveys import waves as survey_waves
    from surveys.models import Wave
    from surveys.services import builtin_instrument
    from tests.factories import ResponseFactory, WaveFactory

    now = timezone.now()
    wave = Wave.objects.create(
        program=program, instrument=builtin_instrument(), name="Spring",
        slug=f"{program.slug}-spring", opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=14), audience=Wave.Audience.ALL_ACTIVE,
    )  # fmt: skip
    link = survey_link(wave, participant_clinician)
    response = ResponseFactory(
        wave=wave,
        source="online",
        answers={"skill_empathy": "4", "open_unique": "A place to think aloud."},
    )
    upload = responses_csv.responses_upload(
        wave=wave,
        actor=people["coordinator"],
        filename="forms.csv",
        content=b"gender,skill_empathy\nfemale,4\n",
    )
    done = run_execute(run_create(wave=wave, actor=people["coordinator"]).pk)
    failed = AnalysisRun.objects.create(
        wave=wave, status=AnalysisRun.Status.FAILED, error="compute: ValueError"
    )
    theme = coding.theme_add(wave=wave, actor=None, name="Safe space")
    coding.reviewers_set(
        wave=wave, first=people["coordinator"], second=people["report_viewer"], actor=None
    )

    def job(status: str) -> ExportJob:
        ready = status == "done"
        return ExportJob.objects.create(
            program=program, kind="attendance", params={"format": "xlsx"}, status=status,
            filename="attendance.csv" if ready else "", content_type="text/csv",
            content=b"session,present\n" if ready else None, size=16 if ready else 0,
            expires_at=now + timedelta(hours=1) if ready else None,
            error="" if ready else "ValueError: the export could not be built.",
        )  # fmt: skip

    from surveys import series as survey_series

    series = survey_series.series_create(
        program=program, actor=None, name=f"{program.slug} series", design="pre_post",
        instrument_slug=wave.instrument.slug,
    )  # fmt: skip
    survey_series.series_add_wave(series=series, wave=wave, actor=None)
    follow_up = WaveFactory(program=program, name="Follow-up", slug=f"{program.slug}-follow-up")
    survey_series.series_add_wave(series=series, wave=follow_up, actor=None)
    return {
        "wave": wave,
        "series": series,
        "paper_wave": WaveFactory(program=program, name="Paper", slug=f"{program.slug}-paper"),
        "survey_token": survey_waves.link_token(link),
        "response": response,
        "upload": upload,
        "analysis_run": done,
        "failed_run": failed,
        "theme": theme,
        "export_job": job("done"),
        "failed_job": job("failed"),
    }


def add_every_other_kind(side: Side) -> None:
    """The rows no page of the matrix is addressed by, so that the program holds every kind:
    survey drafts and answers, RSVPs, attendance, absences, take-home points, a refreshment
    order, a room booking, a program feed, an agreement, codes and a consensus, reminder
    settings, an opt-out, a personal-code recipe."""
    from analysis.coding import services as coding
    from ccdg.outbox import services as outbox_services
    from ccdg.outbox.services import unsubscribe_resolve
    from sessions_app.models import RoomBooking
    from tests.factories import ResponseFactory

    past = side.past_session
    from surveys import waves as survey_waves

    # A link with answers saved, and one used to answer.
    saving = survey_link(side.wave, side.clinician)
    survey_waves.draft_save(recipient=saving, answers={"skill_empathy": "3"}, page=0)
    survey_waves.response_submit(
        recipient=survey_link(side.wave, side.mover), answers={"skill_empathy": "5"}
    )
    RsvpFactory(session=side.session, clinician=side.participant_clinician)
    AttendanceFactory(session=past, clinician=side.participant_clinician)
    FacilitatorAbsenceFactory(session=side.invitation.session, facilitator=side.lead)
    TakeHomePointFactory(session=past)
    RefreshmentOrderFactory(program=side.program, date=side.session.starts_at.date())
    RoomBooking.objects.create(room=side.room, session=past, slot_start=past.starts_at)
    schedule_services.calendar_token_create(
        user=side.people["coordinator"], scope="program", program=side.program
    )
    ConfidentialityAgreementFactory(program=side.program, user=side.people["facilitator"])
    outbox_services.reminder_settings_get(program=side.program)
    outbox_services.optout_create(unsubscribe=unsubscribe_resolve(token=side.unsubscribe_token))
    # The program's personal-code recipe (surveys linked over time).
    from surveys import series as survey_series

    survey_series.recipe_set(
        program=side.program, actor=None, recipe=["first_name_letter2", "birth_day", "birth_month"]
    )
    # Both reviewers code a second response differently; the coordinator settles it.
    second = ResponseFactory(
        wave=side.wave, source="online", answers={"open_unique": "Time to breathe."}
    )
    for reviewer, themes in (("coordinator", [side.theme]), ("report_viewer", [])):
        coding.coding_save(
            reviewer=side.people[reviewer], response=second, question_code="open_unique",
            themes=themes,
        )  # fmt: skip
    coding.consensus_save(
        actor=side.people["coordinator"], response=second, question_code="open_unique",
        themes=[side.theme],
    )  # fmt: skip


def project_tables() -> dict[str, object]:
    """db_table -> model, for every model of the project's apps (join tables included)."""
    return {
        model._meta.db_table: model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in PROJECT_APPS or model._meta.label == "auth.User"
    }


def _pks() -> dict[str, set]:
    return {
        table: set(model._base_manager.values_list("pk", flat=True))
        for table, model in project_tables().items()
    }


def _admin_only_rows() -> None:
    """A row of each model only the admin shows, so that its pages have an object to open."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group as Permissions

    Permissions.objects.create(name="Editors")
    seen = {"username": "someone-else", "ip_address": "192.0.2.1", "user_agent": "Firefox",
            "http_accept": "text/html", "path_info": "/accounts/login/"}  # fmt: skip
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)


def build_world() -> World:
    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    users = {
        "anonymous": None,
        "participant": UserFactory(username="participant"),
        "facilitator": UserFactory(username="facilitator"),
        "coordinator": UserFactory(username="coordinator"),
        "report_viewer": UserFactory(username="report_viewer"),
        "staff": staff,
        "other_coordinator": UserFactory(username="other_coordinator"),
    }
    alpha = build_side(ProgramFactory(slug="alpha", name="Alpha"), users)
    before = _pks()
    beta = build_side(
        ProgramFactory(slug="beta", name="Beta"),
        {
            "participant": UserFactory(username="beta_participant"),
            "facilitator": UserFactory(username="beta_facilitator"),
            "coordinator": users["other_coordinator"],
            "report_viewer": UserFactory(username="beta_report_viewer"),
        },
    )
    add_every_other_kind(beta)
    after = _pks()
    beta_rows = {table: after[table] - before.get(table, set()) for table in after}
    # The other coordinator is beta's: their user row is beta's too.
    beta_rows["auth_user"].add(users["other_coordinator"].pk)
    world = World(alpha=alpha, beta=beta, users=users, beta_rows=beta_rows)
    _admin_only_rows()
    for actor, user in users.items():
        if user is not None:
            # Everyone has a personal calendar feed (the participant's is alpha's feed_token).
            if actor != "participant":
                schedule_services.calendar_token_create(user=user)
            client = Client()
            client.force_login(user)
            world._cookies[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world
