"""Analysis runs: execution, the response line, fingerprints, pilot responses, failures and
retries, re-runs, and the request path through the Celery task."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from analysis.models import AnalysisRun
from analysis.runs import selectors as runs_selectors
from analysis.runs import services as runs
from ccdg.models import AuditEvent
from surveys.digest import digest_of
from surveys.models import Response
from surveys.responses import paper_response_add, response_exclude
from tests.factories import ResponseFactory, WaveFactory

Status = AnalysisRun.Status


def answers(group: str, skill: str = "4", relevance: str = "4", gender: str = "female") -> dict:
    return {
        "gender": gender,
        "clinician_type": "physician",
        "group": group,
        "skill_self_reflection": skill,
        "skill_empathy": "5",
        "relevance_communicate": relevance,
        "challenge_isolation": "3",
        "addressed_isolation": "1",
    }


@pytest.fixture
def wave(program):
    """A paper wave: 20 forms handed out, 11 returned, one of them excluded; groups A and B
    of 5 analysed each (the program's small-cell threshold), each with 3 women and 2 men."""
    wave = WaveFactory(program=program, distributed_count=20)
    for a in (
        *[answers("A")] * 3,
        *[answers("A", skill="2", relevance="2", gender="male")] * 2,
        *[answers("B", skill="5", relevance="5")] * 3,
        *[answers("B", skill="1", relevance="3", gender="male")] * 2,
    ):
        ResponseFactory(wave=wave, answers=a)
    ResponseFactory(wave=wave, answers=answers("B"), excluded_reason="damaged form")
    return wave


def execute(wave, **kwargs) -> AnalysisRun:
    run = runs.run_create(wave=wave, actor=None, **kwargs)
    return runs.run_execute(run.pk)


def test_run_stores_results_with_the_response_line(wave):
    run = execute(wave)

    assert run.status == Status.DONE
    assert run.error == ""
    assert run.progress == 1.0
    assert run.attempts == 1
    assert run.started_at is not None and run.finished_at >= run.started_at
    assert run.results["response"] == {
        "distributed": 20,
        "returned": 11,
        "analyzed": 10,
        "excluded": 1,
        "excluded_reasons": {"damaged form": 1},
        "rate": 0.55,
    }
    agree = next(r for r in run.results["table2"] if r["item"] == "skill_self_reflection")
    assert agree["overall"] == {"n": 10, "agree": 6, "percent": 60.0}
    assert agree["by_group"]["A"]["agree"] == 3 and agree["by_group"]["B"]["agree"] == 3
    assert run.results["meta"]["small_cells"] == {"k": 5, "totals_only": False, "reason": ""}
    assert run.results["summary"]
    assert set(run.results["charts"]) >= {"agreement", "relevance"}
    assert set(run.timings) == {"load", "compute", "charts", "store", "total"}
    assert run.code_version.startswith(runs_selectors.ANALYSIS_VERSION + " schema ")
    assert len(run.inputs_fingerprint) == 64


def test_code_version_hashes_every_module_that_makes_the_results():
    # A module moved or added without updating CODE_MODULES would silently leave the code
    # version unchanged by edits to it.
    folder = Path(runs.__file__).resolve().parent.parent
    assert all((folder / name).is_file() for name in runs_selectors.CODE_MODULES)
    stats_modules = {f"stats/{p.name}" for p in (folder / "stats").glob("*.py")}
    assert stats_modules <= set(runs_selectors.CODE_MODULES)


def test_chart_counts_come_from_the_analysed_responses_only(wave):
    run = execute(wave)

    items = run.results["charts_data"]["agreement"]["items"]
    reflection = next(i for i in items if i["item"] == "skill_self_reflection")
    # The excluded response (B, "4") is not counted.
    assert reflection["overall"] == {"4": 3, "2": 2, "5": 3, "1": 2}
    assert reflection["by_group"] == {"A": {"4": 3, "2": 2}, "B": {"5": 3, "1": 2}}


def test_fingerprint_is_stable_for_the_same_data(wave):
    first, second = execute(wave), execute(wave)

    assert first.inputs_fingerprint == second.inputs_fingerprint
    assert runs_selectors.current_fingerprints(wave)[False] == first.inputs_fingerprint


def test_fingerprint_changes_when_a_response_is_added(wave, coordinator):
    before = execute(wave).inputs_fingerprint
    paper_response_add(wave=wave, actor=coordinator, answers=answers("A", skill="3"))

    after = execute(wave)
    assert after.inputs_fingerprint != before
    assert runs_selectors.current_fingerprints(wave)[False] == after.inputs_fingerprint


def test_the_runs_fingerprint_sums_exactly_the_responses_it_analysed(wave, coordinator):
    """The run takes the wave's running digest instead of hashing every answer again: it must
    be the digest of the very rows the run read, computed afresh here."""
    paper_response_add(wave=wave, actor=coordinator, answers=answers("B", skill="2"))
    run = execute(wave)
    rows = Response.objects.filter(wave=wave).values_list("answers", "excluded_reason")
    expected = runs_selectors.fingerprint(
        wave=wave, distributed=20, include_pilot=False, digest=digest_of(rows)
    )

    assert run.inputs_fingerprint == expected
    assert run.results["response"]["returned"] == 12


def test_fingerprint_changes_when_a_response_is_excluded(wave, coordinator):
    before = execute(wave).inputs_fingerprint
    response = wave.responses.filter(excluded_reason="").first()
    response_exclude(response=response, actor=coordinator, reason="answered twice")

    after = execute(wave)
    assert after.inputs_fingerprint != before
    assert after.results["response"]["analyzed"] == 9
    assert after.results["response"]["excluded_reasons"] == {
        "answered twice": 1,
        "damaged form": 1,
    }


def test_pilot_responses_are_left_out_unless_included(program):
    pilot = WaveFactory(program=program, is_pilot=True, distributed_count=3)
    for group in ("A", "B"):
        ResponseFactory(wave=pilot, answers=answers(group))

    without = execute(pilot)
    assert without.status == Status.DONE
    assert without.results["response"]["returned"] == 2
    assert without.results["response"]["analyzed"] == 0
    assert any("pilot" in note for note in without.results["notes"])

    included = execute(pilot, include_pilot=True)
    assert included.results["response"]["analyzed"] == 2
    assert included.include_pilot is True
    assert included.inputs_fingerprint != without.inputs_fingerprint


def test_wave_with_no_responses_is_a_done_run_that_says_so(program):
    empty = WaveFactory(program=program, distributed_count=12)

    run = execute(empty)

    assert run.status == Status.DONE
    assert run.results["response"]["analyzed"] == 0
    assert run.results["notes"]
    assert run.results["charts"] == {}


def test_bad_stored_answers_fail_the_run_and_a_retry_succeeds_once_fixed(
    wave, coordinator, django_capture_on_commit_callbacks
):
    broken = ResponseFactory(wave=wave, answers=["not", "an", "object"])

    run = execute(wave)

    assert run.status == Status.FAILED
    assert run.results is None
    assert run.finished_at is not None
    assert run.error == (
        "Failed while loading the responses: AnalysisInputError: "
        f"Response {broken.pk} has answers that are not a JSON object."
    )
    assert runs_selectors.run_state(run) == Status.FAILED

    Response.objects.filter(pk=broken.pk).update(answers=answers("A"))
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_retry(run=run, actor=coordinator)

    run.refresh_from_db()
    assert run.status == Status.DONE
    assert run.error == ""
    assert run.attempts == 2
    assert run.results["response"]["analyzed"] == 11
    assert AuditEvent.objects.filter(action="analysis.run_retry", object_id=str(run.pk)).exists()


def test_a_done_run_cannot_be_retried(wave, coordinator):
    run = execute(wave)

    with pytest.raises(ValidationError, match="Only a failed or interrupted run"):
        runs.run_retry(run=run, actor=coordinator)


def test_a_running_run_is_not_started_twice(wave):
    run = runs.run_create(wave=wave, actor=None)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, attempts=1, progress=0.4, timings={"updated": time.time()}
    )

    again = runs.run_execute(run.pk)

    assert again.status == Status.RUNNING
    assert again.attempts == 1
    assert again.progress == 0.4
    assert again.results is None


