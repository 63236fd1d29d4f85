"""Analysis runs: request one, execute it (the one code path), retry it.

:func:`run_request` (the page) and the ``run_analysis`` command both create an
:class:`~analysis.models.AnalysisRun`; the page hands its id to the Celery task
(:func:`analysis.runs.tasks.task_analysis_run`) after the transaction commits, the command calls
:func:`run_execute` directly. Either way :func:`run_execute` does the work:

1. **load**: the wave's responses (all returned ones: the excluded ones count in the response
   line), the analysable subset (:func:`surveys.responses.analysable`), the codebook, the
   group labels and the figures of the wave; the inputs fingerprint;
2. **compute**: :func:`analysis.runs.compute.analyse`, reporting its progress to the run row;
3. **charts**: the data of the charts and the SVGs (:mod:`analysis.runs.charts`);
4. **store**: the results JSON, then status "done" with the timings.

A run is claimed with a conditional UPDATE (queued -> running, ``attempts`` + 1), so the same
run never executes twice at once; every later write is conditional on that attempt, so an
execution that was given up (see :func:`run_state`, "interrupted") and retried can no longer
overwrite the new one. Any exception marks the run failed with a short message (the kind of
error and the step, never an answer); a failed or interrupted run can be retried: the same
run goes back to the queue. Running the analysis again makes a new run and keeps the old ones.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from analysis.runs import charts
from analysis.runs.compute import analyse
from analysis.runs.models import AnalysisRun
from analysis.runs.selectors import (
    INTERRUPTED,
    Status,
    _response_rows,
    _summary,
    code_version,
    fingerprint,
    run_state,
)
from ccdg.audit import audit_record
from surveys import waves
from surveys.digest import stored_digest
from surveys.models import Response, Wave
from surveys.responses import analysable, group_labels_for
from surveys.services import codebook

log = logging.getLogger(__name__)


#: Progress is written to the run row when it moved by this much (or the step changed).
PROGRESS_STEP = 0.03
#: Share of the progress bar per step (load, compute, charts, store).
PHASES = {"load": (0.0, 0.1), "compute": (0.1, 0.85), "charts": (0.85, 0.95), "store": (0.95, 1)}


class AnalysisInputError(Exception):
    """The stored inputs cannot be analysed; the message names ids, never content."""


# -- requesting -------------------------------------------------------------------------------


def run_create(*, wave: Wave, actor: Any, include_pilot: bool = False) -> AnalysisRun:
    """A queued run of ``wave`` (not enqueued: see :func:`run_request`)."""
    run = AnalysisRun.objects.create(
        wave=wave,
        include_pilot=bool(include_pilot),
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor, action="analysis.run_request", obj=run, program_id=wave.program_id,
        data={"wave": wave.pk, "include_pilot": bool(include_pilot)},
    )  # fmt: skip
    return run


def _enqueue(run_id: int) -> None:
    # Function-level: the task module imports this one (the task calls run_execute).
    from analysis.runs.tasks import task_analysis_run

    # After the commit, so the worker finds the row; with CCDG_CELERY_EAGER (tests, embedded
    # development) the task runs here, in this process, once the transaction is committed.
    transaction.on_commit(lambda: task_analysis_run.delay(run_id))


def run_request(*, wave: Wave, actor: Any, include_pilot: bool = False) -> AnalysisRun:
    """Queue a new analysis of ``wave``; the older runs stay.

    Refused (``ValidationError``) while another run of the wave is queued or running and
    alive: a double click must not start two.
    """
    with transaction.atomic():
        busy = [
            r
            for r in AnalysisRun.objects.filter(
                wave=wave, status__in=[Status.QUEUED, Status.RUNNING]
            ).defer("results")
            if run_state(r) != INTERRUPTED
        ]
        if busy:
            raise ValidationError(
                f"Run {busy[0].pk} of this wave is still under way: wait for it to finish."
            )
        run = run_create(wave=wave, actor=actor, include_pilot=include_pilot)
        _enqueue(run.pk)
    return run


def run_retry(*, run: AnalysisRun, actor: Any) -> AnalysisRun:
    """Put a failed or interrupted run back in the queue (the same run: its attempts count)."""
    state = run_state(run)
    if state not in (Status.FAILED, INTERRUPTED):
        raise ValidationError("Only a failed or interrupted run can be retried.")
    with transaction.atomic():
        # Conditional on what we looked at: a worker that moved the run on meanwhile wins.
        claimed = AnalysisRun.objects.filter(
            pk=run.pk, status=run.status, attempts=run.attempts
        ).update(
            status=Status.QUEUED, progress=0.0, step="", error="", finished_at=None,
            started_at=None, timings={"updated": time.time()},
        )  # fmt: skip
        if not claimed:
            raise ValidationError("The run changed meanwhile: reload the page.")
        audit_record(
            actor=actor, action="analysis.run_retry", obj=run, program_id=run.wave.program_id,
            data={"attempts": run.attempts, "was": state},
        )  # fmt: skip
        _enqueue(run.pk)
    run.refresh_from_db()
    return run


# -- executing --------------------------------------------------------------------------------


class _Writer:
    """Writes the progress of one attempt to the run row: cheap, throttled, conditional."""

    def __init__(self, run_id: int, attempt: int) -> None:
        self.rows = AnalysisRun.objects.filter(pk=run_id, status=Status.RUNNING, attempts=attempt)
        self.progress = 0.0
        self.step = ""
        self.timings: dict[str, float] = {}

    def __call__(self, progress: float, step: str, *, force: bool = False) -> None:
        progress = min(max(progress, 0.0), 1.0)
        if not force and step == self.step and progress - self.progress < PROGRESS_STEP:
            return
        self.progress, self.step = progress, step
        self.rows.update(
            progress=progress, step=step[:80], timings=self.timings | {"updated": time.time()}
        )

    def phase(self, name: str, step: str) -> Callable[[float, str], None]:
        """A progress callback that maps 0..1 of the phase onto its share of the bar."""
        start, end = PHASES[name]
        self(start, step, force=True)
        return lambda fraction, label: self(start + (end - start) * fraction, label)


def _excluded_reasons(wave: Wave) -> dict[str, int]:
    rows = (
        Response.objects.filter(wave=wave)
        .exclude(excluded_reason="")
        .values("excluded_reason")
        .annotate(n=Count("pk"))
    )
    return {r["excluded_reason"]: r["n"] for r in rows}


def _load(run: AnalysisRun) -> dict[str, Any]:
    with transaction.atomic():
        # The wave's running digest, locked, then its responses: the digest sums exactly the
        # responses read (writers update it in their own transaction), so the fingerprint
        # needs no second pass over 50,000 answers.
        digest = stored_digest(run.wave_id, lock=True)
        return _load_locked(run, digest)


def _load_locked(run: AnalysisRun, digest: str) -> dict[str, Any]:
    wave = Wave.objects.select_related("program", "instrument").get(pk=run.wave_id)
    rows = _response_rows(wave)
    for pk, answers, _reason in rows:
        if not isinstance(answers, dict):
            raise AnalysisInputError(f"Response {pk} has answers that are not a JSON object.")
    used = set(
        analysable(Response.objects.filter(wave=wave), include_pilot=run.include_pilot)
        .values_list("pk", flat=True)
    )  # fmt: skip
    fig = waves.figures(wave)
    reasons = _excluded_reasons(wave)
    questions = codebook(wave.instrument)
    if not questions:
        raise AnalysisInputError(
            f"The questionnaire of the wave (instrument {wave.instrument.pk}) has no questions."
        )
    return {
        "wave": wave,
        "questions": questions,
        "responses": [answers for pk, answers, _reason in rows if pk in used],
        "response_line": {
            "distributed": fig.distributed,
            "returned": fig.returned,
            "excluded": fig.excluded,
            "excluded_reasons": reasons,
        },
        "group_labels": group_labels_for(wave),
        "fingerprint": fingerprint(
            wave=wave, distributed=fig.distributed, include_pilot=run.include_pilot, digest=digest
        ),
        "pilot_left_out": wave.is_pilot and not run.include_pilot and bool(rows),
    }


def run_execute(run_id: int) -> AnalysisRun:
    """Execute run ``run_id`` if it is queued; return it as it stands afterwards.

    A run that is not queued (already running elsewhere, done, failed) is returned untouched.
    """
    now = timezone.now()
    claimed = AnalysisRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, attempts=F("attempts") + 1, progress=0.0,
        step="Loading the responses", error="", timings={"updated": time.time()},
    )  # fmt: skip
    run = AnalysisRun.objects.select_related("wave").get(pk=run_id)
    if not claimed:
        return run
    write = _Writer(run_id, run.attempts)
    timings = write.timings
    started = time.perf_counter()
    stage = "load"
    try:
        clock = time.perf_counter()
        write.phase("load", "Loading the responses")
        inputs = _load(run)
        timings["load"] = time.perf_counter() - clock

        stage, clock = "compute", time.perf_counter()
        results = analyse(
            questions=inputs["questions"],
            responses=inputs["responses"],
            response_line=inputs["response_line"],
            group_labels=inputs["group_labels"],
            small_cell_k=inputs["wave"].program.small_cell_k,
            progress=write.phase("compute", "Computing the tables"),
            fisher_budget=getattr(settings, "ANALYSIS_FISHER_BUDGET", None),
        )
        if inputs["pilot_left_out"]:
            results["notes"].insert(
                0,
                "This is a pilot wave and the run does not include pilot responses: "
                "none of its responses is analysed.",
            )
        # The reason for a lowered threshold travels with the figures it allowed.
        results["meta"]["small_cells"]["reason"] = inputs["wave"].program.small_cell_k_reason
        results["summary"] = _summary(results, inputs["wave"].program.name)
        timings["compute"] = time.perf_counter() - clock

        stage, clock = "charts", time.perf_counter()
        write.phase("charts", "Drawing the charts")
        data = charts.charts_data(
            questions=inputs["questions"], responses=inputs["responses"], results=results
        )
        results["charts_data"] = data
        results["charts"] = charts.charts_render(data)
        timings["charts"] = time.perf_counter() - clock

        stage, clock = "store", time.perf_counter()
        write.phase("store", "Storing the results")
        stored = write.rows.update(
            results=results,
            inputs_fingerprint=inputs["fingerprint"],
            code_version=code_version(),
        )
        timings["store"] = time.perf_counter() - clock
        timings["total"] = time.perf_counter() - started
        if stored:
            write.rows.update(
                status=Status.DONE, progress=1.0, step="Done", finished_at=timezone.now(),
                timings={k: round(v, 4) for k, v in timings.items()},
            )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run
        message = _error_message(exc, stage)
        frames = "".join(traceback.format_tb(exc.__traceback__))
        # The frames name code lines only; the exception's text may quote an answer: left out.
        log.error("analysis run %s failed in %s: %s\n%s", run_id, stage, type(exc).__name__, frames)
        write.rows.update(
            status=Status.FAILED, finished_at=timezone.now(), error=message[:500],
            timings={k: round(v, 4) for k, v in timings.items()},
        )  # fmt: skip
    run.refresh_from_db()
    return run


STAGE_WORDS = {
    "load": "loading the responses",
    "compute": "computing the tables",
    "charts": "drawing the charts",
    "store": "storing the results",
}


def _error_message(exc: Exception, stage: str) -> str:
    """What the run page says: the step and the kind of error. The text of an exception is
    kept only when it is ours (it names ids, never answers)."""
    words = f"Failed while {STAGE_WORDS[stage]}: {type(exc).__name__}"
    if isinstance(exc, AnalysisInputError):
        words += f": {exc}"
    elif isinstance(exc, Wave.DoesNotExist):
        words += ": the wave no longer exists"
    return words
