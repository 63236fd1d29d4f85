"""Presenter volunteering and invitations, RSVPs and recording attendance: keyword-only writes.
The reads and figures are in :mod:`sessions_app.presenters.selectors`.

Rules from the program (see docs/presenters-and-attendance.md):

* a session has ``presenter_slots`` slots; the first volunteers hold them, later ones wait in
  line (first come, first served) and a withdrawal promotes the first in line;
* volunteering closes ``program.volunteer_close_days`` days before the session; invitations
  from the coordinator or the lead facilitator may still be made and accepted until it starts;
* "attended" means present, or present as a guest in another group; a session is "held" once
  it has started and was not cancelled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ccdg import phi
from ccdg.audit import audit_record
from ccdg.notifications import notify
from sessions_app import roles
from sessions_app.presenters.models import Attendance, Presentation, Rsvp
from sessions_app.presenters.selectors import (
    MEMBER_STATUSES,
    OPEN,
    _now,
    attendance_members,
    is_member,
    volunteer_closes_at,
)
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import Session

TITLE_MAX = 120


def _when(session: Session) -> str:
    return f"{session.group.program.local(session.starts_at):%a %b %-d, %Y}"


# Who may ask someone to present (or withdraw them) is decided in sessions_app.roles.
can_invite = roles.can_ask_to_present


def _check_open_for_presenters(session: Session, now: datetime) -> None:
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(f"The session on {_when(session)} is cancelled.")
    if session.starts_at <= now:
        raise ValidationError(f"The session on {_when(session)} has already taken place.")


def _check_title(working_title: str) -> str:
    working_title = (working_title or "").strip()
    if len(working_title) > TITLE_MAX:
        raise ValidationError(
            f"Keep the working title to {TITLE_MAX} characters (it has {len(working_title)})."
        )
    found = phi.scan(working_title)
    if found:
        raise ValidationError(
            [
                f"The working title must not identify the patient: “{f.text}”. {f.reason}"
                for f in found
            ]
            + [phi.RULE]
        )
    return working_title


def _free_slot(session: Session) -> int | None:
    taken = set(
        Presentation.objects.filter(
            session=session, status=Presentation.Status.CONFIRMED
        ).values_list("slot", flat=True)
    )
    for slot in range(1, session.presenter_slots + 1):
        if slot not in taken:
            return slot
    return None


def _lock(session: Session) -> Session:
    """Lock the session row: whoever holds it decides the slots, one after the other.

    Two volunteers racing for the last slot both wait here; the second sees the slot taken.
    (SQLite ignores the lock but serialises writers; the unique constraint on (session, slot)
    for confirmed presenters is the backstop on any database.)
    """
    return Session.objects.select_for_update().select_related("group__program").get(pk=session.pk)


def _take_slot_or_wait(presentation: Presentation, session: Session) -> None:
    """Save ``presentation`` confirmed in the first free slot, else on the waitlist."""
    slot = _free_slot(session)
    if slot is not None:
        presentation.status = Presentation.Status.CONFIRMED
        presentation.slot = slot
        try:
            with transaction.atomic():
                presentation.save()
            return
        except IntegrityError:
            # Someone else took the slot after all (no row lock on this database): wait in line.
            # The duplicate-person constraint may also have fired: the caller tells them apart.
            pass
    presentation.status = Presentation.Status.WAITLISTED
    presentation.slot = None
    presentation.save()


# --- Volunteering -----------------------------------------------------------------------------


def presenter_volunteer(
    *,
    session: Session,
    clinician: Clinician,
    working_title: str = "",
    actor: Any,
    now: datetime | None = None,
) -> Presentation:
    """Volunteer ``clinician`` to present at ``session``: a free slot, or the waitlist."""
    now = _now(now)
    title = _check_title(working_title)
    if not is_member(clinician, session.group_id):
        raise ValidationError(
            f"You can volunteer only for sessions of your own group; this session is "
            f"{session.group.name}'s."
        )
    _check_open_for_presenters(session, now)
    closes = volunteer_closes_at(session)
    if now >= closes:
        raise ValidationError(
            f"Volunteering for the session on {_when(session)} closed on "
            f"{session.group.program.local(closes):%a %b %-d} "
            f"({session.group.program.volunteer_close_days} days before). Ask the coordinator "
            "or your facilitator if you would like to present."
        )
    with transaction.atomic():
        session = _lock(session)
        existing = (
            Presentation.objects.filter(session=session, clinician=clinician, status__in=OPEN)
            .only("status")
            .first()
        )
        if existing is not None:
            raise ValidationError(_already_message(existing))
        presentation = Presentation(session=session, clinician=clinician, working_title=title)
        try:
            with transaction.atomic():
                _take_slot_or_wait(presentation, session)
        except IntegrityError:
            # Only the one-open-per-person constraint is left: a double submission.
            raise ValidationError("You already volunteered for this session.") from None
        audit_record(
            actor=actor,
            action="presenter.volunteer",
            obj=presentation,
            program_id=session.group.program_id,
            data={"status": presentation.status},
        )
    return presentation


def _already_message(existing: Presentation) -> str:
    if existing.status == Presentation.Status.INVITED:
        return "You have been asked to present at this session: accept or decline the invitation."
    if existing.status == Presentation.Status.WAITLISTED:
        return "You already volunteered for this session and are on the waitlist."
    return "You already volunteered for this session and are presenting."


def presenter_withdraw(
    *, presentation: Presentation, actor: Any, now: datetime | None = None
) -> Presentation:
    """Withdraw a presenter (or someone waiting). A freed slot goes to the first in line."""
    now = _now(now)
    session = presentation.session
    _check_open_for_presenters(session, now)
    with transaction.atomic():
        session = _lock(session)
        presentation = Presentation.objects.select_for_update().get(pk=presentation.pk)
        if presentation.status not in (
            Presentation.Status.CONFIRMED,
            Presentation.Status.WAITLISTED,
        ):
            raise ValidationError("Only a presenter or someone on the waitlist can withdraw.")
        freed = presentation.slot if presentation.status == Presentation.Status.CONFIRMED else None
        presentation.status = Presentation.Status.WITHDRAWN
        presentation.slot = None
        presentation.save(update_fields=["status", "slot", "updated_at"])
        audit_record(
            actor=actor,
            action="presenter.withdraw",
            obj=presentation,
            program_id=session.group.program_id,
        )
        if freed is not None:
            _promote(session, freed)
    return presentation


def _promote(session: Session, slot: int) -> Presentation | None:
    nxt = (
        Presentation.objects.select_for_update()
        .filter(session=session, status=Presentation.Status.WAITLISTED)
        .order_by("created_at", "id")
        .first()
    )
    if nxt is None:
        return None
    nxt.status = Presentation.Status.CONFIRMED
    nxt.slot = slot
    nxt.save(update_fields=["status", "slot", "updated_at"])
    audit_record(
        actor=None, action="presenter.promote", obj=nxt, program_id=session.group.program_id
    )
    notify("presenter.promoted", program_id=session.group.program_id, presentation_id=nxt.pk)
    return nxt


# --- Invitations ------------------------------------------------------------------------------


def presenter_invite(
    *, session: Session, clinician: Clinician, actor: Any, now: datetime | None = None
) -> Presentation:
    """The coordinator or lead facilitator asks a member of the group to present."""
    now = _now(now)
    if not is_member(clinician, session.group_id):
        raise ValidationError(f"{clinician.full_name} is not a member of {session.group.name}.")
    _check_open_for_presenters(session, now)
    with transaction.atomic():
        session = _lock(session)
        existing = Presentation.objects.filter(
            session=session, clinician=clinician, status__in=OPEN
        ).first()
        if existing is not None:
            raise ValidationError(
                f"{clinician.full_name} is already {existing.get_status_display().lower()} "
                "for this session."
            )
        presentation = Presentation.objects.create(
            session=session,
            clinician=clinician,
            status=Presentation.Status.INVITED,
            invited_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="presenter.invite",
            obj=presentation,
            program_id=session.group.program_id,
        )
        notify(
            "presenter.invited",
            program_id=session.group.program_id,
            presentation_id=presentation.pk,
        )
    return presentation


def _answerable(presentation: Presentation, now: datetime) -> None:
    if presentation.status != Presentation.Status.INVITED:
        raise ValidationError("This invitation has already been answered.")
    _check_open_for_presenters(presentation.session, now)


def presenter_accept(
    *,
    presentation: Presentation,
    actor: Any,
    working_title: str = "",
    now: datetime | None = None,
) -> Presentation:
    """Accept an invitation: a free slot makes them a presenter, else they join the waitlist
    (at the back: the line is ordered by when people joined it)."""
    now = _now(now)
    title = _check_title(working_title)
    _answerable(presentation, now)
    with transaction.atomic():
        session = _lock(presentation.session)
        presentation = Presentation.objects.select_for_update().get(pk=presentation.pk)
        _answerable(presentation, now)
        if title:
            presentation.working_title = title
        _take_slot_or_wait(presentation, session)
        if presentation.status == Presentation.Status.WAITLISTED:
            # Joining the line now, not when the invitation was sent.
            Presentation.objects.filter(pk=presentation.pk).update(created_at=now)
            presentation.created_at = now
        audit_record(
            actor=actor,
            action="presenter.accept",
            obj=presentation,
            program_id=session.group.program_id,
            data={"status": presentation.status},
        )
    return presentation


def presenter_decline(
    *, presentation: Presentation, actor: Any, now: datetime | None = None
) -> Presentation:
    now = _now(now)
    _answerable(presentation, now)
    with transaction.atomic():
        presentation = Presentation.objects.select_for_update().get(pk=presentation.pk)
        _answerable(presentation, now)
        presentation.status = Presentation.Status.DECLINED
        presentation.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="presenter.decline",
            obj=presentation,
            program_id=presentation.session.group.program_id,
        )
    return presentation


# --- RSVP -------------------------------------------------------------------------------------


def rsvp_set(
    *,
    session: Session,
    clinician: Clinician,
    answer: str,
    actor: Any,
    now: datetime | None = None,
) -> Rsvp:
    now = _now(now)
    if answer not in Rsvp.Answer.values:
        raise ValidationError("Answer “going” or “cannot make it”.")
    if not is_member(clinician, session.group_id):
        raise ValidationError(
            f"You can answer only for sessions of your own group; this session is "
            f"{session.group.name}'s."
        )
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(f"The session on {_when(session)} is cancelled.")
    if session.starts_at <= now:
        raise ValidationError(f"The session on {_when(session)} has already started.")
    with transaction.atomic():
        rsvp, _ = Rsvp.objects.update_or_create(
            session=session, clinician=clinician, defaults={"answer": answer}
        )
        audit_record(
            actor=actor,
            action="rsvp.set",
            obj=rsvp,
            program_id=session.group.program_id,
            data={"answer": answer},
        )
    return rsvp


def attendance_record(
    *,
    session: Session,
    statuses: dict[int, str],
    guest_ids: list[int],
    actor: Any,
    now: datetime | None = None,
) -> int:
    """Record the whole group's attendance in one go: ``statuses`` maps member ids to present,
    absent or excused; ``guest_ids`` are the guests from other groups (replacing earlier ones).
    Returns how many people were recorded."""
    now = _now(now)
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(f"The session on {_when(session)} was cancelled.")
    if session.starts_at > now:
        raise ValidationError(
            f"Attendance can be recorded once the session has started ({_when(session)})."
        )
    members = {c.pk for c in attendance_members(session=session)}
    problems = []
    unknown = set(statuses) - members
    if unknown:
        problems.append(
            "Only the group's members on the day of the session can be marked present, absent "
            "or excused; mark anyone else who came as a guest."
        )
    if any(s not in MEMBER_STATUSES for s in statuses.values()):
        problems.append("Mark each member present, absent or excused.")
    guests = set(guest_ids)
    if guests & members:
        problems.append("A member of the group cannot also be a guest.")
    valid_guests = set(
        Clinician.objects.filter(pk__in=guests, program_id=session.group.program_id).values_list(
            "pk", flat=True
        )
    )
    if guests - valid_guests:
        problems.append("Guests must be clinicians of the same program.")
    if problems:
        raise ValidationError(problems)
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        existing = {a.clinician_id: a for a in Attendance.objects.filter(session=session)}
        wanted = {**statuses, **{g: Attendance.Status.GUEST for g in guests}}
        # Guests no longer ticked go, and so do rows of anyone who was not a member that day
        # (made before the sheet followed membership history): they are not on the sheet.
        Attendance.objects.filter(session=session).exclude(
            clinician_id__in=guests | members
        ).delete()
        Attendance.objects.filter(session=session, status=Attendance.Status.GUEST).exclude(
            clinician_id__in=guests
        ).delete()
        new, changed = [], []
        for clinician_id, status in wanted.items():
            row = existing.get(clinician_id)
            if row is None:
                new.append(
                    Attendance(
                        session=session, clinician_id=clinician_id, status=status, recorded_by=user
                    )
                )
            elif row.status != status:
                row.status = status
                row.recorded_by = user
                row.updated_at = now
                changed.append(row)
        Attendance.objects.bulk_create(new)
        Attendance.objects.bulk_update(changed, ["status", "recorded_by", "updated_at"])
        audit_record(
            actor=actor,
            action="attendance.record",
            obj=session,
            program_id=session.group.program_id,
            data={"recorded": len(wanted), "guests": len(guests)},
        )
    return len(wanted)


def attendance_clear(*, session: Session, actor: Any) -> int:
    """Remove a session's whole attendance sheet (recorded by mistake, or the session did not
    take place). Returns how many rows were removed; audited with the count only."""
    with transaction.atomic():
        removed, _ = Attendance.objects.filter(session=session).delete()
        audit_record(
            actor=actor,
            action="attendance.clear",
            obj=session,
            program_id=session.group.program_id,
            data={"removed": removed},
        )
    return removed
