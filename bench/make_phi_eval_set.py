"""Generate the labelled evaluation set for the identifier guard (ccdg/phi.py).

    .venv/bin/python bench/make_phi_eval_set.py [--seed N] [--out PATH] [--notes N] [--clean N]

Writes JSON Lines: one synthetic case note a line,
``{"id": ..., "clean": bool, "text": ..., "spans": [{"category", "start", "end"}]}``.
Notes with identifiers carry gold spans (one per identifier); clean notes use only what the
program allows (a first name or initials, age up to 89, gender, relations, clinical details,
durations, relative dates, years, generic places).

The phrasings below were written from how clinicians write case notes and hand-overs, not
from the guard's rules, and must stay that way: do not edit them to make the guard pass.
Names, phone numbers, e-mail addresses, URLs, IP addresses, street addresses, postcodes and
licence plates come from Faker (several locales); the rest is drawn from the lists here.
Everything is seeded: the same seed gives the same file. The shipped set uses the default
seed; run another seed for a held-out check.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "ccdg" / "phi_data" / "eval_set.jsonl"
DEFAULT_SEED = 20250501

CATEGORIES = [
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
]

# Locales for people's names (weights): a mixed, mostly English-speaking population.
NAME_LOCALES = {
    "en_US": 40,
    "en_GB": 8,
    "es_MX": 10,
    "fr_FR": 5,
    "de_DE": 5,
    "it_IT": 5,
    "pt_BR": 5,
    "pl_PL": 4,
    "nl_NL": 3,
    "vi_VN": 4,
    "en_IN": 6,
    "tr_TR": 3,
    "ga_IE": 2,
}
PHONE_LOCALES = {"en_US": 70, "en_GB": 10, "en_CA": 10, "fr_FR": 4, "de_DE": 3, "es_MX": 3}

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

CONDITIONS = [
    "type 2 diabetes",
    "Type 2 diabetes",
    "COPD on 2 L home oxygen",
    "heart failure with reduced EF",
    "HFrEF",
    "metastatic pancreatic cancer",
    "stage IV lung adenocarcinoma",
    "end-stage renal disease on hemodialysis",
    "ESRD on HD",
    "alcohol use disorder",
    "opioid use disorder on buprenorphine",
    "advanced Parkinson's disease",
    "Alzheimer's dementia",
    "moderate dementia",
    "Crohn's disease",
    "Hodgkin lymphoma in remission",
    "sickle cell disease",
    "cirrhosis with ascites",
    "poorly controlled hypertension",
    "chronic low back pain",
    "fibromyalgia",
    "schizophrenia",
    "bipolar disorder",
    "major depression",
    "ALS",
    "multiple sclerosis",
    "HIV on ART",
    "CKD stage 4",
    "atrial fibrillation",
    "a recent NSTEMI",
    "recurrent falls",
    "Down syndrome",
    "Guillain-Barré syndrome",
    "Graves' disease",
    "an eating disorder",
    "failure to thrive",
    "treatment-resistant depression",
    "chronic pain",
    "a new diagnosis of glioblastoma",
    "MRSA bacteremia",
    "COVID-19 pneumonia",
]
COMPLAINTS = [
    "chest pain",
    "shortness of breath",
    "a fall at home",
    "confusion",
    "abdominal pain",
    "a GI bleed",
    "hypoglycemia",
    "a COPD exacerbation",
    "sepsis",
    "worsening leg swelling",
    "suicidal thoughts",
    "weight loss",
    "syncope",
    "a hip fracture",
    "DKA",
    "alcohol withdrawal",
    "uncontrolled pain",
    "a stroke",
    "new atrial fibrillation",
    "pneumonia",
]
DRUGS = [
    "metformin 500 mg BID",
    "metformin 1000 mg twice daily",
    "insulin glargine 20 units at night",
    "Lantus 30 units",
    "apixaban 5 mg BID",
    "Eliquis",
    "warfarin",
    "furosemide 40 mg IV",
    "Lasix 80 mg",
    "lisinopril 20 mg",
    "amlodipine 10 mg",
    "atorvastatin 80 mg",
    "oxycodone 10 mg q4h PRN",
    "morphine 2 mg IV",
    "hydromorphone PCA",
    "methadone 60 mg",
    "Suboxone 8/2 mg",
    "sertraline 100 mg",
    "Seroquel 25 mg at bedtime",
    "lorazepam 1 mg",
    "haloperidol 0.5 mg",
    "Keppra 500 mg",
    "levetiracetam",
    "prednisone 40 mg",
    "vancomycin",
    "piperacillin-tazobactam",
    "ceftriaxone 2 g daily",
    "Ozempic",
    "Jardiance 10 mg",
    "Entresto",
    "tiotropium",
    "Symbicort two puffs BID",
    "gabapentin 300 mg TID",
    "Tylenol 1 g q6h",
    "ibuprofen",
    "naloxone",
    "Narcan",
    "clozapine",
    "lithium",
    "Depakote",
]
VITALS = [
    "BP 150/90",
    "BP 182/104",
    "BP 88/50",
    "HR 112",
    "HR 48",
    "RR 28",
    "SpO2 86% on room air",
    "sats 91% on 4 L",
    "T 38.9",
    "temp 101.2 F",
    "A1c 9.2",
    "HbA1c 11.4%",
    "EF 35%",
    "EF 20-25%",
    "Cr 2.1",
    "creatinine 3.4",
    "eGFR 28",
    "K 6.1",
    "Na 124",
    "INR 3.4",
    "Hb 6.8",
    "platelets 42",
    "lactate 4.1",
    "troponin 0.84",
    "BNP 1450",
    "BMI 41",
    "GCS 13",
    "glucose 38",
    "ammonia 92",
    "PHQ-9 of 19",
    "MoCA 18/30",
    "MMSE 21/30",
    "CD4 180",
    "viral load 250000 copies/mL",
    "viral load of 84,000 copies",
    "WBC 18.2",
    "pain 8/10",
    "4/5 strength in the left leg",
    "3/5 power in the right arm",
]
RELATIONS = [
    "her daughter",
    "his daughter",
    "her son",
    "his son",
    "his wife",
    "her husband",
    "her partner",
    "his partner",
    "the patient's mother",
    "his brother",
    "her sister",
    "a niece",
    "the grandson",
    "his girlfriend",
    "the health care proxy",
    "her neighbour",
    "the family",
]
GENERIC_PLACES = [
    "the ED",
    "the emergency department",
    "the ICU",
    "our hospital",
    "the clinic",
    "a nursing home",
    "a skilled nursing facility",
    "rehab",
    "a shelter",
    "the floor",
    "the cath lab",
    "home",
    "an outside hospital",
    "the dialysis unit",
    "a group home",
    "the step-down unit",
    "urgent care",
    "hospice",
]
SERVICES = [
    "Palliative Care",
    "palliative care",
    "Social Work",
    "the social worker",
    "Psychiatry",
    "the ethics committee",
    "Ethics",
    "Adult Protective Services",
    "Cardiology",
    "Nephrology",
    "the surgical team",
    "Hospital Medicine",
    "the chaplain",
    "Risk Management",
    "the Emergency Department",
    "Internal Medicine",
    "Physical Therapy",
    "Addiction Medicine",
]
DURATIONS = [
    "for three days",
    "for 2 weeks",
    "over the past 6 months",
    "for about a year",
    "for 48 hours",
    "since last spring",
    "for the last 10 days",
    "over several months",
    "for years",
]
RELATIVE_WHEN = [
    "two weeks ago",
    "last spring",
    "last week",
    "yesterday",
    "a month ago",
    "three days ago",
    "over the holidays",
    "last winter",
    "earlier this year",
    "in 2019",
    "in 2021",
    "back in 2008",
    "since 2015",
    "last year",
    "six months ago",
    "the night before admission",
    "on hospital day 3",
    "overnight",
]
TIMES = [
    "at 3 am",
    "around 2 in the morning",
    "at 14:30",
    "at 7:15 pm",
    "at shift change",
    "at noon",
]
BACKGROUND = [
    "Spanish-speaking",
    "a Jehovah's Witness",
    "Catholic",
    "a veteran",
    "Mandarin-speaking",
    "a retired teacher",
    "a former nurse",
    "a truck driver",
    "recently widowed",
    "living alone",
    "undocumented",
    "a Medicaid patient",
    "on Medicare",
    "a Vietnamese speaker",
    "a single mother of 3",
    "homeless",
]
FEELINGS = [
    "I felt helpless",
    "I still think about it",
    "I was angry and did not show it",
    "I wonder whether we did the right thing",
    "I felt the team let the family down",
    "I am not sure I handled it well",
    "I lost sleep over it",
    "I keep second-guessing the decision",
    "I felt caught between the family and the team",
]
ASKS = [
    "I would like the group's help with how to talk about prognosis.",
    "I would like to hear how others set limits without feeling guilty.",
    "What would you have said to the family?",
    "I would like help thinking about moral distress.",
    "How do you handle a family that wants everything done?",
    "I would like feedback on how I ran the family meeting.",
    "How do others cope when a patient discharges against advice?",
    "I want to talk about the difference between futility and fear.",
]

FACILITY_NATURE = [
    "Riverside",
    "Lakeview",
    "Sunrise",
    "Cedar Grove",
    "Oak Hill",
    "Pine Ridge",
    "Maple Grove",
    "Willow Creek",
    "Green Valley",
    "Meadowbrook",
    "Brookside",
    "Highland",
    "Fairview",
    "Harbor View",
    "Bayview",
    "Sunset Hills",
    "Evergreen",
    "Golden Oaks",
    "Parkview",
    "Summit",
    "Westside",
    "Northshore",
    "Silver Lake",
    "Stonebridge",
    "Valley View",
    "Heritage",
    "Mountain View",
    "Shady Pines",
]
FACILITY_KINDS = [
    "Hospital",
    "General Hospital",
    "Medical Center",
    "Regional Medical Center",
    "Community Hospital",
    "Nursing Home",
    "Nursing and Rehabilitation Center",
    "Rehabilitation Center",
    "Rehab",
    "Assisted Living",
    "Senior Living",
    "Care Center",
    "Health Center",
    "Hospice",
    "Manor",
    "Behavioral Health",
    "Psychiatric Hospital",
    "Clinic",
    "Family Health Center",
    "Dialysis Center",
    "Skilled Nursing Facility",
]
WELL_KNOWN_FACILITIES = [
    "Mass General",
    "Massachusetts General Hospital",
    "Brigham and Women's",
    "Beth Israel Deaconess",
    "Mayo Clinic",
    "Cleveland Clinic",
    "Johns Hopkins",
    "Cedars-Sinai",
    "Mount Sinai",
    "Bellevue",
    "NYU Langone",
    "UCSF Medical Center",
    "Stanford Health Care",
    "Kaiser Permanente",
    "Boston Medical Center",
    "Grady Memorial",
    "Parkland Hospital",
    "Guy's and St Thomas'",
    "St Bartholomew's",
    "Toronto General",
    "Sunnybrook",
    "MD Anderson",
    "Sloan Kettering",
    "Dana-Farber",
    "Yale New Haven Hospital",
    "Duke University Hospital",
    "Vanderbilt University Medical Center",
    "Hopital Lariboisiere",
    "Charité",
]
DEVICE_KINDS = [
    "pacemaker",
    "ICD",
    "insulin pump",
    "CPAP machine",
    "LVAD controller",
    "hearing aid",
    "glucose monitor",
    "spinal cord stimulator",
    "cochlear implant",
    "infusion pump",
    "wheelchair",
]
DEVICE_BRANDS = [
    "Medtronic",
    "Boston Scientific",
    "Abbott",
    "Dexcom",
    "Tandem",
    "Omnipod",
    "Phonak",
]
STREET_SUFFIXES = [
    "Street",
    "St",
    "St.",
    "Avenue",
    "Ave",
    "Ave.",
    "Road",
    "Rd",
    "Lane",
    "Ln",
    "Drive",
    "Dr.",
    "Court",
    "Ct",
    "Boulevard",
    "Blvd",
    "Way",
    "Place",
    "Terrace",
    "Circle",
    "Parkway",
    "Highway",
]
STREET_NAMES = [
    "Elm",
    "Oak",
    "Maple",
    "Main",
    "Washington",
    "Cedar",
    "Pine",
    "Lincoln",
    "Highland",
    "Park",
    "Church",
    "Mill",
    "Lake",
    "Hillside",
    "Sunset",
    "Franklin",
    "Jefferson",
    "Walnut",
    "Chestnut",
    "Spring",
    "River",
    "Center",
    "Harvard",
    "Martin Luther King Jr",
    "Dorchester",
    "Columbus",
]
US_STATES = ["MA", "NY", "CA", "TX", "IL", "OH", "PA", "GA", "WA", "MI", "NJ", "FL", "NC", "AZ"]


class Builder:
    """Build a note from pieces, recording the gold span of each identifier."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[dict] = []
        self.length = 0

    def add(self, text: str, category: str | None = None) -> None:
        if category:
            self.spans.append(
                {"category": category, "start": self.length, "end": self.length + len(text)}
            )
        self.parts.append(text)
        self.length += len(text)

    def text(self) -> str:
        return "".join(self.parts)


