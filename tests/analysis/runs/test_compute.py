"""The survey analysis (analysis.runs.compute.analyse) on hand-made answers whose figures can be
counted by hand. The statistics themselves are checked against R in test_stats.py; here the
question is whether the right numbers reach them and come back in the right place."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import stats
from analysis.runs.compute import NO_RESPONSES_NOTE, SCHEMA_VERSION, analyse
from surveys import builtin

REFERENCE_LINE = {
    "distributed": 35,
    "returned": 25,
    "excluded": 1,
    "excluded_reasons": {"damaged form": 1},
}


def builtin_codebook() -> list[dict]:
    """The built-in instrument's codebook, in the format of surveys.services.codebook,
    made from surveys.builtin without the database."""
    codebook = []
    for section, questions in builtin.SECTIONS:
        for code, text, qtype, choices in questions:
            positive: list[str] = []
            if qtype in builtin.SCALES:
                choices, positive = builtin.SCALES[qtype]
            codebook.append(
                {
                    "code": code,
                    "section": section,
                    "text": text,
                    "type": qtype,
                    "required": False,
                    "values": [{"value": v, "label": label} for v, label in choices or []],
                    "positive": list(positive),
                }
            )
    return codebook


def reference_responses() -> list[dict[str, str]]:
    """24 analysed forms in three groups (9, 8, 7), like the reference program's wave.

    - everybody agrees that the group fostered self-reflection (5 or 4);
    - empathy: group 1 8 of 9 agree, group 2 4 of 8, group 3 7 of 7;
    - tolerating uncertainty: one person in group 2 left it blank;
    - gender: 15 female, 8 male, 1 blank.
    """
    responses = []
    sizes = {"1": 9, "2": 8, "3": 7}
    empathy_agree = {"1": 8, "2": 4, "3": 7}
    k = 0
    for group, size in sizes.items():
        for i in range(size):
            answers = {
                "group": group,
                "gender": "female" if k < 15 else ("male" if k < 23 else ""),
                "years_at_institution": ["lt5", "5to10", "gt10"][k % 3],
                "patient_care_halfdays": "ge7" if k % 2 else "le6",
                "clinician_type": "physician" if k < 12 else "psychologist",
                "skill_self_reflection": "5" if i % 2 else "4",
                "skill_empathy": "4" if i < empathy_agree[group] else "2",
                "skill_tolerate_uncertainty": "" if (group == "2" and i == 0) else "3",
                "relevance_communicate": str(1 + k % 5),
                "challenge_isolation": str(1 + k % 4),
                "addressed_isolation": "1" if k < 18 else "0",
            }
            responses.append(answers)
            k += 1
    return responses


def run(responses, **kwargs):
    """The analysis under the program's default small-cell threshold (5) unless told."""
    kwargs.setdefault("response_line", REFERENCE_LINE)
    kwargs.setdefault("small_cell_k", 5)
    return analyse(questions=builtin_codebook(), responses=responses, **kwargs)


def row(rows, item):
    (found,) = [r for r in rows if r["item"] == item]
    return found


def test_response_line_reproduces_the_reference_program():
    results = run(reference_responses())

    assert results["response"] == {
        "distributed": 35,
        "returned": 25,
        "analyzed": 24,
        "excluded": 1,
        "excluded_reasons": {"damaged form": 1},
        "rate": 25 / 35,
    }
    assert results["meta"] == {
        "schema_version": SCHEMA_VERSION,
        "questions": 23,
        "responses": 24,
        "groups": ["1", "2", "3"],
        "small_cells": {"k": 5, "totals_only": False},
    }


def test_rate_is_null_when_nothing_was_distributed():
    results = run(reference_responses(), response_line={"distributed": 0, "returned": 24})

    assert results["response"]["rate"] is None


