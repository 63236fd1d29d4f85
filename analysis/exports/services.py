"""Exports: what can be exported, who may, and the one code path that builds and records it.

Every export is a registered :class:`ExportKind` whose ``build`` function turns a program and
a few parameters (ids and options, never content) into an :class:`ExportFile`. Small exports
are built in the request (:func:`export_now`); large ones (``background=True``) become an
:class:`~analysis.exports.models.ExportJob` built by a Celery task with progress, downloadable
through a link that expires. Either way each export is written to the audit trail: who, what
(kind and parameters), when, and each download of a background file too.

Rules every builder keeps (and ``tests/analysis/exports/test_privacy.py`` checks): case-note
text never appears; free text that the identifier guard would refuse is withheld; an empty
program, a wave without responses or a person without attendance gives a document that says
so, never an empty file.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from analysis.exports.models import ExportJob
from ccdg.audit import audit_record
from sessions_app import roles

logger = logging.getLogger(__name__)
Status = ExportJob.Status

# progress(fraction 0..1, step name)
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ExportKind:
    """One kind of export.

    ``params`` names the parameters the builder accepts (validated by ``clean_params``, which
    raises ``ValidationError`` and returns the cleaned dict); ``perm`` is the permission of
    :mod:`sessions_app.roles` needed in the program.
    """

    key: str
    label: str
    description: str
    build: Callable[..., ExportFile]
    perm: str = "reports.view"
    background: bool = False
    group: str = "Program"
    clean_params: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None
    formats: tuple[str, ...] = field(default_factory=tuple)


REGISTRY: dict[str, ExportKind] = {}

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def register(kind: ExportKind) -> ExportKind:
    if kind.key in REGISTRY and REGISTRY[kind.key] is not kind:
        raise ValueError(f"Export kind {kind.key!r} is registered twice")
    REGISTRY[kind.key] = kind
    return kind


def kind_get(key: str) -> ExportKind:
    _load_builders()
    try:
        return REGISTRY[key]
    except KeyError:
        raise ValidationError(f"Unknown export “{key}”.") from None


def kinds_for(user: Any, program: Any) -> list[ExportKind]:
    """The exports ``user`` may make in ``program``, in registration order."""
    _load_builders()
    return [k for k in REGISTRY.values() if roles.can(user, k.perm, program)]


def _load_builders() -> None:
    """Import the modules that register builders (once; import is cached)."""
    for module in getattr(settings, "CCDG_EXPORT_MODULES", DEFAULT_MODULES):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


DEFAULT_MODULES = (
    "analysis.exports.tables",
    "analysis.exports.survey",
    "analysis.exports.pdf",
    "analysis.exports.series",
)


def safe_filename(*parts: str, ext: str) -> str:
    stem = "-".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-").lower() for p in parts if p)
    return f"{stem or 'export'}.{ext}"


def _check(user: Any, program: Any, kind: ExportKind) -> None:
    if not roles.can(user, kind.perm, program):
        raise PermissionDenied("You may not make this export.")


def _params(kind: ExportKind, program: Any, params: dict[str, Any] | None) -> dict[str, Any]:
    params = dict(params or {})
    return kind.clean_params(program, params) if kind.clean_params else {}


def export_now(
    *, program: Any, key: str, params: dict[str, Any] | None, actor: Any, ip: str | None = None
) -> ExportFile:
    """Build a small export in the request; recorded in the audit trail."""
    kind = kind_get(key)
    _check(actor, program, kind)
    params = _params(kind, program, params)
    result = kind.build(program=program, params=params, progress=None)
    audit_record(
        actor=actor, action="export.download", program_id=program.pk, ip=ip,
        data={"kind": key, "params": params, "filename": result.filename,
              "bytes": len(result.content)},
    )  # fmt: skip
    return result


def export_request(
    *, program: Any, key: str, params: dict[str, Any] | None, actor: Any, ip: str | None = None
) -> ExportJob:
    """Queue a background export; the task runs after commit."""
    kind = kind_get(key)
    _check(actor, program, kind)
    params = _params(kind, program, params)
    with transaction.atomic():
        job = ExportJob.objects.create(
            program=program,
            kind=key,
            params=params,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor, action="export.request", obj=job, program_id=program.pk, ip=ip,
            data={"kind": key, "params": params},
        )  # fmt: skip
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    # Function-level: the task module imports this one (the task calls export_run).
    from analysis.exports.tasks import task_export_run

    try:
        task_export_run.delay(job_id)
    except Exception as exc:  # broker down: the job stays queued and can be retried
        logger.warning("Export %s: broker refused (%s)", job_id, type(exc).__name__)


class _Writer:
    """Progress written to the job row at most every 2%."""

    def __init__(self, job_id: int, attempt: int):
        self.job_id, self.attempt, self.last = job_id, attempt, -1.0

    def __call__(self, fraction: float, step: str) -> None:
        fraction = max(0.0, min(1.0, float(fraction)))
        if fraction - self.last < 0.02 and fraction < 1.0:
            return
        self.last = fraction
        ExportJob.objects.filter(
            pk=self.job_id, status=Status.RUNNING, attempts=self.attempt
        ).update(progress=fraction, step=step[:80])


def export_run(job_id: int) -> ExportJob:
    """Build the job's file (the task's body). A job already claimed is left alone."""
    job = ExportJob.objects.select_related("program").get(pk=job_id)
    attempt = job.attempts + 1
    claimed = ExportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now(), attempts=attempt, progress=0.0, error=""
    )
    if not claimed:
        return job
    try:
        kind = kind_get(job.kind)
        result = kind.build(
            program=job.program, params=job.params, progress=_Writer(job_id, attempt)
        )
    except Exception as exc:
        logger.exception("Export %s (%s) failed", job_id, job.kind)
        message = f"{type(exc).__name__}: the export could not be built."
        if isinstance(exc, ValidationError):
            message = "; ".join(exc.messages)[:300]
        ExportJob.objects.filter(pk=job_id, attempts=attempt).update(
            status=Status.FAILED, finished_at=timezone.now(), error=message[:300]
        )
    else:
        now = timezone.now()
        ExportJob.objects.filter(pk=job_id, attempts=attempt).update(
            status=Status.DONE,
            progress=1.0,
            step="",
            finished_at=now,
            expires_at=now + timedelta(hours=settings.EXPORT_LINK_HOURS),
            filename=result.filename,
            content_type=result.content_type,
            content=result.content,
            size=len(result.content),
        )
    job.refresh_from_db()
    return job


def export_retry(*, job: ExportJob, actor: Any) -> ExportJob:
    if job.status != Status.FAILED:
        raise ValidationError("Only a failed export can be retried.")
    with transaction.atomic():
        updated = ExportJob.objects.filter(pk=job.pk, status=Status.FAILED).update(
            status=Status.QUEUED, error="", progress=0.0, step="", finished_at=None
        )
        if not updated:
            raise ValidationError("The export changed meanwhile: reload the page.")
        audit_record(
            actor=actor, action="export.retry", obj=job, program_id=job.program_id,
            data={"kind": job.kind},
        )  # fmt: skip
        transaction.on_commit(lambda: _enqueue(job.pk))
    job.refresh_from_db()
    return job


def export_download(
    *, job: ExportJob, actor: Any, ip: str | None = None, now: datetime | None = None
) -> ExportFile:
    """The job's file, if it is ready and its link has not expired; audited."""
    now = now or timezone.now()
    kind = kind_get(job.kind)
    _check(actor, job.program, kind)
    if job.status != Status.DONE or job.content is None:
        raise ValidationError("This export is not ready.")
    if job.expires_at is not None and job.expires_at <= now:
        raise ValidationError("This download link has expired: make the export again.")
    audit_record(
        actor=actor, action="export.download", obj=job, program_id=job.program_id, ip=ip,
        data={"kind": job.kind, "params": job.params, "filename": job.filename,
              "bytes": job.size},
    )  # fmt: skip
    return ExportFile(job.filename, job.content_type, bytes(job.content))


def exports_expire(*, now: datetime | None = None) -> int:
    """Drop the content of expired exports (hourly housekeeping); the rows stay."""
    now = now or timezone.now()
    return ExportJob.objects.filter(status=Status.DONE, expires_at__lte=now).update(
        status=Status.EXPIRED, content=None
    )