_GOLD = re.compile(r"\[\[(\w+)\|(.*?)\]\]")
_SLOT = re.compile(r"\{(\w+)\}")


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        for index, locale in enumerate(sorted(set(NAME_LOCALES) | set(PHONE_LOCALES))):
            fake = Faker(locale)
            fake.seed_instance(seed * 31 + index)
            self.fakers[locale] = fake
        self.us = self.fakers["en_US"]

    # ---- helpers -----------------------------------------------------------------------------
    def pick(self, items):
        return self.rng.choice(items)

    def weighted_locale(self, table: dict[str, int]) -> str:
        locales = list(table)
        return self.rng.choices(locales, weights=[table[x] for x in locales])[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))

    def letters(self, n: int) -> str:
        return "".join(self.rng.choice(string.ascii_uppercase) for _ in range(n))

    def render(self, template: str, builder: Builder) -> None:
        """Render ``template`` into ``builder``: ``[[category|...]]`` marks a gold span,
        ``{slot}`` is filled by the method ``slot_<name>``."""
        position = 0
        for match in _GOLD.finditer(template):
            builder.add(self.fill(template[position : match.start()]))
            builder.add(self.fill(match.group(2)), match.group(1))
            position = match.end()
        builder.add(self.fill(template[position:]))

    def fill(self, text: str) -> str:
        return _SLOT.sub(lambda m: getattr(self, "slot_" + m.group(1))(), text)

    # ---- allowed details -----------------------------------------------------------------------
    def person_faker(self) -> Faker:
        return self.fakers[self.weighted_locale(NAME_LOCALES)]

    def slot_first(self) -> str:
        return self.person_faker().first_name()

    def slot_first_f(self) -> str:
        return self.person_faker().first_name_female()

    def slot_first_m(self) -> str:
        return self.person_faker().first_name_male()

    def slot_last(self) -> str:
        return self.person_faker().last_name()

    def slot_initials(self) -> str:
        a, b = self.letters(1), self.letters(1)
        return self.pick([f"{a}.{b}.", f"{a}{b}", f"{a}. {b}.", f"{a}.", f"{a}.{b}"])

    def slot_title_initial(self) -> str:
        title = self.pick(["Mr.", "Mrs.", "Ms.", "Mr", "Mrs", "Ms"])
        return f"{title} {self.letters(1)}" + self.pick(["", "."])

    def slot_patient(self) -> str:
        """How the patient is allowed to be called."""
        roll = self.rng.random()
        if roll < 0.45:
            return self.slot_first()
        if roll < 0.75:
            return self.slot_initials()
        if roll < 0.9:
            return self.slot_title_initial()
        return self.pick(["the patient", "my patient", "Pt", "this patient"])

    def slot_age(self) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return "89"
        if roll < 0.15:
            return str(self.rng.randint(1, 17))
        return str(self.rng.randint(18, 89) if roll < 0.6 else self.rng.randint(55, 89))

    def slot_agephrase(self) -> str:
        age = self.slot_age()
        sex = self.pick(["F", "M"])
        return self.pick(
            [
                f"{age}-year-old",
                f"{age} year old",
                f"{age} y/o",
                f"{age}yo",
                f"{age} yo",
                f"{age}{sex}",
                f"{age} {sex}",
            ]
        )

    def slot_gender(self) -> str:
        return self.pick(["woman", "man", "female", "male", "F", "M", "trans woman", "gentleman"])

    def slot_he(self) -> str:
        return self.pick(["She", "He", "They"])

    def slot_cond(self) -> str:
        return self.pick(CONDITIONS)

    def slot_complaint(self) -> str:
        return self.pick(COMPLAINTS)

    def slot_drug(self) -> str:
        return self.pick(DRUGS)

    def slot_vital(self) -> str:
        return self.pick(VITALS)

    def slot_rel(self) -> str:
        return self.pick(RELATIONS)

    def slot_Rel(self) -> str:
        value = self.slot_rel()
        return value[0].upper() + value[1:]

    def slot_place(self) -> str:
        return self.pick(GENERIC_PLACES)

    def slot_service(self) -> str:
        return self.pick(SERVICES)

    def slot_dur(self) -> str:
        return self.pick(DURATIONS)

    def slot_when(self) -> str:
        return self.pick(RELATIVE_WHEN)

    def slot_time(self) -> str:
        return self.pick(TIMES)

    def slot_bg(self) -> str:
        return self.pick(BACKGROUND)

    def slot_feel(self) -> str:
        return self.pick(FEELINGS)

    def slot_ask(self) -> str:
        return self.pick(ASKS)

    def slot_year(self) -> str:
        return str(self.rng.randint(1995, 2024))

    def slot_n(self) -> str:
        return str(self.rng.randint(2, 9))

    def slot_month(self) -> str:
        return self.pick(MONTHS)

    # ---- identifiers ---------------------------------------------------------------------------
    def slot_fullname(self) -> str:
        fake = self.person_faker()
        first, last = fake.first_name(), fake.last_name()
        roll = self.rng.random()
        if roll < 0.55:
            return f"{first} {last}"
        if roll < 0.65:
            return f"{first} {self.letters(1)}. {last}"
        if roll < 0.72:
            return f"{first} {fake.first_name()} {last}"
        if roll < 0.80:
            return f"{last}, {first}"
        if roll < 0.87:
            return f"{first} {last}-{fake.last_name()}"
        if roll < 0.93:
            return f"{self.pick(['Mr.', 'Mrs.', 'Ms.', 'Mr', 'Mrs'])} {first} {last}"
        return f"{last.upper()}, {first}"

    def slot_titlename(self) -> str:
        title = self.pick(["Mr.", "Mrs.", "Ms.", "Miss", "Mr", "Mrs", "Ms", "Dr.", "Dr"])
        return f"{title} {self.slot_last()}"

    def slot_drname(self) -> str:
        fake = self.person_faker()
        return self.pick(
            [
                f"Dr. {fake.last_name()}",
                f"Dr {fake.last_name()}",
                f"Dr. {fake.first_name()} {fake.last_name()}",
                f"{fake.first_name()} {fake.last_name()}, MD",
                f"{fake.first_name()} {fake.last_name()}, NP",
            ]
        )

    def slot_date(self) -> str:
        m = self.rng.randint(1, 12)
        d = self.rng.randint(1, 28)
        y = self.rng.randint(1930, 2025)
        month = MONTHS[m - 1]
        mon = month[:3]
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
        forms = [
            f"{m}/{d}",
            f"{m}/{d}/{y % 100:02d}",
            f"{m:02d}/{d:02d}/{y}",
            f"{m}/{d}/{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{d:02d}.{m:02d}.{y}",
            f"{m}-{d}-{y % 100:02d}",
            f"{month} {d}",
            f"{month} {d}{suffix}",
            f"{month} {d}, {y}",
            f"{mon} {d}",
            f"{mon}. {d}",
            f"{mon} {d}, {y}",
            f"{d} {month}",
            f"{d} {month} {y}",
            f"{d} {mon} {y}",
            f"{d}-{mon}-{y}",
            f"{d:02d}-{mon.upper()}-{y}",
            f"the {d}{suffix} of {month}",
            f"{d}{suffix} {month}",
            f"{self.pick(WEEKDAYS)}, {month} {d}",
            f"{month} {y}",
            f"{month} of {y}",
            f"{m}/{y}",
        ]
        return self.pick(forms)

    def slot_dob(self) -> str:
        m, d, y = self.rng.randint(1, 12), self.rng.randint(1, 28), self.rng.randint(1925, 1990)
        return self.pick(
            [
                f"{m}/{d}/{y}",
                f"{m:02d}/{d:02d}/{y}",
                f"{y}-{m:02d}-{d:02d}",
                f"{MONTHS[m - 1]} {d}, {y}",
                f"{d} {MONTHS[m - 1][:3]} {y}",
            ]
        )

    def slot_phone(self) -> str:
        locale = self.weighted_locale(PHONE_LOCALES)
        if locale == "en_US" and self.chance(0.5):
            area, mid, end = self.digits(3), self.digits(3), self.digits(4)
            area = str(self.rng.randint(2, 9)) + area[1:]
            return self.pick(
                [
                    f"({area}) {mid}-{end}",
                    f"{area}-{mid}-{end}",
                    f"{area}.{mid}.{end}",
                    f"{area} {mid} {end}",
                    f"+1 {area} {mid} {end}",
                    f"1-{area}-{mid}-{end}",
                    f"{mid}-{end}",
                    f"{area}{mid}{end}",
                    f"({area}){mid}-{end} ext. {self.digits(3)}",
                ]
            )
        return self.fakers[locale].phone_number()

    def slot_email(self) -> str:
        fake = self.person_faker()
        roll = self.rng.random()
        if roll < 0.4:
            return self.us.email()
        if roll < 0.6:
            return self.us.free_email()
        first = re.sub(r"[^a-z]", "", fake.first_name().lower()) or "pat"
        last = re.sub(r"[^a-z]", "", fake.last_name().lower()) or "doe"
        domain = self.pick(
            [
                "gmail.com",
                "yahoo.com",
                "hotmail.com",
                "outlook.com",
                "aol.com",
                "icloud.com",
                "comcast.net",
                "partners.org",
                "nhs.net",
                "web.de",
            ]
        )
        user = self.pick(
            [
                f"{first}.{last}",
                f"{first[0]}{last}",
                f"{first}{self.digits(2)}",
                f"{last}_{first}",
                f"{first}.{last}{self.digits(4)}",
            ]
        )
        return f"{user}@{domain}"

    def slot_url(self) -> str:
        roll = self.rng.random()
        word = self.us.user_name()
        if roll < 0.25:
            return self.us.url()
        if roll < 0.45:
            return self.us.uri()
        return self.pick(
            [
                f"www.caringbridge.org/visit/{word}",
                f"caringbridge.org/visit/{word}",
                f"https://www.gofundme.com/f/{word}-medical-bills",
                f"gofund.me/{self.us.hexify('^^^^^^^^')}",
                f"facebook.com/{word}",
                f"https://www.facebook.com/{word}",
                f"instagram.com/{word}",
                f"https://twitter.com/{word}",
                f"bit.ly/{self.us.bothify('??#?#??')}",
                f"https://youtu.be/{self.us.bothify('??#??#??#?#')}",
                f"www.{word}.com",
                f"{word}.blogspot.com",
                f"https://{self.us.domain_name()}/obituaries/{word}",
                f"tiktok.com/@{word}",
            ]
        )

    def slot_ip(self) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return self.us.ipv4_public()
        if roll < 0.85:
            return self.us.ipv4_private()
        return self.us.ipv6()

    def slot_ssn(self) -> str:
        a, b, c = self.digits(3), self.digits(2), self.digits(4)
        a = str(self.rng.randint(1, 8)) + a[1:]
        return self.pick([f"{a}-{b}-{c}", f"{a}-{b}-{c}", f"{a} {b} {c}", f"{a}{b}{c}"])

    def slot_mrn(self) -> str:
        return self.digits(self.rng.randint(6, 10))

    def slot_acct(self) -> str:
        return self.pick(
            [
                self.digits(self.rng.randint(5, 10)),
                f"{self.digits(4)}-{self.digits(4)}",
                f"{self.letters(2)}{self.digits(7)}",
            ]
        )

    def slot_memberid(self) -> str:
        return self.pick(
            [
                f"{self.letters(3)}{self.digits(9)}",
                f"{self.letters(1)}{self.digits(8)}",
                f"{self.digits(1)}{self.letters(2)}{self.digits(1)}-{self.letters(2)}"
                f"{self.digits(1)}-{self.letters(2)}{self.digits(2)}",
                f"{self.digits(9)}{self.letters(1)}",
                f"{self.letters(2)}{self.digits(5)}{self.letters(1)}",
            ]
        )

    def slot_nhs(self) -> str:
        return f"{self.digits(3)} {self.digits(3)} {self.digits(4)}"

    def slot_street(self) -> str:
        roll = self.rng.random()
        if roll < 0.35:
            return self.us.street_address()
        if roll < 0.45:
            locale = self.pick(["en_GB", "de_DE", "fr_FR", "es_MX", "nl_NL"])
            return self.fakers[locale].street_address().replace("\n", ", ")
        number = self.rng.randint(1, 9999)
        street = f"{self.pick(STREET_NAMES)} {self.pick(STREET_SUFFIXES)}"
        unit = self.pick(
            [
                "",
                "",
                "",
                f", Apt {self.rng.randint(1, 40)}",
                f" Apt. {self.rng.randint(1, 9)}{self.letters(1)}",
                f", Unit {self.rng.randint(1, 300)}",
                f" #{self.rng.randint(1, 30)}",
            ]
        )
        return f"{number} {street}{unit}"

    def slot_streetname(self) -> str:
        return f"{self.pick(STREET_NAMES)} {self.pick(STREET_SUFFIXES)}"

    def slot_pobox(self) -> str:
        return self.pick(["PO Box", "P.O. Box", "P.O. box"]) + f" {self.rng.randint(10, 9999)}"

    def slot_city(self) -> str:
        return self.us.city()

    def slot_st(self) -> str:
        return self.pick(US_STATES)

    def slot_zip(self) -> str:
        roll = self.rng.random()
        if roll < 0.65:
            return self.us.postcode()
        if roll < 0.8:
            return f"{self.us.postcode()}-{self.digits(4)}"
        if roll < 0.9:
            return self.fakers["en_GB"].postcode()
        return "0" + self.digits(4)

    def slot_uszip(self) -> str:
        return self.us.postcode()

    def slot_oldage(self) -> str:
        age = self.rng.randint(90, 104)
        words = {
            90: "ninety",
            91: "ninety-one",
            92: "ninety-two",
            93: "ninety-three",
            94: "ninety-four",
            95: "ninety-five",
            96: "ninety-six",
            97: "ninety-seven",
            98: "ninety-eight",
            99: "ninety-nine",
            100: "one hundred",
        }
        sex = self.pick(["F", "M"])
        forms = [
            f"{age}-year-old",
            f"{age} year old",
            f"{age} y/o",
            f"{age}yo",
            f"{age} yo",
            f"{age}-yo",
            f"{age}{sex}",
            f"{age} {sex}",
            f"{age}-yr-old",
            f"{age} years old",
        ]
        if age in words:
            forms.append(f"{words[age]}-year-old")
            forms.append(f"{words[age]} years old")
        return self.pick(forms)

    def slot_oldnum(self) -> str:
        return str(self.rng.randint(90, 104))

    def slot_serial(self) -> str:
        return self.pick(
            [
                f"{self.letters(3)}{self.digits(6)}{self.letters(1)}",
                f"SN{self.digits(8)}",
                f"{self.digits(2)}{self.letters(2)}{self.digits(5)}",
                f"{self.letters(1)}{self.digits(7)}",
                f"{self.digits(10)}",
                f"{self.letters(2)}-{self.digits(5)}-{self.letters(1)}",
                f"{self.us.bothify('??######').upper()}",
            ]
        )

    def slot_devkind(self) -> str:
        return self.pick(DEVICE_KINDS)

    def slot_brand(self) -> str:
        return self.pick(DEVICE_BRANDS)

    def slot_plate(self) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return self.fakers[self.pick(["en_US", "en_GB", "en_CA"])].license_plate()
        return self.pick(
            [
                f"{self.digits(1)}{self.letters(3)}{self.digits(3)}",
                f"{self.letters(3)}-{self.digits(4)}",
                f"{self.letters(3)} {self.digits(3)}",
            ]
        )

    def slot_vin(self) -> str:
        return self.us.vin()

    def slot_dl(self) -> str:
        return self.pick(
            [
                f"{self.letters(1)}{self.digits(7)}",
                f"{self.letters(1)}{self.digits(8)}",
                f"{self.digits(9)}",
                f"{self.letters(1)}{self.digits(3)}-{self.digits(4)}-{self.digits(4)}",
            ]
        )

    def slot_facility(self) -> str:
        roll = self.rng.random()
        if roll < 0.25:
            return self.pick(WELL_KNOWN_FACILITIES)
        if roll < 0.55:
            return f"{self.pick(FACILITY_NATURE)} {self.pick(FACILITY_KINDS)}"
        if roll < 0.7:
            saint = self.pick(["St.", "St", "Saint"])
            name = self.pick(
                [
                    "Mary's",
                    "Joseph's",
                    "Luke's",
                    "Vincent's",
                    "Elizabeth's",
                    "Francis",
                    "Anne's",
                    "Jude",
                    "Michael's",
                    "John's",
                    "Catherine's",
                ]
            )
            kind = self.pick(["Hospital", "Medical Center", "Nursing Home", "Hospice", "Health"])
            return f"{saint} {name} {kind}"
        if roll < 0.85:
            kind = self.pick(
                [
                    "Memorial Hospital",
                    "Memorial",
                    "Rehabilitation Hospital",
                    "Nursing Home",
                    "Hospice House",
                    "Health Center",
                    "Clinic",
                ]
            )
            return f"{self.us.last_name()} {kind}"
        city = self.us.city()
        return self.pick(
            [
                f"{city} General",
                f"{city} General Hospital",
                f"{city} Regional Medical Center",
                f"{city} VA Medical Center",
                f"University of {city} Medical Center",
                f"{city} Community Health Center",
            ]
        )


