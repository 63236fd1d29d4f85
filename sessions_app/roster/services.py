"""Writes for the roster: clinicians, roster imports and invitations. Small, keyword-only,
typed functions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ccdg.audit import acting_user, audit_event, audit_record, audited_update
from ccdg.models import AuditEvent
from sessions_app.groups import history
from sessions_app.groups.models import Facilitator, GroupMembership
from sessions_app.programs.models import Program
from sessions_app.roster.csv_format import RosterReport, roster_csv_parse
from sessions_app.roster.models import CLINICIAN_FIELDS, Clinician, Invitation, RosterImport

User = get_user_model()


class RosterImportError(Exception):
    """The import was refused; ``report`` says why, row by row."""

    def __init__(self, report: RosterReport):
        super().__init__("The roster file has problems; nothing was imported.")
        self.report = report


@transaction.atomic
def clinician_create(*, program: Program, actor: Any, data: dict[str, Any]) -> Clinician:
    clinician = Clinician(program=program, **{k: data[k] for k in CLINICIAN_FIELDS if k in data})
    clinician.email = clinician.email.strip().lower()
    clinician.full_clean()
    clinician.save()
    audit_record(
        actor=actor,
        action="clinician.create",
        obj=clinician,
        program_id=program.pk,
        data={"fields": sorted(k for k in data if k in CLINICIAN_FIELDS)},
    )
    return clinician


@transaction.atomic
def clinician_update(*, clinician: Clinician, actor: Any, data: dict[str, Any]) -> Clinician:
    data = {k: v for k, v in data.items() if k in CLINICIAN_FIELDS}
    if "email" in data:
        data["email"] = data["email"].strip().lower()
    audited_update(
        obj=clinician,
        actor=actor,
        action="clinician.update",
        data=data,
        program_id=clinician.program_id,
    )
    return clinician


@transaction.atomic
def clinician_deactivate(*, clinician: Clinician, actor: Any, reason: str = "") -> Clinician:
    """Take a clinician off the active roster. Nothing is deleted; group history is kept."""
    if clinician.status == Clinician.Status.INACTIVE:
        return clinician
    previous = clinician.status
    clinician.status = Clinician.Status.INACTIVE
    clinician.save(update_fields=["status", "updated_at"])
    # The membership ends today in the program's time zone, or tomorrow if the group already
    # met today: that session keeps the member it had.
    current = GroupMembership.objects.current().filter(clinician=clinician)
    program = clinician.program
    met = history.groups_met_today(program=program)
    for membership in current:
        membership.left_on = history.change_day(
            program=program,
            group_ids=[membership.group_id],
            met=met,
            current_since=membership.joined_on,
        )
        membership.save(update_fields=["left_on"])
    Invitation.objects.filter(
        clinician=clinician, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    audit_record(
        actor=actor,
        action="clinician.deactivate",
        obj=clinician,
        program_id=clinician.program_id,
        data={"from": previous, "reason": reason[:200]},
    )
    return clinician


@transaction.atomic
def clinician_reactivate(*, clinician: Clinician, actor: Any) -> Clinician:
    if clinician.status != Clinician.Status.INACTIVE:
        return clinician
    clinician.status = Clinician.Status.ACTIVE if clinician.user_id else Clinician.Status.ELIGIBLE
    clinician.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="clinician.reactivate",
        obj=clinician,
        program_id=clinician.program_id,
        data={"to": clinician.status},
    )
    return clinician


# --- Roster import ----------------------------------------------------------------------------


def roster_import_upload(
    *, program: Program, actor: Any, filename: str, content: bytes
) -> tuple[RosterImport | None, RosterReport]:
    """Check an uploaded file. A file that can be previewed is kept as a draft to confirm."""
    report = roster_csv_parse(program=program, content=content)
    if report.file_errors:
        return None, report
    draft = RosterImport.objects.create(
        program=program,
        uploaded_by=acting_user(actor),
        filename=filename[:255],
        content=content,
        summary=report.summary(),
    )
    return draft, report


def roster_import_commit(*, program: Program, actor: Any, content: bytes) -> RosterReport:
    """Import a roster file: every row, or nothing. Idempotent on email.

    Raises RosterImportError with the full report when any row has a problem, including one
    that appeared since the preview (a clinician added meanwhile with the same email).
    """
    try:
        with transaction.atomic():
            report = roster_csv_parse(program=program, content=content)
            if not report.ok:
                raise RosterImportError(report)
            new, events = [], []
            for row in report.rows:
                if row.action == "create":
                    values = {k: v for k, v in row.values.items() if v is not None}
                    new.append(Clinician(program=program, **values))
                elif row.action == "update":
                    clinician = row.current
                    for name in row.changes:
                        setattr(clinician, name, row.values[name])
                    clinician.save()
                    events.append(
                        audit_event(
                            actor=actor,
                            action="clinician.update",
                            obj=clinician,
                            program_id=program.pk,
                            data={"fields": row.changes, "via": "import"},
                        )
                    )
            events += [
                audit_event(
                    actor=actor,
                    action="clinician.create",
                    obj=clinician,
                    program_id=program.pk,
                    data={"via": "import"},
                )
                for clinician in Clinician.objects.bulk_create(new)
            ]
            AuditEvent.objects.bulk_create(events)
            audit_record(
                actor=actor,
                action="roster.import",
                program_id=program.pk,
                data=report.summary(),
            )
    except IntegrityError:
        # Someone added the same email between our check and our insert.
        report = roster_csv_parse(program=program, content=content)
        report.file_errors.append(
            "The roster changed while importing (a clinician with one of these emails was "
            "added meanwhile). Nothing was imported; check the preview again."
        )
        raise RosterImportError(report) from None
    return report


def roster_import_confirm(*, draft: RosterImport, actor: Any) -> RosterReport:
    """Commit a previewed draft and drop its content (the data now lives on the roster)."""
    if draft.committed_at is not None:
        raise ValidationError("This file was already imported.")
    report = roster_import_commit(program=draft.program, actor=actor, content=bytes(draft.content))
    draft.committed_at = timezone.now()
    draft.content = None
    draft.summary = report.summary()
    draft.save(update_fields=["committed_at", "content", "summary"])
    return report


# --- Invitations -------------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """The secret in an invitation link, derived from the row and SECRET_KEY.

    Derived rather than stored, so the send task can take the invitation's id alone and the
    database holds only a hash.
    """
    digest = salted_hmac(
        "ccdg.invitation",
        f"{invitation.pk}:{invitation.created_at.isoformat()}",
        algorithm="sha256",
    ).hexdigest()
    return f"{invitation.pk}-{digest[:40]}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_create(*, actor: Any, **person: Any) -> Invitation:
    """A new invitation for ``clinician=`` or ``facilitator=``; their earlier open ones stop
    working; the e-mail goes out once the transaction commits."""
    now = timezone.now()
    earlier = {k: v for k, v in person.items() if k in ("clinician", "facilitator", "program")}
    if "invitee_email" in person:
        earlier["invitee_email"] = person["invitee_email"]
    Invitation.objects.filter(**earlier, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    invitation = Invitation.objects.create(
        **person,
        created_by=acting_user(actor),
        expires_at=now + timedelta(days=settings.INVITATION_DAYS),
        # Placeholder until the row has the id and time the token derives from; random so
        # that two invitations created at once do not collide on the unique index.
        token_hash=secrets.token_hex(32),
    )
    invitation.token_hash = _token_hash(invitation_token(invitation))
    invitation.save(update_fields=["token_hash"])
    from sessions_app.roster.tasks import task_invitation_send

    transaction.on_commit(lambda: task_invitation_send.delay(invitation.pk))
    return invitation


@transaction.atomic
def clinician_invite(*, clinician: Clinician, actor: Any) -> Invitation:
    """Invite a clinician to create their account. Earlier open invitations stop working."""
    if clinician.status == Clinician.Status.INACTIVE:
        raise ValidationError(f"{clinician.full_name} is inactive; reactivate them first.")
    if clinician.user_id:
        raise ValidationError(f"{clinician.full_name} already has an account.")
    invitation = _invitation_create(actor=actor, clinician=clinician)
    if clinician.status == Clinician.Status.ELIGIBLE:
        clinician.status = Clinician.Status.INVITED
        clinician.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="clinician.invite",
        obj=clinician,
        program_id=clinician.program_id,
        data={"invitation": invitation.pk},
    )
    return invitation


@transaction.atomic
def facilitator_invite(*, facilitator: Facilitator, actor: Any) -> Invitation:
    """Invite a facilitator of the pool to create their account (for one on the roster, the
    invitation goes to their roster entry: one account for both)."""
    if facilitator.user_id:
        raise ValidationError(f"{facilitator.name} already has an account.")
    if not facilitator.active:
        raise ValidationError(f"{facilitator.name} is not available this year.")
    if facilitator.clinician_id:
        return clinician_invite(clinician=facilitator.clinician, actor=actor)
    invitation = _invitation_create(actor=actor, facilitator=facilitator)
    audit_record(
        actor=actor,
        action="facilitator.invite",
        obj=facilitator,
        program_id=facilitator.program_id,
        data={"invitation": invitation.pk},
    )
    return invitation


@transaction.atomic
def role_invite(*, program: Any, name: str, email: str, role: str, actor: Any) -> Invitation:
    """Invite someone with no entry in the program (no roster or facilitator entry) to take a
    role in it (coordinator, report viewer): the account they make holds it. Earlier open
    invitations of the same address to this program stop working."""
    from sessions_app.programs.models import ProgramRole

    if role not in ProgramRole.Role.values:
        raise ValidationError(f"Unknown role {role!r}.")
    address = email.strip().lower()
    invitation = _invitation_create(
        actor=actor, program=program, invitee_email=address, role=role,
        invitee_name=name.strip(),
    )  # fmt: skip
    audit_record(
        actor=actor, action="role.invite", program_id=program.pk,
        data={"invitation": invitation.pk, "role": role},
    )  # fmt: skip
    return invitation


def invitation_send(*, invitation: Invitation) -> None:
    """Email the invitation link."""
    link = settings.BASE_URL + reverse(
        "sessions_app:invitation_accept", kwargs={"token": invitation_token(invitation)}
    )
    program = invitation.in_program
    context = {
        "name": invitation.greeting_name,
        "facilitator": invitation.facilitator_id is not None,
        "role": invitation.get_role_display_text(),
        "program": program,
        "link": link,
        "expires_at": invitation.expires_at,
    }
    message = EmailMultiAlternatives(
        subject=f"Invitation: {program.name}",
        body=render_to_string("emails/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    message.send()


def invitation_get_valid(*, token: str) -> Invitation | None:
    """The open invitation for this token, or None (unknown, used, revoked or expired alike)."""
    invitation = (
        Invitation.objects.select_related("clinician__program", "facilitator__program", "program")
        .filter(token_hash=_token_hash(token), used_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now():
        return None
    return invitation


def _link_account(user: Any, clinicians: list[Clinician], facilitators: Any) -> list[int]:
    """Make ``user`` the account of these roster entries (now active) and of the facilitator
    entries among ``facilitators`` that have none; the ids of those facilitators."""
    for clinician in clinicians:
        clinician.user = user
        if clinician.status in (Clinician.Status.ELIGIBLE, Clinician.Status.INVITED):
            clinician.status = Clinician.Status.ACTIVE
        clinician.save(update_fields=["user", "status", "updated_at"])
    # A facilitator who is also on the roster signs in with the same account: without the link
    # the groups they lead or back up would not be theirs in the app.
    linked = list(facilitators.filter(user__isnull=True).values_list("pk", flat=True))
    Facilitator.objects.filter(pk__in=linked).update(user=user)
    return linked


def _free_username(email: str) -> str:
    """A username from the address's local part, numbered when taken."""
    base = "".join(c for c in email.split("@")[0].lower() if c.isalnum() or c in "._-")[:140]
    base = base or "user"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


