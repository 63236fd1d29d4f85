"""Every authorization decision of the app, in one place.

Views call :func:`program_for_request` (or :func:`can`); templates use the ``can`` tag from
``sessions_app.templatetags.roles``. Roles are held per program:

* coordinator and report viewer are appointments (``ProgramRole``);
* facilitator means a current lead or backup assignment to one of the program's groups;
* participant means a current membership of one of the program's groups;
* "on the roster" means an account linked to the program's roster (an accepted invitation)
  that has never been in one of its groups: enough to open the program and see that a group is
  still to come, nothing more. Whoever left their group is an outsider again.

One person may hold several roles, in one program or across programs. Site staff (Django
``is_staff``) administer the site and may do what a coordinator may, except where a permission
is marked need-to-know (confidential case content), which staff never get by their staff flag.

A page about one row then gets it from a fetch-and-check helper at the end of this module
(:func:`session_for_request`, :func:`group_for_request`, ...): the row within the program, and
the decision about it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone

from sessions_app.agenda.models import AgendaTemplate
from sessions_app.casenotes.models import CaseNote, ConfidentialityAgreement
from sessions_app.groups.models import (
    AssignmentRun,
    FacilitatorAssignment,
    Group,
    GroupMembership,
    current_membership_q,
)
from sessions_app.presenters.models import Presentation
from sessions_app.programs.models import Program, ProgramRole
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import Session

COORDINATOR = "coordinator"
FACILITATOR = "facilitator"
PARTICIPANT = "participant"
REPORT_VIEWER = "report_viewer"
ROSTERED = "rostered"
ALL_ROLES = frozenset({COORDINATOR, FACILITATOR, PARTICIPANT, REPORT_VIEWER, ROSTERED})

ROLE_LABELS = {
    COORDINATOR: "Coordinator",
    FACILITATOR: "Facilitator",
    PARTICIPANT: "Participant",
    REPORT_VIEWER: "Report viewer",
    ROSTERED: "On the roster, no group yet",
}

PERMISSIONS: dict[str, frozenset[str]] = {
    "program.view": ALL_ROLES,
    "program.edit": frozenset({COORDINATOR}),
    "roster.view": frozenset({COORDINATOR}),
    "roster.manage": frozenset({COORDINATOR}),
    "roster.invite": frozenset({COORDINATOR}),
    "roster.export": frozenset({COORDINATOR, REPORT_VIEWER}),
    "reports.view": frozenset({COORDINATOR, REPORT_VIEWER}),
    "audit.view": frozenset({COORDINATOR}),
    # Groups: everyone in the program sees the list of groups; who is in which group is
    # need-to-know (see can_view_group_members).
    "groups.view": ALL_ROLES,
    "groups.manage": frozenset({COORDINATOR}),
    "facilitators.manage": frozenset({COORDINATOR}),
    # Sessions: everyone sees the sessions of their own groups (see can_run_session and
    # is_member_of_session_group for the per-session checks).
    "sessions.view": ALL_ROLES,
    "sessions.manage": frozenset({COORDINATOR}),
    "presenters.manage": frozenset({COORDINATOR, FACILITATOR}),
    "attendance.view": frozenset({COORDINATOR, FACILITATOR, REPORT_VIEWER}),
    "calendar.program_feed": frozenset({COORDINATOR}),
    # Surveys: coordinators run waves and enter paper forms; report viewers see the figures
    # and the (de-identified) responses. Answering needs no sign-in: the link is the key.
    "surveys.view": frozenset({COORDINATOR, REPORT_VIEWER}),
    "surveys.manage": frozenset({COORDINATOR}),
    # Analysis runs: started and read by coordinators and report viewers (researchers).
    "analysis.run": frozenset({COORDINATOR, REPORT_VIEWER}),
    # Qualitative coding of open answers: the coordinator sets themes and names two reviewers
    # (coordinators or report viewers); only the named reviewers code (see can_code_wave).
    "coding.view": frozenset({COORDINATOR, REPORT_VIEWER}),
    "coding.manage": frozenset({COORDINATOR}),
    # Case notes (see can_read_case_note and can_write_case_note for the per-note rules).
    # Reading and writing the text is need-to-know: a program role is only the first gate.
    "casenote.read": frozenset({FACILITATOR, PARTICIPANT}),
    "casenote.write": frozenset({PARTICIPANT}),
    # Metadata only (a note exists, its visibility, when it was written and is destroyed).
    "casenote.metadata": frozenset({COORDINATOR, REPORT_VIEWER}),
    # Who accessed a note and when (the audit trail, without content).
    "casenote.access_log": frozenset({COORDINATOR}),
}

# Permissions that being site staff does not grant: only the program roles listed above do.
# Case-note text is never read or written by virtue of the staff flag; its metadata may be.
NEED_TO_KNOW: frozenset[str] = frozenset({"casenote.read", "casenote.write"})

_CACHE_ATTR = "_ccdg_role_map"


def _role_rows(user: Any):
    """``(program_id, role, roster status, current member, ever member)`` rows, one query: the
    program roles held, the groups facilitated now (role ``facilitator``) and the roster entries
    linked to the account (role empty)."""
    no, none = Value(False), Value("", output_field=CharField())
    held = ProgramRole.objects.filter(user=user).values_list("program_id", "role", none, no, no)
    led = (
        FacilitatorAssignment.objects.current()
        .filter(facilitator__user=user)
        .values_list("group__program_id", Value(FACILITATOR, output_field=CharField()), none,
                     no, no)
    )  # fmt: skip
    memberships = GroupMembership.objects.filter(clinician=OuterRef("pk"))
    rostered = Clinician.objects.filter(user=user).values_list(
        "program_id",
        none,
        "status",
        Exists(memberships.current()),
        Exists(memberships),
    )
    return held.order_by().union(led.order_by(), rostered.order_by(), all=True)


def role_map(user: Any) -> dict[int, frozenset[str]]:
    """Program id -> the roles ``user`` holds there. One query, cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached

    found: dict[int, set[str]] = {}
    for program_id, role, status, member, ever in _role_rows(user):
        if role:
            found.setdefault(program_id, set()).add(role)
        # A roster entry linked to the account (a group's members are on its program's
        # roster): a current membership makes a participant; an entry never placed in a group,
        # unless inactive, still opens the program, so whoever accepted an invitation before
        # being placed finds the program rather than an empty home page.
        elif member:
            found.setdefault(program_id, set()).add(PARTICIPANT)
        elif not ever and status != Clinician.Status.INACTIVE:
            found.setdefault(program_id, set()).add(ROSTERED)
    for roles_held in found.values():
        if PARTICIPANT in roles_held:
            roles_held.discard(ROSTERED)
    result = {pid: frozenset(roles) for pid, roles in found.items()}
    setattr(user, _CACHE_ATTR, result)
    return result


