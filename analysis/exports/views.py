"""The reports page: every export a user may make in a program, and the background jobs.

Access (see docs/exports.md): the page needs "reports.view" in the program; each export and
each job needs its kind's permission there (no role in the program is a 404, another role a
403, a job of another program a 404). A job is visible to everyone who may make its kind in
the program, not only to whoever asked for it: a coordinator can pick up a file a colleague
started. Parameters travel as ids and options (a wave slug, a clinician id, a format), never
as content.

Parameter convention for kinds registered elsewhere: a kind whose ``group`` is "Survey" or
"Analysis" gets a wave select (``params["wave"]`` = the wave's slug), one of the "Series"
group a wave-series select (``params["series"]`` = the series' slug); a kind of the "Survey"
group also gets the small-cell protection checkbox (``params["suppress_small_cells"]`` = "1"
when ticked); a kind whose key ends with "certificate" (one person's certificate) gets a
clinician select (``params["clinician"]`` = the clinician's id); every kind with more than
one format gets a format choice (``params["format"]``). Only these keys, and ``run``,
``min_cell`` and ``year``, are passed on, each at most 60 characters; the kind's
``clean_params`` checks them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from analysis.exports import services as exports
from analysis.exports.models import ExportJob
from analysis.exports.tables import FORMAT_LABELS
from ccdg.audit import client_ip
from ccdg.messages import messages_from
from ccdg.pickers import people_found
from sessions_app import roles
from sessions_app.models import Clinician, Program
from surveys.models import Wave, WaveSeries

T = "analysis/reports/"
PERM = "reports.view"
#: Up to this many clinicians, the clinician picker lists them all in the page; beyond, it
#: searches the roster as one types.
CLINICIANS_IN_PAGE = 300
CLINICIANS_FOUND = 20
WAVE_GROUPS = ("Survey", "Analysis")
SERIES_GROUP = "Series"
GROUP_ORDER = ("Program", "People", "Survey", "Analysis", "Series")
PARAM_KEYS = (
    "format",
    "wave",
    "series",
    "clinician",
    "suppress_small_cells",
    "min_cell",
    "run",
    "year",
)
RECENT_JOBS = 15
Status = ExportJob.Status


def needs_wave(kind: exports.ExportKind) -> bool:
    return kind.group in WAVE_GROUPS


def needs_series(kind: exports.ExportKind) -> bool:
    return kind.group == SERIES_GROUP


def needs_clinician(kind: exports.ExportKind) -> bool:
    return kind.key.endswith("certificate")


def offers_small_cells(kind: exports.ExportKind) -> bool:
    return kind.group == "Survey"


def _kind(key: str) -> exports.ExportKind:
    try:
        return exports.kind_get(key)
    except ValidationError:
        raise Http404("No such export.") from None


def _params(data) -> dict:
    """The conventional parameters from a query string or form: short ids and options only."""
    params = {}
    for key in PARAM_KEYS:
        value = (data.get(key) or "").strip()
        if value:
            params[key] = value[:60]
    return params


def _job(request, slug: str, pk: int) -> tuple[Program, ExportJob, exports.ExportKind]:
    program = roles.program_for_request(request, slug, PERM)
    job = get_object_or_404(
        ExportJob.objects.defer("content").select_related("requested_by", "program"),
        program=program,
        pk=pk,
    )
    kind = _kind(job.kind)
    if not roles.can(request.user, kind.perm, program):
        raise PermissionDenied
    return program, job, kind


def job_state(job: ExportJob, now=None) -> str:
    """queued, running, done, failed or expired (a link past its time counts as expired)."""
    now = now or timezone.now()
    if job.status == Status.DONE and job.expires_at is not None and job.expires_at <= now:
        return Status.EXPIRED
    return job.status


def _pct(job: ExportJob) -> int:
    return max(0, min(100, round((job.progress or 0.0) * 100)))


def _job_context(program, job, kind) -> dict:
    return {
        "program": program,
        "job": job,
        "kind": kind,
        "state": job_state(job),
        "pct": _pct(job),
        "params": sorted(job.params.items()),
        "format_label": FORMAT_LABELS.get(job.params.get("format", ""), ""),
    }


# --- The page ----------------------------------------------------------------------------------


@require_GET
def index(request, slug):
    program = roles.program_for_request(request, slug, PERM)
    kinds = exports.kinds_for(request.user, program)
    wave_list = clinician_list = series_list = None
    if any(needs_wave(k) for k in kinds):
        wave_list = list(Wave.objects.filter(program=program).only("pk", "slug", "name"))
    if any(needs_series(k) for k in kinds):
        series_list = list(WaveSeries.objects.filter(program=program).only("pk", "slug", "name"))
    clinicians_searched = False
    if any(needs_clinician(k) for k in kinds):
        roster = _roster_names(program)
        # A roster of thousands is searched as one types (clinician_search) rather than put
        # into the page, once for each export that asks for a clinician.
        clinician_list = list(roster[: CLINICIANS_IN_PAGE + 1])
        if len(clinician_list) > CLINICIANS_IN_PAGE:
            clinician_list, clinicians_searched = [], True
    groups: dict[str, list[dict]] = {}
    for kind in kinds:
        groups.setdefault(kind.group, []).append(
            {
                "kind": kind,
                "formats": [(f, FORMAT_LABELS.get(f, f.upper())) for f in kind.formats],
                "wave": needs_wave(kind),
                "series": needs_series(kind),
                "clinician": needs_clinician(kind),
                "small_cells": offers_small_cells(kind),
            }
        )
    ordered = sorted(
        groups.items(),
        key=lambda item: (
            GROUP_ORDER.index(item[0]) if item[0] in GROUP_ORDER else len(GROUP_ORDER),
            item[0],
        ),
    )
    now = timezone.now()
    jobs = list(
        ExportJob.objects.filter(program=program, kind__in=[k.key for k in kinds])
        .defer("content")
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:RECENT_JOBS]
    )
    labels = {k.key: k.label for k in kinds}
    for job in jobs:
        job.state = job_state(job, now)
        job.label = labels.get(job.kind, job.kind)
    return render(
        request,
        T + "index.html",
        {
            "program": program,
            "groups": ordered,
            "waves": wave_list,
            "series_list": series_list,
            "clinicians": clinician_list,
            "clinicians_searched": clinicians_searched,
            "jobs": jobs,
            "link_hours": settings.EXPORT_LINK_HOURS,
        },
    )


def _roster_names(program: Program):
    return (
        Clinician.objects.filter(program=program)
        .only("pk", "first_name", "last_name")
        .order_by("last_name", "first_name", "id")
    )


@require_GET
def clinician_search(request, slug):
    """Clinicians of the program whose first or last name starts with ``q`` (at most
    :data:`CLINICIANS_FOUND`), for the clinician picker of the exports that ask for one."""
    program = roles.program_for_request(request, slug, PERM)
    if not any(needs_clinician(k) for k in exports.kinds_for(request.user, program)):
        raise PermissionDenied
    return people_found(
        request, _roster_names(program), limit=CLINICIANS_FOUND,
        label=lambda c: f"{c.last_name}, {c.first_name}",
    )  # fmt: skip


def _attachment(result: exports.ExportFile) -> HttpResponse:
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def download_now(request, slug, key):
    """A small export, built in the request (GET: the options are in the query string)."""
    program = roles.program_for_request(request, slug, PERM)
    kind = _kind(key)
    if not roles.can(request.user, kind.perm, program):
        raise PermissionDenied
    if kind.background:
        messages.error(request, f"“{kind.label}” is made in the background: use its button.")
        return redirect("reports:index", slug=slug)
    try:
        result = exports.export_now(
            program=program,
            key=key,
            params=_params(request.GET),
            actor=request.user,
            ip=client_ip(request),
        )
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("reports:index", slug=slug)
    return _attachment(result)


@require_POST
def request_export(request, slug, key):
    """Queue a background export and show its progress."""
    program = roles.program_for_request(request, slug, PERM)
    kind = _kind(key)
    if not roles.can(request.user, kind.perm, program):
        raise PermissionDenied
    try:
        job = exports.export_request(
            program=program,
            key=key,
            params=_params(request.POST),
            actor=request.user,
            ip=client_ip(request),
        )
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("reports:index", slug=slug)
    return redirect("reports:job", slug=slug, pk=job.pk)


# --- Jobs --------------------------------------------------------------------------------------


@require_GET
def job_detail(request, slug, pk):
    program, job, kind = _job(request, slug, pk)
    return render(request, T + "job.html", _job_context(program, job, kind))


@require_GET
def job_progress(request, slug, pk):
    """The fragment the job page polls; when the job is finished htmx reloads the page."""
    program, job, kind = _job(request, slug, pk)
    context = _job_context(program, job, kind)
    response = render(request, T + "_job_progress.html", context)
    if request.htmx and context["state"] not in (Status.QUEUED, Status.RUNNING):
        response["HX-Refresh"] = "true"
    return response


@require_GET
def job_download(request, slug, pk):
    program, job, kind = _job(request, slug, pk)
    job = ExportJob.objects.select_related("program").get(pk=job.pk)  # now with the file
    try:
        result = exports.export_download(job=job, actor=request.user, ip=client_ip(request))
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("reports:job", slug=slug, pk=pk)
    return _attachment(result)


@require_POST
def job_retry(request, slug, pk):
    program, job, kind = _job(request, slug, pk)
    try:
        exports.export_retry(job=job, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"“{kind.label}” is queued again.")
    return redirect("reports:job", slug=slug, pk=pk)
