"""python manage.py run_analysis: the same run, synchronously, printed as JSON or a summary."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from analysis.models import AnalysisRun
from tests.factories import ResponseFactory, WaveFactory


@pytest.fixture
def wave(program):
    """Ten forms in two groups of five (the program's small-cell threshold)."""
    wave = WaveFactory(program=program, slug="spring-2027", distributed_count=12)
    for group, skill in [("A", "5"), ("A", "4")] * 3 + [("B", "2"), ("B", "1")] * 2 + [("B", "2")]:
        ResponseFactory(
            wave=wave,
            answers={"group": group, "gender": "female", "skill_empathy": skill,
                     "relevance_conflict": skill, "challenge_isolation": "3"},
        )  # fmt: skip
    return wave


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("run_analysis", *args, stdout=out)
    return out.getvalue()


def test_json_output_parses_and_holds_the_tables(program, wave):
    data = json.loads(run(program.slug, wave.slug, "--json"))

    assert {"response", "table1", "table2", "relevance", "stressors"} <= set(data)
    assert data["response"]["distributed"] == 12
    assert data["response"]["returned"] == 11
    assert data["response"]["analyzed"] == 11
    empathy = next(r for r in data["table2"] if r["item"] == "skill_empathy")
    assert empathy["overall"] == {"n": 11, "agree": 6, "percent": 100 * 6 / 11}
    assert empathy["by_group"] == {
        "A": {"n": 6, "agree": 6, "percent": 100.0},
        "B": {"n": 5, "agree": 0, "percent": 0.0},
    }
    saved = AnalysisRun.objects.get(wave=wave)
    assert saved.status == AnalysisRun.Status.DONE
    assert saved.requested_by is None
    assert data["run"]["id"] == saved.pk
    assert data["run"]["inputs_fingerprint"] == saved.inputs_fingerprint


def test_summary_output_states_the_response_line(program, wave):
    text = run(program.slug, wave.slug)

    assert "Responses: 12 distributed, 11 returned (92%), 11 analysed, 0 excluded" in text
    assert "Where p < .05:" in text
    assert "Inputs fingerprint " in text


def test_unknown_wave_is_a_clear_error(program, wave):
    with pytest.raises(CommandError, match=f"No wave “autumn” in program “{program.slug}”"):
        run(program.slug, "autumn")
    assert AnalysisRun.objects.count() == 0


def test_unknown_program_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No program “nowhere”"):
        run("nowhere", "spring-2027")


def test_wave_without_responses_still_makes_a_run_that_says_so(program):
    empty = WaveFactory(program=program, slug="empty", distributed_count=9)

    data = json.loads(run(program.slug, empty.slug, "--json"))

    assert data["response"]["analyzed"] == 0
    assert data["notes"]
    assert AnalysisRun.objects.get(wave=empty).status == AnalysisRun.Status.DONE


def test_pilot_wave_is_analysed_only_with_include_pilot(program):
    pilot = WaveFactory(program=program, slug="pilot", is_pilot=True, distributed_count=2)
    ResponseFactory(wave=pilot, answers={"group": "A", "skill_empathy": "4"})

    assert json.loads(run(program.slug, "pilot", "--json"))["response"]["analyzed"] == 0
    data = json.loads(run(program.slug, "pilot", "--json", "--include-pilot"))
    assert data["response"]["analyzed"] == 1
    assert data["run"]["include_pilot"] is True