def forget(user: Any) -> None:
    """Drop the cached roles (after a change to the user's roles in the same request)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def roles_in(user: Any, program: Any) -> frozenset[str]:
    return role_map(user).get(program.pk, frozenset())


def is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_staff)


def can(user: Any, perm: str, program: Any) -> bool:
    """May ``user`` do ``perm`` in ``program``?"""
    try:
        allowed = PERMISSIONS[perm]
    except KeyError:
        raise ValueError(f"Unknown permission {perm!r}") from None
    if roles_in(user, program) & allowed:
        return True
    return is_staff(user) and perm not in NEED_TO_KNOW


def program_for_request(request: Any, slug: str, perm: str):
    """The program named by ``slug`` if the signed-in user may do ``perm`` there.

    Someone with no role in the program gets a 404 (no hint that it exists); someone with a
    role that does not allow ``perm`` gets a 403.
    """

    try:
        program = Program.objects.get(slug=slug)
    except Program.DoesNotExist:
        raise Http404("No such program.") from None
    if can(request.user, perm, program):
        return program
    if roles_in(request.user, program) or is_staff(request.user):
        raise PermissionDenied
    raise Http404("No such program.")


def can_view_group_members(user: Any, group: Any) -> bool:
    """Members of a group are seen by the coordinators, the group's own facilitators and its
    own current members; not by other groups."""
    if can(user, "groups.manage", group.program):
        return True
    if not getattr(user, "is_authenticated", False):
        return False

    return (
        FacilitatorAssignment.objects.current().filter(group=group, facilitator__user=user).exists()
        or GroupMembership.objects.current().filter(group=group, clinician__user=user).exists()
    )


def groups_with_visible_members(user: Any, program: Any) -> set[int]:
    """Ids of the program's groups whose members ``user`` may see (the rule of
    :func:`can_view_group_members`), in at most two queries for any number of groups."""

    if can(user, "groups.manage", program):
        return set(Group.objects.filter(program=program).values_list("pk", flat=True))
    if not getattr(user, "is_authenticated", False):
        return set()
    facilitated = (
        FacilitatorAssignment.objects.current()
        .filter(group__program=program, facilitator__user=user)
        .values_list("group_id", flat=True)
    )
    member_of = (
        GroupMembership.objects.current()
        .filter(group__program=program, clinician__user=user)
        .values_list("group_id", flat=True)
    )
    return set(facilitated) | set(member_of)


def can_run_session(user: Any, session: Any) -> bool:
    """Facilitators run their own groups' sessions (agenda, live view, attendance, take-home
    points); coordinators and staff may too."""
    program = session.group.program
    if can(user, "sessions.manage", program):
        return True
    if not getattr(user, "is_authenticated", False):
        return False

    return (
        FacilitatorAssignment.objects.current()
        .filter(group_id=session.group_id, facilitator__user=user)
        .exists()
    )


def can_ask_to_present(user: Any, session: Any) -> bool:
    """The coordinator (or staff) and the group's *lead* facilitator ask people to present;
    withdrawing someone else's presentation is the same decision."""
    if can(user, "sessions.manage", session.group.program):
        return True
    if not getattr(user, "is_authenticated", False):
        return False

    return (
        FacilitatorAssignment.objects.current()
        .filter(
            group_id=session.group_id, facilitator__user=user, role=FacilitatorAssignment.Role.LEAD
        )
        .exists()
    )


