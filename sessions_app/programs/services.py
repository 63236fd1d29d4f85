"""Changing a program's settings (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from ccdg.audit import audit_record, audited_update
from sessions_app.programs.models import Program, ProgramRole

User = get_user_model()


@transaction.atomic
def program_update(*, program: Program, actor: Any, data: dict[str, Any]) -> Program:
    old_k, old_reason = program.small_cell_k, program.small_cell_k_reason
    audited_update(
        obj=program, actor=actor, action="program.update", data=data, program_id=program.pk
    )
    if (program.small_cell_k, program.small_cell_k_reason) != (old_k, old_reason):
        # A threshold is a disclosure decision: its own event, with the old and new values and
        # the reason (program policy, not patient data), so it can be found and reviewed.
        audit_record(
            actor=actor,
            action="program.small_cell_k",
            obj=program,
            program_id=program.pk,
            data={
                "old": old_k,
                "new": program.small_cell_k,
                "old_reason": old_reason,
                "reason": program.small_cell_k_reason,
            },
        )
    return program


@transaction.atomic
def role_grant(*, program: Program, user: Any, role: str, actor: Any) -> ProgramRole:
    """Make ``user`` a coordinator or report viewer of ``program`` (audited; their other
    sessions end: sessions_app/signin/sessions_end.py)."""
    if not user.is_active:
        raise ValidationError(f"{user.get_full_name() or user.username}'s account is deactivated.")
    held, created = ProgramRole.objects.get_or_create(program=program, user=user, role=role)
    if not created:
        raise ValidationError(
            f"{user.get_full_name() or user.username} is already {held.get_role_display().lower()}."
        )
    audit_record(
        actor=actor, action="role.grant", obj=held.user, program_id=program.pk,
        data={"role": role},
    )  # fmt: skip
    return held


@transaction.atomic
def role_revoke(*, held: ProgramRole, actor: Any) -> None:
    """Take a role away (audited; the person's other sessions end). The last coordinator of a
    program stays: someone must be able to run it (site staff can appoint another first)."""
    locked = ProgramRole.objects.select_for_update().filter(
        program_id=held.program_id, role=ProgramRole.Role.COORDINATOR
    )
    if held.role == ProgramRole.Role.COORDINATOR and len(list(locked)) <= 1:
        raise ValidationError(
            "A program needs at least one coordinator: appoint another one before removing "
            "the last."
        )
    audit_record(
        actor=actor, action="role.revoke", obj=held.user, program_id=held.program_id,
        data={"role": held.role},
    )  # fmt: skip
    held.delete()


@transaction.atomic
def program_create(*, data: dict[str, Any], actor: Any, coordinator: Any = None) -> Program:
    """A new program (site staff), audited; ``coordinator`` (a user) becomes its first one."""
    program = Program(**data)
    program.full_clean()
    program.save()
    audit_record(actor=actor, action="program.create", obj=program, program_id=program.pk)
    if coordinator is not None:
        role_grant(program=program, user=coordinator, role=ProgramRole.Role.COORDINATOR,
                   actor=actor)  # fmt: skip
    return program