def test_table1_gives_n_and_percent_of_those_who_answered_with_labels():
    results = run(reference_responses())

    gender = [r for r in results["table1"] if r["question"] == "gender"]
    assert [(r["value"], r["label"], r["n"]) for r in gender] == [
        ("female", "Female", 15),
        ("male", "Male", 8),
        ("nonbinary", "Nonbinary", None),  # nobody: fewer than 5, printed "< 5"
        ("undisclosed", "Prefer not to say", None),
    ]
    assert gender[0]["percent"] == 100 * 15 / 23
    assert (gender[2]["percent"], gender[2]["suppressed"]) == (None, "small")
    items = {i["question"]: i for i in results["table1_items"]}
    assert items["gender"] == {"question": "gender", "text": "Gender", "n": 23, "missing": 1}
    assert list(items) == [
        "gender",
        "clinician_type",
        "years_at_institution",
        "patient_care_halfdays",
        "group",
    ]
    groups = [(r["value"], r["n"]) for r in results["table1"] if r["question"] == "group"]
    assert groups == [("1", 9), ("2", 8), ("3", 7)]


def test_group_order_follows_the_program_and_lists_groups_nobody_named():
    results = run(reference_responses(), group_labels=["3", "2", "1", "4"])

    groups = [(r["value"], r["n"]) for r in results["table1"] if r["question"] == "group"]
    assert groups == [("3", 7), ("2", 8), ("1", 9), ("4", None)]
    empathy = row(results["table2"], "skill_empathy")
    assert list(empathy["by_group"]) == ["3", "2", "1", "4"]
    # Nobody named group 4: like any count under 5 it prints "< 5", with no figures.
    assert empathy["by_group"]["4"] == {
        "n": None, "agree": None, "percent": None, "suppressed": "small",
    }  # fmt: skip
    # The group without answers stays out of the test's table.
    assert empathy["p_value"] == stats.fisher_exact([[7, 0], [4, 4], [8, 1]]).pvalue


def test_table2_counts_agreement_per_group_and_tests_that_table():
    results = run(reference_responses())

    empathy = row(results["table2"], "skill_empathy")
    assert empathy["overall"] == {"n": 24, "agree": 19, "percent": 100 * 19 / 24}
    assert empathy["by_group"] == {
        "1": {"n": 9, "agree": 8, "percent": 100 * 8 / 9},
        "2": {"n": 8, "agree": 4, "percent": 50.0},
        "3": {"n": 7, "agree": 7, "percent": 100.0},
    }
    expected = stats.fisher_exact([[8, 1], [4, 4], [7, 0]])
    assert empathy["p_value"] == expected.pvalue
    assert empathy["significant"] is (expected.pvalue < 0.05)
    assert empathy["test"] == {"method": "exact", "stderr": None, "note": None}
    assert empathy["text"] == builtin.AGREE_STEM + "empathy"


def test_everybody_agreeing_gives_p_1_with_the_reason_noted():
    results = run(reference_responses())

    reflection = row(results["table2"], "skill_self_reflection")
    assert reflection["overall"] == {"n": 24, "agree": 24, "percent": 100.0}
    assert reflection["p_value"] == 1.0
    assert reflection["significant"] is False
    assert reflection["test"]["note"]
    assert any("skill_self_reflection" in note for note in results["notes"])


def test_missing_answers_are_left_out_item_by_item():
    results = run(reference_responses())

    uncertainty = row(results["table2"], "skill_tolerate_uncertainty")
    assert uncertainty["overall"] == {"n": 23, "agree": 0, "percent": 0.0}
    assert uncertainty["by_group"]["2"] == {"n": 7, "agree": 0, "percent": 0.0}
    # The blank answer does not take the respondent out of the other items.
    assert row(results["table2"], "skill_empathy")["by_group"]["2"]["n"] == 8