def session_member(user: Any, session: Any):
    """The user's roster entry if they are a current member of the session's group, else None:
    only members RSVP and volunteer to present."""
    if not getattr(user, "is_authenticated", False):
        return None

    return Clinician.objects.filter(
        current_membership_q("memberships__"),
        user=user,
        memberships__group_id=session.group_id,
    ).first()


def programs_for(user: Any) -> list[Program]:
    """The programs the user may see, each annotated with ``my_roles`` (labels)."""
    roles = role_map(user)
    programs = Program.objects.all() if is_staff(user) else Program.objects.filter(pk__in=roles)
    result = list(programs)
    for program in result:
        program.my_roles = sorted(ROLE_LABELS[r] for r in roles.get(program.pk, ()))
    return result


@dataclass(frozen=True)
class NavPrograms:
    shown: list[Program]
    more: bool

    def __iter__(self):
        return iter(self.shown)


def nav_programs(user: Any, limit: int) -> NavPrograms:
    """The first ``limit`` programs the user may see (newest first, one query after the role
    map) and whether there are more."""
    roles = role_map(user)
    programs = Program.objects.all() if is_staff(user) else Program.objects.filter(pk__in=roles)
    found = list(programs.only("pk", "slug", "name", "academic_year")[: limit + 1])
    return NavPrograms(shown=found[:limit], more=len(found) > limit)


# --- Case notes ---------------------------------------------------------------------------------

