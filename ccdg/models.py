"""Core models: the append-only audit trail."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from .audit_chain import GENESIS, canonical_value, chain_digest, chain_document

# The key of the PostgreSQL advisory lock that serialises appends to the chain (any constant
# that no other lock in the database uses).
CHAIN_LOCK = 0x6363_6467_6175_6474  # "ccdgaudt"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def bulk_create(
        self,
        objs: Iterable[AuditEvent],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Collection[str] | None = None,
        unique_fields: Collection[str] | None = None,
    ) -> list[AuditEvent]:
        """Append ``objs`` to the hash chain, in their order: the one way events are written.

        ``save()`` of a new event comes here too, so ``audit_record``, ``objects.create`` and
        ``bulk_create`` of many events are all chained the same way.
        """
        if ignore_conflicts or update_conflicts:
            raise ValueError("Audit events are appended, never merged with existing rows.")
        objs = list(objs)
        if not objs:
            return objs
        for event in objs:
            event.normalise()  # refuse what cannot be stored before touching the database
        using = self._db or router.db_for_write(self.model)  # type: ignore[attr-defined]
        with transaction.atomic(using=using, savepoint=False):
            self._link(objs, using=using)
            return super().bulk_create(objs, batch_size=batch_size)

    def _link(self, objs: list[AuditEvent], *, using: str) -> None:
        connection = connections[using]
        if connection.vendor == "postgresql":
            # Two transactions appending at once must not both read the same head and fork
            # the chain. The lock is held until the transaction ends and other audit writers
            # wait for it meanwhile: a transaction takes its row locks before it writes its
            # events (as the services do), or two of them could wait for each other. SQLite
            # needs no lock: a writer takes the database's write lock when its transaction
            # begins (transaction_mode IMMEDIATE in settings).
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        head = (
            self.model._base_manager.using(using)
            .order_by("-chain_seq")
            .values_list("chain_seq", "chain_hash")
            .first()
        )
        seq, prev = head or (0, GENESIS)
        now = timezone.now()
        for event in objs:
            seq += 1
            event.created_at = now  # the time it joined the trail, not when it was prepared
            event.chain_seq, event.chain_prev = seq, prev
            event.chain_hash = prev = chain_digest(event.chain_document())


AuditEventManager = models.Manager.from_queryset(AuditEventQuerySet)


class AuditEvent(models.Model):
    """Something a person did that someone may later need to account for.

    Rows are written once and never changed: there is no update path in the code, the
    admin shows them read-only, ``save`` refuses to update an existing row, and a database
    trigger refuses UPDATE (and, on PostgreSQL, DELETE) of any row (migration 0003).

    Rows are hash-chained (``ccdg.audit_chain``, migration 0006): each stores its position,
    the previous row's hash and its own, so ``manage.py audit_verify`` finds a row changed,
    removed or inserted by someone who got past the trigger.
    """

    # Set when the event joins the chain (the default only fills unsaved instances).
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # PROTECT, not SET_NULL: clearing the actor would be an UPDATE of the trail (which the
    # trigger refuses) and would erase who did it. A user who appears in the trail cannot be
    # deleted; deactivate the account instead (is_active off).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    program_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    chain_seq = models.BigIntegerField(unique=True, editable=False)
    chain_prev = models.CharField(max_length=64, editable=False)
    chain_hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditEventManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The trail is evidence: an event, once written, is never rewritten.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Audit events are append-only.")
        # A new event joins the chain like every other: through bulk_create.
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        type(self).objects.db_manager(using).bulk_create([self])

    def normalise(self) -> None:
        """Put each value in the form the database will return (an IPv6 address compressed and
        in lower case, a whole-number float as an integer...), so that the hash computed before
        the insert is the one recomputed from the stored row. ValueError for data JSON cannot
        hold."""
        for name in ("actor", "action", "program_id", "object_type", "object_id", "ip_address"):
            # Each name is a concrete field of this model, never a reverse relation.
            field = cast("models.Field[Any, Any]", self._meta.get_field(name))
            setattr(self, field.attname, field.to_python(getattr(self, field.attname)))
        self.data = canonical_value(self.data)

    def chain_document(self) -> dict[str, Any]:
        """The canonical document this row's hash covers (``ccdg.audit_chain``)."""
        return chain_document(
            seq=self.chain_seq,
            prev=self.chain_prev,
            created_at=self.created_at,
            actor_id=self.actor_id,
            action=self.action,
            program_id=self.program_id,
            object_type=self.object_type,
            object_id=self.object_id,
            data=self.data,
            ip_address=self.ip_address,
        )


# --- Uploaded files awaiting confirmation ------------------------------------------------------


class UploadDraftQuerySet(models.QuerySet["UploadDraft"]):
    def abandoned(self, now: datetime) -> UploadDraftQuerySet:
        """Drafts nobody confirmed within :data:`UploadDraft.LIFETIME` of their upload."""
        return self.filter(committed_at__isnull=True, created_at__lt=now - UploadDraft.LIFETIME)


class UploadDraft(models.Model):
    """An uploaded file (a roster or responses CSV) waiting for the coordinator to confirm its
    preview. Its content holds personal data: it is kept only until the draft is committed or
    abandoned (the hourly housekeeping drops drafts nobody confirmed within a day)."""

    LIFETIME = timedelta(days=1)

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    objects = UploadDraftQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"


# The sign-in package's and the outbox's tables live with them; Django finds them here too.
from ccdg.accounts.models import PasswordResetRequest  # noqa: E402
from ccdg.outbox.models import (  # noqa: E402
    OutboxMessage,
    OutboxOptOut,
    ReminderSettings,
    UnsubscribeToken,
)

__all__ = [
    "PasswordResetRequest",
    "UploadDraft",
    "UploadDraftQuerySet",
    "AuditEvent",
    "AuditEventQuerySet",
    "OutboxMessage",
    "OutboxOptOut",
    "ReminderSettings",
    "UnsubscribeToken",
]
