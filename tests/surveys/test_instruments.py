"""Survey instruments: the built-in survey, immutability of published versions, new versions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from surveys import services
from surveys.models import Choice, Instrument, Question
from tests.factories import ChoiceFactory, InstrumentFactory, QuestionFactory, SectionFactory

pytestmark = pytest.mark.django_db

# Written from issue 7, item 2 (not from surveys/builtin.py).
EXPECTED_VALUES = {
    "gender": ["female", "male", "nonbinary", "undisclosed"],
    "clinician_type": [
        "physician",
        "nurse_practitioner",
        "physician_assistant",
        "psychologist",
        "social_worker",
        "pharmacist",
        "nurse",
        "other",
    ],
    "years_at_institution": ["lt5", "5to10", "gt10"],
    "patient_care_halfdays": ["ge7", "le6"],
    "group": [],
}
AGREEMENT = [
    "skill_self_reflection",
    "skill_tolerate_uncertainty",
    "skill_empathy",
    "skill_flexibility_uncertainty",
    "skill_blind_spots",
    "skill_patient_challenges",
]
RATING = ["relevance_prioritize", "relevance_communicate", "relevance_conflict"]
CHALLENGE = ["challenge_isolation", "challenge_personal_stress", "challenge_professional_stress"]
YES_NO = ["addressed_isolation", "addressed_personal_stress", "addressed_professional_stress"]
FREE_TEXT = ["open_unique", "open_improve", "open_other"]


def builtin():
    return Instrument.objects.get(slug="ccdg-participant", version=1)


def test_builtin_is_published_version_1():
    instrument = builtin()
    assert instrument.name == "CCDG participant survey"
    assert instrument.is_published
    assert [s.title for s in instrument.sections.all()] == [
        "Demographics",
        "Skills the group fostered",
        "Relevance to daily practice",
        "Stressors",
        "Open-ended",
    ]


def test_builtin_has_exactly_the_codes_of_the_issue():
    questions = {q.code: q for q in builtin().questions.prefetch_related("choices")}
    expected = [*EXPECTED_VALUES, *AGREEMENT, *RATING, *CHALLENGE, *YES_NO, *FREE_TEXT]
    assert sorted(questions) == sorted(expected)
    assert len(questions) == len(expected) == 23

    def values(code):
        return [c.value for c in questions[code].choices.all()]

    for code, codes in EXPECTED_VALUES.items():
        assert questions[code].type == Question.Type.SINGLE_CHOICE
        assert values(code) == codes
    for code in AGREEMENT:
        assert questions[code].type == Question.Type.AGREEMENT5
        assert values(code) == ["1", "2", "3", "4", "5"]
        assert questions[code].positive_values == ["4", "5"]
    for code in RATING:
        assert questions[code].type == Question.Type.RATING5
        assert values(code) == ["1", "2", "3", "4", "5"]
    for code in CHALLENGE:
        assert questions[code].type == Question.Type.CHALLENGE4
        assert values(code) == ["1", "2", "3", "4"]
        assert questions[code].positive_values == ["3", "4"]
    for code in YES_NO:
        assert questions[code].type == Question.Type.YES_NO
        assert sorted(values(code)) == ["0", "1"]
        assert questions[code].positive_values == ["1"]
    for code in FREE_TEXT:
        assert questions[code].type == Question.Type.FREE_TEXT
        assert values(code) == []
    assert not any(q.required for q in questions.values())


def test_builtin_is_recreated_on_demand():
    builtin().delete()
    instrument = services.builtin_instrument()
    assert instrument.questions.count() == 23
    assert services.builtin_instrument() == instrument


def test_published_instrument_refuses_changes():
    instrument = builtin()
    question = instrument.questions.get(code="skill_empathy")
    message = "is published and cannot be changed"
    with pytest.raises(ValidationError, match=message):
        services.question_update(question=question, text="Changed")
    with pytest.raises(ValidationError, match=message):
        services.question_add(
            section=question.section, code="new", text="New?", type=Question.Type.FREE_TEXT
        )
    with pytest.raises(ValidationError, match=message):
        services.question_delete(question=question)
    with pytest.raises(ValidationError, match=message):
        services.section_add(instrument=instrument, title="More")
    with pytest.raises(ValidationError, match=message):
        services.instrument_publish(instrument=instrument)
    question.refresh_from_db()
    assert question.text.endswith("empathy")
    assert instrument.questions.count() == 23


def test_new_version_copies_everything_as_a_draft():
    original = builtin()
    draft = services.instrument_new_version(instrument=original)
    assert (draft.slug, draft.version, draft.is_published) == ("ccdg-participant", 2, False)

    def shape(instrument):
        return [
            (
                q.section.order,
                q.section.title,
                q.order,
                q.code,
                q.text,
                q.type,
                q.required,
                q.positive_values,
                [(c.order, c.value, c.label) for c in q.choices.all()],
            )
            for q in instrument.questions.select_related("section").prefetch_related("choices")
        ]

    assert shape(draft) == shape(original)
    assert not set(draft.questions.values_list("pk", flat=True)) & set(
        original.questions.values_list("pk", flat=True)
    )

    question = draft.questions.get(code="skill_empathy")
    services.question_update(question=question, text="Empathy for colleagues")
    services.instrument_publish(instrument=draft)
    assert original.questions.get(code="skill_empathy").text.endswith("empathy")
    assert services.instrument_get(slug="ccdg-participant").version == 2
    assert services.instrument_get(slug="ccdg-participant", version=1) == original


def test_draft_editing_and_validation():
    instrument = services.instrument_create(slug="pulse", name="Pulse check")
    section = services.section_add(instrument=instrument, title="Only")
    question = services.question_add(
        section=section, code="calm", text="I feel calm", type=Question.Type.AGREEMENT5
    )
    assert question.instrument == instrument
    assert list(question.choices.values_list("value", flat=True)) == ["1", "2", "3", "4", "5"]
    assert question.positive_values == ["4", "5"]
    with pytest.raises(ValidationError, match="already used"):
        services.question_add(section=section, code="calm", text="Again", type="free_text")
    with pytest.raises(ValidationError, match="not among its value codes"):
        services.question_update(question=question, positive_values=["9"])
    with pytest.raises(ValidationError, match="cannot have choices"):
        services.question_add(
            section=section, code="t", text="T", type="free_text", choices=[("a", "A")]
        )
    services.instrument_publish(instrument=instrument)
    assert Instrument.objects.get(pk=instrument.pk).is_published


def test_publishing_an_empty_draft_is_refused():
    with pytest.raises(ValidationError, match="no questions"):
        services.instrument_publish(instrument=InstrumentFactory())


def test_factories_make_valid_rows():
    choice = ChoiceFactory()
    assert choice.question.instrument == choice.question.section.instrument
    assert QuestionFactory(section=SectionFactory()).instrument_id
    assert Choice.objects.count() >= 1
