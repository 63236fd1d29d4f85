"""The wellbeing module: a single-item burnout measure of five ordered levels and three
agreement items, as a built-in survey of its own and as a module any draft instrument adds;
a series compares the burnout level like the scale questions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from analysis.series.compute import series_results
from surveys import builtin, series, services
from surveys.models import WaveSeries
from surveys.responses import paper_response_add
from tests.factories import WaveFactory

pytestmark = pytest.mark.django_db


def test_the_built_in_survey_with_the_module_asks_the_burnout_level_before_the_open_questions():
    instrument = services.wellbeing_instrument()
    book = services.codebook(instrument)
    codes = [q["code"] for q in book]
    burnout = next(q for q in book if q["code"] == builtin.BURNOUT_CODE)

    assert instrument.published_at is not None
    assert codes.index("wellbeing_burnout") < codes.index("open_unique")
    # Every question of the built-in survey, with the same codes: its analyses apply as they are.
    assert {q["code"] for q in services.codebook(services.builtin_instrument())} < set(codes)
    assert [v["value"] for v in burnout["values"]] == ["1", "2", "3", "4", "5"]
    assert burnout["positive"] == ["3", "4", "5"]
    assert burnout["section"] == builtin.WELLBEING_TITLE


def test_a_draft_instrument_adds_the_module_once_and_a_published_one_cannot():
    draft = services.instrument_create(slug="our-survey", name="Our survey")
    services.section_add(instrument=draft, title="About you")

    section = services.module_add(instrument=draft, module="wellbeing")

    assert [q.code for q in section.questions.order_by("order")] == [
        code for code, *_ in builtin.WELLBEING_QUESTIONS
    ]
    with pytest.raises(ValidationError, match="already has question"):
        services.module_add(instrument=draft, module="wellbeing")
    with pytest.raises(ValidationError):
        services.module_add(instrument=services.builtin_instrument(), module="wellbeing")
    with pytest.raises(ValidationError, match="No module"):
        services.module_add(instrument=draft, module="mbi")


def test_a_series_of_the_module_compares_the_burnout_level(program, coordinator):
    instrument = services.wellbeing_instrument()
    made = series.series_create(
        program=program, actor=coordinator, name="Wellbeing", instrument_slug=instrument.slug,
        design=WaveSeries.Design.PRE_POST,
    )  # fmt: skip
    before, after = (WaveFactory(program=program, instrument=instrument) for _ in range(2))
    for wave in (before, after):
        series.series_add_wave(series=made, wave=wave, actor=coordinator)
    for i, (was, now) in enumerate([("4", "2"), ("3", "2"), ("4", "3"), ("5", "3"), ("3", "1"),
                                    ("2", "2")]):  # fmt: skip
        code = f"{'ABCDEF'[i]}0{i + 1}A"
        paper_response_add(wave=before, actor=coordinator,
                           answers={builtin.BURNOUT_CODE: was}, link_code=code)  # fmt: skip
        paper_response_add(wave=after, actor=coordinator,
                           answers={builtin.BURNOUT_CODE: now}, link_code=code)  # fmt: skip

    results = series_results(made)
    burnout = next(i for i in results.items if i.code == builtin.BURNOUT_CODE)
    codes = {i.code for i in results.items}

    comparison = burnout.comparisons[0]
    assert comparison.pairs == 6 and comparison.signed_rank.estimate < 0  # burnout fell
    # Burnout present (levels 3-5): 5 of 6 before, 2 of 6 after.
    assert (comparison.paired_difference.p_before, comparison.paired_difference.p_after) == (
        5 / 6,
        2 / 6,
    )
    assert "gender" not in codes and "group" not in codes and "open_unique" not in codes
