"""Charts: well-formed, deterministic SVG with one bar group per item and readable labels."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from analysis.runs import charts

AGREEMENT = [
    {"value": "1", "label": "Strongly disagree"},
    {"value": "2", "label": "Disagree"},
    {"value": "3", "label": "Neither agree nor disagree"},
    {"value": "4", "label": "Agree"},
    {"value": "5", "label": "Strongly agree"},
]
STEM = "Participating in the group fostered: "
QUESTIONS = [
    {"code": "group", "type": "single_choice", "text": "Which group?", "values": []},
    {
        "code": "skill_a",
        "type": "agreement5",
        "text": STEM + "self-reflection",
        "values": AGREEMENT,
    },
    {"code": "skill_b", "type": "agreement5", "text": STEM + "empathy", "values": AGREEMENT},
    {"code": "skill_c", "type": "agreement5", "text": STEM + "humility", "values": AGREEMENT},
]
RESPONSES = [
    {"group": "Tuesday", "skill_a": "5", "skill_b": "4", "skill_c": "3"},
    {"group": "Tuesday", "skill_a": "4", "skill_b": "2", "skill_c": "1"},
    {"group": "Thursday", "skill_a": "2", "skill_b": "4"},
    {"group": "Thursday", "skill_a": "1", "skill_b": "5", "skill_c": "4"},
    {"skill_a": "3"},
]


def relevance_row(item: str, text: str, mean: float, sd: float) -> dict:
    return {
        "item": item,
        "text": text,
        "overall": {"n": 4, "mean": mean, "sd": sd, "median": mean},
        "by": {
            "group": {
                "levels": {
                    "Tuesday": {"label": "Tuesday", "n": 2, "mean": mean + 0.5, "sd": 0.7,
                                "median": mean},
                    "Thursday": {"label": "Thursday", "n": 2, "mean": mean - 0.5, "sd": 0.7,
                                 "median": mean},
                }
            }
        },
    }  # fmt: skip


RESULTS = {
    "meta": {"groups": ["Tuesday", "Thursday"]},
    "relevance": [
        relevance_row("rel_a", "How relevant is the group: communicating", 3.5, 1.0),
        relevance_row("rel_b", "How relevant is the group: managing conflict", 2.25, 0.5),
    ],
}


@pytest.fixture
def data():
    return charts.charts_data(questions=QUESTIONS, responses=RESPONSES, results=RESULTS)


def bar_ids(svg: str) -> list[str]:
    return re.findall(r'<g id="bar-([^"]+)">', svg)


def test_counts_per_value_overall_and_by_group(data):
    a = data["agreement"]["items"][0]
    assert a["label"] == "Self-reflection"
    assert a["overall"] == {"5": 1, "4": 1, "2": 1, "1": 1, "3": 1}
    assert a["by_group"] == {"Tuesday": {"5": 1, "4": 1}, "Thursday": {"2": 1, "1": 1}}
    assert data["agreement"]["stem"] == "Participating in the group fostered"
    c = data["agreement"]["items"][2]
    assert c["overall"] == {"3": 1, "1": 1, "4": 1}  # missing answers left out


def test_agreement_chart_is_well_formed_svg_with_labels_without_the_stem(data):
    svg = charts.agreement_chart(data)

    root = ElementTree.fromstring(svg)  # noqa: S314 - our own SVG  # noqa: S314 - our own SVG
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Self-reflection (n = 5)" in svg and "Empathy (n = 4)" in svg
    assert "Humility (n = 3)" in svg
    assert STEM + "empathy" not in svg
    assert "Strongly disagree" in svg and "Strongly agree" in svg  # the legend


def test_one_bar_group_per_item(data):
    svg = charts.agreement_chart(data)

    items = {bar.split("-")[0] for bar in bar_ids(svg)}
    assert items == {"skill_a", "skill_b", "skill_c"}
    # Five segments per bar, one per answer value.
    assert sorted(b for b in bar_ids(svg) if b.startswith("skill_a-")) == [
        f"skill_a-{v}" for v in "12345"
    ]


def test_charts_are_deterministic(data):
    first = charts.charts_render(data)
    second = charts.charts_render(
        charts.charts_data(questions=QUESTIONS, responses=RESPONSES, results=RESULTS)
    )

    assert set(first) == {"agreement", "agreement-groups", "relevance"}
    assert first == second
    assert "<dc:date>" not in first["agreement"]


def test_group_chart_has_one_panel_per_item_and_a_bar_per_group(data):
    svg = charts.agreement_groups_chart(data)

    ElementTree.fromstring(svg)  # noqa: S314 - our own SVG
    ids = bar_ids(svg)
    panels = {bar.split("-")[0] for bar in ids}
    assert panels == {"skill_a", "skill_b", "skill_c"}
    rows = {bar.rsplit("-", 1)[0] for bar in ids if bar.startswith("skill_a-")}
    assert rows == {"skill_a-all", "skill_a-g0", "skill_a-g1"}
    assert "Tuesday (n = 2)" in svg and "All (n = 5)" in svg


def test_relevance_chart_shows_each_item_overall_and_per_group(data):
    svg = charts.relevance_chart(data)

    ElementTree.fromstring(svg)  # noqa: S314 - our own SVG
    assert "Communicating" in svg and "Managing conflict" in svg
    assert "Tuesday" in svg and "Thursday" in svg
    assert data["relevance"]["items"][1]["overall"] == {"n": 4, "mean": 2.25, "sd": 0.5}


def test_no_chart_without_answers():
    empty = charts.charts_data(questions=QUESTIONS, responses=[], results={"meta": {}})

    assert charts.charts_render(empty) == {}


def test_one_group_gets_no_group_chart():
    one = charts.charts_data(
        questions=QUESTIONS,
        responses=[r | {"group": "Tuesday"} for r in RESPONSES],
        results={"meta": {"groups": ["Tuesday"]}},
    )

    assert set(charts.charts_render(one)) == {"agreement"}


def test_common_stem_never_empties_a_label():
    assert charts.common_stem(["Gender", "Gender identity"]) == ""
    assert charts.common_stem(["Only one"]) == ""
    assert charts.common_stem(["How much: a", "How much: b"]) == "How much: "
