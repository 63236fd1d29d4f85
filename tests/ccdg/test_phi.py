"""The identifier guard (ccdg/phi.py): what it refuses, what it lets through, and its shape.

Examples are written by hand, one reason each; the generated evaluation set is scored in
test_phi_commands.py.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccdg.phi import CATEGORIES, REASONS, Finding, highlight, scan


def categories_of(text: str) -> list[tuple[str, str]]:
    return [(f.category, f.text) for f in scan(text)]


# (text, category, the text the finding must cover) -- why it is an identifier in the comment.
POSITIVES = [
    # name: first and last name, title with surname, chart style, relatives and clinicians
    ("Maria Lopez is a 67-year-old woman.", "name", "Maria Lopez"),
    ("Mrs. Alvarez refused the CT.", "name", "Mrs. Alvarez"),
    ("Discussed with Dr Chen this morning.", "name", "Dr Chen"),
    ("Her son, Kevin O'Brien, is the proxy.", "name", "Kevin O'Brien"),
    ("Spoke with John A. Smith on the phone.", "name", "John A. Smith"),
    ("Pt: SMITH, JOHN", "name", "SMITH, JOHN"),
    ("Re: Alvarez, Maria", "name", "Alvarez, Maria"),
    ("We met Ms. de la Cruz and her son.", "name", "Ms. de la Cruz"),
    ("Seen by Sarah Goldberg, NP.", "name", "Sarah Goldberg"),
    ("Her husband Tran Van Minh visited.", "name", "Tran Van Minh"),
    ("Dr Nguyễn signed the MOLST.", "name", "Dr Nguyễn"),
    # date: anything more specific than a year
    ("Seen on 3/14 for follow-up.", "date", "3/14"),
    ("Admitted March 14th with sepsis.", "date", "March 14th"),
    ("She fell on 14 March.", "date", "14 March"),
    ("Echo 2025-03-02 showed EF 30%.", "date", "2025-03-02"),
    ("Surgery on the 3rd of May went well.", "date", "3rd of May"),
    ("DOB: 04/12/1957", "date", "04/12/1957"),
    ("Died 12-Jan-2024 at home.", "date", "12-Jan-2024"),
    ("Last seen in clinic Sept. 12, 2023.", "date", "Sept. 12, 2023"),
    ("Readmitted in June 2022.", "date", "June 2022"),
    ("4/4: intubated for hypoxia.", "date", "4/4"),
    # phone and fax
    ("Call her at 617-555-0134.", "phone", "617-555-0134"),
    ("Fax: (617) 555-0199", "phone", "(617) 555-0199"),
    ("Cell 555-0134 after six.", "phone", "555-0134"),
    ("Her mobile is +44 7700 900123.", "phone", "+44 7700 900123"),
    ("Reach him at 617.555.0134 ext. 22.", "phone", "617.555.0134 ext. 22"),
    ("Call the patient's mother at 5832383362 for updates.", "phone", "5832383362"),
    # email, url, ip
    ("Email jdoe@gmail.com for records.", "email", "jdoe@gmail.com"),
    ("Write to jdoe at gmail dot com.", "email", "jdoe at gmail dot com"),
    ("See https://www.caringbridge.org/visit/janedoe for updates.", "url", "https://"),
    ("Her page is gofundme.com/f/help-jane.", "url", "gofundme.com/f/help-jane"),
    ("Login from 10.0.0.15 was flagged.", "ip", "10.0.0.15"),
    ("IPv6 2001:db8::ff00:42:8329 logged.", "ip", "2001:db8::ff00:42:8329"),
    # social security number
    ("SSN 123-45-6789.", "ssn", "123-45-6789"),
    ("Social security 123456789.", "ssn", "123456789"),
    ("SSN ending in 6789.", "ssn", "6789"),
    ("The form listed 123 45 6789 as her SSN.", "ssn", "123 45 6789"),
    # medical record, account, health plan numbers; long digit runs
    ("MRN 4471923.", "record_number", "4471923"),
    ("acct #88231", "record_number", "88231"),
    ("Insurance member ID XJH123456789.", "record_number", "XJH123456789"),
    ("Number on the chart: 93821744.", "record_number", "93821744"),
    ("Medicare ID 1EG4-TE5-MK73", "record_number", "1EG4-TE5-MK73"),
    ("NHS number 943 476 5919.", "record_number", "943 476 5919"),
    ("Her bracelet said 4471923.", "record_number", "4471923"),
    # street address and ZIP code
    ("She lives at 12 Elm Street.", "address", "12 Elm Street"),
    ("Found near 400 W. 59th St.", "address", "400 W. 59th St"),
    ("Home: 77 Massachusetts Ave, Apt 4B", "address", "77 Massachusetts Ave, Apt 4B"),
    ("Lives on Maple Drive with her son.", "address", "Maple Drive"),
    ("Mail goes to PO Box 1234.", "address", "PO Box 1234"),
    ("Lives in 02139.", "zip", "02139"),
    ("Zip code 94110, far from the clinic.", "zip", "94110"),
    ("Moved to Boston, MA 02115 last year.", "zip", "02115"),
    ("Postcode SW1A 1AA.", "zip", "SW1A 1AA"),
    # ages over 89
    ("A 92-year-old woman with CHF.", "age_over_89", "92-year-old"),
    ("She is aged 95.", "age_over_89", "aged 95"),
    ("Age 91, lives alone.", "age_over_89", "Age 91"),
    ("93F with CHF.", "age_over_89", "93F"),
    ("He is 97 and still drives.", "age_over_89", "97"),
    ("Ninety-three-year-old man with a fall.", "age_over_89", "Ninety-three-year-old"),
    ("She is a centenarian and lives alone.", "age_over_89", "centenarian"),
    ("A 94 y/o man.", "age_over_89", "94 y/o"),
    # device, licence, vehicle identifiers
    ("License plate 7ABC123.", "device_id", "7ABC123"),
    ("Pacemaker serial PJN123456H.", "device_id", "PJN123456H"),
    ("VIN 1HGCM82633A004352 on the report.", "device_id", "1HGCM82633A004352"),
    ("Driver's license D1234567 was suspended.", "device_id", "D1234567"),
    ("Insulin pump S/N 12345678.", "device_id", "12345678"),
    # specific facilities
    ("Transferred from St. Mary's Hospital.", "facility", "St. Mary's Hospital"),
    ("Lives at Riverside Nursing Home.", "facility", "Riverside Nursing Home"),
    ("Seen at Mass General last year.", "facility", "Mass General"),
    ("Followed at Lakeview Rehabilitation Center.", "facility", "Lakeview Rehabilitation Center"),
    ("Came from Brigham and Women's.", "facility", "Brigham and Women's"),
    ("Seen at Hôpital Lariboisière last year.", "facility", "Hôpital Lariboisière"),
]


@pytest.mark.parametrize(("text", "category", "covered"), POSITIVES)
def test_each_identifier_is_found_with_its_category(text, category, covered):
    findings = scan(text)
    hits = [f for f in findings if f.category == category]
    assert hits, f"{category} not found in {text!r}: {findings}"
    start = text.index(covered)
    end = start + len(covered)
    assert any(f.start < end and start < f.end for f in hits)
    assert all(f.reason == REASONS[category] for f in hits)


# Details the program allows: age up to 89, gender, one first name or initials, relations,
# clinical words, doses, vitals and scores, times, durations, counts, years, generic places.
ALLOWED = [
    "Maria is a 67-year-old woman with HFrEF (EF 35%), A1c 9.2, on metformin 500 mg BID.",
    "J.D. came to the ED two weeks ago; BP 150/90, HR 110, SpO2 91% on 2 L.",
    "Mr. K refused dialysis. Mrs. R. wanted to go home to her cat.",
    "Her daughter and his wife met with Palliative Care in the afternoon.",
    "Strength 4/5 in the left arm, 5/5 on the right; pain 8/10; MoCA 22/30.",
    "Diagnosed with Parkinson's disease in 2019 and Hodgkin lymphoma in 2008.",
    "Transferred from an outside hospital to our ICU, then to a nursing home.",
    "Started Lantus 20 units and Humalog sliding scale; K 5.9, Na 128, Cr 2.3.",
    "She is a Jehovah's Witness and declined blood; Spanish-speaking, interpreter used.",
    "Viral load 125,000 copies/mL, CD4 210. Troponin 0.04 then 1.2.",
    "At 3:15 am he pulled out his Foley catheter.",
    "He has Graves' disease and Down syndrome and lives in a group home.",
    "The Emergency Department was full; we boarded him for 36 hours.",
    "The ethics committee met twice; Adult Protective Services was called.",
    "Follows with Cardiology and Nephrology; last echo showed EF 20-25%.",
    "Code status: DNR/DNI. MOLST signed by the health care proxy.",
    "Ana, 45F, G3P2, on Suboxone 8/2 mg daily since 2021.",
    "The patient is 89 years old and wants to go home.",
    "An 89-year-old man, aged 89, age 89.",
    "Tom, 78M, with COPD and Type 2 diabetes, lives alone with his dog.",
    "Her son drove 4 hours to see her; the family lives out of state.",
    "Maria Elena prefers to be called Elena.",
    "St. John's wort interacted with her sertraline.",
    "He got 1/2 tab of oxycodone 5 mg q6h; temp 99 F; sats at 94%.",
    "Followed by Hospital Medicine and Infectious Disease.",
    "Viral load 250000 copies/mL last year.",
    "COVID-19 in 2020, then again last spring; third admission this year.",
    "Her Dexcom showed glucose in the 40s overnight; ICD shock x3.",
    "Rapid response called at 02:30; GCS 14, NIHSS 12.",
    "Kim, 52F, and her partner attended the family meeting.",
]


@pytest.mark.parametrize("text", ALLOWED)
def test_allowed_details_are_not_flagged(text):
    assert categories_of(text) == []


# Look-alikes that must not be read as the identifier next to them (reason in the comment).
NEGATIVES = [
    ("BP 150/90 and pain 8/10.", "date"),  # a blood pressure and a pain score
    ("Strength 3/5 in the right arm.", "date"),  # a motor score
    ("A1c 9.2 and T 38.9.", "date"),  # decimals, not day.month
    ("Diagnosed in 2019.", "date"),  # a year alone is allowed
    ("She may 2 times a day take it.", "date"),  # "may" is not May
    ("Platelets 450000 per uL.", "record_number"),  # a count with its unit
    ("HR 112, RR 28.", "phone"),  # vitals
    ("Started 20 units of insulin.", "address"),  # a number then words, not a street
    ("An 89-year-old man.", "age_over_89"),  # 89 is still allowed
    ("Temp 99 F overnight.", "age_over_89"),  # a temperature
    ("Sats were 94% at 92 on room air.", "age_over_89"),  # a saturation
    ("Maria came in alone.", "name"),  # one first name is allowed
    ("Mr. K and Ms. T. were roommates.", "name"),  # title with an initial
    ("Her daughter wants everything done.", "name"),  # relation, no name
    ("Hospital Medicine and Palliative Care.", "facility"),  # services, not facilities
    ("She lives in a nursing home near our hospital.", "facility"),  # generic places
    ("Parkinson's disease and Alzheimer's dementia.", "name"),  # eponyms
    ("St. John's wort.", "facility"),  # a herb
    ("e.g. the ED.", "url"),  # abbreviation, not a domain
    ("At 14:30 the code was called.", "ip"),  # a time
]


@pytest.mark.parametrize(("text", "category"), NEGATIVES)
def test_look_alikes_are_not_read_as_identifiers(text, category):
    assert category not in {f.category for f in scan(text)}, scan(text)


def test_a_note_with_several_identifiers_gets_each_span():
    text = (
        "Maria Lopez (92-year-old) was admitted 3/14 to St. Mary's Hospital, MRN 4471923. "
        "Daughter's cell 617-555-0134, email maria.l@gmail.com. Lives at 12 Elm Street."
    )
    assert [f.category for f in scan(text)] == [
        "name",
        "age_over_89",
        "date",
        "facility",
        "record_number",
        "phone",
        "email",
        "address",
    ]


def test_finding_shape_and_categories():
    finding = scan("Call 617-555-0134")[0]
    assert isinstance(finding, Finding)
    assert finding.as_dict() == {
        "category": "phone",
        "start": 5,
        "end": 17,
        "text": "617-555-0134",
        "reason": REASONS["phone"],
    }
    with pytest.raises(AttributeError):
        finding.start = 0  # frozen
    assert set(CATEGORIES) == set(REASONS)
    assert set(CATEGORIES) == {
        "name",
        "date",
        "phone",
        "email",
        "url",
        "ip",
        "ssn",
        "record_number",
        "address",
        "zip",
        "age_over_89",
        "device_id",
        "facility",
        "place",
    }
    assert all(label and REASONS[code].endswith(".") for code, label in CATEGORIES.items())


def test_empty_and_blank_text():
    assert scan("") == []
    assert scan("   \n ") == []


def test_highlight_cuts_the_text_into_segments():
    text = "Mrs. Alvarez came in on 3/14; she is 67."
    findings = scan(text)
    segments = highlight(text, findings)
    assert "".join(part for part, _ in segments) == text
    assert [(part, f.category) for part, f in segments if f] == [
        ("Mrs. Alvarez", "name"),
        ("3/14", "date"),
    ]
    assert segments[1] == (" came in on ", None)
    assert highlight("clean", []) == [("clean", None)]
    assert highlight("", []) == []


TOKENS = st.sampled_from(
    [
        "Maria",
        "Lopez",
        "Mrs.",
        "Dr",
        "Chen",
        "St.",
        "Mary's",
        "Hospital",
        "12",
        "Elm",
        "Street",
        "3/14",
        "March",
        "14th",
        "2019",
        "617-555-0134",
        "MRN",
        "4471923",
        "92-year-old",
        "aged",
        "95",
        "a@b.com",
        "www.x.org",
        "10.0.0.1",
        "123-45-6789",
        "02139",
        "serial",
        "PJN123456H",
        "BP",
        "150/90",
        "metformin",
        "500",
        "mg",
        ",",
        ".",
        ":",
        "(",
        ")",
        "\n",
        "O'Brien",
        "de",
        "la",
        "Cruz",
        "ext.",
        "#",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, max_size=40), st.lists(st.sampled_from([" ", "", "  ", "-"]), max_size=40))
def test_findings_never_overlap_and_slice_the_text(tokens, gaps):
    text = "".join(tok + (gaps[i] if i < len(gaps) else " ") for i, tok in enumerate(tokens))
    findings = scan(text)
    previous_end = 0
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.start >= previous_end  # sorted, never overlapping
        assert text[finding.start : finding.end] == finding.text
        assert finding.category in CATEGORIES
        previous_end = finding.end
    assert "".join(part for part, _ in highlight(text, findings)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_valid_spans(text):
    findings = scan(text)
    assert findings == sorted(findings, key=lambda f: f.start)
    for a, b in zip(findings, findings[1:], strict=False):
        assert a.end <= b.start
    assert all(text[f.start : f.end] == f.text for f in findings)


# ---- performance, measured without a clock --------------------------------------------------
NOTE = (
    "Maria is a 67-year-old woman with HFrEF, on metformin 500 mg BID; BP 150/90, HR 110. "
    "Her daughter wants everything done. Seen in the ED two weeks ago with chest pain. "
    "Mrs. Alvarez (MRN 4471923) was transferred from St. Mary's Hospital on 3/14. "
)


def python_line_events(function, *args) -> int:
    """Count the Python lines executed by ``function(*args)``: deterministic work units.

    The garbage collector is run first and held off meanwhile: a collection during the call
    runs the finalizers of whatever earlier tests left behind, whose lines are not the call's
    work (a suite that draws charts left enough to add a tenth)."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        function(*args)
    finally:
        sys.settrace(previous)
        if was_enabled:
            gc.enable()
    return count


