"""The analysis pages: starting a run, its progress, the results page, charts, the JSON
download and who may open them."""

from __future__ import annotations

import json
import time
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.models import AnalysisRun
from analysis.runs import services as runs
from sessions_app.models import ProgramRole
from tests.factories import (
    ClinicianFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    ResponseFactory,
    UserFactory,
    WaveFactory,
)
from tests.pages import wave_page

Status = AnalysisRun.Status


def answers(group: str, skill: str, relevance: str, gender: str) -> dict:
    return {
        "gender": gender,
        "group": group,
        "skill_self_reflection": skill,
        "skill_empathy": "4",
        "relevance_communicate": relevance,
        "challenge_isolation": "4",
        "addressed_isolation": "0",
    }


@pytest.fixture
def wave(program):
    """Ten analysed forms, five per group (the program's small-cell threshold)."""
    wave = WaveFactory(
        program=program, name="Spring 2027", slug="spring-2027", distributed_count=16
    )
    for a in (
        answers("Tuesday", "5", "5", "female"),
        answers("Tuesday", "4", "4", "female"),
        answers("Tuesday", "4", "3", "male"),
        answers("Tuesday", "5", "4", "female"),
        answers("Tuesday", "4", "5", "male"),
        answers("Thursday", "2", "2", "male"),
        answers("Thursday", "1", "3", "female"),
        answers("Thursday", "3", "2", "male"),
        answers("Thursday", "2", "3", "female"),
        answers("Thursday", "1", "1", "female"),
    ):
        ResponseFactory(wave=wave, answers=a)
    ResponseFactory(
        wave=wave, answers=answers("Thursday", "4", "4", "male"), excluded_reason="late"
    )
    return wave


url = wave_page("analysis")


def done_run(wave) -> AnalysisRun:
    return runs.run_execute(runs.run_create(wave=wave, actor=None).pk)


@pytest.fixture
def report_viewer_client(client, program):
    client.force_login(
        ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    )
    return client


def test_coordinator_starts_a_run_and_reads_the_results(
    coordinator_client, wave, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(url("run_start", wave), {"include_pilot": ""})

    run = AnalysisRun.objects.get(wave=wave)
    assert response.status_code == 302
    assert response["Location"] == url("run_detail", wave, pk=run.pk)
    page = coordinator_client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "Table 1. Respondents" in text
    assert "Table 2. Agreement: Participating in the group fostered" in text
    assert "16 distributed · 11 returned (69%) · 10 analysed · 1 excluded" in text
    assert "late: 1" in text
    # Self-reflection: 5 of 10 agree overall, 5 of 5 on Tuesday, 0 of 5 on Thursday.
    assert "5/10 (50%)" in text and "5/5 (100%)" in text and "0/5 (0%)" in text
    assert "Fisher&#x27;s exact test" in text or "Fisher's exact test" in text
    assert run.inputs_fingerprint in text
    assert url("run_chart", wave, pk=run.pk, name="agreement") in text
    assert url("run_json", wave, pk=run.pk) in text
    assert page["Content-Security-Policy"].count("unsafe-inline") == 0


def test_run_list_shows_runs_and_whether_their_data_changed(coordinator_client, wave):
    old = done_run(wave)
    ResponseFactory(wave=wave, answers=answers("Tuesday", "5", "5", "male"))
    new = done_run(wave)

    page = coordinator_client.get(url("run_list", wave))

    text = page.content.decode()
    assert page.status_code == 200
    assert f"Run {old.pk}" in text and f"Run {new.pk}" in text
    assert text.count("data changed since") == 1
    assert text.count(">current<") == 1
    assert "Run the analysis" in text


def test_run_list_queries_do_not_grow_with_the_runs(coordinator_client, wave):
    done_run(wave)
    coordinator_client.get(url("run_list", wave))  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(url("run_list", wave))
    for _ in range(4):
        done_run(wave)
    with CaptureQueriesContext(connection) as five:
        page = coordinator_client.get(url("run_list", wave))

    assert page.content.decode().count("analysis/runs/") >= 5
    assert len(five) == len(one)


def test_progress_fragment_shows_the_percentage_of_a_running_run(coordinator_client, wave):
    run = runs.run_create(wave=wave, actor=None)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, progress=0.42, step="Table 2: agreement items",
        timings={"updated": time.time()}, attempts=1,
    )  # fmt: skip

    response = coordinator_client.get(url("run_progress", wave, pk=run.pk), HTTP_HX_REQUEST="true")

    text = response.content.decode()
    assert response.status_code == 200
    assert "42%" in text and 'aria-valuenow="42"' in text
    assert "Table 2: agreement items" in text
    assert 'hx-trigger="every 1s"' in text
    assert "HX-Refresh" not in response


def test_progress_fragment_reloads_the_page_when_the_run_is_done(coordinator_client, wave):
    run = done_run(wave)

    response = coordinator_client.get(url("run_progress", wave, pk=run.pk), HTTP_HX_REQUEST="true")

    assert response["HX-Refresh"] == "true"
    assert "hx-trigger" not in response.content.decode()


