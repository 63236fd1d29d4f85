"""Confidential case notes: writing one, reading one (checked and audited), deleting it early,
and the confidentiality agreement that facilitators and members accept before reading.

Rules from the program (issue 5; docs/case-notes.md):

* one note per presentation, written and changed by its presenter while the presentation is
  open (presenting, waitlisted or asked) and the session has not ended;
* the patient is described by age (90 and over is kept as 90 and shown "90+"), gender and one
  first name or initials; the name and every free-text field pass the identifier guard
  (:mod:`ccdg.phi`) and no field is longer than ``settings.CASE_NOTE_MAX_CHARS``;
* the name and the free text are encrypted at rest (:mod:`ccdg.fields`); the text is due for
  destruction ``program.case_note_retention_days`` days after the session ends;
* who may read is decided by :func:`sessions_app.roles.case_note_refusal`; :func:`case_note_read` is
  the one way to the plaintext and it records every read and every refusal;
* audit events carry ids, field names and reason codes, never note content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from ccdg import phi
from ccdg.audit import audit_record
from sessions_app import roles
from sessions_app.casenotes.models import CaseNote, ConfidentialityAgreement
from sessions_app.casenotes.retention import casenote_destroy_after
from sessions_app.casenotes.selectors import (
    GUARDED_FIELDS,
    TEXT_FIELDS,
    case_note_lookup,
    case_note_refused,
)
from sessions_app.presenters.models import Presentation
from sessions_app.programs.models import Program
from sessions_app.schedule.models import Session

OPEN = (Presentation.Status.CONFIRMED, Presentation.Status.WAITLISTED, Presentation.Status.INVITED)
NAME_MAX = 20
# Ages from 90 on are identifiers (HIPAA Safe Harbor): kept as 90 and shown as "90+".
AGE_TOP = 90

# One word (letters, inner hyphens or apostrophes: "Ana", "Anne-Marie"), or initials with dots
# ("J. D.", "J.D.", "A.B.C.").
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_INITIALS = re.compile(r"[^\W\d_]\.(?: ?[^\W\d_]\.){0,3}")


@dataclass(frozen=True, repr=False)
class CaseNoteInput:
    """What the presenter typed, already parsed (the form) but not yet checked (the service).
    Its repr shows no content (tracebacks, logs)."""

    patient_age: int | None
    patient_gender: str
    patient_name: str
    difficulty: str
    relationship: str
    wish: str
    visibility: str

    def __repr__(self) -> str:
        return "CaseNoteInput([not shown])"


# --- Checks shared by the form and the service -----------------------------------------------


def too_long_message(text: str) -> str | None:
    limit = settings.CASE_NOTE_MAX_CHARS
    if len(text) > limit:
        return (
            f"Keep this to {limit:,} characters: it has {len(text):,}. Shorten it and save again."
        )
    return None


def name_token_problem(token: str) -> str | None:
    """Why ``token`` is not one first name or initials, or None when it is."""
    if not token:
        return None
    if len(token) > NAME_MAX:
        return f"Give one first name or initials, at most {NAME_MAX} characters."
    if _NAME_WORD.fullmatch(token) or _INITIALS.fullmatch(token):
        return None
    if len(token.split()) > 1:
        return (
            "Give one first name or initials only (for example “Ana” or “J. D.”), "
            "never a first and last name."
        )
    return "Give one first name or initials only, in letters (for example “Ana” or “J. D.”)."


def guard_findings(field: str, text: str) -> list[phi.Finding]:
    """The identifiers the guard finds in one field of the note.

    The name field is meant to hold a first name, so a name finding there counts only when it
    spans more than one word (a first and last name, "Mrs. Alvarez")."""
    findings = phi.scan(text)
    if field == "patient_name":
        findings = [f for f in findings if f.category != "name" or len(f.text.split()) > 1]
    return findings


def _problems(data: CaseNoteInput) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for field in GUARDED_FIELDS:
        text = getattr(data, field)
        messages = []
        if long := too_long_message(text):
            messages.append(long)
        elif field == "patient_name" and (shape := name_token_problem(text)):
            messages.append(shape)
        messages += [
            f"“{f.text}”: {phi.CATEGORIES[f.category]}. {f.reason}"
            for f in guard_findings(field, text)
        ]
        if messages:
            problems[field] = messages
    if data.patient_age is not None and not 0 <= data.patient_age <= 130:
        problems["patient_age"] = ["Give the age in years (0 to 130; 90 or over shows as 90+)."]
    if data.visibility not in CaseNote.Visibility.values:
        problems["visibility"] = ["Choose who may read the note."]
    if not any(getattr(data, field).strip() for field in TEXT_FIELDS):
        problems.setdefault("difficulty", []).append(
            "Write at least one of the three parts of the note."
        )
    return problems


# --- Writes ----------------------------------------------------------------------------------


# When a note's text is due for destruction: the program's retention after the session's end.
destroy_after_for = casenote_destroy_after


def case_note_writable(presentation: Presentation, now: datetime | None = None) -> str | None:
    """Why the presenter can no longer write or change the note, or None when they can."""
    now = now or timezone.now()
    session = presentation.session
    if presentation.status not in OPEN:
        return "You are no longer presenting at this session, so the note cannot be changed."
    if session.status == Session.Status.CANCELLED:
        return "This session is cancelled, so the note cannot be changed."
    if now >= session.ends_at:
        return "This session has ended, so the note cannot be changed."
    return None


def _check_writer(
    user: Any, presentation: Presentation, note: CaseNote | None, ip: str | None
) -> None:
    if not roles.can_write_case_note(user, presentation):
        case_note_refused(
            user=user, reason=roles.NOT_A_READER, ip=ip, note=note, presentation=presentation
        )
        raise PermissionDenied


@sensitive_variables()
def case_note_save(
    *,
    presentation: Presentation,
    data: CaseNoteInput,
    actor: Any,
    ip: str | None,
    now: datetime | None = None,
) -> CaseNote:
    """Write the presenter's note on ``presentation`` or change it; the name and free text are
    encrypted when saved. Raises PermissionDenied for anyone but the presenter (audited),
    ValidationError (a dict by field) for what the guard or the limits refuse, and
    ``crypto.Unreadable`` when the stored note cannot be decrypted (it is left as it is)."""
    now = now or timezone.now()
    existing = CaseNote.objects.filter(presentation=presentation).first()
    _check_writer(actor, presentation, existing, ip)
    if reason := case_note_writable(presentation, now):
        raise ValidationError(reason)
    problems = _problems(data)
    if problems:
        raise ValidationError(problems)
    values = {
        "patient_age": None if data.patient_age is None else min(data.patient_age, AGE_TOP),
        "patient_gender": data.patient_gender,
        "patient_name": data.patient_name.strip() or None,
        "difficulty": data.difficulty.strip() or None,
        "relationship": data.relationship.strip() or None,
        "wish": data.wish.strip() or None,
        "visibility": data.visibility,
    }
    with transaction.atomic():
        note = (
            CaseNote.objects.select_for_update()
            .select_related("presentation__session__group__program")
            .filter(presentation=presentation)
            .first()
        )
        created = note is None or note.destroyed_at is not None
        if note is None:
            note = CaseNote(presentation=presentation)
            changed = sorted(values)
        elif created:
            # Deleted early and written again: the same row, new text.
            changed = sorted(values)
        else:
            current = {
                name: (value.reveal() if hasattr(value, "reveal") else value)
                for name in values
                for value in [getattr(note, name)]
            }
            changed = sorted(name for name, value in values.items() if current[name] != value)
        for name, value in values.items():
            setattr(note, name, value)
        note.destroyed_at = None
        note.destroy_after = destroy_after_for(presentation.session)
        note.save()
        if created or changed:
            audit_record(
                actor=actor,
                action="casenote.create" if created else "casenote.update",
                obj=note,
                program_id=presentation.session.group.program_id,
                data={"presentation_id": presentation.pk, "fields": changed},
                ip=ip,
            )
    # Hand back sealed values, not the plaintext just assigned.
    return case_note_lookup(note.pk)


def case_note_delete(
    *, note: CaseNote, actor: Any, ip: str | None, now: datetime | None = None
) -> CaseNote:
    """The presenter destroys their note before the retention period ends: the text goes (the
    encrypted fields become NULL), the metadata and the audit trail stay."""
    presentation = note.presentation
    _check_writer(actor, presentation, note, ip)
    with transaction.atomic():
        note = CaseNote.objects.select_for_update().get(pk=note.pk)
        if note.destroyed_at is not None:
            return note
        for name in CaseNote.ENCRYPTED_FIELDS:
            setattr(note, name, None)
        note.patient_age = None
        note.patient_gender = ""
        note.destroyed_at = now or timezone.now()
        note.save()
        audit_record(
            actor=actor,
            action="casenote.delete",
            obj=note,
            program_id=presentation.session.group.program_id,
            data={"presentation_id": presentation.pk, "early": True},
            ip=ip,
        )
    return note


def agreement_get(*, program: Program, user: Any) -> ConfidentialityAgreement | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return ConfidentialityAgreement.objects.filter(program=program, user=user).first()


def agreement_accept(*, program: Program, user: Any, ip: str | None) -> ConfidentialityAgreement:
    """Record that ``user`` promises to keep the program's cases confidential (once)."""
    agreement, created = ConfidentialityAgreement.objects.get_or_create(program=program, user=user)
    if created:
        audit_record(
            actor=user,
            action="confidentiality.accept",
            obj=agreement,
            program_id=program.pk,
            data={"agreement_id": agreement.pk},
            ip=ip,
        )
    return agreement