def test_item_nobody_answered_has_n_0_and_a_note():
    results = run(reference_responses())

    blind_spots = row(results["table2"], "skill_blind_spots")
    assert blind_spots["overall"] == {"n": 0, "agree": 0, "percent": None}
    assert blind_spots["p_value"] is None
    assert blind_spots["significant"] is False
    assert all(g["suppressed"] == "small" for g in blind_spots["by_group"].values())
    assert any("Nobody answered" in n and "skill_blind_spots" in n for n in results["notes"])
    conflict = row(results["relevance"], "relevance_conflict")
    assert conflict["overall"]["n"] == 0
    assert conflict["overall"]["mean"] is None
    assert any("Nobody answered" in n and "relevance_conflict" in n for n in results["notes"])


def test_no_analysable_responses_gives_empty_tables_and_says_so():
    results = run([], response_line={"distributed": 35, "returned": 1, "excluded": 1})

    assert results["notes"] == [NO_RESPONSES_NOTE]
    for table in ("table1", "table1_items", "table2", "relevance", "stressors"):
        assert results[table] == []
    assert results["response"]["analyzed"] == 0
    assert results["response"]["rate"] == 1 / 35
    json.dumps(results)


def test_group_with_one_respondent_is_hidden_and_tested_together_with_the_next_smallest():
    responses = reference_responses()
    responses.append({"group": "4", "skill_empathy": "1"})

    results = run(responses)

    empathy = row(results["table2"], "skill_empathy")
    assert empathy["by_group"]["4"] == {
        "n": None, "agree": None, "percent": None, "suppressed": "small",
    }  # fmt: skip
    # Group 3 (7, the smallest other) is hidden too, so group 4 is not overall minus 1, 2, 3;
    # the test counts the two together: 7 of 8 agree.
    assert empathy["by_group"]["3"]["suppressed"] == "complementary"
    assert empathy["p_value"] == stats.fisher_exact([[8, 1], [4, 4], [7, 1]]).pvalue
    assert not any("Group 4" in note for note in results["notes"])
    assert any(note.startswith("Small cells (k = 5)") for note in results["notes"])


def test_responses_without_a_group_count_overall_only():
    responses = reference_responses()
    responses.append({"skill_empathy": "5"})

    results = run(responses)

    empathy = row(results["table2"], "skill_empathy")
    assert empathy["overall"]["n"] == 25
    assert sum(g["n"] for g in empathy["by_group"].values()) == 24
    assert any("1 of 25 analysed response does not name a group" in n for n in results["notes"])


def test_group_label_outside_the_programs_groups_is_kept_and_noted():
    results = run(reference_responses(), group_labels=["1", "2"])

    assert results["meta"]["groups"] == ["1", "2", "3"]
    assert any("not in the program's groups (3)" in note for note in results["notes"])


def test_exact_test_over_budget_falls_back_to_monte_carlo_and_says_so():
    results = run(reference_responses(), fisher_budget=0)

    empathy = row(results["table2"], "skill_empathy")
    assert empathy["test"]["method"] == "monte_carlo"
    assert empathy["test"]["stderr"] > 0
    assert 0 < empathy["p_value"] <= 1
    assert any("skill_empathy" in n and "Monte Carlo" in n for n in results["notes"])


def test_monte_carlo_note_says_when_the_exact_test_was_not_attempted():
    # A budget so small that the up-front estimate rules the exact test out.
    results = run(reference_responses(), fisher_budget=1e-9)

    empathy = row(results["table2"], "skill_empathy")
    assert empathy["test"]["method"] == "monte_carlo"
    assert empathy["test"]["note"].startswith("Exact computation not attempted: about ")
    assert any(
        "skill_empathy" in n and "not attempted" in n and "Monte Carlo" in n
        for n in results["notes"]
    )


def relevance_responses(levels: dict[str, list[int]]) -> list[dict[str, str]]:
    """relevance_communicate ratings per years_at_institution level."""
    return [
        {"years_at_institution": level, "relevance_communicate": str(v), "group": "1"}
        for level, values in levels.items()
        for v in values
    ]