# Why someone may not read a note's text (None from case_note_refusal: they may).
NOT_A_READER = "not_a_reader"  # not the presenter, not the group's facilitator or member
NOT_SHARED = "not_shared"  # in the group, but the visibility does not include them
OUTSIDE_WINDOW = "outside_window"  # a member, outside the session window
NO_AGREEMENT = "no_agreement"  # must first accept the program's confidentiality agreement
DESTROYED = "destroyed"  # the text is gone (or due to go: past its destroy date)

# Group members read a note shared with the group only while the group meets: from the session's
# start until this long after its planned end (time to finish the discussion).
CASE_NOTE_GROUP_GRACE_MINUTES = 15


def case_note_group_window(session: Any) -> tuple[Any, Any]:
    """(from, until) during which the group's members may read a note shared with the group:
    the session's start until 15 minutes after its end (minutes added in the live view count)."""

    return session.starts_at, session.ends_at + timedelta(minutes=CASE_NOTE_GROUP_GRACE_MINUTES)


def is_case_note_presenter(user: Any, note: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and note.presentation.clinician.user_id is not None
        and note.presentation.clinician.user_id == user.pk
    )


def case_note_refusal(user: Any, note: Any, now: Any = None) -> str | None:
    """None if ``user`` may read the text of ``note`` now, else the reason (a code above).

    The presenter always may (until the text is destroyed). The group's current facilitators
    may when the visibility is "facilitators" or "group"; its current members when it is
    "group", during the session window (:func:`case_note_group_window`). Facilitators and
    members must first have accepted the program's confidentiality agreement. Nobody reads a
    note by being a coordinator, a report viewer or site staff.
    """

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOT_A_READER
    now = now or timezone.now()
    session = note.presentation.session
    program = session.group.program
    destroyed = note.destroyed_at is not None or now >= note.destroy_after
    if is_case_note_presenter(user, note):
        return DESTROYED if destroyed else None
    if not can(user, "casenote.read", program):
        return NOT_A_READER
    facilitates = (
        FacilitatorAssignment.objects.current()
        .filter(group_id=session.group_id, facilitator__user=user)
        .exists()
    )
    member = (
        GroupMembership.objects.current()
        .filter(group_id=session.group_id, clinician__user=user)
        .exists()
    )
    if not (facilitates or member):
        return NOT_A_READER
    if destroyed:
        return DESTROYED
    visibility = note.visibility
    if facilitates and visibility in (CaseNote.Visibility.FACILITATORS, CaseNote.Visibility.GROUP):
        pass
    elif member and visibility == CaseNote.Visibility.GROUP:
        start, end = case_note_group_window(session)
        if session.status == Session.Status.CANCELLED or not (start <= now < end):
            return OUTSIDE_WINDOW
    else:
        return NOT_SHARED
    if not ConfidentialityAgreement.objects.filter(program=program, user=user).exists():
        return NO_AGREEMENT
    return None


def can_read_case_note(user: Any, note: Any, now: Any = None) -> bool:
    return case_note_refusal(user, note, now) is None


def can_write_case_note(user: Any, presentation: Any) -> bool:
    """Only the presenter writes, changes or deletes the note on their presentation, while they
    are a participant of the program."""
    if not getattr(user, "is_authenticated", False):
        return False
    return presentation.clinician.user_id == user.pk and can(
        user, "casenote.write", presentation.session.group.program
    )


# --- Scopes: whose data a user sees -----------------------------------------------------------


def my_group_labels(*, user: Any, program: Program | None = None) -> dict[int, list[str]]:
    """Program id -> the user's current groups there, as shown to them: "Group 1" for a
    membership, "Group 2 (lead facilitator)" for a facilitation. Two queries for any number
    of programs."""
    if not getattr(user, "is_authenticated", False):
        return {}
    memberships = GroupMembership.objects.current().filter(clinician__user=user)
    facilitations = FacilitatorAssignment.objects.current().filter(facilitator__user=user)
    if program is not None:
        memberships = memberships.filter(group__program=program)
        facilitations = facilitations.filter(group__program=program)
    labels: dict[int, list[str]] = {}
    for program_id, name in memberships.order_by("group__name").values_list(
        "group__program_id", "group__name"
    ):
        labels.setdefault(program_id, []).append(name)
    for program_id, name, role in facilitations.order_by("group__name", "role").values_list(
        "group__program_id", "group__name", "role"
    ):
        how = FacilitatorAssignment.Role(role).label.lower()
        labels.setdefault(program_id, []).append(f"{name} ({how} facilitator)")
    return labels


