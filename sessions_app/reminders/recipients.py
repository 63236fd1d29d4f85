"""Who receives what: members and facilitators of a group, presenters, invited clinicians."""

from __future__ import annotations

from ccdg.models import OutboxMessage
from ccdg.outbox.scan import Recipient
from sessions_app.groups.models import Facilitator, FacilitatorAssignment, GroupMembership
from sessions_app.presenters.models import Presentation
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import FacilitatorAbsence, Session

R = OutboxMessage.Recipient


def _clinician(c: Clinician) -> Recipient:
    return Recipient(R.CLINICIAN, c.pk, c.email)


def _facilitator(f: Facilitator) -> Recipient:
    return Recipient(R.FACILITATOR, f.pk, f.email)


def group_members(group_ids: set[int]) -> dict[int, list[Recipient]]:
    """Current members of each group (an inactive clinician gets nothing)."""
    out: dict[int, list[Recipient]] = {gid: [] for gid in group_ids}
    rows = (
        GroupMembership.objects.current()
        .filter(group_id__in=group_ids)
        .exclude(clinician__status=Clinician.Status.INACTIVE)
        .select_related("clinician")
    )
    for m in rows:
        out[m.group_id].append(_clinician(m.clinician))
    return out


def group_facilitators(group_ids: set[int]) -> dict[int, list[Recipient]]:
    out: dict[int, list[Recipient]] = {gid: [] for gid in group_ids}
    rows = (
        FacilitatorAssignment.objects.current()
        .filter(group_id__in=group_ids, facilitator__active=True)
        .select_related("facilitator")
    )
    for a in rows:
        rec = _facilitator(a.facilitator)
        if rec not in out[a.group_id]:
            out[a.group_id].append(rec)
    return out


def session_people(session: Session) -> list[Recipient]:
    gid = session.group_id
    return group_members({gid})[gid] + group_facilitators({gid})[gid]


def covering_facilitators(session: Session) -> list[Recipient]:
    """The group's facilitators who are not marked absent for the session."""
    absent = set(
        FacilitatorAbsence.objects.filter(session=session).values_list("facilitator_id", flat=True)
    )
    return [
        r for r in group_facilitators({session.group_id})[session.group_id] if r.id not in absent
    ]


def presenter(presentation: Presentation) -> Recipient:
    return _clinician(presentation.clinician)


def invited_clinicians(program_id: int) -> list[Recipient]:
    rows = Clinician.objects.filter(
        program_id=program_id,
        status__in=[Clinician.Status.INVITED, Clinician.Status.ACTIVE],
    )
    return [_clinician(c) for c in rows]
