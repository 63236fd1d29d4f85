"""Reading analysis runs: their state, the fingerprints that tell whether a run is current, the
list of a wave's runs and a run's results. Requesting and executing runs is in
:mod:`analysis.runs.services`."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Func, JSONField, QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from analysis.runs import disclosure
from analysis.runs.compute import SCHEMA_VERSION
from analysis.runs.models import AnalysisRun
from analysis.runs.summary import summary_paragraph
from surveys import waves
from surveys.digest import stored_digest
from surveys.models import Response, Wave

#: The modules whose source makes the results (paths under ``analysis/``): part of the code
#: version.
CODE_MODULES = (
    "stats/__init__.py",
    "stats/helpers.py",
    "stats/distributions.py",
    "stats/descriptive.py",
    "stats/fisher.py",
    "stats/_fisher_kernel.py",
    "stats/wilcoxon.py",
    "stats/kruskal_wallis.py",
    "stats/binomial.py",
    "stats/correlation.py",
    "stats/paired.py",
    "stats/proportions.py",
    "stats/signed_ranks.py",
    "stats/zeroin.py",
    "runs/compute.py",
    "runs/disclosure.py",
    "runs/summary.py",
    "runs/charts.py",
    "runs/services.py",
)


Status = AnalysisRun.Status


def _summary(results: dict[str, Any], program_name: str) -> str:
    return summary_paragraph(results, program_name=program_name)


#: The version of the analysis (tables, tests, charts). Raise it when the results of the same
#: inputs change on purpose; the source hash in :func:`code_version` catches the rest.
ANALYSIS_VERSION = "1.1"
#: The prefix of the fingerprinted text; change it when the definition changes.
FINGERPRINT_FORMAT = "ccdg-analysis-inputs/2"

INTERRUPTED = "interrupted"


def stale_minutes() -> int:
    """Minutes without a sign of life after which a queued or running run is interrupted."""
    return int(getattr(settings, "ANALYSIS_STALE_MINUTES", 15))


# -- versions and fingerprints ----------------------------------------------------------------


@lru_cache(maxsize=1)
def code_version() -> str:
    """``"1.0 schema 1 src 0123456789ab"``: the analysis version, the results schema version
    and the first 12 hex digits of the SHA-256 of the analysis modules' source
    (:data:`CODE_MODULES`), so any change to the code that makes the results shows."""
    digest = hashlib.sha256()
    folder = Path(__file__).resolve().parent.parent
    for name in CODE_MODULES:
        path = folder / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return f"{ANALYSIS_VERSION} schema {SCHEMA_VERSION} src {digest.hexdigest()[:12]}"


def fingerprint(*, wave: Wave, distributed: int, include_pilot: bool, digest: str) -> str:
    """The inputs fingerprint of a run (see docs/analysis.md).

    SHA-256 of :data:`FINGERPRINT_FORMAT`, then one line of canonical JSON with the instrument
    slug and version, the number distributed, whether the wave is a pilot and whether the run
    includes pilot responses, then the wave's responses digest (:mod:`surveys.digest`: the
    order-free sum of a hash of each response's answers and exclusion reason). The same data
    and options give the same fingerprint; a changed, added, removed, excluded or re-included
    response, a new count of forms handed out or a change of the pilot flag give another.
    """
    header = {
        "distributed": distributed,
        "include_pilot": bool(include_pilot),
        "instrument": [wave.instrument.slug, wave.instrument.version],
        "wave_pilot": bool(wave.is_pilot),
    }
    text = "\n".join(
        [FINGERPRINT_FORMAT, json.dumps(header, sort_keys=True, separators=(",", ":")), digest]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _response_rows(wave: Wave) -> list[tuple[int, Any, str]]:
    return list(
        Response.objects.filter(wave=wave)
        .order_by("pk")
        .values_list("pk", "answers", "excluded_reason")
    )


def current_fingerprints(wave: Wave) -> dict[bool, str]:
    """{include_pilot: fingerprint} of the wave's data now, to tell whether a run is still
    current: the wave's running digest and its figures (two queries), whatever the number of
    responses."""
    digest = stored_digest(wave.pk)
    distributed = waves.figures(wave).distributed
    return {
        flag: fingerprint(wave=wave, distributed=distributed, include_pilot=flag, digest=digest)
        for flag in (False, True)
    }


# -- state ------------------------------------------------------------------------------------


def last_sign_of_life(run: AnalysisRun) -> datetime:
    """When the run last showed it was alive: its last progress write, start or creation."""
    beat = (run.timings or {}).get("updated") if not run.is_finished else None
    if beat is not None:
        return datetime.fromtimestamp(float(beat), tz=UTC)
    return run.started_at or run.created_at


def run_state(run: AnalysisRun, now: datetime | None = None) -> str:
    """The status, or "interrupted" for a queued or running run without a sign of life for
    :func:`stale_minutes` (its worker died, or no worker picked it up)."""
    if run.status in (Status.QUEUED, Status.RUNNING):
        now = now or timezone.now()
        if now - last_sign_of_life(run) > timedelta(minutes=stale_minutes()):
            return INTERRUPTED
    return run.status


# -- reading ----------------------------------------------------------------------------------


def run_list(wave: Wave) -> QuerySet[AnalysisRun]:
    """The runs of a wave, newest first, without their (large) results: one query."""
    return (
        AnalysisRun.objects.filter(wave=wave)
        .select_related("requested_by")
        .defer("results")
        .order_by("-created_at", "-pk")
    )


class _ChartsAsNames(Func):
    """A run's results with each chart's SVG text replaced by ``true``, computed by the
    database: the results page needs the charts' names, not the megabyte of SVG they weigh
    (each chart is fetched by its own request, :func:`chart_svg`)."""

    output_field = JSONField()

    def _sql(self, compiler, connection, template: str):
        sql, params = compiler.compile(self.source_expressions[0])
        return template.format(r=sql), [*params, *params]

    def as_sql(self, compiler, connection, **extra):  # SQLite
        return self._sql(compiler, connection, (
            "json_set({r}, '$.charts', "
            "(SELECT json_group_object(key, json('true')) FROM json_each({r}, '$.charts')))"
        ))  # fmt: skip

    def as_postgresql(self, compiler, connection, **extra):
        return self._sql(compiler, connection, (
            "jsonb_set({r}, '{{charts}}', (SELECT coalesce(jsonb_object_agg(k, true), '{{}}')"
            " FROM jsonb_object_keys(coalesce({r} -> 'charts', '{{}}')) AS k))"
        ))  # fmt: skip


def with_chart_names(runs: QuerySet[AnalysisRun]) -> QuerySet[AnalysisRun]:
    """The runs with ``results_light``: their results with chart names only (see
    :class:`_ChartsAsNames`); put it in ``results`` before reading them."""
    return runs.defer("results").annotate(results_light=_ChartsAsNames("results"))


def chart_svg(run: AnalysisRun, name: str, *, program: Any | None = None) -> str | None:
    """The SVG text of one chart of a finished run, if the run shows it (small cells applied)
    — read from the database alone, not with the rest of the results."""
    if name not in (run_results(run, program=program).get("charts") or {}):
        return None
    return (
        AnalysisRun.objects.filter(pk=run.pk)
        .values_list(KT(f"results__charts__{name}"), flat=True)
        .first()
    )


def run_results(run: AnalysisRun, *, program: Any | None = None) -> dict[str, Any]:
    """The results of a run as every output shows them: the page, its charts, the JSON
    download, the workbook and the PDF reports all read them here.

    A run protected with the program's small-cell threshold or a higher one is shown as it
    was stored; a run made before small cells were protected, or with a lower threshold than
    the program's today, shows totals only (:func:`analysis.runs.disclosure.shown`), with its
    results paragraph written again from those totals.
    """
    program = program or run.wave.program
    stored = run.results or {}
    results = disclosure.shown(stored, k=program.small_cell_k)
    if not disclosure.is_current(stored, k=program.small_cell_k):
        # Totals only under today's threshold: today's reason goes with it.
        results["meta"]["small_cells"]["reason"] = program.small_cell_k_reason
    if "summary" not in results:
        results["summary"] = _summary(results, program.name)
    return results


def run_export(run: AnalysisRun) -> dict[str, Any]:
    """The results as downloaded and printed: without the SVG text, with the run's record."""
    results = {k: v for k, v in run_results(run).items() if k != "charts"}
    results["run"] = {
        "id": run.pk,
        "wave": run.wave.slug,
        "status": run.status,
        "include_pilot": run.include_pilot,
        "inputs_fingerprint": run.inputs_fingerprint,
        "code_version": run.code_version,
        "timings": run.timings,
        "attempts": run.attempts,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
    return results
