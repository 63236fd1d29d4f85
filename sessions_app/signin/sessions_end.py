"""A change of someone's roles ends that person's other sessions.

A coordinator appointed or removed, a facilitator assigned or taken off a group, staff rights
granted or withdrawn: the person's open sessions (on other devices, or a session left open on a
ward computer) end, so the next page they open is seen with their new rights, after a new
sign-in (and, where the new role needs one, a second factor). The session making the change is
kept when the person changes their own roles.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from ccdg.accounts.sessions import end_other_sessions
from sessions_app.groups.models import FacilitatorAssignment
from sessions_app.programs.models import ProgramRole


def _later(user: Any, reason: str) -> None:
    transaction.on_commit(lambda: end_other_sessions(user, reason=reason))


def _program_role_changed(sender: Any, instance: ProgramRole, **kwargs: Any) -> None:
    if instance.user_id:
        _later(instance.user, f"program role {instance.role}")


def _assignment_changed(sender: Any, instance: FacilitatorAssignment, **kwargs: Any) -> None:
    user = getattr(instance.facilitator, "user", None)
    if user is not None:
        _later(user, "facilitator assignment")


_RIGHTS = ("is_staff", "is_superuser", "is_active")


def _rights_before(sender: Any, instance: Any, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if instance.pk is None or (fields is not None and not set(fields) & set(_RIGHTS)):
        return
    before = sender.objects.filter(pk=instance.pk).values(*_RIGHTS).first()
    if before and any(before[f] != getattr(instance, f) for f in _RIGHTS):
        _later(instance, "staff rights")


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(_program_role_changed, sender=ProgramRole, dispatch_uid="ccdg.role.end")
        signal.connect(
            _assignment_changed, sender=FacilitatorAssignment, dispatch_uid="ccdg.assign.end"
        )
    pre_save.connect(_rights_before, sender=get_user_model(), dispatch_uid="ccdg.rights.end")