def figures_scope(user: Any, program: Program) -> set[int] | None:
    """Which groups' figures ``user`` sees: all (None) for the coordinator, report viewer and
    staff; facilitators their own groups."""
    held = roles_in(user, program)
    if is_staff(user) or held & {COORDINATOR, REPORT_VIEWER}:
        return None
    return set(
        FacilitatorAssignment.objects.current()
        .filter(group__program=program, facilitator__user=user)
        .values_list("group_id", flat=True)
    )


def visible_group_ids(*, user: Any, program: Program) -> set[int] | None:
    """The groups whose sessions ``user`` sees; None means all of them (coordinator, staff)."""
    if can(user, "sessions.manage", program):
        return None
    # Facilitators and participants see their own groups' sessions: the rule that decides
    # who sees a group's members decides who sees its sessions too.
    return groups_with_visible_members(user, program)


def session_may_view(user: Any, session: Session) -> bool:
    """Coordinators and staff, the group's facilitators and its current members: who sees a
    session's page and reads its take-home points (they are for the group)."""
    return can_run_session(user, session) or session_member(user, session) is not None


def is_own_presentation(user: Any, presentation: Any) -> bool:
    """The presenter's own presentation: they answer (accept or decline) an invitation made to
    them and may withdraw."""
    return bool(
        getattr(user, "is_authenticated", False) and presentation.clinician.user_id == user.pk
    )


def can_withdraw_presentation(user: Any, presentation: Any) -> bool:
    """The presenter withdraws themselves; whoever may ask people to present withdraws anyone."""
    return is_own_presentation(user, presentation) or can_ask_to_present(user, presentation.session)


def agenda_templates_usable(
    program: Program, *, editable: bool = False
) -> QuerySet[AgendaTemplate]:
    """The agenda templates ``program`` may use: its own and the built-ins; with ``editable``,
    its own only (nobody edits a built-in)."""
    if editable:
        return AgendaTemplate.objects.filter(program=program)
    return AgendaTemplate.objects.filter(
        Q(program=program) | Q(program__isnull=True, built_in=True)
    )


# --- Fetch and check ------------------------------------------------------------------------------
#
# A page about one row (a session, a group, a clinician...) first gets its program from
# program_for_request (404 for outsiders, 403 for a role without the permission), then the row
# from one of these. Each looks the row up within that program only, so a row of another program
# is a 404 exactly like a row that does not exist (no hint that it does), and then applies the
# decision ``may`` the page needs (one of the functions above): 403 when it says no, since the
# user already holds a role in the program. Each fetches the joins its pages read, in one query.
# Every helper takes the request, also where the program's permission is the whole decision, so
# that a decision added later changes no call site.


def _checked(
    request: Any, row: Any, what: str, may: Callable[[Any, Any], bool] | None = None
) -> Any:
    """``row`` if the user passes ``may``: 404 when it is None (not in the program, or no such
    row), 403 when ``may`` refuses."""
    if row is None:
        raise Http404(f"No such {what}.")
    if may is not None and not may(request.user, row):
        raise PermissionDenied
    return row


def session_checked(
    request: Any, session: Session | None, *, may: Callable[[Any, Session], bool] | None = None
) -> Session:
    """``session`` (already looked up within the program, None if it is not there) if the
    user passes ``may``: 404 for None, 403 for a refusal. For pages whose selector attaches
    more to the session than :func:`session_for_request` does."""
    return _checked(request, session, "session", may)


