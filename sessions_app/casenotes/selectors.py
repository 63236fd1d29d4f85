"""Confidential case notes, the reads: :func:`case_note_read`, the one way to a note's
plaintext (asks :func:`sessions_app.roles.case_note_refusal` and records every read and every
refusal), the notes a person may see listed, and who has read a note.

The program's rules for case notes are told once, at the top of
:mod:`sessions_app.casenotes.services` (see also docs/case-notes.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.views.decorators.debug import sensitive_variables

from ccdg.audit import audit_list_for, audit_record
from ccdg.models import AuditEvent
from sessions_app import roles
from sessions_app.casenotes.models import CaseNote
from sessions_app.groups.models import FacilitatorAssignment, GroupMembership
from sessions_app.presenters.models import Presentation
from sessions_app.programs.models import Program

TEXT_FIELDS = ("difficulty", "relationship", "wish")
GUARDED_FIELDS = ("patient_name", *TEXT_FIELDS)

REFUSAL_MESSAGES = {
    roles.NOT_A_READER: "Only the presenter and, as the presenter chose, the group's "
    "facilitators or members read a case note.",
    roles.NOT_SHARED: "The presenter has not shared this note with you.",
    roles.OUTSIDE_WINDOW: "The group reads this note only while the session is on: from its "
    f"start until {roles.CASE_NOTE_GROUP_GRACE_MINUTES} minutes after its end.",
    roles.NO_AGREEMENT: "Accept the program's confidentiality agreement first.",
    roles.DESTROYED: "The text of this note has been destroyed.",
}


class CaseNoteRefused(Exception):
    """``user`` may not read the note's text.

    ``reason`` is a code from :mod:`sessions_app.roles`.
    """

    def __init__(self, note: CaseNote, reason: str):
        super().__init__(reason)
        self.note = note
        self.reason = reason

    @property
    def message(self) -> str:
        return REFUSAL_MESSAGES[self.reason]


@dataclass(frozen=True, repr=False)
class CaseNoteText:
    """The decrypted text of a note, for the one page that shows it to an allowed reader.
    Its repr shows no content (tracebacks, logs)."""

    patient_name: str
    difficulty: str
    relationship: str
    wish: str

    def __repr__(self) -> str:
        return "CaseNoteText([encrypted])"

    def as_initial(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in GUARDED_FIELDS}


def case_note_refused(
    *,
    user: Any,
    reason: str,
    ip: str | None,
    note: CaseNote | None = None,
    presentation: Presentation | None = None,
) -> None:
    """Record a refused access to a note (or to the note of ``presentation``)."""
    presentation = presentation or (note.presentation if note is not None else None)
    data: dict[str, Any] = {"reason": reason}
    if presentation is not None:
        data["presentation_id"] = presentation.pk
    audit_record(
        actor=user,
        action="casenote.refused",
        obj=note,
        program_id=presentation.session.group.program_id if presentation is not None else None,
        data=data,
        ip=ip,
    )


# --- Reads -----------------------------------------------------------------------------------


def case_note_lookup(pk: int) -> CaseNote | None:
    """The note with its presentation, session, group, program and presenter (no text read)."""
    return (
        CaseNote.objects.select_related(
            "presentation__session__group__program", "presentation__clinician"
        )
        .filter(pk=pk)
        .first()
    )


@sensitive_variables()
def case_note_read(
    *, note: CaseNote, user: Any, ip: str | None, now: datetime | None = None
) -> CaseNoteText:
    """The note's text for ``user``, if they may read it now: the one way to the plaintext.

    Every call is audited: ``casenote.read`` (also when the text cannot be decrypted) or
    ``casenote.refused`` with the reason. Raises :class:`CaseNoteRefused` or
    ``crypto.Unreadable`` (the ciphertext is left as it is)."""
    reason = roles.case_note_refusal(user, note, now)
    if reason is not None:
        case_note_refused(user=user, reason=reason, ip=ip, note=note)
        raise CaseNoteRefused(note, reason)
    event = {
        "actor": user,
        "action": "casenote.read",
        "obj": note,
        "program_id": note.presentation.session.group.program_id,
        "ip": ip,
    }
    try:
        text = CaseNoteText(
            **{
                name: (getattr(note, name).reveal() if getattr(note, name) is not None else "")
                for name in GUARDED_FIELDS
            }
        )
    except Exception:
        audit_record(**event, data={"presentation_id": note.presentation_id, "unreadable": True})
        raise
    audit_record(**event, data={"presentation_id": note.presentation_id})
    return text


def case_note_list(*, program: Program, user: Any) -> list[CaseNote]:
    """Notes of ``program`` whose metadata ``user`` sees: all of them for coordinators, report
    viewers and staff; otherwise their own and those shared with them by their visibility.
    Each is annotated with ``may_open``: whether the user is among its readers at some time
    (the page itself decides, audited). Four queries, whatever the number of notes."""
    facilitated = set(
        FacilitatorAssignment.objects.current()
        .filter(group__program=program, facilitator__user=user)
        .values_list("group_id", flat=True)
    )
    member_of = set(
        GroupMembership.objects.current()
        .filter(group__program=program, clinician__user=user)
        .values_list("group_id", flat=True)
    )
    shared_with_facilitators = (CaseNote.Visibility.FACILITATORS, CaseNote.Visibility.GROUP)
    readable = (
        Q(presentation__clinician__user=user)
        | Q(
            presentation__session__group_id__in=facilitated,
            visibility__in=shared_with_facilitators,
        )
        | Q(presentation__session__group_id__in=member_of, visibility=CaseNote.Visibility.GROUP)
    )
    notes = (
        CaseNote.objects.filter(presentation__session__group__program=program)
        .select_related("presentation__session__group", "presentation__clinician")
        .order_by("-presentation__session__starts_at", "-pk")
    )
    if not roles.can(user, "casenote.metadata", program):
        notes = notes.filter(readable)
    result = list(notes)
    for note in result:
        group_id = note.presentation.session.group_id
        note.may_open = note.destroyed_at is None and (
            note.presentation.clinician.user_id == user.pk
            or (group_id in facilitated and note.visibility in shared_with_facilitators)
            or (group_id in member_of and note.visibility == CaseNote.Visibility.GROUP)
        )
    return result


REFUSAL_LABELS = {
    roles.NOT_A_READER: "not among its readers",
    roles.NOT_SHARED: "not shared with them",
    roles.OUTSIDE_WINDOW: "outside the session",
    roles.NO_AGREEMENT: "agreement not yet accepted",
    roles.DESTROYED: "text destroyed",
}


def case_note_access_list(*, note: CaseNote) -> list[AuditEvent]:
    """Who did what with the note and when: actions, people, addresses; never content. Each
    event carries ``reason_label`` (why an access was refused, else "")."""
    events = list(audit_list_for(note))
    for event in events:
        event.reason_label = REFUSAL_LABELS.get((event.data or {}).get("reason"), "")
    return events
