"""factory_boy factories: one for every model of the project.

Defaults make a valid, minimal row; each test sets what it cares about.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.models import (
    AgendaSegment,
    AgendaTemplate,
    AssignmentConstraint,
    AssignmentRun,
    Attendance,
    BlackoutDate,
    CalendarToken,
    CaseNote,
    Clinician,
    ConfidentialityAgreement,
    Discipline,
    Facilitator,
    FacilitatorAbsence,
    FacilitatorAssignment,
    Group,
    GroupMembership,
    Invitation,
    Presentation,
    Program,
    ProgramRole,
    RefreshmentOrder,
    Room,
    RoomBooking,
    RosterImport,
    Rsvp,
    Session,
    SessionSegment,
    TakeHomePoint,
)
from surveys.models import Choice, Instrument, Question, Response, Section, Wave

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    password = factory.django.Password(PASSWORD)


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")
    department = "General Internal Medicine"
    institution = "Riverside Hospital"
    academic_year = "2026-2027"


class ProgramRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgramRole

    program = factory.SubFactory(ProgramFactory)
    user = factory.SubFactory(UserFactory)
    role = ProgramRole.Role.COORDINATOR


class ClinicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinician

    program = factory.SubFactory(ProgramFactory)
    first_name = factory.Sequence(lambda n: f"Clin{n}")
    last_name = factory.Sequence(lambda n: f"Ician{n}")
    email = factory.Sequence(lambda n: f"clinician{n}@example.org")
    discipline = Discipline.PHYSICIAN


class FacilitatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facilitator

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Dr. Facilitator {n}")
    email = factory.Sequence(lambda n: f"facilitator{n}@example.org")
    background = Facilitator.Background.CLINICIAN_EDUCATOR


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class GroupMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupMembership

    group = factory.SubFactory(GroupFactory)
    clinician = factory.SubFactory(
        ClinicianFactory, program=factory.SelfAttribute("..group.program")
    )
    joined_on = date(2026, 9, 1)


class FacilitatorAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FacilitatorAssignment

    group = factory.SubFactory(GroupFactory)
    facilitator = factory.SubFactory(
        FacilitatorFactory, program=factory.SelfAttribute("..group.program")
    )
    role = FacilitatorAssignment.Role.LEAD
    starts_on = date(2026, 9, 1)


class InvitationFactory(factory.django.DjangoModelFactory):
    """A bare invitation row. Links that work come from ``services.clinician_invite``."""

    class Meta:
        model = Invitation

    clinician = factory.SubFactory(ClinicianFactory)
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"token-{n}".encode()).hexdigest())
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class RosterImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RosterImport

    program = factory.SubFactory(ProgramFactory)
    filename = "roster.csv"
    content = b"email,first_name,last_name,discipline\nana@example.org,Ana,Lima,physician\n"


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    actor = factory.SubFactory(UserFactory)
    action = "test.event"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Conference room {n}")
    location = "Building A, 2nd floor"
    capacity = 14


class AssignmentConstraintFactory(factory.django.DjangoModelFactory):
    """A keep-apart rule by default; pass kind="pin" with group=... for a pin."""

    class Meta:
        model = AssignmentConstraint

    program = factory.SubFactory(ProgramFactory)
    kind = AssignmentConstraint.Kind.APART
    clinician = factory.SubFactory(ClinicianFactory, program=factory.SelfAttribute("..program"))
    other = factory.SubFactory(ClinicianFactory, program=factory.SelfAttribute("..program"))
    group = None


class AssignmentRunFactory(factory.django.DjangoModelFactory):
    """A preview with no groups; tests that need real groups compute one with the service."""

    class Meta:
        model = AssignmentRun

    program = factory.SubFactory(ProgramFactory)
    params = factory.LazyFunction(
        lambda: {"groups": 0, "target_size": None, "min_size": 8, "max_size": 12, "seed": 0}
    )
    result = factory.LazyFunction(
        lambda: {
            "groups": [],
            "score": 0,
            "best_bound": 0,
            "optimal": True,
            "unmet": [],
            "current": {},
        }
    )


class BlackoutDateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BlackoutDate

    program = factory.SubFactory(ProgramFactory)
    date = factory.Sequence(lambda n: date(2027, 1, 1) + timedelta(days=n))
    reason = "Holiday"


class AgendaTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaTemplate

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Agenda {n}")
    duration_minutes = 60


class AgendaSegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaSegment

    template = factory.SubFactory(AgendaTemplateFactory)
    start_minute = factory.Sequence(lambda n: (n * 5) % 60)
    title = factory.Sequence(lambda n: f"Segment {n}")


class SessionFactory(factory.django.DjangoModelFactory):
    """A scheduled session a week ahead, without agenda copy or room booking: tests that need
    those schedule through ``sessions_app.schedule.services``."""

    class Meta:
        model = Session

    group = factory.SubFactory(GroupFactory)
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=7)).replace(
            hour=12, minute=30, second=0, microsecond=0
        )
    )
    duration_minutes = 60
    uid = factory.LazyFunction(uuid.uuid4)


class SessionSegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionSegment

    session = factory.SubFactory(SessionFactory)
    start_minute = factory.Sequence(lambda n: (n * 5) % 60)
    title = factory.Sequence(lambda n: f"Segment {n}")


class RoomBookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomBooking

    session = factory.SubFactory(SessionFactory)
    room = factory.SubFactory(RoomFactory, program=factory.SelfAttribute("..session.group.program"))
    slot_start = factory.SelfAttribute("session.starts_at")


class RefreshmentOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefreshmentOrder

    program = factory.SubFactory(ProgramFactory)
    date = factory.Sequence(lambda n: date(2027, 2, 1) + timedelta(days=n))
    vendor = "Corner Bakery"


class PresentationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Presentation

    session = factory.SubFactory(SessionFactory)
    clinician = factory.SubFactory(
        ClinicianFactory, program=factory.SelfAttribute("..session.group.program")
    )
    status = Presentation.Status.CONFIRMED
    slot = 1


class RsvpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rsvp

    session = factory.SubFactory(SessionFactory)
    clinician = factory.SubFactory(
        ClinicianFactory, program=factory.SelfAttribute("..session.group.program")
    )
    answer = Rsvp.Answer.GOING


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    session = factory.SubFactory(SessionFactory)
    clinician = factory.SubFactory(
        ClinicianFactory, program=factory.SelfAttribute("..session.group.program")
    )
    status = Attendance.Status.PRESENT


class FacilitatorAbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FacilitatorAbsence

    session = factory.SubFactory(SessionFactory)
    facilitator = factory.SubFactory(
        FacilitatorFactory, program=factory.SelfAttribute("..session.group.program")
    )


class TakeHomePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TakeHomePoint

    session = factory.SubFactory(SessionFactory)
    text = "Naming my own frustration helped me listen."


class CalendarTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarToken

    user = factory.SubFactory(UserFactory)
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"token{n}".encode()).hexdigest())


class ConfidentialityAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConfidentialityAgreement

    program = factory.SubFactory(ProgramFactory)
    user = factory.SubFactory(UserFactory)


class CaseNoteFactory(factory.django.DjangoModelFactory):
    """A live note (encrypted when saved), due for destruction a week after its session."""

    class Meta:
        model = CaseNote

    presentation = factory.SubFactory(PresentationFactory)
    patient_age = 67
    patient_gender = "female"
    patient_name = "Ana"
    difficulty = "She asks for more opioids at every visit and I dread the appointments."
    relationship = "I have seen her for six years; her daughter comes along."
    wish = "How do I keep caring without giving in?"
    visibility = CaseNote.Visibility.FACILITATORS
    destroy_after = factory.LazyAttribute(
        lambda note: note.presentation.session.starts_at + timedelta(days=7, hours=1)
    )


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    """A CSV file's bytes from its lines, each ended by a newline."""
    return ("\n".join(lines) + "\n").encode(encoding)


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """An outbox row about a session of the program (a session reminder by default)."""

    class Meta:
        model = "ccdg.OutboxMessage"

    program = factory.SubFactory(ProgramFactory)
    kind = "session_reminder"
    object_id = factory.LazyAttribute(
        lambda o: SessionFactory(group=GroupFactory(program=o.program)).pk
    )
    recipient_type = "clinician"
    recipient_id = factory.LazyAttribute(lambda o: ClinicianFactory(program=o.program).pk)
    email = factory.Sequence(lambda n: f"recipient{n}@example.org")
    occurrence = "occ"
    due_at = factory.LazyFunction(timezone.now)


class ReminderSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ccdg.ReminderSettings"

    program = factory.SubFactory(ProgramFactory)


class InstrumentFactory(factory.django.DjangoModelFactory):
    """A draft instrument (not published)."""

    class Meta:
        model = Instrument

    slug = factory.Sequence(lambda n: f"instrument-{n}")
    name = factory.Sequence(lambda n: f"Instrument {n}")
    version = 1


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    instrument = factory.SubFactory(InstrumentFactory)
    order = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Section {n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    section = factory.SubFactory(SectionFactory)
    order = factory.Sequence(lambda n: n)
    code = factory.Sequence(lambda n: f"q{n}")
    text = factory.Sequence(lambda n: f"Question {n}?")
    type = Question.Type.FREE_TEXT


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory, type=Question.Type.SINGLE_CHOICE)
    order = factory.Sequence(lambda n: n)
    value = factory.Sequence(lambda n: f"v{n}")
    label = factory.Sequence(lambda n: f"Value {n}")


def _builtin_instrument():
    from surveys.services import builtin_instrument

    return builtin_instrument()


class WaveFactory(factory.django.DjangoModelFactory):
    """A paper wave of the built-in instrument (online waves come from ``wave_open``, which
    makes the recipients and their links)."""

    class Meta:
        model = Wave

    program = factory.SubFactory(ProgramFactory)
    instrument = factory.LazyFunction(_builtin_instrument)
    name = factory.Sequence(lambda n: f"Wave {n}")
    slug = factory.Sequence(lambda n: f"wave-{n}")
    source = Wave.Source.PAPER
    opens_at = factory.LazyFunction(timezone.now)
    distributed_count = 10


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    wave = factory.SubFactory(WaveFactory)
    source = Response.Source.PAPER
    answers = factory.LazyFunction(lambda: {"skill_empathy": "4"})
    submitted_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As every code path that writes a response does: keep the wave's digest in step.
        from surveys.digest import responses_changed

        response = super()._create(model_class, *args, **kwargs)
        responses_changed(
            wave_id=response.wave_id, added=[(response.answers, response.excluded_reason)]
        )
        return response