def session_for_request(
    request: Any, program: Program, pk: int, *, may: Callable[[Any, Session], bool] | None = None
) -> Session:
    """The session ``pk`` of ``program``, with its group, program and room, if the user passes
    ``may`` (:func:`can_run_session`, :func:`session_may_view`,
    :func:`can_ask_to_present`, or None: the program's permission was enough)."""
    session = (
        Session.objects.select_related("group__program", "room")
        .filter(group__program=program, pk=pk)
        .first()
    )
    return session_checked(request, session, may=may)


def group_for_request(
    request: Any, program: Program, pk: int, *, may: Callable[[Any, Group], bool] | None = None
) -> Group:
    """The group ``pk`` of ``program``, with its default room, if the user passes ``may``
    (:func:`can_view_group_members`, or None)."""
    group = Group.objects.select_related("default_room").filter(program=program, pk=pk).first()
    return _checked(request, group, "group", may)


def assignment_run_for_request(request: Any, program: Program, pk: int) -> AssignmentRun:
    """The assignment run (a preview of groups) ``pk`` of ``program``: the program's
    "groups.manage" is the whole decision."""
    run = AssignmentRun.objects.select_related("program").filter(program=program, pk=pk).first()
    return _checked(request, run, "assignment")


def clinician_for_request(request: Any, program: Program, pk: int) -> Clinician:
    """The roster entry ``pk`` of ``program``, with its account: the program's "roster.view"
    or "roster.manage" is the whole decision."""
    clinician = Clinician.objects.select_related("user").filter(program=program, pk=pk).first()
    return _checked(request, clinician, "clinician")


def presentation_for_request(
    request: Any,
    program: Program,
    pk: int,
    *,
    may: Callable[[Any, Presentation], bool] | None = None,
) -> Presentation:
    """The presentation ``pk`` of a session of ``program``, with its session, group, program
    and presenter, if the user passes ``may`` (:func:`is_own_presentation`,
    :func:`can_withdraw_presentation`, or None)."""
    presentation = (
        Presentation.objects.select_related("session__group__program", "clinician")
        .filter(session__group__program=program, pk=pk)
        .first()
    )
    return _checked(request, presentation, "presentation", may)


def agenda_template_for_request(
    request: Any, program: Program, pk: int, *, editable: bool = False
) -> AgendaTemplate:
    """The agenda template ``pk`` if ``program`` may use it (its own or a built-in) or, with
    ``editable``, edit it (its own): a built-in asked for editing is a 404."""
    template = agenda_templates_usable(program, editable=editable).filter(pk=pk).first()
    return _checked(request, template, "agenda")


def _case_notes() -> QuerySet:
    # With what every case-note page shows about the note (and the decisions read): its
    # presentation, session, group, program and presenter; never the text.
    return CaseNote.objects.select_related(
        "presentation__session__group__program", "presentation__clinician"
    )


def case_note_for_request(request: Any, program: Program, pk: int) -> CaseNote:
    """The case note ``pk`` on a presentation of ``program``, for pages that show its
    metadata: the program's permission is the whole decision."""
    note = _case_notes().filter(presentation__session__group__program=program, pk=pk).first()
    return _checked(request, note, "case note")


def case_note_for_reader(
    request: Any, slug: str, pk: int, *, refused: Callable[[Any, CaseNote], None]
) -> CaseNote:
    """The case note ``pk`` for the pages that read or delete its text, if it belongs to the
    program ``slug`` and the user holds a role there (whether they may read the text is
    :func:`case_note_refusal`, asked by the page).

    Unlike the helpers above, the note is looked up before the program, so that a refusal
    here is recorded against the note too: ``refused(request, note)`` (the page's audit) runs
    before the 404 or 403 is raised. A note that does not exist is a plain 404."""
    note = _checked(request, _case_notes().filter(pk=pk).first(), "case note")
    try:
        program = program_for_request(request, slug, "program.view")
    except (Http404, PermissionDenied):
        refused(request, note)
        raise
    if note.presentation.session.group.program_id != program.pk:
        refused(request, note)
        raise Http404("No such case note.")
    return note