# The count runs in a process of its own: within the whole suite, state that earlier tests
# leave behind (not the scan's own work) moved it by up to a tenth, over the bound.
_COUNT_WORK = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")
import django
django.setup()
from ccdg.phi import scan
from tests.ccdg.test_phi import NOTE, python_line_events
scan(NOTE)  # load the word lists first
print(python_line_events(scan, (NOTE * 10)[:2000]), python_line_events(scan, (NOTE * 20)[:4000]))
"""


def test_work_per_note_is_bounded_and_grows_linearly():
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(  # noqa: S603 - our own interpreter and fixed code
        [sys.executable, "-c", _COUNT_WORK], cwd=root, capture_output=True, text=True,
        check=True, timeout=300,
    )  # fmt: skip
    work_2k, work_4k = (int(n) for n in done.stdout.split()[-2:])
    # A 2,000-character note costs about 40,000 Python lines (plus compiled regex scans); the
    # bound catches a rule whose work grows out of hand, bench/phi_speed.py measures the time.
    assert work_2k < 42_000, work_2k
    assert work_4k < 2.5 * work_2k, (work_2k, work_4k)


@pytest.mark.parametrize(
    "text",
    [
        "1" * 5000,
        "Aa " * 3000,
        ("Maria Lopez " * 800),
        ("1-" * 3000),
        ("." * 5000),
        ("St. " * 2000),
        ("12 " * 3000),
        ("a@" * 3000),
    ],
)
def test_pathological_inputs_finish_and_stay_consistent(text):
    findings = scan(text)
    assert all(text[f.start : f.end] == f.text for f in findings)