@transaction.atomic
def account_for_verified_email(*, email: str, provider: str) -> Any | None:
    """The account of the person whose address ``email`` is, as an identity provider vouched
    for it at single sign-on; None when the site does not know them.

    An active account with this address is theirs (it must be the only one). Otherwise, a
    roster or facilitator entry with this address (not deactivated) gets a new account, without
    a password, linked like an accepted invitation; their open invitations are closed. No role
    comes with it: roles are given by coordinators and staff only."""
    address = email.strip()
    accounts = list(User.objects.filter(email__iexact=address)[:2])
    if accounts:
        only = accounts[0]
        return only if len(accounts) == 1 and only.is_active else None
    clinicians = list(
        Clinician.objects.select_for_update()
        .filter(email__iexact=address, user__isnull=True)
        .exclude(status=Clinician.Status.INACTIVE)
    )
    facilitators = Facilitator.objects.filter(email__iexact=address, user__isnull=True)
    if not clinicians and not facilitators.exists():
        return None
    source = clinicians[0] if clinicians else facilitators.first()
    first, last = (
        (source.first_name, source.last_name)
        if isinstance(source, Clinician)
        else (source.name.partition(" ")[0], source.name.partition(" ")[2])
    )
    user = User.objects.create_user(
        username=_free_username(address), email=source.email, password=None,
        first_name=first, last_name=last,
    )  # fmt: skip
    linked = _link_account(
        user, clinicians, Facilitator.objects.filter(email__iexact=address)
        | Facilitator.objects.filter(clinician__in=clinicians)
    )  # fmt: skip
    Invitation.objects.filter(
        Q(clinician__in=clinicians) | Q(facilitator__in=linked),
        used_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=timezone.now())
    audit_record(
        actor=user,
        action="account.created_at_sso",
        obj=user,
        data={"provider": provider, "clinicians": [c.pk for c in clinicians],
              "facilitators": linked},
    )  # fmt: skip
    return user


