"""The wave's running digest of its responses stays equal to the digest of the responses as
they are, whichever way they were written, so the analysis runs list can trust it without
reading every response."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.runs import services as runs
from surveys import digest, waves
from surveys import responses_csv as rc
from surveys.models import Response, ResponsesDigest, Wave
from surveys.responses import paper_response_add, response_exclude, response_include
from tests.factories import GroupFactory, GroupMembershipFactory, WaveFactory
from tests.pages import wave_page

pytestmark = pytest.mark.django_db


def digest_of_rows_now(wave) -> str:
    return digest.digest_of(
        Response.objects.filter(wave=wave).values_list("answers", "excluded_reason")
    )


def assert_in_step(wave) -> None:
    assert digest.stored_digest(wave.pk) == digest_of_rows_now(wave)
    kept = ResponsesDigest.objects.get(wave=wave)
    responses = Response.objects.filter(wave=wave)
    assert (kept.returned, kept.excluded) == (
        responses.count(),
        responses.exclude(excluded_reason="").count(),
    )
    figures = waves.figures(Wave.objects.get(pk=wave.pk))
    assert (figures.returned, figures.excluded) == (kept.returned, kept.excluded)


@pytest.fixture
def groups(program):
    made = [GroupFactory(program=program, name=n) for n in ("Tuesday", "Thursday")]
    for g in made:
        for _ in range(3):
            GroupMembershipFactory(group=g)
    return made


def test_typed_in_excluded_included_and_imported_responses_keep_the_digest(program, coordinator):
    wave = WaveFactory(program=program, distributed_count=40)
    first = paper_response_add(wave=wave, actor=coordinator, answers={"skill_empathy": "4"})
    paper_response_add(wave=wave, actor=coordinator, answers={"skill_empathy": "2"}, form_id="7")
    assert ResponsesDigest.objects.filter(wave=wave).exists()
    assert_in_step(wave)

    response_exclude(response=first, actor=coordinator, reason="damaged form")
    assert_in_step(wave)
    excluded = digest.stored_digest(wave.pk)
    response_include(response=first, actor=coordinator)
    assert_in_step(wave)
    assert digest.stored_digest(wave.pk) != excluded

    rc.responses_import(
        wave=wave,
        actor=coordinator,
        content=b"form_id,skill_empathy\n11,5\n12,3\n13,\n",
    )
    assert Response.objects.filter(wave=wave).count() == 5
    assert_in_step(wave)


def test_online_answers_keep_the_digest_in_anonymous_and_confidential_waves(
    program, coordinator, groups
):
    for mode in (Wave.Mode.ANONYMOUS, Wave.Mode.CONFIDENTIAL):
        wave = waves.wave_open(
            program=program,
            actor=coordinator,
            name=f"Spring {mode}",
            mode=mode,
            audience=Wave.Audience.ALL_ACTIVE,
            closes_at=timezone.now() + timedelta(days=14),
        )
        recipients = list(wave.recipients.all())
        waves.response_submit(recipient=recipients[0], answers={"skill_empathy": "5"})
        waves.response_submit(recipient=recipients[1], answers={"skill_empathy": "1"})
        assert_in_step(wave)


def test_the_same_responses_give_the_same_digest_in_any_order():
    rows = [({"a": "1", "b": "2"}, ""), ({"a": "3"}, "late"), ({"a": "1", "b": "2"}, "")]
    assert digest.digest_of(rows) == digest.digest_of(list(reversed(rows)))
    assert digest.digest_of(rows) != digest.digest_of(rows[:2])
    assert digest.digest_of([({"b": "2", "a": "1"}, "")]) == digest.digest_of([rows[0]])


def test_responses_written_before_the_digest_existed_are_counted_when_first_asked(program):
    wave = WaveFactory(program=program)
    Response.objects.bulk_create(
        Response(wave=wave, source=Response.Source.PAPER, answers={"skill_empathy": v},
                 submitted_at=wave.opens_at)
        for v in ("1", "2", "3")
    )  # fmt: skip
    assert not ResponsesDigest.objects.filter(wave=wave).exists()
    assert_in_step(wave)


def test_the_runs_list_reads_no_answers_to_tell_a_current_run(coordinator_client, program):
    wave = WaveFactory(program=program, distributed_count=20)
    for value in ("1", "2", "3", "4", "5", "4"):
        paper_response_add(wave=wave, actor=None, answers={"skill_empathy": value})
    runs.run_execute(runs.run_create(wave=wave, actor=None).pk)
    url = wave_page("analysis")("run_list", wave)

    with CaptureQueriesContext(connection) as queries:
        page = coordinator_client.get(url)

    assert page.status_code == 200
    assert ">current<" in page.content.decode()
    read_answers = [q["sql"] for q in queries if '"surveys_response"."answers"' in q["sql"]]
    assert read_answers == []
