"""Changing a program's settings (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from ccdg.audit import audit_record, audited_update
from sessions_app.programs.models import Program

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
