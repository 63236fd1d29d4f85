"""The built-in "CCDG participant survey" (slug ``ccdg-participant``, version 1), as data.

Migration 0002 creates it; :func:`ensure_builtin_instrument` puts it back if it was removed
(a database flushed by tests, or a mistaken delete in the admin). Question codes and value
codes are stable: forms, imports, exports and the analysis all use them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

SLUG = "ccdg-participant"
NAME = "CCDG participant survey"
VERSION = 1
PUBLISHED_AT = datetime(2026, 1, 1, tzinfo=UTC)

AGREEMENT5 = [
    ("1", "Strongly disagree"),
    ("2", "Disagree"),
    ("3", "Neither agree nor disagree"),
    ("4", "Agree"),
    ("5", "Strongly agree"),
]
RATING5 = [("1", "1 (low)"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5 (high)")]
CHALLENGE4 = [
    ("1", "Not a challenge"),
    ("2", "Mild challenge"),
    ("3", "Moderate challenge"),
    ("4", "Serious challenge"),
]
YES_NO = [("1", "Yes"), ("0", "No")]

# type -> (choices, positive value codes), for the scale types.
SCALES = {
    "agreement5": (AGREEMENT5, ["4", "5"]),
    "rating5": (RATING5, []),
    "challenge4": (CHALLENGE4, ["3", "4"]),
    "yes_no": (YES_NO, ["1"]),
}

# The question every instrument may ask for the respondent's group (its choices are the
# program's groups when it has none of its own).
GROUP_CODE = "group"
DEMOGRAPHIC_TYPE = "single_choice"


def describes_respondent(*, type: str, code: str, section: object, first_section: object) -> bool:
    """Whether a question describes the respondent (profession, gender, group...): a
    single-choice question of the first section, or the group question wherever it is. The
    analysis's Table 1 and the small-cell rule of a response's page both use this."""
    return type == DEMOGRAPHIC_TYPE and (section == first_section or code == GROUP_CODE)


AGREE_STEM = "Participating in the group fostered: "
RELEVANCE_STEM = "How relevant is the group to your daily practice: "
CHALLENGE_STEM = "How much of a challenge is {} for you?"
ADDRESSED_STEM = "Did the group address {}?"

# (section title, [(code, text, type, choices for single_choice or None)])
SECTIONS = [
    (
        "Demographics",
        [
            (
                "gender",
                "Gender",
                "single_choice",
                [
                    ("female", "Female"),
                    ("male", "Male"),
                    ("nonbinary", "Nonbinary"),
                    ("undisclosed", "Prefer not to say"),
                ],
            ),
            (
                "clinician_type",
                "Clinician type",
                "single_choice",
                [
                    ("physician", "Physician"),
                    ("nurse_practitioner", "Nurse practitioner"),
                    ("physician_assistant", "Physician assistant"),
                    ("psychologist", "Psychologist"),
                    ("social_worker", "Social worker"),
                    ("pharmacist", "Pharmacist"),
                    ("nurse", "Nurse"),
                    ("other", "Other"),
                ],
            ),
            (
                "years_at_institution",
                "Years at the institution",
                "single_choice",
                [("lt5", "Less than 5"), ("5to10", "5 to 10"), ("gt10", "More than 10")],
            ),
            (
                "patient_care_halfdays",
                "Share of your job in direct patient care (half-day sessions per week)",
                "single_choice",
                [("ge7", "7 or more (full time)"), ("le6", "6 or fewer")],
            ),
            # No fixed choices: the labels are the program's group names (or, on a paper
            # wave, whatever labels the forms used).
            ("group", "Which group do you attend?", "single_choice", []),
        ],
    ),
    (
        "Skills the group fostered",
        [
            ("skill_self_reflection", AGREE_STEM + "self-reflection", "agreement5", None),
            (
                "skill_tolerate_uncertainty",
                AGREE_STEM + "ability to tolerate uncertainty",
                "agreement5",
                None,
            ),
            ("skill_empathy", AGREE_STEM + "empathy", "agreement5", None),
            (
                "skill_flexibility_uncertainty",
                AGREE_STEM + "increased flexibility to tolerate uncertainty",
                "agreement5",
                None,
            ),
            (
                "skill_blind_spots",
                AGREE_STEM + "increased awareness of my own limitations or blind spots",
                "agreement5",
                None,
            ),
            (
                "skill_patient_challenges",
                AGREE_STEM + "responding to patient challenges",
                "agreement5",
                None,
            ),
        ],
    ),
    (
        "Relevance to daily practice",
        [
            (
                "relevance_prioritize",
                RELEVANCE_STEM + "ability to prioritise activities",
                "rating5",
                None,
            ),
            ("relevance_communicate", RELEVANCE_STEM + "ability to communicate", "rating5", None),
            ("relevance_conflict", RELEVANCE_STEM + "ability to manage conflict", "rating5", None),
        ],
    ),
    (
        "Stressors",
        [
            ("challenge_isolation", CHALLENGE_STEM.format("isolation"), "challenge4", None),
            (
                "challenge_personal_stress",
                CHALLENGE_STEM.format("personal stress"),
                "challenge4",
                None,
            ),
            (
                "challenge_professional_stress",
                CHALLENGE_STEM.format("professional stress"),
                "challenge4",
                None,
            ),
            ("addressed_isolation", ADDRESSED_STEM.format("isolation"), "yes_no", None),
            (
                "addressed_personal_stress",
                ADDRESSED_STEM.format("personal stress"),
                "yes_no",
                None,
            ),
            (
                "addressed_professional_stress",
                ADDRESSED_STEM.format("professional stress"),
                "yes_no",
                None,
            ),
        ],
    ),
    (
        "Open-ended",
        [
            ("open_unique", "What makes the group unique?", "free_text", None),
            ("open_improve", "What would you change?", "free_text", None),
            ("open_other", "Other comments", "free_text", None),
        ],
    ),
]


# -- The wellbeing module ------------------------------------------------------------------------
#
# A section any instrument may add (``surveys.services.module_add``), for waves that measure
# change over time: a single-item burnout measure of five ordered levels (the form of single
# item used in clinician wellbeing surveys; the wording here is the app's own) and three
# agreement items on the program's aims. No copyrighted instrument text.

WELLBEING_TITLE = "Wellbeing at work"
BURNOUT_CODE = "wellbeing_burnout"
BURNOUT5 = [
    ("1", "I enjoy my work and have no signs of burnout"),
    ("2", "I am under stress at times, but I do not feel burned out"),
    ("3", "I am starting to feel burned out (for example tired out or drained)"),
    ("4", "Signs of burnout stay with me; I often feel frustrated at work"),
    ("5", "I feel completely burned out and may need help or a change"),
]
# (code, text, type, choices or None, positive value codes or None: the scale's default)
WELLBEING_QUESTIONS: list[tuple[str, str, str, list | None, list | None]] = [
    (
        BURNOUT_CODE,
        "Taking your own definition of burnout, which statement describes you best now?",
        "single_choice",
        BURNOUT5,
        ["3", "4", "5"],  # burnout present: levels 3 to 5, the usual cut-off of such items
    ),
    ("wellbeing_meaning", "My work feels meaningful to me.", "agreement5", None, None),
    ("wellbeing_connected", "I feel connected to colleagues at work.", "agreement5", None, None),
    (
        "wellbeing_difficult_encounters",
        "I feel able to handle difficult encounters with patients.",
        "agreement5",
        None,
        None,
    ),
]
MODULES = {"wellbeing": (WELLBEING_TITLE, WELLBEING_QUESTIONS)}

# A second built-in instrument: the participant survey with the wellbeing module before its
# open questions, for series that follow wellbeing over time.
WELLBEING_SLUG = "ccdg-participant-wellbeing"
WELLBEING_NAME = "CCDG participant survey with wellbeing module"


def _with_defaults(questions) -> list[tuple[str, str, str, list | None, list | None]]:
    return [(*q, None) if len(q) == 4 else q for q in questions]


WELLBEING_SECTIONS = [
    *[(title, _with_defaults(qs)) for title, qs in SECTIONS[:-1]],
    (WELLBEING_TITLE, WELLBEING_QUESTIONS),
    *[(title, _with_defaults(qs)) for title, qs in SECTIONS[-1:]],
]


def ensure_builtin_instrument(Instrument: Any, Section: Any, Question: Any, Choice: Any) -> Any:
    """Create the built-in instrument (version 1) unless it exists; return it.

    Takes the model classes so the data migration can pass its historical models.
    """
    return _ensure((Instrument, Section, Question, Choice), SLUG, NAME, _sections_of(SECTIONS))


def ensure_wellbeing_instrument(Instrument: Any, Section: Any, Question: Any, Choice: Any) -> Any:
    """The built-in survey with the wellbeing module (version 1), made unless it exists."""
    return _ensure(
        (Instrument, Section, Question, Choice), WELLBEING_SLUG, WELLBEING_NAME,
        WELLBEING_SECTIONS,
    )  # fmt: skip


def _sections_of(sections) -> list:
    return [(title, _with_defaults(qs)) for title, qs in sections]


def _ensure(models: tuple, slug: str, name: str, sections: list) -> Any:
    Instrument, Section, Question, Choice = models
    instrument = Instrument.objects.filter(slug=slug, version=VERSION).first()
    if instrument is not None:
        return instrument
    instrument = Instrument.objects.create(
        slug=slug, name=name, version=VERSION, published_at=PUBLISHED_AT
    )
    for s_order, (title, questions) in enumerate(sections, start=1):
        section = Section.objects.create(instrument=instrument, order=s_order, title=title)
        for q_order, (code, text, qtype, choices, own_positive) in enumerate(questions, start=1):
            positive: list = []
            if qtype in SCALES:
                choices, positive = SCALES[qtype]
            if own_positive is not None:
                positive = own_positive
            question = Question.objects.create(
                instrument=instrument,
                section=section,
                order=q_order,
                code=code,
                text=text,
                type=qtype,
                required=False,
                positive_values=list(positive),
            )
            Choice.objects.bulk_create(
                Choice(question=question, order=c_order, value=value, label=label)
                for c_order, (value, label) in enumerate(choices or [], start=1)
            )
    return instrument