# Allowed-detail sentences (every note draws some; clean notes are made of these only).
CLEAN_OPENINGS = [
    "{patient} is a {agephrase} {gender} with {cond} admitted with {complaint}.",
    "{patient}, {agephrase}, {cond}, came in {when} with {complaint}.",
    "{agephrase} {gender} with {cond}, on {drug}.",
    "Pt is a {agephrase} with {cond} and {complaint}.",
    "My patient ({patient}) is {age} and has {cond}.",
    "{patient} ({agephrase}) presented to {place} with {complaint}.",
    "I met {patient}, a {agephrase} {gender}, on the floor {when}.",
    "{patient} is {bg}, {age} years old, with {cond}.",
    "Case: {patient}, {age}{gender_short}, {cond}.",
    "{patient} - {agephrase} {gender}, {bg}.",
]
CLEAN_BODY = [
    "{vital}, {vital}.",
    "On {drug} and {drug}.",
    "{Rel} wants everything done.",
    "{Rel} is the health care proxy and lives {dur_away}.",
    "Started {drug} {when}; {vital}.",
    "{he} has been in {place} {n} times {when_simple}.",
    "{he} refused {drug} {time}.",
    "{service} was consulted {when}.",
    "Seen in {place} {when} with {complaint}; {vital}.",
    "Diagnosed with {cond} {when}.",
    "{he} pulled out the IV {time} and tried to leave.",
    "Family meeting with {rel} and {service} {when}.",
    "{he} was discharged to {place} after {n} days.",
    "{rel_cap_first} told me {he_lower} is scared of dying in {place}.",
    "We debated {drug} versus comfort care.",
    "Labs: {vital}, {vital}, {vital}.",
    "{he} is {bg} and lives with {rel}.",
    "Third admission {when_simple} for {complaint}.",
    "{he} left against medical advice {when}.",
    "Code status changed to DNR after a long talk with {rel}.",
    "{patient}'s {rel_noun} asked me not to tell {him} the diagnosis.",
    "{he} has had {cond} {dur}.",
    "Echo {when}: {vital}.",
    "{he} missed {n} dialysis sessions {when_simple}.",
    "{he} asked for {drug} by name.",
    "The team disagreed about restraints {time}.",
    "{he} speaks little English; we used an interpreter by phone.",
    "Urine tox was positive; {he_lower} was started on {drug}.",
    "{patient} was calm when {rel} visited.",
    "Transferred from {place} to the ICU {when}.",
]
CLEAN_CLOSINGS = [
    "{feel}. {ask}",
    "{ask}",
    "{feel}.",
    "Why this is hard for me: {feel_lower}.",
    "{feel} when {rel} shouted at the nurse. {ask}",
]