LT5 = [5, 4, 4, 5, 3]
GT10 = [2, 3, 2, 1, 3, 2]
FIVE_TO_TEN = [3, 4, 3, 5, 2]


def test_relevance_mean_and_sd_overall_and_per_level():
    results = run(relevance_responses({"lt5": LT5, "gt10": GT10}))

    communicate = row(results["relevance"], "relevance_communicate")
    expected = stats.describe(LT5 + GT10)
    assert communicate["overall"]["n"] == 11
    assert communicate["overall"]["mean"] == expected.mean
    assert communicate["overall"]["sd"] == expected.sd
    assert communicate["overall"]["median"] == 3.0
    years = communicate["by"]["years_at_institution"]["levels"]
    assert years["lt5"]["n"] == 5
    assert years["lt5"]["mean"] == stats.describe(LT5).mean
    assert years["lt5"]["sd"] == stats.describe(LT5).sd
    assert years["lt5"]["label"] == "Less than 5"
    assert years["5to10"] == {
        "label": "5 to 10",
        "n": None,
        "mean": None,
        "sd": None,
        "median": None,
        "suppressed": "small",
    }


def test_relevance_uses_rank_sum_when_two_levels_answered():
    results = run(relevance_responses({"lt5": LT5, "gt10": GT10}))

    by_years = row(results["relevance"], "relevance_communicate")["by"]["years_at_institution"]
    expected = stats.rank_sum(sorted(LT5), sorted(GT10))
    assert by_years["test"] == "rank_sum"
    assert by_years["statistic"] == expected.statistic
    assert by_years["p_value"] == expected.pvalue


def test_relevance_uses_kruskal_wallis_when_three_levels_answered():
    results = run(relevance_responses({"lt5": LT5, "5to10": FIVE_TO_TEN, "gt10": GT10}))

    by_years = row(results["relevance"], "relevance_communicate")["by"]["years_at_institution"]
    expected = stats.kruskal(sorted(LT5), sorted(FIVE_TO_TEN), sorted(GT10))
    assert by_years["test"] == "kruskal"
    assert by_years["statistic"] == expected.statistic
    assert by_years["p_value"] == expected.pvalue


def test_relevance_with_one_level_answered_is_not_tested_and_noted():
    results = run(relevance_responses({"lt5": LT5}))

    by_years = row(results["relevance"], "relevance_communicate")["by"]["years_at_institution"]
    assert by_years["test"] is None
    assert by_years["p_value"] is None
    assert by_years["note"] == "Not tested: fewer than two categories have answers."
    assert any(
        "relevance_communicate" in n and "by years_at_institution: Not tested" in n
        for n in results["notes"]
    )


def test_stressors_percent_naming_a_moderate_or_serious_challenge():
    results = run(reference_responses())

    isolation = row(results["stressors"], "challenge_isolation")
    # k % 4 + 1 over k = 0..23: six each of 1, 2, 3, 4; 3 and 4 are positive.
    assert (isolation["kind"], isolation["n"], isolation["positive"]) == ("challenge", 24, 12)
    assert isolation["percent"] == 50.0
    by_group = isolation["by"]["group"]
    # group 1 is k = 0..8, group 2 k = 9..16, group 3 k = 17..23
    assert by_group["levels"] == {
        "1": {"n": 9, "positive": 4, "percent": 100 * 4 / 9},
        "2": {"n": 8, "positive": 4, "percent": 50.0},
        "3": {"n": 7, "positive": 4, "percent": 100 * 4 / 7},
    }
    assert by_group["p_value"] == stats.fisher_exact([[4, 5], [4, 4], [4, 3]]).pvalue
    assert by_group["test"]["method"] == "exact"