def test_failed_run_page_offers_a_retry(
    coordinator_client, wave, django_capture_on_commit_callbacks
):
    broken = ResponseFactory(wave=wave, answers="not an object")
    run = done_run(wave)
    assert run.status == Status.FAILED

    page = coordinator_client.get(url("run_detail", wave, pk=run.pk))
    assert f"Response {broken.pk} has answers that are not a JSON object." in page.content.decode()
    assert url("run_retry", wave, pk=run.pk) in page.content.decode()

    broken.delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(url("run_retry", wave, pk=run.pk))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Status.DONE and run.attempts == 2


def test_report_viewer_may_view_and_start_runs(
    report_viewer_client, wave, django_capture_on_commit_callbacks
):
    run = done_run(wave)
    assert report_viewer_client.get(url("run_list", wave)).status_code == 200
    assert report_viewer_client.get(url("run_detail", wave, pk=run.pk)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = report_viewer_client.post(url("run_start", wave))
    assert response.status_code == 302
    assert AnalysisRun.objects.filter(wave=wave).count() == 2


def test_participant_is_refused(client, program, wave):
    user = UserFactory()
    GroupMembershipFactory(
        group=GroupFactory(program=program), clinician=ClinicianFactory(program=program, user=user)
    )
    run = done_run(wave)
    client.force_login(user)

    assert client.get(url("run_list", wave)).status_code == 403
    assert client.get(url("run_detail", wave, pk=run.pk)).status_code == 403
    assert client.get(url("run_chart", wave, pk=run.pk, name="agreement")).status_code == 403
    assert client.post(url("run_start", wave)).status_code == 403
    assert AnalysisRun.objects.count() == 1


def test_coordinator_of_another_program_gets_404(client, wave):
    other = ProgramFactory()
    client.force_login(ProgramRoleFactory(program=other).user)
    run = done_run(wave)

    assert client.get(url("run_list", wave)).status_code == 404
    assert client.get(url("run_json", wave, pk=run.pk)).status_code == 404


def test_run_of_another_wave_is_404(coordinator_client, program, wave):
    other_wave = WaveFactory(program=program)
    run = done_run(other_wave)

    assert coordinator_client.get(url("run_detail", wave, pk=run.pk)).status_code == 404
    assert coordinator_client.get(url("run_json", wave, pk=run.pk)).status_code == 404


def test_chart_is_an_svg_image_with_the_item_labels(coordinator_client, wave):
    run = done_run(wave)

    response = coordinator_client.get(url("run_chart", wave, pk=run.pk, name="agreement"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'unsafe-inline'" in policy
    assert "script-src" not in policy
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own SVG
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = response.content.decode()
    assert "Self-reflection" in text and "Empathy" in text
    assert coordinator_client.get(url("run_chart", wave, pk=run.pk, name="nope")).status_code == 404


def test_results_download_as_json(coordinator_client, wave):
    run = done_run(wave)

    response = coordinator_client.get(url("run_json", wave, pk=run.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="analysis-{wave.program.slug}-spring-2027-run{run.pk}.json"'
    )
    data = json.loads(response.content)
    assert data["response"]["analyzed"] == 10
    assert data["run"]["inputs_fingerprint"] == run.inputs_fingerprint
    assert "charts" not in data
    assert {"table1", "table2", "relevance", "stressors", "charts_data"} <= set(data)


def test_unfinished_run_has_no_download(coordinator_client, wave):
    run = runs.run_create(wave=wave, actor=None)

    assert coordinator_client.get(url("run_json", wave, pk=run.pk)).status_code == 404
    page = coordinator_client.get(url("run_detail", wave, pk=run.pk))
    assert "Waiting for a worker" in page.content.decode()


def test_start_is_post_only(coordinator_client, wave):
    assert coordinator_client.get(url("run_start", wave)).status_code == 405
    assert coordinator_client.get(url("run_retry", wave, pk=1)).status_code == 405


def test_staff_may_open_the_results(client, staff_user, wave):
    run = done_run(wave)
    client.force_login(staff_user)

    assert client.get(url("run_detail", wave, pk=run.pk)).status_code == 200


def test_no_inline_styles_or_scripts_on_the_pages(coordinator_client, wave):
    run = done_run(wave)
    for page in (url("run_list", wave), url("run_detail", wave, pk=run.pk)):
        text = coordinator_client.get(page).content.decode()
        assert " style=" not in text and "<style" not in text
        assert "<script>" not in text


def test_the_results_page_reads_chart_names_and_each_chart_comes_alone(coordinator_client, wave):
    from analysis.runs import selectors

    run = done_run(wave)
    stored = AnalysisRun.objects.get(pk=run.pk).results["charts"]
    light = selectors.with_chart_names(AnalysisRun.objects.filter(pk=run.pk)).get()

    assert stored and light.results_light["charts"] == dict.fromkeys(stored, True)
    assert {k: v for k, v in light.results_light.items() if k != "charts"} == {
        k: v for k, v in AnalysisRun.objects.get(pk=run.pk).results.items() if k != "charts"
    }
    page = coordinator_client.get(url("run_detail", wave, pk=run.pk)).content.decode()
    for name, svg in stored.items():
        assert f"charts/{name}.svg" in page
        chart = coordinator_client.get(url("run_chart", wave, pk=run.pk, name=name))
        assert chart.content.decode() == svg
    assert coordinator_client.get(url("run_chart", wave, pk=run.pk, name="nope")).status_code == 404