def test_a_silent_running_run_is_interrupted_and_can_be_retried(
    wave, coordinator, django_capture_on_commit_callbacks
):
    run = runs.run_create(wave=wave, actor=None)
    long_ago = time.time() - 60 * (runs_selectors.stale_minutes() + 1)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, attempts=1, progress=0.3, timings={"updated": long_ago}
    )
    run.refresh_from_db()
    assert runs_selectors.run_state(run) == runs_selectors.INTERRUPTED

    with django_capture_on_commit_callbacks(execute=True):
        runs.run_retry(run=run, actor=coordinator)

    run.refresh_from_db()
    assert run.status == Status.DONE
    assert run.attempts == 2


def test_rerunning_makes_a_new_run_and_keeps_the_old_ones(
    wave, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = runs.run_request(wave=wave, actor=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        second = runs.run_request(wave=wave, actor=coordinator)

    assert first.pk != second.pk
    assert list(
        AnalysisRun.objects.filter(wave=wave).order_by("pk").values_list("pk", "status")
    ) == [(first.pk, Status.DONE), (second.pk, Status.DONE)]


def test_request_runs_the_task_after_commit(wave, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = runs.run_request(wave=wave, actor=coordinator)
    run.refresh_from_db()
    assert run.status == Status.QUEUED  # nothing ran before the commit
    assert run.requested_by == coordinator

    for callback in callbacks:
        callback()  # the commit: in eager mode the task runs here

    run.refresh_from_db()
    assert run.status == Status.DONE
    assert AuditEvent.objects.filter(action="analysis.run_request", object_id=str(run.pk)).exists()


def test_a_second_request_is_refused_while_a_run_is_under_way(wave, coordinator):
    queued = runs.run_create(wave=wave, actor=coordinator)

    with pytest.raises(ValidationError, match=f"Run {queued.pk} of this wave is still under way"):
        runs.run_request(wave=wave, actor=coordinator)
    assert AnalysisRun.objects.filter(wave=wave).count() == 1
