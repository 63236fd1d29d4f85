"""The identifier guard's trained tagger (ccdg/phi_tagger.py) and what scan() makes of it.

The tagger is a second reader: what it is sure of joins the rules' findings, vetted by the
program's rules (one first name, ages to 89, states, eponyms stay allowed). These notes are
written for these tests; none is in the development part the tagger was trained on.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ccdg import phi, phi_tagger
from ccdg.phi import scan

DATA = Path(phi.__file__).resolve().parent / "phi_data"


def found(text: str) -> list[tuple[str, str]]:
    return [(f.category, f.text) for f in scan(text)]


# Identifiers that only a reader of the whole sentence catches: no label, no pattern, just a
# family name where hand-overs put people, a number said as an age, a place of care by name.
TAGGER_CATCHES = [
    ("Kowalski - 4E bed 2 - CHF, diuresing well, K 3.4", "name", "Kowalski"),
    ("chart says 94 and she wants everyone to know it.", "age_over_89", "94"),
    ("he's been 101 since March and says it feels like 100.", "age_over_89", "101"),
    ("the board read: 5A NGUYEN THI HOA, 5B OYELARAN, 5C FITZPATRICK", "name", "FITZPATRICK"),
    ("benefits id WA 77 30 19 6C expired and nobody told her.", "record_number", "WA 77 30 19 6C"),
    ("ended up at Fairhaven for rehab, which she hated.", "facility", "Fairhaven"),
]


@pytest.mark.parametrize(("text", "category", "identifier"), TAGGER_CATCHES)
def test_the_tagger_catches_what_no_rule_names(text, category, identifier):
    assert (category, identifier) in found(text)


def test_the_rules_alone_miss_those(monkeypatch):
    # Why the tagger ships: without its model, scan() lets these through.
    monkeypatch.setattr(phi_tagger, "MODEL", Path("/nonexistent/model.crf"))
    for text, category, identifier in TAGGER_CATCHES:
        assert (category, identifier) not in found(text), text


# What the tagger proposes and the program allows: scan() must let these through.
TAGGER_TRAPS = [
    "Mrs. Betty, 88, keeps offering us candy from her handbag.",
    "no, that was the intern's guess; it was Paget's.",
    "lisinopril 10 mg daily, held for SBP < 100.",
    "Code 99 called at 0312, ROSC at 0321, 2 shocks.",
    "the Denver shunt stopped working and her belly filled again.",
    "we used the Ottawa ankle rules and skipped the x-ray.",
    "St. John's wort interacted with her sertraline.",
    "she had a Whipple two years ago and now has diabetes.",
    "a retired coal miner from West Virginia with black lung.",
    "GCS 14, E4 V4 M6, CT head negative.",
    "glucose 99, 91, 103 over the day; she's 87 and manages her own insulin.",
    "Maria Elena prefers to be called Elena.",
    "ALI'S KAWASAKI DISEASE WAS TREATED EARLY.",
    "she may come in may; in March madness season he watches games.",
    "an august body of consultants arrived and said nothing new.",
    "hypermobile Ehlers-Danlos, and nobody believed her pain for a decade.",
    "Glasgow Coma Scale 9 on arrival, intubated for airway protection.",
    "tick bite last summer, treated for Rocky Mountain spotted fever empirically.",
    "the Boston Scientific rep came to interrogate the device.",
    "s/p Whipple last spring, now on creon with every meal.",
    "a ninety-something farmer who still splits his own wood.",
    "target BP under 185/110 before the tPA could go in.",
    "Rosa's Tay-Sachs carrier result changed the whole conversation.",
    'he is 88 and calls himself "nearly ninety" to anyone who asks.',
]


def test_the_model_ships_and_reports_only_what_it_is_sure_of():
    assert phi_tagger.available()
    text = "Kowalski - 4E bed 2 - CHF, diuresing well"
    spans = phi_tagger.find(text, phi.tagger_lexicon)
    assert spans, "the shipped model reads nothing"
    for category, start, end, confidence in spans:
        assert category in phi_tagger.TAGGED
        assert 0 <= start < end <= len(text)
        assert phi_tagger.MIN_CONFIDENCE <= confidence <= 1.0
    assert phi_tagger.find(text, phi.tagger_lexicon, min_confidence=1.01) == []


def test_labels_mark_every_token_of_a_gold_span():
    text = "pt Nguyen Van An, MRN 4471923, lives in Dorchester."
    spans = phi_tagger.tokens(text)
    gold = [
        {"category": "name", "start": 3, "end": 16},
        {"category": "record_number", "start": 22, "end": 29},
        {"category": "phone", "start": 0, "end": 2},
    ]
    labelled = {
        text[s:e]: label
        for (s, e), label in zip(spans, phi_tagger.labels(spans, gold), strict=True)
    }
    assert labelled["Nguyen"] == labelled["Van"] == labelled["An"] == "name"
    assert labelled["4471923"] == "record_number"
    assert labelled["pt"] == phi_tagger.OTHER  # contacts share one label the guard ignores
    assert labelled["Dorchester"] == "O"


def _texts() -> list[str]:
    texts = []
    for name in ("eval_set.jsonl", "eval_dev.jsonl", "eval_test.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    rng = random.Random(17)
    # long notes made of many, as the speed benchmark builds them
    texts += [" ".join(rng.sample(texts, 25)) for _ in range(60)]
    return texts


def test_patterns_read_near_their_anchor_find_what_the_whole_text_gives():
    # _near() reads a pattern only around the words it needs (speed); it must change nothing.
    texts = _texts()
    for pattern in phi._ANCHORS:
        for text in texts:
            whole = [m.span() for m in pattern.finditer(text)]
            near = [m.span() for m in phi._near(pattern, text)]
            assert near == whole, (pattern.pattern[:60], text[:80])


# Allowed details the rules flagged in the round-10 development notes (own phrasing here).
ROUND10_CLEAN = [
    "Hodgkin, Ann Arbor stage IIA, ABVD starts Monday.",
    "Auntie Ngozi sat with her through the night.",
    "Abuela Carmen would not take the pills from anyone but her grandson.",
    "HR 112 in triage, now 94 after the bolus.",
    "he went from 4 North room 410 to the step-down unit.",
    "pain 7/10 at noon, 4/10 after the block.",
    "burns 30%, Parkland 4 mL x 80 kg x 30 over 24 hours.",
    "our centenarian patients rarely make it to clinic in winter.",
]


# Round 11's development notes: allowed details the guard flagged (own phrasing here).
ROUND11_CLEAN = [
    "West Nile IgG came back positive, so the fevers finally had a name.",
    "the board: 2A new admit, 2B NPO for ERCP, 2C waiting on PT.",
    "she came in on the 5th of last month and still asks when she can go home.",
    "Ana, Tomasz and Imani stayed after group to talk about the code.",
    "beds 5-8 tonight: Rosa, Minh, Dmitri, Fatima. all quiet.",
]


# What the whole suite caught the tagger proposing: generated report prose and spreadsheet
# formulas pass the guard untouched (their text is kept in exports).
GENERATED_TEXT = [
    "Ratings did not differ significantly by any demographic characteristic or group "
    "(Wilcoxon rank-sum or Kruskal-Wallis test, all p ≥ .05).",
    "=cmd|'/Ccalc'!A0",
    "Maria Elena prefers Elena; Ana Luisa came too.",
]


def test_a_run_of_names_is_read_name_by_name():
    text = "i copied the board: 3A LEE JI-HOON, 3B ABDULLAHI, 3C CASTELLANOS."
    names = [t for c, t in found(text) if c == "name"]
    assert "ABDULLAHI" in names and "CASTELLANOS" in names


def test_a_hospital_the_rules_read_as_a_person_is_a_facility_when_the_tagger_is_sure(monkeypatch):
    # The rules read "Henry Ford Wyandotte" as a full name; the tagger, reading "seen at ... ED",
    # a hospital, and the finding says so (its advice is about facilities, not names).
    text = "seen first at Henry Ford Wyandotte ED, then sent to us."
    assert ("facility", "Henry Ford Wyandotte") in found(text)
    monkeypatch.setattr(phi_tagger, "MODEL", Path("/nonexistent/model.crf"))
    assert ("name", "Henry Ford Wyandotte") in found(text)


# Round 12's traps, in own phrasing: family titles with any first name, eponymous positions
# and devices, hand-over abbreviations, classifications named after their authors.
ROUND12_CLEAN = [
    "Auntie Malia brought the kids in after school.",
    "dropped her pressure, so we put her in Trendelenburg and called the team.",
    "Bair Hugger on, temp coming up slowly.",
    "records from the OSH were faxed but half the pages were missing.",
    "cirrhosis, Child-Pugh B, MELD 14, listed last year.",
]


# Round 13: facilities named in capitals, islands after "lives on".
def test_a_facility_named_in_capitals_is_found_from_its_name_on():
    text = "REFERRED BY BRIARWOOD FAMILY HEALTH CENTER FOR A MEDICATION REVIEW."
    assert ("facility", "BRIARWOOD FAMILY HEALTH CENTER") in found(text)
    assert found("SENT TO THE PRIMARY CARE CLINIC FOR FOLLOW UP.") == []


# Round 14: scores with their values, churches and instruments that share a hospital's name,
# infections named after a place, languages, an insulin pump whose name ends like a bed code.
ROUND14_CLEAN = [
    "NSTEMI overnight; TIMI 3 and GRACE 128, so cath in the morning.",
    "upper GI bleed, Glasgow-Blatchford 12, Forrest IIb ulcer on scope.",
    "inferior MI in Killip II, on the list after the STEMI.",
    "her faith matters: a lifelong Methodist, she wanted the chaplain before the pacer.",
    "the Presbyterian pastor stayed until she fell asleep.",
    "someone knocked the Mayo stand and the whole tray went on the floor.",
    "West Nile was the worry, given the mosquitoes and the fever.",
    "he survived the Hong Kong flu as a boy and never got a flu shot since.",
    "the interpreter spoke Twi, which his mother understood best.",
    "the Omnipod 5 alarmed twice overnight, new pod placed.",
    "she has lived in the States for thirty years and still calls Ghana home.",
]


def test_what_looks_like_those_is_still_found():
    # the same words where they name a hospital, a person or a town
    assert ("facility", "Mayo") in found("she was seen at Mayo for a second opinion.")
    assert ("facility", "Methodist") in found("transferred from Methodist with a GI bleed.")
    assert ("name", "Mr. Wells") in found("spoke with Mr. Wells 4 times about his wishes.")
    assert ("place", "Lyme") in found("he drove in from Lyme this morning with chest pain.")


@pytest.mark.parametrize(
    "text",
    TAGGER_TRAPS + ROUND10_CLEAN + ROUND11_CLEAN + GENERATED_TEXT + ROUND12_CLEAN + ROUND14_CLEAN,
)
def test_what_the_program_allows_stays_allowed(text):
    assert found(text) == []


# Round 14, from cross-validation on the development part: smaller towns after "from" or "near"
# (found by the rules alone, whatever the tagger makes of them), and places of care named in
# lower case before a word of care.
@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("a logger from Yreka, chainsaw injury to the left thigh.", "Yreka"),
        ("a wheat farmer near Colfax with a crush injury.", "Colfax"),
        ("her daughter flew in from Kotzebue overnight.", "Kotzebue"),
    ],
)
def test_smaller_towns_are_places_for_the_rules_alone(monkeypatch, text, identifier):
    monkeypatch.setattr(phi_tagger, "MODEL", Path("/nonexistent/model.crf"))
    assert ("place", identifier) in found(text)


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("dc'd to cedar hills rehab fri, bounced back sun.", "cedar hills rehab"),
        ("she came back from willow creek nursing home on tuesday.", "willow creek nursing home"),
    ],
)
def test_places_of_care_named_in_lower_case_are_found(text, identifier):
    assert ("facility", identifier) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "she went to acute rehab for two weeks, then home.",
        "discharged to a nursing home closer to her daughter.",
        "he did cardiac rehab twice and hated it.",
        "back to the same rehab, they know him there.",
        "we talked in Spanish about his wife and the farm.",
    ],
)
def test_generic_places_of_care_and_word_like_towns_stay_allowed(text):
    assert found(text) == []


def test_the_tagger_vetting_allows_languages_nicknames_and_ages_in_words():
    for text in ("she speaks Tagalog at home", "everyone calls her Umm Khalid", "is seventy-two"):
        for span in ("Tagalog", "Umm Khalid", "seventy-two"):
            if span in text:
                start = text.index(span)
                words = span.split()
                assert phi._allowed_name(text, start, start + len(span), span, words), span


def test_in_capitals_a_given_name_is_a_town_only_after_a_word_of_place():
    assert found("CALLED MASON RE: MEDS, NO ANSWER, WILL TRY AGAIN.") == []
    assert ("place", "MASON") in found("PT LIVES IN MASON WITH DTR, HOME O2 2L.")
