"""Qualitative coding services: which answers are items, the codebook, naming the reviewers,
coding, agreement (kappa from the saved codes against a computation by hand), disagreements,
consensus, final themes and the identifier guard on the quotes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import RestrictedError

from analysis.coding import selectors as coding_selectors
from analysis.coding import services as coding
from analysis.models import Coding, CodingReviewer, Consensus, Theme
from ccdg.models import AuditEvent
from sessions_app.models import ProgramRole
from tests.factories import (
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    ResponseFactory,
    UserFactory,
    WaveFactory,
)

pytestmark = pytest.mark.django_db

IDENTIFYING = "Mr. Johnson, MRN 1234567, made me rethink how I talk to families."


def answer(wave, excluded: str = "", **texts):
    return ResponseFactory(
        wave=wave, answers={"skill_empathy": "4", **texts}, excluded_reason=excluded
    )


def theme(wave, name: str, actor=None) -> Theme:
    return coding.theme_add(wave=wave, actor=actor, name=name)


def code(reviewer, response, themes, question="open_unique"):
    return coding.coding_save(
        reviewer=reviewer, response=response, question_code=question, themes=themes
    )


# --- Items --------------------------------------------------------------------------------------


def test_items_are_the_non_blank_open_answers_of_analysable_responses(wave):
    first = answer(wave, open_unique="Safe space", open_improve="   ", open_other="More time")
    answer(wave, open_unique="Excluded answer", excluded="duplicate form")
    blank = answer(wave, open_unique="")
    third = answer(wave, open_improve="Meet monthly")
    assert coding_selectors.items(wave) == [
        (first.pk, "open_unique", "Safe space"),
        (first.pk, "open_other", "More time"),
        (third.pk, "open_improve", "Meet monthly"),
    ]
    assert blank.pk not in {r for r, _, _ in coding_selectors.items(wave)}


def test_a_pilot_wave_has_no_items(program):
    pilot = WaveFactory(program=program, is_pilot=True)
    answer(pilot, open_unique="Safe space")
    assert coding_selectors.items(pilot) == []


def test_items_read_the_responses_in_one_query(wave, django_assert_num_queries):
    for i in range(10):
        answer(wave, open_unique=f"Answer {i}", open_other=f"Other {i}")
    coding_selectors.open_questions(wave)
    with django_assert_num_queries(1):
        found = coding_selectors.items(wave)
    assert len(found) == 20


# --- Codebook -----------------------------------------------------------------------------------


def test_theme_names_are_unique_within_a_wave_whatever_the_case(wave, coordinator, program):
    theme(wave, "Feeling less alone", coordinator)
    with pytest.raises(ValidationError) as exc:
        coding.theme_add(wave=wave, actor=coordinator, name="feeling  LESS alone")
    assert exc.value.message_dict == {
        "name": ["The codebook already has a theme “feeling LESS alone”."]
    }
    other = WaveFactory(program=program)
    assert theme(other, "Feeling less alone").wave == other


def test_an_empty_theme_name_is_refused(wave, coordinator):
    with pytest.raises(ValidationError) as exc:
        coding.theme_add(wave=wave, actor=coordinator, name="   ")
    assert exc.value.message_dict == {"name": ["Give the theme a name."]}


def test_new_themes_go_last(wave, coordinator):
    a = theme(wave, "Alone")
    b = theme(wave, "Burnout")
    assert (a.order, b.order) == (1, 2)
    assert list(Theme.objects.filter(wave=wave)) == [a, b]


def test_a_used_theme_cannot_be_deleted_but_can_be_renamed(wave, named):
    first, _ = named
    used = theme(wave, "Alone")
    unused = theme(wave, "Unused")
    response = answer(wave, open_unique="I feel less alone")
    code(first, response, [used])

    with pytest.raises(ValidationError) as exc:
        coding.theme_delete(theme=used, actor=first)
    assert exc.value.messages == [
        "“Alone” has been applied 1 time, so it cannot be deleted (the codes would lose their "
        "meaning). Rename it or change its description instead."
    ]
    assert Theme.objects.filter(pk=used.pk).exists()
    # The database refuses too, should anything bypass the service.
    with pytest.raises(RestrictedError):
        Theme.objects.filter(pk=used.pk).delete()

    assert coding.theme_update(
        theme=used, actor=first, name="Less isolation", description="Not alone with cases"
    ) == ["description", "name"]
    used.refresh_from_db()
    assert used.name == "Less isolation"

    coding.theme_delete(theme=unused, actor=first)
    assert not Theme.objects.filter(pk=unused.pk).exists()


def test_theme_changes_are_audited_with_ids_and_field_names_only(wave, coordinator):
    t = coding.theme_add(wave=wave, actor=coordinator, name="Secret-ish name")
    coding.theme_update(theme=t, actor=coordinator, name="Renamed", description="why")
    pk = t.pk
    coding.theme_delete(theme=t, actor=coordinator)
    events = list(
        AuditEvent.objects.filter(action__startswith="coding.theme")
        .order_by("pk")
        .values_list("action", "object_id", "data")
    )
    assert events == [
        ("coding.theme_add", str(pk), {"wave": wave.pk}),
        ("coding.theme_update", str(pk), {"fields": ["description", "name"]}),
        ("coding.theme_delete", str(pk), {"wave": wave.pk}),
    ]


def test_deleting_the_wave_removes_its_codebook_and_codes(wave, named):
    first, second = named
    t = theme(wave, "Alone")
    response = answer(wave, open_unique="Less alone")
    code(first, response, [t])
    code(second, response, [])
    coding.consensus_save(actor=first, response=response, question_code="open_unique", themes=[t])
    wave.delete()
    assert not Theme.objects.exists()
    assert not Coding.objects.exists()
    assert not Consensus.objects.exists()


# --- Reviewers ----------------------------------------------------------------------------------


def test_the_coordinator_names_two_reviewers_and_it_is_audited(wave, coordinator, viewer):
    coding.reviewers_set(wave=wave, first=viewer, second=coordinator, actor=coordinator)
    assert coding_selectors.reviewers(wave) == {1: viewer, 2: coordinator}
    event = AuditEvent.objects.get(action="coding.reviewers_set")
    assert event.data == {"first": viewer.pk, "second": coordinator.pk}
    # Naming again replaces them (here: swapping the slots).
    coding.reviewers_set(wave=wave, first=coordinator, second=viewer, actor=coordinator)
    assert coding_selectors.reviewers(wave) == {1: coordinator, 2: viewer}


def test_the_same_person_cannot_be_both_reviewers(wave, coordinator):
    with pytest.raises(ValidationError) as exc:
        coding.reviewers_set(wave=wave, first=coordinator, second=coordinator, actor=coordinator)
    assert "must be different people" in exc.value.message_dict["second"][0]
    assert not CodingReviewer.objects.exists()


def test_people_without_a_coordinator_or_report_viewer_role_cannot_review(
    wave, program, coordinator
):
    participant = GroupMembershipFactory(
        group__program=program, clinician__user=UserFactory()
    ).clinician.user
    outsider = ProgramRoleFactory(role=ProgramRole.Role.COORDINATOR).user  # another program
    for person in (participant, outsider):
        with pytest.raises(ValidationError) as exc:
            coding.reviewers_set(wave=wave, first=coordinator, second=person, actor=coordinator)
        assert (
            "is not a coordinator or report viewer of this program"
            in (exc.value.message_dict["second"][0])
        )
    assert not CodingReviewer.objects.exists()


def test_eligible_reviewers_are_the_programs_coordinators_and_report_viewers(
    wave, program, coordinator, viewer
):
    GroupMembershipFactory(group__program=program, clinician__user=UserFactory())
    ProgramRoleFactory(role=ProgramRole.Role.REPORT_VIEWER, program=ProgramFactory())
    assert set(coding_selectors.eligible_reviewers(wave)) == {coordinator, viewer}


# --- Coding -------------------------------------------------------------------------------------


def test_only_the_named_reviewers_code(wave, named, program):
    t = theme(wave, "Alone")
    response = answer(wave, open_unique="Less alone")
    other_coordinator = ProgramRoleFactory(program=program, role=ProgramRole.Role.COORDINATOR).user
    with pytest.raises(PermissionDenied):
        code(other_coordinator, response, [t])
    assert not Coding.objects.exists()


def test_a_theme_of_another_wave_is_refused(wave, named, program):
    first, _ = named
    foreign = theme(WaveFactory(program=program), "Alone")
    response = answer(wave, open_unique="Less alone")
    with pytest.raises(ValidationError) as exc:
        code(first, response, [foreign])
    assert exc.value.message_dict == {"themes": ["Choose themes from this survey's codebook only."]}
    assert not Coding.objects.exists()


@pytest.mark.parametrize(
    ("answers", "excluded", "question", "message"),
    [
        ({"open_unique": "  "}, "", "open_unique", "left blank"),
        ({"open_unique": "Text"}, "damaged", "open_unique", "excluded from the analysis"),
        ({"open_unique": "Text"}, "", "skill_empathy", "is not an open question"),
    ],
)
def test_answers_that_are_not_items_cannot_be_coded(
    wave, named, answers, excluded, question, message
):
    first, _ = named
    response = answer(wave, excluded=excluded, **answers)
    with pytest.raises(ValidationError, match=message):
        code(first, response, [], question=question)
    assert not Coding.objects.exists()


def test_coding_again_replaces_the_reviewers_themes(wave, named):
    first, _ = named
    a, b = theme(wave, "Alone"), theme(wave, "Burnout")
    response = answer(wave, open_unique="Less alone and less tired")
    code(first, response, [a])
    code(first, response, [a, b])
    coding_row = Coding.objects.get()
    assert set(coding_row.themes.all()) == {a, b}
    code(first, response, [])
    assert list(Coding.objects.get().themes.all()) == []


def test_progress_counts_each_reviewers_coded_items(wave, named):
    first, second = named
    t = theme(wave, "Alone")
    responses = [answer(wave, open_unique=f"Answer {i}") for i in range(4)]
    for r in responses[:3]:
        code(first, r, [t])
    code(second, responses[0], [])
    progress = coding_selectors.reviewer_progress(wave)
    assert [(p.slot, p.user, p.coded, p.total) for p in progress] == [
        (1, first, 3, 4),
        (2, second, 1, 4),
    ]
    assert progress[0].percent == 75


# --- Agreement ----------------------------------------------------------------------------------


def hand_kappa(a: int, b: int, c: int, d: int) -> float:
    n = a + b + c + d
    po = (a + d) / n
    p1, p2 = (a + b) / n, (a + c) / n
    pe = p1 * p2 + (1 - p1) * (1 - p2)
    return (po - pe) / (1 - pe)


def test_kappa_from_saved_codes_equals_the_hand_computation(wave, named):
    first, second = named
    alone, tired = theme(wave, "Alone"), theme(wave, "Tired")
    # "Alone": 4 both, 1 first only, 2 second only, 3 neither  (a, b, c, d) = (4, 1, 2, 3)
    plan_alone = ["both"] * 4 + ["first"] + ["second"] * 2 + ["none"] * 3
    # "Tired": (2, 2, 0, 6)
    plan_tired = ["both"] * 2 + ["first"] * 2 + ["none"] * 6
    for i in range(10):
        response = answer(wave, open_unique=f"Answer {i}")
        given = {first: [], second: []}
        for t, plan in ((alone, plan_alone), (tired, plan_tired)):
            if plan[i] in ("both", "first"):
                given[first].append(t)
            if plan[i] in ("both", "second"):
                given[second].append(t)
        code(first, response, given[first])
        code(second, response, given[second])
    # Only coded by reviewer 1: does not count.
    code(first, answer(wave, open_unique="Only one reviewer"), [alone])

    found = coding_selectors.agreement(wave)
    assert found.n == 10
    by_name = {row.theme.name: row for row in found.themes}
    assert by_name["Alone"].kappa.kappa == pytest.approx(hand_kappa(4, 1, 2, 3))
    assert (by_name["Alone"].n, by_name["Alone"].first, by_name["Alone"].second) == (10, 5, 6)
    assert by_name["Alone"].both == 4
    assert by_name["Tired"].kappa.kappa == pytest.approx(hand_kappa(2, 2, 0, 6))
    assert by_name["Tired"].label == kappa_label_of(hand_kappa(2, 2, 0, 6))
    # Identical sets: items 0-1 (both themes by both) and 7-9 (no theme by either).
    assert found.identical == 5
    assert found.percent == pytest.approx(50.0)


def kappa_label_of(k: float) -> str:
    for upper, name in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if k <= upper:
            return name if k >= 0 else "poor"
    return "almost perfect"


def test_a_theme_nobody_applied_has_undefined_kappa(wave, named):
    first, second = named
    theme(wave, "Never used")
    for i in range(3):
        response = answer(wave, open_unique=f"Answer {i}")
        code(first, response, [])
        code(second, response, [])
    row = coding_selectors.agreement(wave).themes[0]
    assert row.kappa.kappa is None
    assert row.label == "undefined"
    assert "kappa is undefined" in row.kappa.note


def test_codes_of_a_replaced_reviewer_no_longer_count(wave, named, program):
    first, second = named
    t = theme(wave, "Alone")
    response = answer(wave, open_unique="Less alone")
    code(first, response, [t])
    code(second, response, [t])
    assert coding_selectors.agreement(wave).n == 1
    newcomer = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    coding.reviewers_set(wave=wave, first=first, second=newcomer, actor=first)
    assert coding_selectors.agreement(wave).n == 0
    assert Coding.objects.filter(reviewer=second).exists()


# --- Disagreements, consensus and final themes --------------------------------------------------


@pytest.fixture
def coded(wave, named):
    """Four items: two agreed, one disagreement, one coded by reviewer 1 only."""
    first, second = named
    alone, tired = theme(wave, "Alone"), theme(wave, "Tired")
    r1 = answer(wave, open_unique="I feel less alone.", open_improve="Less tired now")
    r2 = answer(wave, open_unique="Group made me feel less alone and less tired at work.")
    r3 = answer(wave, open_unique="Pending answer")
    code(first, r1, [alone])
    code(second, r1, [alone])
    code(first, r1, [tired], question="open_improve")
    code(second, r1, [tired], question="open_improve")
    code(first, r2, [alone, tired])
    code(second, r2, [alone])
    code(first, r3, [tired])
    return {"alone": alone, "tired": tired, "r1": r1, "r2": r2, "r3": r3}


def test_disagreements_list_the_items_both_coded_differently(wave, coded):
    rows = coding_selectors.disagreements(wave)
    assert [(d.response_id, d.question_code) for d in rows] == [(coded["r2"].pk, "open_unique")]
    row = rows[0]
    assert (row.first, row.second, row.consensus) == (["Alone", "Tired"], ["Alone"], None)
    assert row.text == "Group made me feel less alone and less tired at work."
    assert row.question_text == "What makes the group unique?"
    assert row.key == f"{coded['r2'].pk}-open_unique"


def test_consensus_resolves_a_disagreement_and_sets_the_final_themes(wave, coded, named):
    first, second = named
    before = coding_selectors.final_themes(wave)
    assert (before.resolved, before.unresolved, before.pending) == (2, 1, 1)
    assert [(f.theme.name, f.items, f.responses) for f in before.themes] == [
        ("Alone", 1, 1),
        ("Tired", 1, 1),
    ]

    coding.consensus_save(
        actor=second,
        response=coded["r2"],
        question_code="open_unique",
        themes=[coded["alone"], coded["tired"]],
    )
    after = coding_selectors.final_themes(wave)
    assert (after.resolved, after.unresolved, after.pending) == (3, 0, 1)
    # "Tired": two items (r1's open_improve, r2) from two responses; "Alone": r1 and r2.
    assert [(f.theme.name, f.items, f.responses) for f in after.themes] == [
        ("Alone", 2, 2),
        ("Tired", 2, 2),
    ]
    row = coding_selectors.disagreements(wave)[0]
    assert row.consensus == ["Alone", "Tired"]
    event = AuditEvent.objects.get(action="coding.consensus")
    assert event.data == {
        "response": coded["r2"].pk,
        "question": "open_unique",
        "themes": sorted([coded["alone"].pk, coded["tired"].pk]),
    }


def test_final_counts_count_distinct_responses(wave, named):
    first, second = named
    t = theme(wave, "Alone")
    r = answer(wave, open_unique="Less alone", open_other="Really less alone")
    for question in ("open_unique", "open_other"):
        code(first, r, [t], question=question)
        code(second, r, [t], question=question)
    (row,) = coding_selectors.final_themes(wave).themes
    assert (row.items, row.responses) == (2, 1)


def test_consensus_waits_until_both_reviewers_have_coded(wave, coded, named):
    first, _ = named
    with pytest.raises(ValidationError, match="Both reviewers must code this answer"):
        coding.consensus_save(
            actor=first, response=coded["r3"], question_code="open_unique", themes=[]
        )
    assert not Consensus.objects.exists()


def test_consensus_by_someone_who_is_neither_coordinator_nor_reviewer_is_refused(
    wave, coded, viewer, program
):
    other_viewer = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    with pytest.raises(PermissionDenied):
        coding.consensus_save(
            actor=other_viewer, response=coded["r2"], question_code="open_unique", themes=[]
        )
    coordinator_not_reviewer = ProgramRoleFactory(
        program=program, role=ProgramRole.Role.COORDINATOR
    ).user
    coding.consensus_save(
        actor=coordinator_not_reviewer,
        response=coded["r2"],
        question_code="open_unique",
        themes=[coded["alone"]],
    )
    assert Consensus.objects.get().decided_by == coordinator_not_reviewer


def test_quotes_are_shortest_first_and_identifiers_are_withheld_and_counted(wave, named):
    first, second = named
    t = theme(wave, "Rethinking")
    texts = [
        IDENTIFYING,
        "It changed how I talk to families.",
        "Made me rethink.",
        "The longest answer of all: the group made me rethink my habits, my words, my time with "
        "patients and the way I end a hard day.",
        "Another answer: the group made me rethink the way I give hard news to families.",
    ]
    for text in texts:
        r = answer(wave, open_unique=text)
        code(first, r, [t])
        code(second, r, [t])
    final = coding_selectors.final_themes(wave)
    (row,) = final.themes
    assert row.items == 5
    assert row.quotes == [
        "Made me rethink.",
        "It changed how I talk to families.",
        "Another answer: the group made me rethink the way I give hard news to families.",
    ]
    assert IDENTIFYING not in row.quotes
    assert final.withheld == 1


def test_no_theme_applies_counts_as_resolved_without_a_theme(wave, named):
    first, second = named
    theme(wave, "Alone")
    r = answer(wave, open_unique="Nothing to add")
    code(first, r, [])
    code(second, r, [])
    final = coding_selectors.final_themes(wave)
    assert (final.resolved, final.no_theme) == (1, 1)
    assert final.themes[0].items == 0
