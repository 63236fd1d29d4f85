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
    """The address a request came from, as far as the deployment can vouch for it.

    A client writes what it likes in X-Forwarded-For; each reverse proxy then appends the
    address it was connected from. So with ``TRUSTED_PROXY_COUNT`` proxies in front of the app
    (the nearest one is REMOTE_ADDR), the client is that many entries from the right of the
    header, and everything further left is the client's own claim. With no trusted proxy, or
    when the connection does not come from one of ``TRUSTED_PROXIES``, the header is ignored.
    django-ipware parses the header (ports, IPv6 brackets, malformed entries).
    """
    import ipaddress

    from django.conf import settings
    from ipware import get_client_ip

    remote = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count < 1:
        return remote
    trusted = getattr(settings, "TRUSTED_PROXIES", [])
    if trusted:
        try:
            peer = ipaddress.ip_address(remote or "")
        except ValueError:
            return remote
        peer = getattr(peer, "ipv4_mapped", None) or peer
        networks = [ipaddress.ip_network(n, strict=False) for n in trusted]
        if not any(peer.version == n.version and peer in n for n in networks):
            return remote
    # ipware counts the entries after the client, the nearest proxy not among them.
    ip, _routable = get_client_ip(
        request,
        proxy_count=count - 1,
        request_header_order=("HTTP_X_FORWARDED_FOR",),
        strict=False,
    )
    return ip or remote
