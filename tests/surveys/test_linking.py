"""Linking answers over the waves of a series without names: the personal code built from the
program's recipe, taken online (its own first page), on paper and from a CSV file, stored only
as a keyed hash; and the series' own rules (one instrument, one series per wave, a recipe that
cannot change under existing codes)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from surveys import linking, series, waves
from surveys import responses_csv as rc
from surveys.models import Response, ResponseDraft, Wave, WaveSeries
from surveys.responses import paper_response_add
from surveys.services import builtin_instrument
from tests.factories import GroupFactory, GroupMembershipFactory, ProgramFactory, WaveFactory

pytestmark = pytest.mark.django_db

PARTS = {"link:first_name_letter2": "é", "link:birth_month": "7", "link:mother_initial": "m"}


def make_series(program, coordinator, *, design=WaveSeries.Design.PRE_POST):
    return series.series_create(
        program=program, actor=coordinator, name="Pre and post 2027", design=design,
        instrument_slug=builtin_instrument().slug,
    )  # fmt: skip


@pytest.fixture
def group(program):
    group = GroupFactory(program=program, name="Tuesday group")
    for _ in range(2):
        GroupMembershipFactory(group=group)
    return group


def online_wave(program, coordinator, mode=Wave.Mode.ANONYMOUS, name="Baseline 2027"):
    return waves.wave_open(
        program=program, actor=coordinator, name=name, mode=mode,
        closes_at=timezone.now() + timedelta(days=14), audience=Wave.Audience.ALL_ACTIVE,
    )  # fmt: skip


def page_url(wave):
    return reverse("survey_answer:page", kwargs={"slug": wave.program.slug, "wave": wave.slug})


def open_link(client, recipient):
    exchanged = client.get(waves.link_path(recipient))
    assert exchanged.status_code == 303
    return client.get(exchanged["Location"])


# --- The code ---------------------------------------------------------------------------------


def test_the_parts_make_one_code_whatever_the_case_accents_and_leading_zeros():
    recipe = linking.recipe_for(ProgramFactory().pk)
    assert linking.code_from_parts(recipe, PARTS) == "E07M"
    assert linking.code_from_parts(recipe, {**PARTS, "link:birth_month": "07"}) == "E07M"
    assert linking.code_from_text(recipe, "e-07-m") == "E07M"
    assert linking.code_from_text(recipe, " E 07 M ") == "E07M"
    assert linking.code_from_parts(recipe, {}) == ""  # no code: the respondent does not link


def test_half_a_code_or_a_part_out_of_range_is_refused_part_by_part():
    recipe = linking.recipe_for(ProgramFactory().pk)
    with pytest.raises(ValidationError) as half:
        linking.code_from_parts(recipe, {"link:first_name_letter2": "E"})
    assert set(half.value.message_dict) == {"link:birth_month", "link:mother_initial"}
    with pytest.raises(ValidationError) as month:
        linking.code_from_parts(recipe, {**PARTS, "link:birth_month": "13"})
    assert set(month.value.message_dict) == {"link:birth_month"}
    for bad in ("E7M", "E13M", "EE7M", "7E0M"):
        with pytest.raises(ValidationError, match="not a personal code of this program"):
            linking.code_from_text(recipe, bad)


def test_the_stored_hash_is_keyed_and_differs_between_programs(program):
    other = ProgramFactory()
    mine = linking.link_hash(program.pk, "E07M")
    assert mine == linking.link_hash(program.pk, "E07M")
    assert mine != linking.link_hash(other.pk, "E07M")
    assert mine != linking.link_hash(program.pk, "E07N")
    assert "E07M" not in mine and len(mine) == 64


def test_a_recipe_is_two_to_five_known_parts_each_once():
    assert linking.recipe_error(["birth_month", "mother_initial"]) is None
    assert "Unknown" in linking.recipe_error(["birth_month", "shoe_size"])
    assert "once" in linking.recipe_error(["birth_month", "birth_month"])
    assert "two to five" in linking.recipe_error(["birth_month"])


# --- Online: the code's own first page ---------------------------------------------------------


def test_an_anonymous_wave_of_a_series_asks_for_the_code_first_and_stores_only_its_hash(
    client, program, coordinator, group
):
    wave = online_wave(program, coordinator)
    series.series_add_wave(series=make_series(program, coordinator), wave=wave, actor=coordinator)
    recipient = wave.recipients.order_by("pk").first()

    first = open_link(client, recipient).content.decode()
    assert "Your personal code" in first and 'name="link:birth_month"' in first
    assert "A number from 1 to 12." in first and "One letter, A to Z." in first
    assert "Section 1 of 6" in first  # the code's page, then the survey's five
    client.post(page_url(wave), {"page": 1, "action": "next", **PARTS})
    client.post(page_url(wave), {"page": 2, "action": "next", "gender": "female"})
    done = client.post(page_url(wave), {"page": 6, "action": "submit"})

    assert done.status_code == 302
    response = Response.objects.get(wave=wave)
    assert response.link_hash == linking.link_hash(program.pk, "E07M")
    assert response.answers == {"gender": "female"}
    assert not any(key.startswith("link:") for key in response.answers)
    assert not ResponseDraft.objects.filter(wave=wave).exists()


def test_half_a_code_at_submission_sends_the_respondent_back_to_it_and_stores_nothing(
    client, program, coordinator, group
):
    wave = online_wave(program, coordinator)
    series.series_add_wave(series=make_series(program, coordinator), wave=wave, actor=coordinator)
    recipient = wave.recipients.order_by("pk").first()
    open_link(client, recipient)
    client.post(page_url(wave), {"page": 1, "action": "next", "link:birth_month": "7"})

    page = client.post(page_url(wave), {"page": 6, "action": "submit"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "Your personal code" in html and "half a code links to nobody" in html
    assert not Response.objects.filter(wave=wave).exists()


def test_a_part_that_is_not_a_letter_is_marked_on_its_page(client, program, coordinator, group):
    wave = online_wave(program, coordinator)
    series.series_add_wave(series=make_series(program, coordinator), wave=wave, actor=coordinator)
    open_link(client, wave.recipients.order_by("pk").first())

    page = client.post(page_url(wave), {"page": 1, "action": "next", **PARTS,
                                        "link:mother_initial": "7"})  # fmt: skip

    assert page.status_code == 200
    assert "One letter, a to z." in page.content.decode()


def test_confidential_waves_and_waves_outside_a_series_ask_for_no_code(
    client, program, coordinator, group
):
    alone = online_wave(program, coordinator, name="Alone")
    confidential = online_wave(program, coordinator, Wave.Mode.CONFIDENTIAL, name="Named")
    series.series_add_wave(
        series=make_series(program, coordinator), wave=confidential, actor=coordinator
    )
    for wave in (alone, confidential):
        html = open_link(Client_(), wave.recipients.order_by("pk").first()).content.decode()
        assert "Your personal code" not in html
        assert "Section 1 of 5: Demographics" in html


def Client_():  # noqa: N802 - a fresh browser per wave
    from django.test import Client

    return Client()


# --- Paper and CSV ---------------------------------------------------------------------------


def test_a_paper_form_keeps_the_hash_of_its_written_code(program, coordinator):
    wave = WaveFactory(program=program)
    series.series_add_wave(series=make_series(program, coordinator), wave=wave, actor=coordinator)

    typed = paper_response_add(
        wave=wave, actor=coordinator, answers={"skill_empathy": "4"}, link_code="e07m"
    )
    assert typed.link_hash == linking.link_hash(program.pk, "E07M")
    with pytest.raises(ValidationError) as bad:
        paper_response_add(
            wave=wave, actor=coordinator, answers={"skill_empathy": "4"}, link_code="E7"
        )
    assert set(bad.value.message_dict) == {"link_code"}
    assert Response.objects.filter(wave=wave).count() == 1


def test_a_code_on_a_wave_outside_a_series_is_refused(program, coordinator):
    wave = WaveFactory(program=program)
    with pytest.raises(ValidationError, match="does not link answers by personal code"):
        paper_response_add(
            wave=wave, actor=coordinator, answers={"skill_empathy": "4"}, link_code="E07M"
        )
    assert not Response.objects.filter(wave=wave).exists()


def test_the_paper_entry_page_offers_the_code_field_only_for_a_wave_that_links(
    coordinator_client, program, coordinator
):
    linked, alone = WaveFactory(program=program), WaveFactory(program=program)
    series.series_add_wave(series=make_series(program, coordinator), wave=linked, actor=coordinator)

    def entry(wave):
        return reverse("surveys:paper_entry", kwargs={"slug": program.slug, "wave": wave.slug})

    assert 'name="link_code"' in coordinator_client.get(entry(linked)).content.decode()
    assert 'name="link_code"' not in coordinator_client.get(entry(alone)).content.decode()
    posted = coordinator_client.post(entry(linked), {"q_skill_empathy": "4", "link_code": "X1"})
    assert posted.status_code == 400  # the form comes back with what was typed, and why
    assert "not a personal code of this program" in posted.content.decode()
    assert not Response.objects.filter(wave=linked).exists()


def test_a_csv_file_with_a_link_code_column_imports_the_hashes_all_or_nothing(program, coordinator):
    wave = WaveFactory(program=program)
    series.series_add_wave(series=make_series(program, coordinator), wave=wave, actor=coordinator)
    good = b"skill_empathy,link_code\n4,E07M\n2,\n5,a12z\n"
    bad = b"skill_empathy,link_code\n4,E07M\n2,E99M\n"

    preview = rc.responses_check(wave=wave, content=good)
    assert [row["link_code"] for row in preview.preview] == ["given", "", "given"]
    with pytest.raises(rc.ResponsesImportError) as refused:
        rc.responses_import(wave=wave, actor=coordinator, content=bad)
    assert [(e.row, e.column) for e in refused.value.report.errors] == [(3, "link_code")]
    assert not Response.objects.filter(wave=wave).exists()
    rc.responses_import(wave=wave, actor=coordinator, content=good)

    stored = sorted(Response.objects.filter(wave=wave).values_list("link_hash", flat=True))
    expected = sorted(["", linking.link_hash(program.pk, "E07M"),
                       linking.link_hash(program.pk, "A12Z")])  # fmt: skip
    assert stored == expected


# --- The series ------------------------------------------------------------------------------


def test_a_series_takes_waves_of_its_own_program_and_instrument_once_each(program, coordinator):
    made = make_series(program, coordinator)
    first, second = WaveFactory(program=program), WaveFactory(program=program)
    assert series.series_add_wave(series=made, wave=first, actor=coordinator).label == "Baseline"
    assert series.series_add_wave(series=made, wave=second, actor=coordinator).label == (
        "Follow-up 1"
    )
    with pytest.raises(ValidationError, match="already in a series"):
        series.series_add_wave(series=made, wave=first, actor=coordinator)
    with pytest.raises(ValidationError, match="another program"):
        series.series_add_wave(series=made, wave=WaveFactory(), actor=coordinator)

    series.series_remove_wave(member=first.series_membership, actor=coordinator)
    assert [(m.wave_id, m.position) for m in series.members_of(made)] == [(second.pk, 0)]


def test_the_recipe_cannot_change_once_responses_carry_codes(program, coordinator):
    series.recipe_set(program=program, actor=coordinator, recipe=["birth_day", "father_initial"])
    wave = WaveFactory(program=program)
    series.series_add_wave(series=make_series(program, coordinator), wave=wave, actor=coordinator)
    paper_response_add(wave=wave, actor=coordinator, answers={}, link_code="07F")

    with pytest.raises(ValidationError, match="would link none of them"):
        series.recipe_set(program=program, actor=coordinator, recipe=list(linking.DEFAULT_RECIPE))
    series.recipe_set(program=program, actor=coordinator, recipe=["birth_day", "father_initial"])


def test_links_pair_single_codes_and_leave_duplicated_ones_out(program, coordinator):
    made = make_series(program, coordinator)
    before, after = WaveFactory(program=program), WaveFactory(program=program)
    for wave in (before, after):
        series.series_add_wave(series=made, wave=wave, actor=coordinator)
    for code in ("A01A", "B02B", "C03C", "C03C", ""):
        paper_response_add(wave=before, actor=coordinator, answers={}, link_code=code)
    for code in ("A01A", "C03C", "D04D"):
        paper_response_add(wave=after, actor=coordinator, answers={}, link_code=code)

    links = series.links_of(made)
    first, later = links[before.pk], links[after.pk]
    assert (first.responses, first.without_key, first.duplicated_keys) == (5, 1, 1)
    assert first.duplicated_responses == 2
    pairs = linking.pairs(first, later)
    assert len(pairs) == 1  # A01A only: C03C is two people (or one twice) at baseline
    baseline_pk, later_pk = pairs[0]
    assert Response.objects.get(pk=later_pk).link_hash == linking.link_hash(program.pk, "A01A")
    assert Response.objects.get(pk=baseline_pk).wave_id == before.pk


def test_a_new_series_offers_the_built_in_survey_first_even_after_it_was_lost(
    coordinator_client, program
):
    """A database that lost the built-in survey (a flush) gets it back before the series form
    is drawn: the form's default questionnaire is then the one a new wave also defaults to."""
    from surveys.models import Instrument

    Instrument.objects.filter(slug="ccdg-participant").delete()
    page = coordinator_client.get(reverse("surveys:series_list", kwargs={"slug": program.slug}))

    html = page.content.decode()
    assert Instrument.objects.filter(slug="ccdg-participant").exists()
    assert re.search(r'<option value="ccdg-participant" selected>', html)