def _lower_first(text: str) -> str:
    return text if text.startswith("I ") else text[0].lower() + text[1:]


class NoteGenerator(Generator):
    def slot_gender_short(self) -> str:
        return self.pick(["F", "M"])

    def slot_dur_away(self) -> str:
        return self.pick(["two hours away", "out of state", "abroad", "nearby", "in another city"])

    def slot_when_simple(self) -> str:
        return self.pick(["this year", "this month", "in 2023", "since the spring", "in 6 months"])

    def slot_rel_cap_first(self) -> str:
        return self.slot_Rel()

    def slot_rel_noun(self) -> str:
        return self.pick(["daughter", "son", "wife", "husband", "mother", "family", "partner"])

    def slot_he_lower(self) -> str:
        return self.pick(["she", "he", "they"])

    def slot_him(self) -> str:
        return self.pick(["her", "him", "them"])

    def slot_feel_lower(self) -> str:
        return _lower_first(self.slot_feel())


# Identifier sentences, by category: ``[[category|...]]`` is the gold span.
ID_TEMPLATES: dict[str, list[str]] = {
    "name": [
        "[[name|{fullname}]] is a {agephrase} {gender} with {cond}.",
        "Patient: [[name|{fullname}]], {agephrase}.",
        "Pt [[name|{fullname}]] was seen {when}.",
        "{Rel}, [[name|{fullname}]], is the health care proxy.",
        "We called [[name|{fullname}]] (son) about goals of care.",
        "[[name|{titlename}]] was upset when we raised hospice.",
        "I admitted [[name|{titlename}]] overnight with {complaint}.",
        "Her PCP, [[name|{drname}]], has followed her {dur}.",
        "Re: [[name|{fullname}]]",
        "The daughter, [[name|{fullname}]], disagrees with the plan.",
        "Discussed with [[name|{titlename}]] and {rel}.",
        "The patient ([[name|{fullname}]]) declined dialysis.",
        "Signed out to me by [[name|{drname}]].",
        "{patient}'s husband [[name|{fullname}]] wants a second opinion.",
        "[[name|{titlename}]]'s family asked for a meeting.",
        "When I walked in, [[name|{titlename}]] was crying.",
        "His wife [[name|{fullname}]] called the unit {n} times.",
        "Spoke with the cardiologist, [[name|{drname}]], {when}.",
        "Name on the bracelet: [[name|{fullname}]].",
        "[[name|{fullname}]] ({agephrase}) came in with {complaint}.",
    ],
    "date": [
        "Admitted on [[date|{date}]] with {complaint}.",
        "DOB [[date|{dob}]].",
        "Born [[date|{dob}]], {bg}.",
        "{he} fell at home on [[date|{date}]].",
        "Last seen in clinic [[date|{date}]].",
        "Surgery is scheduled for [[date|{date}]].",
        "Discharged [[date|{date}]] to {place}.",
        "{he} died on [[date|{date}]] with {rel} at the bedside.",
        "Family meeting [[date|{date}]] - {rel} and {service}.",
        "[[date|{date}]]: intubated for hypoxia.",
        "Started {drug} on [[date|{date}]].",
        "Came to {place} [[date|{date}]] with {complaint}.",
        "Echo from [[date|{date}]] showed {vital}.",
        "{he} left AMA on [[date|{date}]].",
        "Hospice enrolment [[date|{date}]].",
        "Readmitted [[date|{date}]], {n} days after discharge.",
    ],
    "phone": [
        "Daughter's cell: [[phone|{phone}]].",
        "Call {rel} at [[phone|{phone}]] for updates.",
        "Fax records to [[phone|{phone}]].",
        "Home phone [[phone|{phone}]], no voicemail.",
        "{Rel} can be reached on [[phone|{phone}]].",
        "Tel: [[phone|{phone}]]",
        "His number is [[phone|{phone}]].",
        "The pharmacy ([[phone|{phone}]]) never called back.",
        "Contact: [[phone|{phone}]] (wife).",
        "She texted me from [[phone|{phone}]] after discharge.",
        "Ph [[phone|{phone}]]",
        "Pager [[phone|{phone}]] for the on-call fellow.",
    ],
    "email": [
        "{Rel} emailed me at [[email|{email}]].",
        "Email: [[email|{email}]]",
        "{he} sends messages from [[email|{email}]] at night.",
        "The family's address for updates is [[email|{email}]].",
        "Reply went to [[email|{email}]] by mistake.",
        "Contact [[email|{email}]] for the records.",
        "{he} gave us [[email|{email}]] for the portal.",
    ],
    "url": [
        "The family set up a page: [[url|{url}]].",
        "There is a fundraiser at [[url|{url}]].",
        "{he} posted about the admission on [[url|{url}]].",
        "See [[url|{url}]] for the video {rel} made.",
        "Her blog ([[url|{url}]]) describes the whole course.",
        "Obituary: [[url|{url}]]",
        "{Rel} sent a link to [[url|{url}]].",
    ],
    "ip": [
        "The portal logged a login from [[ip|{ip}]].",
        "IP [[ip|{ip}]]",
        "The messages came from IP address [[ip|{ip}]].",
        "Home monitor uploads from [[ip|{ip}]].",
        "IT traced the access to [[ip|{ip}]] in the family lounge.",
        "Remote monitoring hub at [[ip|{ip}]] kept dropping.",
    ],
    "ssn": [
        "SSN [[ssn|{ssn}]].",
        "Social security number [[ssn|{ssn}]] on the disability form.",
        "SS# [[ssn|{ssn}]]",
        "The form listed [[ssn|{ssn}]] as her SSN.",
        "{he} gave his social as [[ssn|{ssn}]].",
        "SSN: [[ssn|{ssn}]], Medicare pending.",
        "Disability paperwork (SSN [[ssn|{ssn}]]) was lost.",
    ],
    "record_number": [
        "MRN [[record_number|{mrn}]].",
        "MRN: [[record_number|{mrn}]]",
        "Medical record number [[record_number|{mrn}]].",
        "MR# [[record_number|{mrn}]]",
        "Acct #[[record_number|{acct}]]",
        "Account number [[record_number|{acct}]] went to collections.",
        "Billing acct [[record_number|{acct}]] is on hold.",
        "Medicaid ID [[record_number|{memberid}]].",
        "Member ID [[record_number|{memberid}]] for the prior authorization.",
        "Insurance ID: [[record_number|{memberid}]]",
        "Health plan number [[record_number|{memberid}]].",
        "Medicare number [[record_number|{memberid}]].",
        "Policy #[[record_number|{acct}]]",
        "NHS number [[record_number|{nhs}]].",
        "Chart [[record_number|{mrn}]] has the old notes.",
        "FIN [[record_number|{mrn}]]",
        "Encounter #[[record_number|{mrn}]] was merged.",
        "Her hospital number is [[record_number|{mrn}]].",
        "Bracelet number [[record_number|{mrn}]] did not match.",
        "Case ref [[record_number|{mrn}]] with the insurer.",
    ],
    "address": [
        "Lives at [[address|{street}]].",
        "Home address: [[address|{street}]].",
        "{he} was found wandering near [[address|{street}]].",
        "Moved in with {rel} at [[address|{street}]].",
        "EMS picked {him} up at [[address|{street}]].",
        "Lives on [[address|{streetname}]] with {rel}.",
        "Mail goes to [[address|{pobox}]].",
        "Address on file [[address|{street}, {city}, {st}]] [[zip|{uszip}]].",
        "The apartment at [[address|{street}]] has no elevator.",
        "{he} sleeps in a car behind [[address|{street}]].",
    ],
    "zip": [
        "Lives in [[zip|{zip}]].",
        "ZIP [[zip|{zip}]].",
        "Zip code [[zip|{zip}]], far from the clinic.",
        "{he} moved to the [[zip|{zip}]] area.",
        "Moved to [[address|{city}, {st}]] [[zip|{uszip}]] last year.",
        "Postcode [[zip|{zip}]].",
        "Home zip [[zip|{zip}]] - no pharmacy nearby.",
    ],
    "age_over_89": [
        "[[age_over_89|{oldage}]] {gender} with {cond}.",
        "{patient} is a [[age_over_89|{oldage}]] {gender} admitted with {complaint}.",
        "{patient}, aged [[age_over_89|{oldnum}]], lives {dur_away} from {rel}.",
        "Age [[age_over_89|{oldnum}]], {bg}.",
        "{he} turned [[age_over_89|{oldnum}]] {when}.",
        "{patient} ([[age_over_89|{oldage}]]) came in with {complaint}.",
        "At [[age_over_89|{oldnum}]], {he_lower} still drives.",
        "Pt is [[age_over_89|{oldnum}]] years old and on {drug}.",
        "{he} is [[age_over_89|{oldnum}]] and wants everything done.",
    ],
    "device_id": [
        "{brand} {devkind}, serial [[device_id|{serial}]].",
        "{devkind} serial number [[device_id|{serial}]] was recalled.",
        "Interrogated the {devkind} (S/N [[device_id|{serial}]]).",
        "SN: [[device_id|{serial}]]",
        "License plate [[device_id|{plate}]] - {he_lower} drove after the seizure.",
        "Police ran the plate, [[device_id|{plate}]].",
        "VIN [[device_id|{vin}]] on the accident report.",
        "Driver's license [[device_id|{dl}]] was suspended.",
        "DL# [[device_id|{dl}]]",
        "{devkind} serial no. [[device_id|{serial}]].",
        "The {devkind} (serial [[device_id|{serial}]]) alarmed {time}.",
        "Vehicle ID number [[device_id|{vin}]].",
    ],
    "facility": [
        "Transferred from [[facility|{facility}]] with {complaint}.",
        "Lives at [[facility|{facility}]].",
        "{he} was seen at [[facility|{facility}]] {when}.",
        "Discharged to [[facility|{facility}]].",
        "Followed at [[facility|{facility}]] for {cond}.",
        "Previously admitted to [[facility|{facility}]] {n} times.",
        "{Rel} works at [[facility|{facility}]].",
        "The ambulance diverted to [[facility|{facility}]].",
        "Records from [[facility|{facility}]] arrived {when}.",
        "{he} refused to go back to [[facility|{facility}]].",
    ],
}