@transaction.atomic
def invitation_accept(*, invitation: Invitation, username: str, password: str) -> Any:
    """Create the invited person's account (a clinician's, or a facilitator's not on the
    roster). The invitation cannot be used again."""
    # Claim the invitation first: two tabs submitting at once create one account.
    claimed = Invitation.objects.filter(
        pk=invitation.pk,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).update(used_at=timezone.now())
    if claimed != 1:
        raise ValidationError("This invitation link is no longer valid.")
    user = User.objects.create_user(
        username=username,
        email=invitation.email,
        password=password,
        first_name=invitation.first_name,
        last_name=invitation.last_name,
    )
    if invitation.clinician_id is not None:
        clinician = Clinician.objects.select_for_update().get(pk=invitation.clinician_id)
        entry: Any = clinician
        facilitators = _link_account(
            user, [clinician], Facilitator.objects.filter(clinician=clinician)
        )
    elif invitation.facilitator_id is not None:
        entry = invitation.facilitator
        facilitators = _link_account(user, [], Facilitator.objects.filter(pk=entry.pk))
    else:
        from sessions_app.programs.models import ProgramRole

        ProgramRole.objects.get_or_create(
            program=invitation.program, user=user, role=invitation.role
        )
        audit_record(
            actor=user, action="invitation.accept", obj=user,
            program_id=invitation.program_id,
            data={"invitation": invitation.pk, "role": invitation.role},
        )  # fmt: skip
        return user
    data: dict[str, Any] = {"invitation": invitation.pk}
    if facilitators:
        data["facilitators"] = facilitators
    audit_record(
        actor=user,
        action="invitation.accept",
        obj=entry,
        program_id=entry.program_id,
        data=data,
    )
    return user
