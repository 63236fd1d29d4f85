"""The identifier guard on the hard cases: places, library-checked numbers, ages and dates in
words, names in any case, religious and regional facilities, and the clean traps around them.

Examples are written by hand, one reason each. The evaluation sets are scored in
test_phi_commands.py.
"""

from __future__ import annotations

import pytest

from ccdg.phi import CATEGORIES, REASONS, scan


def found(text: str, category: str) -> list[str]:
    return [f.text for f in scan(text) if f.category == category]


# (text, category, text the finding must contain)
POSITIVES = [
    # place: a town or neighbourhood where the patient lives or comes from
    ("she lives in Dorchester with her son", "place", "Dorchester"),
    ("moved to Fresno last year", "place", "Fresno"),
    ("originally from Little Saigon", "place", "Little Saigon"),
    ("he is from Lowell and works nights", "place", "Lowell"),
    ("lives in fresno with her daughter", "place", "fresno"),
    ("family moved here from Lawrence, MA in the 90s", "place", "Lawrence"),
    ("pt LIVES IN GARY, no car.", "place", "GARY"),
    ("elderly man from East LA, never seen a doctor", "place", "East LA"),
    ("from jamaica plain, takes the bus", "place", "jamaica plain"),
    ("they moved back to Providence after the divorce", "place", "Providence"),
    # phone: any US format that phonenumbers accepts, slashes included
    ("call 617/555/0134 after 5", "phone", "617/555/0134"),
    ("daughter's number is (617)5550134", "phone", "5550134"),
    ("daughter: 617.555.0134", "phone", "617.555.0134"),
    # record numbers with dots, slashes or spaces after a label; the Medicare MBI shape
    ("MRN 448.229.01 on file", "record_number", "448.229.01"),
    ("medicaid id 12/3456/789", "record_number", "12/3456/789"),
    ("Medical Record No 2/39/4417 - consult attached", "record_number", "2/39/4417"),
    ("Medicaid: MCD 6612 0034 81, 8 yo with asthma", "record_number", "6612 0034 81"),
    ("mbi 1EG4TE5MK73", "record_number", "1EG4TE5MK73"),
    ("MRN# 11-22-3344", "record_number", "11-22-3344"),  # no date: 3344 is no year
    ("CGM transmitter 8GH77Q, he shares it", "device_id", "8GH77Q"),
    # SSN with dots or slashes, checked by python-stdnum
    ("ssn 123.45.6789", "ssn", "123.45.6789"),
    ("SSN:601.22.8834 54 y/o F", "ssn", "601.22.8834"),
    # ages over 89 as bare numbers in age context and in words
    ("she is 101 and sharp", "age_over_89", "101"),
    ("at 96 he still drives", "age_over_89", "96"),
    ("pt 93 f, fall, lives alone", "age_over_89", "93"),
    ("Stanley, 92, a widower, did not want the pacemaker", "age_over_89", "92"),
    ("ninety-two and independent", "age_over_89", "ninety-two"),
    ("a hundred and one years young", "age_over_89", "hundred and one"),
    ("she is ninty-six", "age_over_89", "ninty-six"),
    # dates: lower-case months, apostrophe years, spelled-out days, named days
    ("admitted march 3rd for sepsis", "date", "march 3rd"),
    ("discharged may 19, back in the ER may 21.", "date", "may 19"),
    ("last seen Mar '23 in clinic", "date", "Mar '23"),
    ("on the second of May she fell", "date", "second of May"),
    ("admitted on the 3rd", "date", "3rd"),
    ("she died on Christmas Eve", "date", "Christmas Eve"),
    # names in lower case, capitals, after relations, family name first, nicknames
    ("his daughter Amina Diallo visited", "name", "Amina Diallo"),
    ("his daughter amina diallo visited", "name", "amina diallo"),
    ("a man named nguyen van thanh", "name", "nguyen van thanh"),
    ("MARIA LOPEZ is 67", "name", "MARIA LOPEZ"),
    ("i keep thinking about brenda coles who died", "name", "brenda coles"),
    ("Pt Nguyễn Văn An, 74 m, speaks only Vietnamese", "name", "Nguyễn Văn An"),
    ("Folasade Akinwale, 66 F, stroke", "name", "Folasade Akinwale"),
    ('Mary "Sissy" Thibodeaux came back', "name", "Thibodeaux"),
    ("mr. and mrs. okafor came", "name", "okafor"),
    ("the patient is Mr. Abernathy, 66", "name", "Abernathy"),
    ("patient: okonkwo, chidi", "name", "okonkwo, chidi"),
    ("spoke w/ the wife (ingrid haugen) at length", "name", "ingrid haugen"),
    ("the chart header said HOLLISTER, GRANT", "name", "HOLLISTER, GRANT"),
    # facilities: saints after at/to/from, religious orders, regional, nursing and rehab
    ("her last admission was at st. mary's", "facility", "st. mary's"),
    ("sisters of mercy ER gave him haldol", "facility", "sisters of mercy"),
    ("admitted to Mercy Regional", "facility", "Mercy Regional"),
    ("we got her from HIGH DESERT REGIONAL", "facility", "HIGH DESERT REGIONAL"),
    ("she is at Golden Pines Nursing and Rehab", "facility", "Golden Pines Nursing and Rehab"),
    ("rehab at Maplewood Nursing Ctr, came back", "facility", "Maplewood Nursing Ctr"),
    ("she lives at Sunrise of Wellesley", "facility", "Sunrise of Wellesley"),
    ("dialysis at DaVita Eastside three days a week", "facility", "DaVita Eastside"),
    ("residence 220 Hwy 9 N Lot 14, a trailer", "address", "220 Hwy 9 N Lot 14"),
    # ZIP codes after a label or "in", addresses in lower case
    ("Zip Code - 70117.", "zip", "70117"),
    ("she's in 60624 now, moved after the eviction", "zip", "60624"),
    ("he gave 17 w 3rd st as his address", "address", "17 w 3rd st"),
]


