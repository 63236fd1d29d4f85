"""The coding pages: codebook, reviewers, coding one answer after another without seeing the
other reviewer's codes, disagreements and consensus, the overview; who may open what, and flat
query counts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis.coding import selectors as coding_selectors
from analysis.coding import services as coding
from analysis.models import Coding, CodingReviewer, Consensus, Theme
from sessions_app.models import ProgramRole
from tests.factories import (
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    ResponseFactory,
    UserFactory,
    WaveFactory,
)
from tests.pages import wave_page

pytestmark = pytest.mark.django_db


url = wave_page("coding")


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def checked_themes(response) -> set[str]:
    """Theme ids whose checkbox is ticked on the page."""
    return set(re.findall(r'name="themes" value="(\d+)"[^>]*checked', response.content.decode()))


@pytest.fixture
def themes(wave):
    return (
        coding.theme_add(wave=wave, actor=None, name="Alone"),
        coding.theme_add(wave=wave, actor=None, name="Burnout"),
    )


def answer(wave, **texts):
    return ResponseFactory(wave=wave, answers={"skill_empathy": "4", **texts})


def key(response, question="open_unique") -> str:
    return f"{response.pk}-{question}"


# --- Codebook and reviewers ---------------------------------------------------------------------


def test_coordinator_adds_a_theme(coordinator_client, wave):
    response = coordinator_client.post(
        url("themes", wave), {"name": "Feeling less alone", "description": "Not alone with it"}
    )
    assert response.status_code == 302
    theme = Theme.objects.get(wave=wave)
    assert (theme.name, theme.description) == ("Feeling less alone", "Not alone with it")
    page = coordinator_client.get(url("themes", wave))
    assert "Feeling less alone" in text(page)


def test_a_duplicate_theme_is_refused_and_the_form_keeps_the_input(
    coordinator_client, wave, themes
):
    response = coordinator_client.post(
        url("themes", wave), {"name": "alone", "description": "My careful description"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["The codebook already has a theme “alone”."]
    assert "My careful description" in response.content.decode()
    assert Theme.objects.filter(wave=wave).count() == 2


def test_coordinator_renames_a_theme(coordinator_client, wave, themes):
    alone, _ = themes
    response = coordinator_client.post(
        url("theme_edit", wave, pk=alone.pk), {"name": "Less isolation", "order": "1"}
    )
    assert response.status_code == 302
    alone.refresh_from_db()
    assert alone.name == "Less isolation"


def test_a_used_theme_is_not_deleted_and_the_page_says_why(coordinator_client, wave, themes, named):
    first, _ = named
    alone, burnout = themes
    coding.coding_save(
        reviewer=first, response=answer(wave, open_unique="x"), question_code="open_unique",
        themes=[alone],
    )  # fmt: skip
    response = coordinator_client.post(url("theme_delete", wave, pk=alone.pk), follow=True)
    assert "cannot be deleted" in " ".join(messages_of(response))
    assert Theme.objects.filter(pk=alone.pk).exists()
    coordinator_client.post(url("theme_delete", wave, pk=burnout.pk))
    assert not Theme.objects.filter(pk=burnout.pk).exists()


def test_theme_of_another_wave_is_not_found(coordinator_client, wave, program):
    other = coding.theme_add(wave=WaveFactory(program=program), actor=None, name="Elsewhere")
    assert coordinator_client.get(url("theme_edit", wave, pk=other.pk)).status_code == 404
    assert coordinator_client.post(url("theme_delete", wave, pk=other.pk)).status_code == 404


def test_coordinator_names_the_reviewers(coordinator_client, wave, coordinator, viewer):
    response = coordinator_client.post(
        url("reviewers", wave), {"first": coordinator.pk, "second": viewer.pk}
    )
    assert response.status_code == 302
    assert coding_selectors.reviewers(wave) == {1: coordinator, 2: viewer}


def test_the_same_reviewer_twice_is_refused(coordinator_client, wave, coordinator):
    response = coordinator_client.post(
        url("reviewers", wave), {"first": coordinator.pk, "second": coordinator.pk}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["second"] == [
        "The two reviewers must be different people."
    ]
    assert not CodingReviewer.objects.exists()


def test_a_participant_cannot_be_chosen_as_reviewer(coordinator_client, wave, coordinator, program):
    participant = GroupMembershipFactory(
        group__program=program, clinician__user=UserFactory()
    ).clinician.user
    response = coordinator_client.post(
        url("reviewers", wave), {"first": coordinator.pk, "second": participant.pk}
    )
    assert response.status_code == 400
    assert "second" in response.context["form"].errors
    assert not CodingReviewer.objects.exists()


# --- Coding -------------------------------------------------------------------------------------


def test_reviewer_codes_an_item_and_moves_to_the_next(client, wave, named, themes):
    first, _ = named
    alone, burnout = themes
    r1 = answer(wave, open_unique="I feel less alone", open_improve="Meet more often")
    r2 = answer(wave, open_unique="Less tired")
    client.force_login(first)

    page = client.get(url("code", wave))
    assert page.status_code == 200
    assert page.context["current"] == (r1.pk, "open_unique")
    assert "I feel less alone" in text(page)
    assert "What makes the group unique?" in text(page)
    assert "0 of 3 answers coded" in text(page)

    response = client.post(url("code", wave), {"item": key(r1), "themes": [alone.pk]})
    assert response.status_code == 302
    assert response["Location"] == url("code", wave) + f"?item={key(r1, 'open_improve')}"
    assert list(Coding.objects.get(reviewer=first).themes.all()) == [alone]

    page = client.get(response["Location"])
    assert "Meet more often" in text(page)
    assert "1 of 3 answers coded" in text(page)
    client.post(url("code", wave), {"item": key(r1, "open_improve"), "no_theme": "on"})
    response = client.post(url("code", wave), {"item": key(r2), "themes": [burnout.pk]})
    assert response["Location"] == url("code", wave)
    page = client.get(url("code", wave))
    assert "You have coded all 3 answers" in text(page)
    assert Coding.objects.filter(reviewer=first).count() == 3


def test_saving_without_a_theme_or_no_theme_is_refused_and_nothing_saved(
    client, wave, named, themes
):
    first, _ = named
    r1 = answer(wave, open_unique="Answer")
    client.force_login(first)
    response = client.post(url("code", wave), {"item": key(r1)})
    assert response.status_code == 400
    assert "Choose at least one theme, or tick “No theme applies”." in text(response)
    assert not Coding.objects.exists()


def test_the_other_reviewers_codes_are_not_shown_on_the_code_page(client, wave, named, themes):
    first, second = named
    alone, burnout = themes
    r1 = answer(wave, open_unique="Less alone and less tired")
    coding.coding_save(
        reviewer=second, response=r1, question_code="open_unique", themes=[alone, burnout]
    )
    client.force_login(first)
    page = client.get(url("code", wave) + f"?item={key(r1)}")
    assert page.status_code == 200
    assert checked_themes(page) == set()
    assert page.context["already"] is False
    assert "0 of 1 answer coded" in text(page)
    # Their own codes are shown when they come back to an item.
    coding.coding_save(reviewer=first, response=r1, question_code="open_unique", themes=[alone])
    page = client.get(url("code", wave) + f"?item={key(r1)}")
    assert checked_themes(page) == {str(alone.pk)}


def test_answer_text_is_escaped(client, wave, named, themes):
    first, _ = named
    answer(wave, open_unique="<script>alert('x')</script> <b>bold</b>")
    client.force_login(first)
    page = client.get(url("code", wave))
    html = page.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_an_address_naming_no_item_is_not_found(client, wave, named, themes):
    first, _ = named
    excluded = ResponseFactory(wave=wave, answers={"open_unique": "x"}, excluded_reason="late")
    client.force_login(first)
    for item in (key(excluded), "garbage", "999999-open_unique", "1-skill_empathy"):
        assert client.get(url("code", wave) + f"?item={item}").status_code == 404


def test_report_viewer_named_as_reviewer_codes(client, wave, named, themes):
    _, viewer = named
    r1 = answer(wave, open_unique="Less alone")
    client.force_login(viewer)
    assert client.get(url("code", wave)).status_code == 200
    response = client.post(url("code", wave), {"item": key(r1), "themes": [themes[0].pk]})
    assert response.status_code == 302
    assert Coding.objects.filter(reviewer=viewer).count() == 1


def test_coordinator_who_is_not_a_reviewer_sees_the_overview_but_does_not_code(
    client, wave, named, themes, program
):
    r1 = answer(wave, open_unique="Less alone")
    other = ProgramRoleFactory(program=program, role=ProgramRole.Role.COORDINATOR).user
    client.force_login(other)
    assert client.get(url("overview", wave)).status_code == 200
    assert client.get(url("code", wave)).status_code == 403
    response = client.post(url("code", wave), {"item": key(r1), "themes": [themes[0].pk]})
    assert response.status_code == 403
    assert not Coding.objects.exists()


def test_participant_is_refused(client, wave, program):
    participant = GroupMembershipFactory(
        group__program=program, clinician__user=UserFactory()
    ).clinician.user
    client.force_login(participant)
    for name in ("overview", "code", "disagreements", "themes", "reviewers"):
        assert client.get(url(name, wave)).status_code == 403, name


def test_report_viewer_cannot_manage_the_codebook_or_reviewers(client, wave, viewer):
    client.force_login(viewer)
    assert client.get(url("overview", wave)).status_code == 200
    assert client.get(url("themes", wave)).status_code == 403
    assert client.post(url("themes", wave), {"name": "X"}).status_code == 403
    assert client.get(url("reviewers", wave)).status_code == 403
    assert not Theme.objects.exists()


def test_a_wave_of_another_program_is_not_found(coordinator_client, program, wave):
    foreign = WaveFactory(program=ProgramFactory(), slug="foreign")
    mixed = reverse("coding:overview", kwargs={"slug": program.slug, "wave": foreign.slug})
    assert coordinator_client.get(mixed).status_code == 404
    assert coordinator_client.get(url("overview", foreign)).status_code == 404
    assert coordinator_client.get(url("code", foreign)).status_code == 404


# --- Disagreements and consensus ----------------------------------------------------------------


@pytest.fixture
def disagreement(wave, named, themes):
    first, second = named
    alone, burnout = themes
    r1 = answer(wave, open_unique="Less alone and less tired")
    coding.coding_save(reviewer=first, response=r1, question_code="open_unique", themes=[alone])
    coding.coding_save(
        reviewer=second, response=r1, question_code="open_unique", themes=[alone, burnout]
    )
    return r1


def test_disagreements_show_both_reviewers_themes_only_for_items_both_coded(
    client, wave, named, themes, disagreement
):
    first, _ = named
    pending = answer(wave, open_unique="Only reviewer 1 coded this")
    coding.coding_save(
        reviewer=first, response=pending, question_code="open_unique", themes=[themes[1]]
    )
    client.force_login(first)
    page = client.get(url("disagreements", wave))
    assert page.status_code == 200
    body = text(page)
    assert "Less alone and less tired" in body
    assert "Only reviewer 1 coded this" not in body
    assert [e["row"].key for e in page.context["entries"]] == [key(disagreement)]
    assert page.context["entries"][0]["row"].second == ["Alone", "Burnout"]


def test_reviewer_records_a_consensus(client, wave, named, themes, disagreement):
    _, viewer = named
    client.force_login(viewer)
    response = client.post(
        url("consensus", wave), {"item": key(disagreement), "themes": [themes[0].pk]}
    )
    assert response.status_code == 302
    consensus = Consensus.objects.get()
    assert list(consensus.themes.all()) == [themes[0]]
    assert consensus.decided_by == viewer
    overview = client.get(url("overview", wave))
    assert overview.context["final"].unresolved == 0


def test_consensus_without_a_choice_is_refused_with_the_reason(
    coordinator_client, wave, named, themes, disagreement
):
    response = coordinator_client.post(url("consensus", wave), {"item": key(disagreement)})
    assert response.status_code == 400
    assert "Choose at least one theme, or tick “No theme applies”." in text(response)
    assert not Consensus.objects.exists()


def test_consensus_on_an_item_only_one_reviewer_coded_is_refused(
    coordinator_client, wave, named, themes
):
    first, _ = named
    r1 = answer(wave, open_unique="Only one")
    coding.coding_save(reviewer=first, response=r1, question_code="open_unique", themes=[])
    response = coordinator_client.post(url("consensus", wave), {"item": key(r1), "no_theme": "on"})
    assert response.status_code == 400
    assert "Both reviewers must code this answer before a consensus is recorded." in text(response)
    assert not Consensus.objects.exists()


def test_report_viewer_who_is_not_a_reviewer_cannot_record_a_consensus(
    client, wave, named, themes, disagreement, program
):
    other_viewer = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    client.force_login(other_viewer)
    page = client.get(url("disagreements", wave))
    assert page.status_code == 200
    assert page.context["may_decide"] is False
    assert 'action="' + url("consensus", wave) not in page.content.decode()
    response = client.post(url("consensus", wave), {"item": key(disagreement), "no_theme": "on"})
    assert response.status_code == 403
    assert not Consensus.objects.exists()


# --- Overview -----------------------------------------------------------------------------------


def test_overview_shows_progress_agreement_and_final_themes_with_guarded_quotes(
    coordinator_client, wave, named, themes
):
    first, second = named
    alone, _ = themes
    safe = answer(wave, open_unique="I feel less alone.")
    identifying = answer(wave, open_unique="Mr. Johnson, MRN 1234567, made me feel less alone.")
    for r in (safe, identifying):
        for reviewer in (first, second):
            coding.coding_save(
                reviewer=reviewer, response=r, question_code="open_unique", themes=[alone]
            )
    page = coordinator_client.get(url("overview", wave))
    assert page.status_code == 200
    body = text(page)
    assert "2 of 2 answers coded" in body
    assert "Of 2 answers coded by both reviewers, 2 received identical themes (100%)" in body
    assert "“I feel less alone.”" in body
    assert "Johnson" not in body
    assert "1234567" not in body
    assert "1 quote withheld because it may contain identifiers." in body
    rows = {a.theme.name: a for a in page.context["agreement"].themes}
    assert rows["Alone"].kappa.kappa is None  # both always applied it: undefined, said so
    assert "kappa is undefined" in body


def build(wave, named, themes, n: int) -> None:
    """``n`` answers, both reviewers coding each; every other one a disagreement, some with a
    consensus."""
    first, second = named
    alone, burnout = themes
    for i in range(n):
        r = answer(wave, open_unique=f"Answer number {i}", open_other=f"Other {i}")
        coding.coding_save(reviewer=first, response=r, question_code="open_unique", themes=[alone])
        coding.coding_save(
            reviewer=second,
            response=r,
            question_code="open_unique",
            themes=[alone, burnout] if i % 2 else [alone],
        )
        if i % 4 == 1:
            coding.consensus_save(
                actor=first, response=r, question_code="open_unique", themes=[burnout]
            )


@pytest.mark.parametrize("name", ["overview", "disagreements", "code"])
def test_query_count_does_not_grow_with_the_number_of_items(
    client, wave, named, themes, name, django_assert_num_queries
):
    first, _ = named
    client.force_login(first)
    build(wave, named, themes, 2)
    client.get(url(name, wave))  # warm the session
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(name, wave)).status_code == 200
    build(wave, named, themes, 8)
    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get(url(name, wave))
    assert page.status_code == 200
    if name == "disagreements":
        assert len(page.context["entries"]) == 5
