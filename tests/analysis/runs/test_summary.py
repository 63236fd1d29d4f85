"""The results paragraph (analysis.runs.summary.summary_paragraph) on results computed from
hand-made answers."""

from __future__ import annotations

import pytest

from analysis.runs.summary import p_text, percent, summary_paragraph
from tests.analysis.runs.test_compute import REFERENCE_LINE, reference_responses, run


def test_response_line_in_words_like_the_reference_paper():
    text = summary_paragraph(run(reference_responses()))

    assert text.startswith(
        "Of 35 clinicians surveyed, 25 returned the survey (71%); 24 were analysed "
        "(one was excluded: damaged form)."
    )


def test_program_name_is_part_of_the_first_sentence():
    text = summary_paragraph(run(reference_responses()), program_name="Medicine CCDG")

    assert text.startswith("Of 35 clinicians surveyed in Medicine CCDG, 25 returned")


def test_all_analysed_when_nothing_was_excluded():
    line = {"distributed": 30, "returned": 24, "excluded": 0}

    text = summary_paragraph(run(reference_responses(), response_line=line))

    assert text.startswith("Of 30 clinicians surveyed, 24 returned the survey (80%), and all 24 ")


def test_several_exclusion_reasons_are_listed():
    line = {
        "distributed": 35,
        "returned": 26,
        "excluded": 2,
        "excluded_reasons": {"damaged form": 1, "duplicate": 1},
    }

    text = summary_paragraph(run(reference_responses(), response_line=line))

    assert "(two were excluded: damaged form (1); duplicate (1))" in text


def test_demographics_name_the_most_common_category_with_its_share():
    text = summary_paragraph(run(reference_responses()))

    assert "gender, female (15 of 23, 65%)" in text
    assert (
        "Respondents came from three groups (group 1, n = 9; group 2, n = 8; group 3, n = 7)."
        in text
    )


def test_agreement_items_with_counts_and_percent():
    text = summary_paragraph(run(reference_responses()))

    assert (
        "All respondents agreed that participating in the group fostered self-reflection "
        "(24 of 24, 100%)."
    ) in text
    assert (
        "Most respondents agreed that participating in the group fostered empathy (19 of 24, 79%)."
        in text
    )
    assert "Nobody answered the items on increased flexibility to tolerate uncertainty" in text


def test_group_difference_is_reported_with_the_exact_p():
    results = run(reference_responses())
    empathy = next(r for r in results["table2"] if r["item"] == "skill_empathy")

    text = summary_paragraph(results)

    assert empathy["significant"]
    assert (
        f"for empathy (group 1: 89%; group 2: 50%; group 3: 100%; {p_text(empathy['p_value'])})"
    ) in text


def test_no_difference_across_groups_is_said_so():
    responses = [r for r in reference_responses() if r["group"] != "2"]

    text = summary_paragraph(run(responses))

    assert (
        "No item differed significantly across groups (Fisher's exact test, all p ≥ .05)." in text
    )


def test_relevance_mean_and_sd():
    text = summary_paragraph(run(reference_responses()))

    # 1 + k % 5 over k = 0..23: mean 2.875, SD 1.424
    assert (
        "Mean ratings of relevance to daily practice (1 = low, 5 = high) were 2.9 (SD 1.4) "
        "for ability to communicate."
    ) in text


def test_stressors_challenge_and_addressed_shares():
    text = summary_paragraph(run(reference_responses()))

    assert (
        "Isolation was named a moderate or serious challenge by 50% of respondents (12 of 24)."
        in text
    )
    assert "Respondents said the group addressed isolation (18 of 24, 75%)." in text
    assert "saying the group addressed isolation was associated with gender (p = .002)" in text


def test_no_analysable_responses_gives_a_clear_sentence():
    text = summary_paragraph(run([], response_line={**REFERENCE_LINE, "excluded": 25}))

    assert (
        text == "Of 35 clinicians surveyed, 25 returned the survey (71%). "
        "No responses could be analysed."
    )


def test_nothing_returned():
    text = summary_paragraph(run([], response_line={"distributed": 12, "returned": 0}))

    assert (
        text
        == "Of 12 clinicians surveyed, none returned the survey. No responses could be analysed."
    )


def test_the_same_results_give_the_same_text():
    assert summary_paragraph(run(reference_responses())) == summary_paragraph(
        run(reference_responses())
    )


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0004, "p < .001"),
        (0.0042, "p = .004"),
        (0.031, "p = .03"),
        (0.0496, "p < .05"),
        (0.05, "p = .05"),
        (0.372, "p = .37"),
        (0.999, "p > .99"),
        (None, "p not computable"),
    ],
)
def test_p_values_as_journals_print_them(p, text):
    assert p_text(p) == text


@pytest.mark.parametrize(("value", "text"), [(71.428, "71%"), (62.5, "63%"), (0.0, "0%")])
def test_percent_is_rounded_to_whole_numbers(value, text):
    assert percent(value) == text