def make_note(gen: NoteGenerator, categories: list[str]) -> dict:
    builder = Builder()
    sentences: list[tuple[str, bool]] = []
    if not any(c in ("name", "age_over_89") for c in categories) or gen.chance(0.3):
        sentences.append((gen.pick(CLEAN_OPENINGS), False))
    for category in categories:
        sentences.append((gen.pick(ID_TEMPLATES[category]), True))
    for _ in range(gen.rng.randint(0 if categories else 1, 3)):
        sentences.append((gen.pick(CLEAN_BODY), False))
    # Keep the opening first, shuffle the rest, end with a closing sometimes.
    head, rest = sentences[:1], sentences[1:]
    gen.rng.shuffle(rest)
    sentences = head + rest
    if gen.chance(0.6):
        sentences.append((gen.pick(CLEAN_CLOSINGS), False))
    separator = gen.pick([" ", " ", " ", "\n", "  "])
    starts = []
    for index, (template, _) in enumerate(sentences):
        if index:
            builder.add(separator)
        starts.append(builder.length)
        gen.render(template, builder)
    chars = list(builder.text())
    for start in starts:  # sentences start with a capital, as people type them
        chars[start] = chars[start].upper()
    return {"text": "".join(chars), "spans": builder.spans}


def generate(seed: int, notes: int, clean: int) -> list[dict]:
    gen = NoteGenerator(seed)
    rows: list[dict] = []
    for index in range(notes):
        primary = CATEGORIES[index % len(CATEGORIES)]
        categories = [primary]
        if gen.chance(0.35):
            categories.append(gen.pick(CATEGORIES))
        note = make_note(gen, categories)
        rows.append({"id": f"s{seed}-id{index:04d}", "clean": False, **note})
    for index in range(clean):
        note = make_note(gen, [])
        rows.append({"id": f"s{seed}-clean{index:04d}", "clean": True, **note})
    gen.rng.shuffle(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--notes", type=int, default=390, help="notes with identifiers")
    parser.add_argument("--clean", type=int, default=200, help="clean notes")
    args = parser.parse_args(argv)
    rows = generate(args.seed, args.notes, args.clean)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    spans = sum(len(row["spans"]) for row in rows)
    print(f"wrote {len(rows)} notes ({spans} gold spans) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
