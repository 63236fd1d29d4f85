"""Writing to the audit trail. Ids and field names travel here, never confidential text."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from django.db import models
from django.db.models import QuerySet

from .audit_chain import ChainReport, ChainRow, chain_document, chain_walk, head_check
from .models import AuditEvent

logger = logging.getLogger(__name__)

CHECKPOINT_ACTION = "audit.checkpoint"


def acting_user(actor: Any) -> Any:
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
    """An unsaved event, for writing many at once with ``AuditEvent.objects.bulk_create``
    (which appends them to the hash chain in their order)."""
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


def audit_list_for(obj: models.Model) -> QuerySet[AuditEvent]:
    """Events about one object, newest first, with their actors."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")


# --- The hash chain (ccdg.audit_chain) ---------------------------------------------------------

CHAIN_COLUMNS = (
    "id", "chain_seq", "chain_prev", "chain_hash", "created_at", "actor_id", "action",
    "program_id", "object_type", "object_id", "data", "ip_address",
)  # fmt: skip


def _chain_row(values: tuple[Any, ...]) -> ChainRow:
    pk, seq, prev, digest, created_at, actor_id, action, program_id, *rest = values
    object_type, object_id, data, ip_address = rest
    document = chain_document(
        seq=seq,
        prev=prev,
        created_at=created_at,
        actor_id=actor_id,
        action=action,
        program_id=program_id,
        object_type=object_type,
        object_id=object_id,
        data=data,
        ip_address=ip_address,
    )
    return ChainRow(id=pk, seq=seq, prev=prev, hash=digest, document=document)


def audit_chain_verify(*, head_hash: str | None = None, head_id: int | None = None) -> ChainReport:
    """Walk the whole trail in chain order and report the first broken or missing link.

    With ``head_hash`` (and ``head_id``), a head recorded earlier outside the database (the
    daily checkpoint's log line) must still be in the chain: that is what shows events removed
    from the end. One query streams the rows; a second looks a hash up when a link is wrong.
    """
    events = AuditEvent._base_manager.order_by("chain_seq", "id").values_list(*CHAIN_COLUMNS)

    def find_hash(digest: str) -> ChainRow | None:
        found = events.filter(chain_hash=digest).first()
        return _chain_row(found) if found else None

    def find_id(pk: int) -> ChainRow | None:
        found = events.filter(pk=pk).first()
        return _chain_row(found) if found else None

    rows = (_chain_row(values) for values in events.iterator(chunk_size=2000))
    report = chain_walk(rows, find_hash=find_hash)
    if report.ok and head_hash is not None:
        problem = head_check(
            report, head_hash=head_hash, head_id=head_id, find_hash=find_hash, find_id=find_id
        )
        report = replace(report, problem=problem)
    return report


def audit_chain_head() -> AuditEvent | None:
    """The last event of the chain (its hash stands for the whole trail up to it)."""
    return AuditEvent.objects.order_by("-chain_seq").first()


def audit_last_checkpoint() -> AuditEvent | None:
    return AuditEvent.objects.filter(action=CHECKPOINT_ACTION).order_by("-chain_seq").first()


def audit_checkpoint() -> AuditEvent:
    """Verify the chain, append the result as an event, and log the new head.

    The log line (``audit chain head id=... hash=... count=...``) is the copy of the head
    kept outside the database: ``manage.py audit_verify --head-id ID --head HASH`` later shows
    whether anything up to it was changed or removed. ``count`` is the head's position in the
    chain, the number of events written so far.
    """
    report = audit_chain_verify()
    problem = report.problem
    event = audit_record(
        actor=None,
        action=CHECKPOINT_ACTION,
        data={
            "verified": report.ok,
            "checked": report.checked,
            "problem": None
            if problem is None
            else {"kind": problem.kind, "row_id": problem.row_id, "seq": problem.seq},
        },
    )
    logger.info(
        "audit chain head id=%s hash=%s count=%s", event.pk, event.chain_hash, event.chain_seq
    )
    if problem is not None:
        logger.error(
            "audit chain broken at %s; run manage.py audit_verify for details", problem.summary()
        )
    return event


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
