"""A series' results over time: each later wave against the baseline, paired by personal code
(or by recipient), the small-cell rule on every figure, and the results paragraph with the
design's limits. The statistics themselves equal R (tests/analysis/stats/test_paired.py);
here, that the right answers reach them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analysis import stats
from analysis.series.compute import series_results
from surveys import series
from surveys.models import WaveSeries
from surveys.responses import paper_response_add, response_exclude
from surveys.services import builtin_instrument
from tests.factories import WaveFactory

pytestmark = pytest.mark.django_db

LETTERS = "ABCDEFGHIJKL"


def code(i: int) -> str:
    return f"{LETTERS[i]}0{1 + i % 9}{LETTERS[i]}"


@pytest.fixture
def made(program, coordinator):
    """Baseline: 12 respondents with codes, empathy 2 or 3. One year on: 9 of them again, each
    a point or two higher, plus 3 without a code."""
    found = series.series_create(
        program=program, actor=coordinator, name="Pre/post", design=WaveSeries.Design.PRE_POST,
        instrument_slug=builtin_instrument().slug,
    )  # fmt: skip
    before, after = WaveFactory(program=program), WaveFactory(program=program)
    series.series_add_wave(series=found, wave=before, actor=coordinator)
    series.series_add_wave(series=found, wave=after, actor=coordinator, label="One year on")
    baseline = {code(i): str(2 + i % 2) for i in range(12)}
    later = {code(i): str(min(5, int(baseline[code(i)]) + 1 + i % 2)) for i in range(9)}
    for c, value in baseline.items():
        paper_response_add(wave=before, actor=coordinator, answers={"skill_empathy": value},
                           link_code=c)  # fmt: skip
    for c, value in later.items():
        paper_response_add(wave=after, actor=coordinator, answers={"skill_empathy": value},
                           link_code=c)  # fmt: skip
    for value in ("4", "5", "3"):
        paper_response_add(wave=after, actor=coordinator, answers={"skill_empathy": value})
    return found, baseline, later


def empathy(results):
    return next(i for i in results.items if i.code == "skill_empathy")


def test_the_paired_test_gets_exactly_the_linked_pairs_in_order(made):
    found, baseline, later = made
    comparison = empathy(series_results(found)).comparisons[0]

    x = [float(later[c]) for c in later]
    y = [float(baseline[c]) for c in later]
    assert comparison.pairs == 9
    assert comparison.signed_rank == stats.signed_rank(x, y)
    assert comparison.signed_rank.estimate > 0  # answers rose
    agree = [[0, 0], [0, 0]]  # positive = 4 or 5 ("agree"), before (rows) and after (columns)
    for c in later:
        agree[0 if baseline[c] in "45" else 1][0 if later[c] in "45" else 1] += 1
    assert comparison.mcnemar == stats.mcnemar_exact(agree)
    assert comparison.paired_difference == stats.paired_proportion_difference(agree)


def test_the_unpaired_comparison_takes_every_answer_of_both_waves(made):
    found, baseline, later = made
    comparison = empathy(series_results(found)).comparisons[0]

    after_all = [float(v) for v in later.values()] + [4.0, 5.0, 3.0]
    assert (comparison.before.n, comparison.after.n) == (12, 12)
    assert comparison.rank_sum == stats.rank_sum(after_all, [float(v) for v in baseline.values()])
    hits_after = sum(1 for v in after_all if v >= 4)
    assert comparison.difference == stats.proportion_difference(hits_after, 12, 0, 12)


def test_fewer_linked_pairs_than_k_show_no_paired_result(made, coordinator):
    found, baseline, later = made
    after = series.members_of(found)[1].wave
    for response in after.responses.exclude(link_hash="").order_by("pk")[:5]:
        response_exclude(response=response, actor=coordinator, reason="answered twice")

    comparison = empathy(series_results(found)).comparisons[0]

    assert comparison.pairs == 4 and not comparison.paired_shown  # k = 5
    assert comparison.signed_rank is None and comparison.mcnemar is None
    assert comparison.after.n == 7 and comparison.rank_sum is not None


def test_the_paragraph_gives_attrition_and_the_limits(made):
    found, _, _ = made
    text = series_results(found).paragraph
    assert "Of the 12 baseline respondents who could be linked, 9 (75%)" in text
    assert "“One year on”" in text
    assert "self-selection" in text and "attrition" in text


def test_the_results_page_shows_paired_and_unpaired_results(coordinator_client, program, made):
    found, _, _ = made
    page = coordinator_client.get(
        reverse("series:results", kwargs={"slug": program.slug, "series": found.slug})
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "9 pairs: shift +" in html and "signed-rank p =" in html
    assert "McNemar exact p =" in html and "rank-sum p =" in html
    assert "Of the 12 baseline respondents" in html


def test_the_series_page_counts_codes_duplicates_and_links(coordinator_client, program, made):
    found, _, _ = made
    page = coordinator_client.get(
        reverse("surveys:series_detail", kwargs={"slug": program.slug, "series": found.slug})
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "9 of 12" in html  # linked to the baseline
    assert "data-without-code>3<" in html  # the three forms without a code


def test_the_chart_draws_each_wave_and_redraws_when_an_answer_comes(
    coordinator_client, program, coordinator, made
):
    found, _, _ = made
    url = reverse("series:chart", kwargs={"slug": program.slug, "series": found.slug,
                                          "name": "scale-1"})  # fmt: skip
    first = coordinator_client.get(url)
    svg = first.content.decode()

    assert first.status_code == 200 and first["Content-Type"].startswith("image/svg+xml")
    assert 'id="bar-skill_empathy-w0-2"' in svg and 'id="bar-skill_empathy-w1-4"' in svg
    # A question nobody answered in a wave: named, not drawn.
    assert "Baseline (no answers)" in svg and 'id="bar-skill_self_reflection-w0-' not in svg
    after = series.members_of(found)[1].wave
    paper_response_add(wave=after, actor=coordinator, answers={"skill_self_reflection": "5"})
    assert coordinator_client.get(url).content.decode() != svg
    missing = reverse("series:chart", kwargs={"slug": program.slug, "series": found.slug,
                                              "name": "scale-9"})  # fmt: skip
    assert coordinator_client.get(missing).status_code == 404


def test_a_confidential_series_sets_change_against_sessions_attended(program, coordinator):
    from datetime import timedelta

    from django.utils import timezone

    from surveys import waves
    from surveys.models import Wave
    from tests.factories import (
        AttendanceFactory,
        GroupFactory,
        GroupMembershipFactory,
        SessionFactory,
    )

    group = GroupFactory(program=program, name="Thursday group")
    members = [GroupMembershipFactory(group=group).clinician for _ in range(7)]
    now = timezone.now()

    def confidential(name):
        return waves.wave_open(
            program=program, actor=coordinator, name=name, mode=Wave.Mode.CONFIDENTIAL,
            closes_at=now + timedelta(days=14), audience=Wave.Audience.ALL_ACTIVE,
        )  # fmt: skip

    found = series.series_create(
        program=program, actor=coordinator, name="Named", design=WaveSeries.Design.PRE_POST,
        instrument_slug=builtin_instrument().slug,
    )  # fmt: skip
    before = confidential("Before")
    Wave.objects.filter(pk=before.pk).update(opens_at=now - timedelta(days=90))
    sessions = [SessionFactory(group=group, starts_at=now - timedelta(days=60 - 7 * i))
                for i in range(7)]  # fmt: skip
    attended = [0, 1, 2, 3, 4, 5, 6]  # of the seven sessions held between the waves
    change = [0, 0, 1, 1, 2, 1, 2]  # later minus baseline, rising with attendance
    for clinician, n in zip(members, attended, strict=True):
        for session in sessions[:n]:
            AttendanceFactory(session=session, clinician=clinician)
    after = confidential("After")
    for wave in (Wave.objects.get(pk=before.pk), after):
        series.series_add_wave(series=found, wave=wave, actor=coordinator)
    for clinician, delta in zip(members, change, strict=True):
        first = Wave.objects.get(pk=before.pk).recipients.get(clinician=clinician)
        waves.response_submit(recipient=first, answers={"skill_empathy": "2"})
        waves.response_submit(
            recipient=after.recipients.get(clinician=clinician),
            answers={"skill_empathy": str(2 + delta)},
        )

    comparison = empathy(series_results(found)).comparisons[0]

    assert comparison.attendance_pairs == 7
    assert comparison.attendance == stats.spearman(
        [float(n) for n in attended], [float(d) for d in change]
    )
    assert comparison.attendance.estimate > 0


def test_a_yearly_series_tests_the_trend_with_its_effect(program, coordinator):
    found = series.series_create(
        program=program, actor=coordinator, name="Years", design=WaveSeries.Design.YEARLY,
        instrument_slug=builtin_instrument().slug,
    )  # fmt: skip
    agree_per_year = [(2, 10), (5, 10), (8, 10)]  # agreeing (4) of those answering, by year
    for agree, total in agree_per_year:
        wave = WaveFactory(program=program)
        series.series_add_wave(series=found, wave=wave, actor=coordinator)
        for i in range(total):
            paper_response_add(wave=wave, actor=coordinator,
                               answers={"skill_empathy": "4" if i < agree else "2"})  # fmt: skip

    item = empathy(series_results(found))

    assert [m.label for m in series.members_of(found)] == ["Year 1", "Year 2", "Year 3"]
    assert item.trend == stats.trend_test([2, 5, 8], [10, 10, 10])
    assert item.trend_difference == stats.proportion_difference(8, 10, 2, 10)
    assert item.trend_shares == [20, 50, 80]
    assert all(c.pairs == 0 for c in item.comparisons)  # no codes: nothing paired