def test_stressors_percent_saying_the_group_addressed_it():
    results = run(reference_responses())

    addressed = row(results["stressors"], "addressed_isolation")
    assert (addressed["kind"], addressed["n"], addressed["positive"]) == ("addressed", 24, 18)
    assert addressed["percent"] == 75.0
    by_gender = addressed["by"]["gender"]
    # female k = 0..14 all yes; male k = 15..22: 15, 16, 17 yes, the rest no
    assert by_gender["levels"]["female"] == {"n": 15, "positive": 15, "percent": 100.0}
    assert by_gender["levels"]["male"] == {"n": 8, "positive": 3, "percent": 37.5}
    assert by_gender["levels"]["nonbinary"] == {
        "n": None, "positive": None, "percent": None, "suppressed": "small",
    }  # fmt: skip
    assert by_gender["p_value"] == stats.fisher_exact([[15, 0], [3, 5]]).pvalue


def test_results_are_json_and_the_same_every_time():
    first = json.dumps(run(reference_responses()), sort_keys=True)
    second = json.dumps(run(reference_responses()), sort_keys=True)

    assert first == second


def test_progress_is_reported_in_order_up_to_done():
    seen: list[tuple[float, str]] = []

    run(reference_responses(), progress=lambda fraction, step: seen.append((fraction, step)))

    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert seen[0] == (0.0, "Counting answers")
    assert seen[-1] == (1.0, "Done")
    assert any(step.startswith("Stressors") for _, step in seen)


def test_blank_and_spaced_answers_count_as_missing_and_as_their_code():
    results = run(
        [
            {"group": " 1", "skill_empathy": "4 "},
            {"group": "1", "skill_empathy": None},
            {"group": "", "skill_empathy": "  "},
        ]
        * 5
    )

    empathy = row(results["table2"], "skill_empathy")
    assert empathy["overall"] == {"n": 5, "agree": 5, "percent": 100.0}
    assert empathy["by_group"] == {"1": {"n": 5, "agree": 5, "percent": 100.0}}


AGREEMENT = [v for v, _ in builtin.AGREEMENT5] + [""]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(AGREEMENT)),
        min_size=1,
        max_size=60,
    )
)
def test_group_counts_add_up_to_the_overall_counts(answers):
    responses = [{"group": g, "skill_empathy": a} for g, a in answers]

    # k = 1: no category is small, so every count is there to add up.
    results = run(responses, fisher_budget=0.5, small_cell_k=1)

    empathy = row(results["table2"], "skill_empathy")
    shown = [g for g in empathy["by_group"].values() if not g.get("suppressed")]
    assert sum(g["n"] for g in shown) == empathy["overall"]["n"]
    assert sum(g["agree"] for g in shown) == empathy["overall"]["agree"]
    assert empathy["overall"]["n"] == sum(1 for _, a in answers if a)
    groups = sum(r["n"] or 0 for r in results["table1"] if r["question"] == "group")
    assert groups == len(responses)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(AGREEMENT)),
        min_size=5,
        max_size=60,
    ),
    st.integers(min_value=2, max_value=8),
)
def test_no_small_group_can_be_worked_out_from_the_overall_counts(answers, k):
    responses = [{"group": g, "skill_empathy": a} for g, a in answers]

    results = run(responses, fisher_budget=0.5, small_cell_k=k)

    empathy = row(results["table2"], "skill_empathy")
    if len(responses) < k:
        assert empathy["by_group"] == {} and results["table1"] == []
        return
    shown = [g for g in empathy["by_group"].values() if not g.get("suppressed")]
    assert all(g["n"] >= k for g in shown)
    remainder = empathy["overall"]["n"] - sum(g["n"] for g in shown)
    assert remainder == 0 or remainder >= k or not shown
    table1 = [r for r in results["table1"] if r["question"] == "group"]
    assert all(r["n"] >= k for r in table1 if not r.get("suppressed"))
    left = len(responses) - sum(r["n"] for r in table1 if not r.get("suppressed"))
    assert left == 0 or left >= k
