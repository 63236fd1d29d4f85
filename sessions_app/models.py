"""Every model of the app, for Django and for the other apps.

Each feature package defines its own models (``sessions_app/<feature>/models.py``); this module
gathers them so that Django finds them and migrations and the other apps can keep importing
``sessions_app.models``. Code inside ``sessions_app`` imports from the owning feature.
"""

from sessions_app.agenda.models import (
    AgendaSegment,
    AgendaTemplate,
    SessionSegment,
    TakeHomePoint,
)
from sessions_app.casenotes.models import (
    CaseNote,
    ConfidentialityAgreement,
)
from sessions_app.groups.models import (
    AssignmentConstraint,
    AssignmentRun,
    Facilitator,
    FacilitatorAssignment,
    Group,
    GroupMembership,
)
from sessions_app.presenters.models import (
    Attendance,
    Presentation,
    Rsvp,
)
from sessions_app.programs.models import (
    SMALL_CELL_K_DEFAULT,
    SMALL_CELL_K_MIN,
    Program,
    ProgramRole,
    validate_timezone,
)
from sessions_app.roster.models import (
    Clinician,
    Discipline,
    Gender,
    Invitation,
    RosterImport,
)
from sessions_app.schedule.models import (
    BlackoutDate,
    CalendarToken,
    FacilitatorAbsence,
    RefreshmentOrder,
    Room,
    RoomBooking,
    Session,
)

__all__ = [
    "AgendaSegment",
    "AgendaTemplate",
    "AssignmentConstraint",
    "AssignmentRun",
    "Attendance",
    "BlackoutDate",
    "CalendarToken",
    "CaseNote",
    "Clinician",
    "ConfidentialityAgreement",
    "Discipline",
    "Facilitator",
    "FacilitatorAbsence",
    "FacilitatorAssignment",
    "Gender",
    "Group",
    "GroupMembership",
    "Invitation",
    "Presentation",
    "Program",
    "ProgramRole",
    "RefreshmentOrder",
    "Room",
    "RoomBooking",
    "RosterImport",
    "Rsvp",
    "SMALL_CELL_K_DEFAULT",
    "SMALL_CELL_K_MIN",
    "Session",
    "SessionSegment",
    "TakeHomePoint",
    "validate_timezone",
]
