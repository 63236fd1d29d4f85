"""Writing to the audit trail. Ids and field names travel here, never confidential text."""

from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEvent


def acting_user(actor: Any):
    """The user behind an action, or None for system jobs and anonymous visitors."""
    return actor if getattr(actor, "is_authenticated", False) else None


def audit_event(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    program_id: int | None = None,
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """An unsaved event, for writing many at once with ``AuditEvent.objects.bulk_create``."""
    return AuditEvent(
        actor=acting_user(actor),
        action=action,
        program_id=program_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
        ip_address=ip,
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    program_id: int | None = None,
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. ``actor`` may be None (system jobs) or an anonymous user."""
    event = audit_event(
        actor=actor, action=action, obj=obj, program_id=program_id, data=data, ip=ip
    )
    event.save()
    return event


def audit_list_for(obj: models.Model):
    """Events about one object, newest first, with their actors."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")


def audited_update(
    *, obj: models.Model, actor: Any, action: str, data: dict[str, Any], program_id: int | None
) -> list[str]:
    """Apply ``data`` to ``obj``, validate and save it, and record which fields changed.

    The event names the fields only: the row holds the values. Returns the changed fields
    (nothing is written when there are none).
    """
    changed = sorted(name for name, value in data.items() if getattr(obj, name) != value)
    if not changed:
        return changed
    for name in changed:
        setattr(obj, name, data[name])
    obj.full_clean()
    obj.save()
    audit_record(
        actor=actor, action=action, obj=obj, program_id=program_id, data={"fields": changed}
    )
    return changed


def client_ip(request: Any) -> str | None:
    """The address a request came from (the first X-Forwarded-For hop behind a trusted proxy)."""
    from django.conf import settings

    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None
