"""Case-note retention: when a note's text is destroyed, and destroying it.

A note lives until its session has ended plus the program's ``case_note_retention_days``
(0: as soon as the session ends). Destruction sets every encrypted field to NULL, clears the
patient's age and gender and records ``destroyed_at``; the row and its metadata (presentation,
visibility, dates) stay, so the program can still account for the note. Each destruction
writes one audit event with ids only. A beat task runs ``casenote_destroy_expired`` every
15 minutes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from ccdg.audit import audit_record
from sessions_app.casenotes.models import CaseNote
from sessions_app.schedule.models import Session
from sessions_app.schedule.signals import session_moved

DESTROY_ACTION = "casenote.destroy"


def casenote_destroy_after(session: Session) -> datetime:
    """When notes on ``session`` are due for destruction: its end plus the program's days.

    The end counts minutes the facilitator added in the live view.
    """
    return session.ends_at + timedelta(days=session.group.program.case_note_retention_days)


@receiver(session_moved, dispatch_uid="casenotes.retention.session_moved")
def _session_moved(sender, *, session: Session, **kwargs) -> None:
    casenote_reschedule_retention(session)


def casenote_reschedule_retention(session: Session) -> int:
    """Move the destruction date of the session's live notes after the session moved.

    Returns how many notes were updated. Destroyed notes keep their dates.
    """
    return CaseNote.objects.filter(presentation__session=session, destroyed_at__isnull=True).update(
        destroy_after=casenote_destroy_after(session)
    )


def casenote_destroy_expired(*, now: datetime | None = None) -> int:
    """Destroy the text of every note due at ``now``; returns how many were destroyed.

    Each note is claimed with a conditional UPDATE (``destroyed_at`` still NULL) in its own
    transaction together with its audit event: two workers running at once destroy and audit
    each note exactly once, and a crash leaves no note destroyed without its event.
    """
    now = now or timezone.now()
    # The patient descriptor goes with the text: age and gender describe the patient, not the
    # note (the presenter's own early delete clears them too).
    cleared = {
        **dict.fromkeys(CaseNote.ENCRYPTED_FIELDS),
        "patient_age": None,
        "patient_gender": "",
    }
    due = CaseNote.objects.filter(destroyed_at__isnull=True, destroy_after__lte=now)
    destroyed = 0
    for note_id, presentation_id, session_id, program_id in due.order_by("pk").values_list(
        "pk",
        "presentation_id",
        "presentation__session_id",
        "presentation__session__group__program_id",
    ):
        with transaction.atomic():
            claimed = CaseNote.objects.filter(pk=note_id, destroyed_at__isnull=True).update(
                destroyed_at=now, **cleared
            )
            if not claimed:
                continue  # another worker got there first
            audit_record(
                actor=None,
                action=DESTROY_ACTION,
                obj=CaseNote(pk=note_id),
                program_id=program_id,
                data={
                    "reason": "retention",
                    "presentation_id": presentation_id,
                    "session_id": session_id,
                },
            )
        destroyed += 1
    return destroyed
