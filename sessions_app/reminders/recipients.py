"""Who receives what: members and facilitators of a group, presenters, invited clinicians."""

from __future__ import annotations

from ccdg.models import OutboxMessage
from ccdg.outbox.scan import Recipient
from sessions_app.groups.models import FacilitatorAssignment, GroupMembership
from sessions_app.presenters.models import Presentation
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import FacilitatorAbsence, Session

R = OutboxMessage.Recipient


def _clinician(c: Clinician) -> Recipient:
    return Recipient(R.CLINICIAN, c.pk, c.email)


def group_members(group_ids: set[int]) -> dict[int, list[Recipient]]:
    """Current members of each group (an inactive clinician gets nothing)."""
    out: dict[int, list[Recipient]] = {gid: [] for gid in group_ids}
    # Values, not model instances: the forecast asks for every group of a program at once.
    rows = (
        GroupMembership.objects.current()
        .filter(group_id__in=group_ids)
        .exclude(clinician__status=Clinician.Status.INACTIVE)
        .values_list("group_id", "clinician_id", "clinician__email")
    )
    for group_id, clinician_id, email in rows:
        out[group_id].append(Recipient(R.CLINICIAN, clinician_id, email))
    return out


def group_facilitators(group_ids: set[int]) -> dict[int, list[Recipient]]:
    out: dict[int, list[Recipient]] = {gid: [] for gid in group_ids}
    rows = (
        FacilitatorAssignment.objects.current()
        .filter(group_id__in=group_ids, facilitator__active=True)
        .values_list("group_id", "facilitator_id", "facilitator__email")
    )
    for group_id, facilitator_id, email in rows:
        rec = Recipient(R.FACILITATOR, facilitator_id, email)
        if rec not in out[group_id]:
            out[group_id].append(rec)
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
    ).values_list("pk", "email")
    return [Recipient(R.CLINICIAN, pk, email) for pk, email in rows]