@pytest.mark.parametrize(("text", "category", "expected"), POSITIVES)
def test_hard_identifiers_are_found(text, category, expected):
    assert any(expected in f for f in found(text, category)), scan(text)


CLEAN = [
    "Lily's Crohn's disease is flaring again despite Humira.",  # first name + eponym
    "Jack's Graves disease is finally controlled.",
    "Ali's Kawasaki disease was treated early.",
    "Miss Pearl is 80 and lives alone with her cat.",  # first name with an honorific
    "Mr. Henry told me he was ready.",
    "Father Tom came to pray with her.",
    "Hope is what keeps her going, says her daughter.",  # first names that are words
    "Grace under pressure from the team; Will she go home?",
    "June is a retired teacher with COPD.",
    "Her name is Hope; she is 52.",
    "Parkinson's and Alzheimer's run in the family.",  # eponyms
    "Stevens Johnson syndrome from lamotrigine.",
    "Jackson Pratt drain removed; Mallory Weiss tear after vomiting.",
    "eliquis 5 mg bid, lasix 40 daily, metformin 500 mg twice daily.",  # brands and doses
    "Vanc trough 24, held a dose.",
    "Wells score 6, d-dimer 4.2.",
    "sats 92% on room air, hr 96, bp 150/90, temp 99.1.",  # vitals over 89
    "at 92% on 2L she was comfortable.",
    "she is 90+ and sharp as a tack.",  # the allowed way to write it
    "she is 89 and still gardens.",
    "in 2019 she had a hip fracture; seen on Monday.",  # years alone, weekdays
    "seen in the ER, then admitted to the floor.",  # generic places
    "lives in a shelter since last winter.",
    "lives in a group home with 4 other residents.",
    "moved to Florida two years ago to be near her son.",  # states and countries alone
    "originally from Mexico, speaks Spanish at home.",
    "she came from Haiti as a child.",
    "mom lives in Ohio; dad in Georgia.",
    "his son john also called; his wife maria who is the proxy agreed.",  # one first name
    "her daughter ana said she has been confused for weeks.",
    "sister Carmen flew in from Texas.",
    "may need a pleurx; she may need 3 more sessions.",  # "may" the verb
    "How do others cope when a patient refuses?",
    "The messages came from IP address 10.0.0.1 per IT.",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_traps_stay_clean(text):
    findings = [(f.category, f.text) for f in scan(text)]
    assert not [f for f in findings if f[0] != "ip"], findings


def test_place_is_a_category_with_a_reason_that_says_what_to_write():
    assert CATEGORIES["place"] == "Town, city or neighbourhood"
    assert "lives locally" in REASONS["place"]
    (finding,) = [f for f in scan("She moved to Fresno.") if f.category == "place"]
    assert finding.reason == REASONS["place"]


def test_a_state_or_country_after_lives_in_is_allowed_but_a_town_with_it_is_not():
    assert found("lives in Massachusetts", "place") == []
    assert found("lives in Canada", "place") == []
    assert found("lives in Fresno, California", "place") == ["Fresno"]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_traps_stay_clean_in_capitals_and_in_lower_case(text):
    # Some clinicians type whole notes in capitals, others never use the shift key.
    for variant in (text.upper(), text.lower()):
        findings = [(f.category, f.text) for f in scan(variant)]
        assert not [f for f in findings if f[0] != "ip"], (variant, findings)


# Beyond the development set: new phrasings of the limits the first rules left, written apart
# from the evaluation sets, each with the clean traps that a looser rule would trip on.
GENERALISED = [
    # chart order in capitals with neither word in the name lists, after a label or before an age
    ("pt: HOLLIS, DEWAYNE", "name", "HOLLIS, DEWAYNE"),
    ("Name: QUARLES, TREVON - seen twice", "name", "QUARLES, TREVON"),
    ("HOLLIS, DEWAYNE, 70 M, COPD", "name", "HOLLIS, DEWAYNE"),
    ("BRISCOE, LATREL 64yo with CHF", "name", "BRISCOE, LATREL"),
    # family name first in capitals before an age, in a note that is not in capitals
    ("pt QUARLES TREVON 70M, fall at home", "name", "QUARLES TREVON"),
    ("seen today: HOLLIS DEWAYNE, 64 yo, COPD", "name", "HOLLIS DEWAYNE"),
    # a title and a family name in capitals, in a note that is not in capitals
    ("MS. HOLLIS came in with her son", "name", "MS. HOLLIS"),
    ("seen with MRS. QUARLES today", "name", "MRS. QUARLES"),
    # a lower-case name after a verb of meeting someone, one word known to the lists
    ("spoke with tyrell banks about goals", "name", "tyrell banks"),
    ("she was seen by jaylen brooks at the clinic", "name", "jaylen brooks"),
    ("brought in by her son marcus whitfield", "name", "marcus whitfield"),
    ("pt name: tyrell banks", "name", "tyrell banks"),
    # hospital names in lower case around "memorial"
    ("admitted to memorial hermann last week", "facility", "memorial hermann"),
    ("transferred from baptist memorial yesterday", "facility", "baptist memorial"),
    ("she was at memorial sloan for chemo", "facility", "memorial sloan"),
    ("admitted to good samaritan overnight", "facility", "good samaritan"),
    ("transferred to mercy general for the cath", "facility", "mercy general"),
    ("she was at presbyterian hospital in may", "facility", "presbyterian hospital"),
    ("she delivered at our lady of lourdes", "facility", "our lady of lourdes"),
    # a lower-case street without a number after "lives on"
    ("lives on elm st with his sister", "address", "elm st"),
    ("she lives on maple street", "address", "maple street"),
    # lower-case addresses with a unit letter, and an apartment number alone
    ("he lives at 14 b oak ave", "address", "14 b oak ave"),
    ("lives at 14b oak ave with his sister", "address", "14b oak ave"),
    ("she lives in apt 3c with her cat", "address", "apt 3c"),
    ("lives at 14-b oak ave", "address", "14-b oak ave"),
    ("he lives in unit 4b since the fall", "address", "unit 4b"),
    ("moved to apartment 12B last month", "address", "apartment 12B"),
    # a lower-case town after "lives in" that the lists lack but that ends like a town
    ("lives in hatfield with her son", "place", "hatfield"),
    ("she lives in millersburg now", "place", "millersburg"),
    ("grew up in briarwood, worked the mills", "place", "briarwood"),
    # a lower-case town the lists lack, named with its state or country
    ("lives in gonzales, texas now", "place", "gonzales"),
    ("she lives in gonzales, tx with her son", "place", "gonzales"),
    # after "in" alone, a capitalised town the lists lack that ends like one
    ("a farmer in Hatfield for 40 years", "place", "Hatfield"),
    ("she grew up poor, in Millersburg", "place", "Millersburg"),
    # a device or record code with letters and digits mixed and no label near it
    ("the card in her wallet says 8GH77Q", "record_number", "8GH77Q"),
    ("his code is 4KX92TZ7, he keeps forgetting it", "record_number", "4KX92TZ7"),
    # record numbers with short labels
    ("hosp # 77123 on the bracelet", "record_number", "77123"),
    ("her SSN ends in 6789", "ssn", "6789"),
    ("hosp no. 4471923", "record_number", "4471923"),
    ("enc no 88213", "record_number", "88213"),
    ("adm # 55102 per the sticker", "record_number", "55102"),
    # ages over 89 in other phrasings
    ("celebrated her 95th birthday last month", "age_over_89", "95th birthday"),
    ("just had his 100th birthday", "age_over_89", "100th birthday"),
    ("now in his 94th year", "age_over_89", "94th year"),
    ("mom (93) lives with us", "age_over_89", "93"),
]


@pytest.mark.parametrize(("text", "category", "expected"), GENERALISED)
def test_identifiers_beyond_the_development_set_are_found(text, category, expected):
    assert any(expected in f for f in found(text, category)), scan(text)


CLEAN_GENERALISED = [
    "Mr. Sam came with his wife.",  # a first name with an honorific, though also a surname
    "Dr. Ray saw him twice and Mr. Ray agreed.",
    "Mr. Sam and Miss Pearl are neighbours.",
    "a nonagenarian who still gardens",  # a range, like "90+"
    "she is in her late 90s and still sharp",
    "her son Kofi's wife called about the plan.",  # one first name in a possessive
    "PMH: COPD, CHF, HTN. Plan: ASA, BB.",  # capitals with commas are abbreviations
    "SEPSIS, DELIRIUM both improved.",
    "ACUTE CHOLECYSTITIS, 70 yo; CHIEF COMPLAINT, 64 yo; SEVERE SEPSIS 70M.",
    "spoke with palliative care, met with social work, seen by cardiology today.",
    "spoke to maria about goals; accompanied by husband john.",
    "Met with Social Work, spoke with Palliative Care.",
    "Pt: AFIB, COPD, 70 yo, on apixaban.",
    "the memorial service was lovely; transferred from general surgery.",
    "sent to psychiatric hospital, then to a teaching hospital, not the wrong hospital.",
    "went to another hospital, then to outside hospital, then to a better hospital.",
    "she moved to an apartment 2 blocks away",
    "10 units of insulin, unit 4 nurses were great.",
    "lives in comfort now, lives in fear of falling.",
    "lives in isolation, ohio has no program for her.",
    "hx of MS. RELAPSE in 2019; MR. HENRY and MISS PEARL came.",
    "lives on the street, then lives on social security; lives on easy street now.",
    "the name: of the game is comfort; a good samaritan brought him in.",
    "she lives in fear, texas has no help for her; lives in poverty, new mexico too.",
    "BP (95) and the 95th percentile; walked (96) steps.",
    "worse in Huntington's disease; a mass in Hodgkin lymphoma.",
    "COVID19, HbA1c 9.2, NSTEMI, T2DM, SARS-CoV-2, B12, CD4 count low.",
    "CYP2D6 poor metabolizer; staged T4N1M0, then pT2N0M0 on the specimen.",
    "hosp course uneventful; enc with palliative care.",
    "at her 85th birthday she was still dancing.",
    "age 90+, advanced dementia, lives with her daughter.",  # the allowed form after "age"
    "Age: 90+. aged 90+ and frail; at age 90+ she still drives.",
]


@pytest.mark.parametrize("text", CLEAN_GENERALISED)
def test_clean_traps_beyond_the_development_set_stay_clean(text):
    findings = [(f.category, f.text) for f in scan(text)]
    assert not findings, findings


@pytest.mark.parametrize("text", CLEAN_GENERALISED)
def test_clean_traps_beyond_the_development_set_stay_clean_in_capitals_and_lower_case(text):
    for variant in (text.upper(), text.lower()):
        findings = [(f.category, f.text) for f in scan(variant)]
        assert not findings, (variant, findings)


def test_a_hospital_in_capitals_keeps_its_name_without_the_verb_before_it():
    assert found("TRANSFERRED FROM MERCY GENERAL", "facility") == ["MERCY GENERAL"]
    assert found("BAPTIST MEMORIAL HOSPITAL", "facility") == ["BAPTIST MEMORIAL HOSPITAL"]


# Names no list knows, read against ordinary English; hand-over and label names; months alone
# and misspelt; devices, records, roads and facilities in more phrasings. Written for these
# rules, apart from the evaluation notes.
LEXICON = [
    ("I think Bartholomew Quist was misdiagnosed", "name", "Bartholomew Quist"),
    ("Mary-Kate Delacroix-Baptiste was admitted", "name", "Delacroix-Baptiste"),
    ("PT: OKONKWO-MBEKI ADAEZE, 52F, CHF", "name", "OKONKWO-MBEKI ADAEZE"),
    ("mrs nakashima cried when we told her", "name", "nakashima"),
    ("mr. Abernathy came back", "name", "Abernathy"),
    ("the Okonkwos' son is 17", "name", "Okonkwos"),
    ("the Haddads' eldest asked us to wait", "name", "Haddads"),
    ("sign-out: Quigley bed 2 on heparin", "name", "Quigley"),
    ("bed 20 Akinyemi -- blood cx pending", "name", "Akinyemi"),
    (
        "RE: DELACROIX-BAPTISTE, the family meeting was moved to thursday",
        "name",
        "DELACROIX-BAPTISTE",
    ),
    ("the header said HOLLIS, DEWAYNE and i had the wrong name", "name", "HOLLIS, DEWAYNE"),
    ("KOWALCZYK ANNA 78F ADMITTED FOR SYNCOPE", "name", "KOWALCZYK ANNA"),
    ("brother-in-law tariq mansour translated", "name", "tariq mansour"),
    ("his wife died in november and he stopped the insulin", "date", "november"),
    ("admitted on the thirtieth, quiet since", "date", "thirtieth"),
    ("she moved here in Janaury after the funeral", "date", "Janaury"),
    ("note dated Novmber 30 never reached us", "date", "Novmber 30"),
    ("PT IS NINETY-FIVE, FULL CODE PER SON", "age_over_89", "NINETY-FIVE"),
    ("he'll be 103 in the spring", "age_over_89", "103"),
    ("interrogation of pacer RNB302118S: battery at ERI", "device_id", "RNB302118S"),
    ("the rep read the generator number, CRT-D 7740-55821", "device_id", "7740-55821"),
    ("pump number 88-2210-19 was alarming", "device_id", "88-2210-19"),
    ("the pacemaker's serial number ends in 2231", "device_id", "2231"),
    ("enc E-20391-7718, admitted under obs", "record_number", "E-20391-7718"),
    ("Medical rec. no. M.22.4471, 66 m", "record_number", "M.22.4471"),
    ("the med rec number, 88 2201 5, on the whiteboard", "record_number", "88 2201 5"),
    ("she lives off Rte 9 past the gas station", "address", "Rte 9"),
    ("they live on County Rd 12 near the quarry", "address", "County Rd 12"),
    ("seen at Veterans Memorial Medical Center last year", "facility", "Veterans Memorial"),
    ("nights shared with st. elizabeth's and their fellow", "facility", "st. elizabeth"),
    ("a porter at Sainte-Justine for thirty years", "facility", "Sainte-Justine"),
    ("seen at Sacred Heart last spring", "facility", "Sacred Heart"),
    ("transferred from Baptist Memorial", "facility", "Baptist Memorial"),
    ("lives at the Shady Pines home", "facility", "Shady Pines"),
    ("a young mother from Chinle, two hours from dialysis", "place", "Chinle"),
    ("patient is from Lawrence comma Massachusetts comma lives alone", "place", "Lawrence"),
]


@pytest.mark.parametrize(("text", "category", "expected"), LEXICON)
def test_names_and_numbers_no_list_knows_are_found(text, category, expected):
    assert any(expected in f for f in found(text, category)), scan(text)


CLEAN_LEXICON = [
    "S.O. 33F postpartum preeclampsia, the team minimized her headache.",  # clinical, not a name
    "his son john also called and he became calmer.",  # English words around a first name
    "Maria Elena prefers Elena; Ana Luisa came too.",  # compound given names
    'he is 89 and says he is "almost ninety" as if it were a medal.',
    "email maria.l@example.org was wrong, so we texted.",
    "Pt: AFIB, COPD, NSTEMI, 70 yo, on apixaban.",
    "she may come in may; in March madness season he watches games.",
    "on the second floor, then on the third try, by the fifth day she ate.",
    "the pump alarm went off twice; the pacer was interrogated.",
    "went online, checked the website, then facetime with her son.",
]


@pytest.mark.parametrize("text", CLEAN_LEXICON)
def test_clean_traps_of_the_lexicon_rules_stay_clean(text):
    findings = [(f.category, f.text) for f in scan(text) if f.category != "email"]
    assert not findings, findings


# Round 5: hand-over names, labelled numbers of any shape, addresses without a street word,
# ages in shorthand, named VA hospitals; each with the clean traps a looser rule would trip on.
ROUND5 = [
    ("ED boarding: Tesfaye (44M) - SBO, surg following", "name", "Tesfaye"),
    ("DOYLE 79M, FORMER MINER, LIVES ALONE", "name", "DOYLE"),
    ("5N-22 Rosenthal, aspiration PNA, NPO", "name", "Rosenthal"),
    ("the night nurse wrote KAUR on the whiteboard", "name", "KAUR"),
    ("Hofmann's GP had already stopped the warfarin", "name", "Hofmann"),
    ("Self-pay acct 991-20-3314, their own format", "record_number", "991-20-3314"),
    ("mrn=20.44.91.07 sepsis, source unclear", "record_number", "20.44.91.07"),
    ("MRN M 0029 8841 // 81F // hip fx", "record_number", "0029 8841"),
    ("listed by MRN, 4471-0923 and 4417-0923", "record_number", "4417-0923"),
    ("mrn 552_39_1104 - wife asks about code status", "record_number", "552_39_1104"),
    ("Pt's CRT-D, SN PVX 889104 S, remote transmission missed", "device_id", "PVX 889104"),
    ("home address 12 main, no elevator", "address", "12 main"),
    ("lives at rr 2 box 14 off the county road", "address", "rr 2 box 14"),
    ("her daughter's house at 2261 old county road has stairs", "address", "2261 old county road"),
    ("we sent hospice to 9 tamarack trail", "address", "9 tamarack trail"),
    ("HH referral sent for 9021 SW Barbur Blvd #210", "address", "9021 SW Barbur Blvd"),
    ("his place on cortland ave has no heat", "address", "cortland ave"),
    ("pt (F/92) w/ pressure injury sacrum", "age_over_89", "92"),
    ("105 and sharp as anything; her son was confused", "age_over_89", "105"),
    ("the Palo Alto VA sent his vitals log", "facility", "Palo Alto VA"),
    ("we called memorial regional at night", "facility", "memorial regional"),
    ("he sleeps at Pine Street Inn most nights", "facility", "Pine Street Inn"),
]


@pytest.mark.parametrize(("text", "category", "expected"), ROUND5)
def test_round5_identifiers_are_found(text, category, expected):
    assert any(expected in f for f in found(text, category)), scan(text)


CLEAN_ROUND5 = [
    "Brandon, 49yo, new glioblastoma; Maria, 72F, with him.",  # one first name with an age
    "SLP says NPO, GOC with wife tmrw; NSTI LLE s/p debridement.",  # capital abbreviations
    "2 mm ST elevation in V2; 9 pending CT heads tonight.",  # no streets
    "pt in rm 104, bed B; rm 96 is empty.",  # rooms, not ages
    "a ninety-something widower who visits every week.",  # a range
    "MOVED IN THE SPRING, BACK IN THE FALL.",  # seasons, not towns
    "Mrs. Hye-jin walked alone; Miss Leilani, 19, asked us to wait.",  # given names
    "he was in home 2 times this month and lives alone.",
    "pt known as umm khalid on the ward.",  # a nickname
]


@pytest.mark.parametrize("text", CLEAN_ROUND5)
def test_round5_clean_traps_stay_clean(text):
    findings = [(f.category, f.text) for f in scan(text)]
    assert not findings, findings


# Rounds 6 and 7: double family names alone, a family name carried through the note, care
# moves, estate-like care homes, towns that say where someone is from, address tails, device
# codes near device words; each with the clean traps a looser rule would trip on.
ROUND7 = [
    ("pt garcia-lopez refused the line", "name", "garcia-lopez"),
    ("GARCIA-LOPEZ REFUSED THE LINE AGAIN TODAY", "name", "GARCIA-LOPEZ"),
    ("mohammed bin rashid came with his sons", "name", "mohammed bin rashid"),
    ("OKAFOR'S WIFE CALLED AGAIN", "name", "OKAFOR"),
    ("rm 12 DELACROIX septic; wife Marie Delacroix at bedside", "name", "DELACROIX"),
    ("pt Zielinski came back from IR", "name", "Zielinski"),
    ("room 3: bjornstad 79f, fall", "name", "bjornstad"),
    ("old Mr. McCafferty came back", "name", "McCafferty"),
    ("transferred from Ashgrove for a higher level of care", "facility", "Ashgrove"),
    ("discharged to Heritage Pointe with hospice", "facility", "Heritage Pointe"),
    ("TRANSFERRED FROM NORTHGATE ICU ON PRESSORS", "facility", "NORTHGATE"),
    ("per the planner Harborview Pines won't take him back", "facility", "Harborview Pines"),
    ("asked MHMC for the echo report", "facility", "MHMC"),
    ("a Dorchester native, she told us every day", "place", "Dorchester"),
    ("back home in Mirebalais his mother waits", "place", "Mirebalais"),
    ("he grew up on the Rosebud reservation", "place", "Rosebud"),
    ("she's from Kumasi and sends money home", "place", "Kumasi"),
    ("we learned he was from Mingo County", "place", "Mingo County"),
    ("Immokalee, where she grew up, is two hours south", "place", "Immokalee"),
    ("an elder from Chinle who asked for a healer", "place", "Chinle"),
    ("face sheet: 9 birch lane, pawtucket 02860", "zip", "02860"),
    ("face sheet: 9 birch lane, pawtucket 02860", "place", "pawtucket"),
    ("ems found her outside 2210 n halsted", "address", "2210 n halsted"),
    ("he gave 58 Comm. Ave. as home", "address", "58 Comm. Ave"),
    ("MRN = 0041:7729:3, split across two systems", "record_number", "0041:7729:3"),
    ("her MRN (9008-441-20) was on the paper", "record_number", "9008-441-20"),
    ("loop recorder (Reveal LINQ, RLA 402286 G) caught a pause", "device_id", "RLA 402286"),
    ("UDI (01)00643169007222(17)250101(10)AB12345", "device_id", "00643169007222"),
    ("the stimulator's id was 7741-A-20", "device_id", "7741-A-20"),
    ("her husband died at 94", "age_over_89", "94"),
    ("she celebrated 100 with the nurses", "age_over_89", "100"),
]


@pytest.mark.parametrize(("text", "category", "expected"), ROUND7)
def test_round7_identifiers_are_found(text, category, expected):
    assert any(expected in f for f in found(text, category)), scan(text)


CLEAN_ROUND7 = [
    "Stevens-Johnson from lamotrigine; post-op day 2; follow-up in clinic.",  # hyphenated words
    "Ji-hoon and Hye-jin, the twins, and xiao-ming their cousin visited.",  # given names
    "transferred from the ICU to the floor, then discharged to home with services.",
    "admitted to Medicine overnight; sent home from the ED.",
    "MOVED IN THE SPRING, BACK IN THE FALL.",
    "Dr. Priya covered the unit overnight.",  # a given name no surname list holds
    "his Permobil chair and her ResMed machine both need batteries.",  # device makers
    "the Medtronic Micra was placed in 2021; the LVAD alarm went off.",
    "pt in rm 104, bed B; MI 2019 per history.",
    "a nonagenarian from Ohio; came from Florida for the winter.",
]


@pytest.mark.parametrize("text", CLEAN_ROUND7)
def test_round7_clean_traps_stay_clean(text):
    findings = [(f.category, f.text) for f in scan(text)]
    assert not findings, findings


# Round 8: rare Webster words as family names, towns after an address, quantities, wristbands,
# spaced meter serials, 'out of' a town, weekday dates, bare ages in a sentence about age.
ROUND8 = [
    ("for tomorrow: Kateryna Bondar, Ukrainian only", "name", "Kateryna Bondar"),
    ("Mother's home: 7 Sycamore Ln, Ypsilanti. Dad's is unstable.", "place", "Ypsilanti"),
    ("new address per registration: 98 holloway road, flat 2", "address", "holloway road"),
    ("wristband reads 00 417 8823 6, she pulled it off", "record_number", "00 417 8823 6"),
    ("glucometer downloaded, meter sn GHT 114 5593", "device_id", "GHT 114 5593"),
    ("wound vac (KCI) unit VCQ91733 beeping all night", "device_id", "VCQ91733"),
    ("originally out of Flint; the lead question came up", "place", "Flint"),
    ("a teenager from the Ironbound section", "place", "Ironbound"),
    ("d/c goal Thursday the 14th", "date", "Thursday the 14th"),
    ("eldest resident on the unit at 105, family flying in", "age_over_89", "105"),
    ("the birthday card said congratulations on 101", "age_over_89", "101"),
    ("hes 93 n still cuts his own wood", "age_over_89", "93"),
]


@pytest.mark.parametrize(("text", "category", "expected"), ROUND8)
def test_round8_identifiers_are_found(text, category, expected):
    assert any(expected in f for f in found(text, category)), scan(text)


CLEAN_ROUND8 = [
    "lives w/ daughter in a suburb, 30 min drive; 3 miles each way to clinic.",  # quantities
    "quick one: rm 3 ICD interrogated, no shocks, can go in AM.",  # a device, no name
    "she is over 90 now and in her late 90s; age 90+ per policy.",  # ranges
    "HR 96 and sats 92% on the day of her birthday; glucose 104 this morning.",  # measures
    "her birthday is in room 104? no, room 110; she is 85 years old.",
]


@pytest.mark.parametrize("text", CLEAN_ROUND8)
def test_round8_clean_traps_stay_clean(text):
    findings = [(f.category, f.text) for f in scan(text)]
    assert not findings, findings
