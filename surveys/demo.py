"""Demo survey waves for ``seed_demo``: a closed wave with responses, a paper pilot, an open wave,
and a wave series (a baseline and a one-year follow-up, linked by personal codes).

The answers come from a seeded random generator and agree with the demo roster (gender,
discipline, years at the institution, half-days of patient care, group), so the analysis pages
have something realistic to show. Every answer set is checked with
:func:`surveys.responses.answers_clean` before it is stored.

The waves are made directly rather than through :func:`surveys.waves.wave_open`, which opens a
wave *now* and refuses closing dates in the past; the recipients' links are built the same
way (a random nonce, only the token's hash stored). No invitations are queued.

The series' two waves are answered through the respondents' links, as the answer page submits
them (:func:`surveys.waves.response_submit`, at a moment while the wave was open), with the
personal code's parts, so that only their keyed hash is stored. Their generator is a second
one (``SERIES_SEED``): the other waves are the same with or without the series.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sessions_app.models import Clinician, GroupMembership, Program

from . import linking
from .models import (
    Instrument,
    Response,
    ResponseDraft,
    SubmittedLink,
    Wave,
    WaveRecipient,
    WaveSeries,
)
from .responses import QuestionSpec, answers_clean, group_labels_for, question_specs
from .series import series_add_wave, series_create
from .services import builtin_instrument
from .waves import (
    audience_clinicians,
    link_token,
    respondents_record,
    response_submit,
    token_hash,
)

SEED = 2027
CLOSED_NAME, CLOSED_SLUG = "Autumn 2026 (mid-year)", "autumn-2026"
PILOT_NAME, PILOT_SLUG = "Pilot (paper)", "pilot-2026"
OPEN_NAME, OPEN_SLUG = "Spring 2027", "spring-2027"
CLOSED_RESPONSE_SHARE = 0.7
OPEN_RESPONSES = 5
OPEN_DRAFTS = 2
SERIES_SEED = SEED + 1
SERIES_NAME = "Year one, before and after"
BASELINE_NAME, BASELINE_SLUG, BASELINE_LABEL = (
    "Baseline (start of year one)",
    "baseline",
    "Baseline",
)
FOLLOWUP_NAME, FOLLOWUP_SLUG, FOLLOWUP_LABEL = "One year on", "one-year-on", "One year on"
BASELINE_DAYS_AGO = 420  # the follow-up opened a year later
FOLLOWUP_DAYS_AGO = BASELINE_DAYS_AGO - 365
SERIES_WAVE_DAYS = 14
BASELINE_SHARE = 0.8  # of the participants answered the baseline
RETURN_SHARE = 0.65  # of the baseline's respondents answered again a year later
FOLLOWUP_NEWCOMERS = 3  # answered the follow-up only
NO_CODE = 2  # respondents of each wave who left the personal code blank
# Where the groups helped: a step up for about half the respondents who answered again.
IMPROVED = ["skill_self_reflection", "skill_tolerate_uncertainty", "skill_blind_spots"]
MOTHER_INITIALS = "AAABCDEEFGHIJKLMMMNOPRSSTVY"

SKILLS = [
    "skill_self_reflection",
    "skill_tolerate_uncertainty",
    "skill_empathy",
    "skill_flexibility_uncertainty",
    "skill_blind_spots",
    "skill_patient_challenges",
]
RELEVANCE = ["relevance_prioritize", "relevance_communicate", "relevance_conflict"]
CHALLENGES = ["challenge_isolation", "challenge_personal_stress", "challenge_professional_stress"]
ADDRESSED = ["addressed_isolation", "addressed_personal_stress", "addressed_professional_stress"]
# Short answers with nothing that identifies a patient or a colleague.
OPEN_UNIQUE = [
    "A protected hour to think about the hard cases.",
    "Hearing that colleagues struggle with the same things.",
    "No one tries to fix the case; we just listen.",
    "It is the only meeting where feelings about work are on the agenda.",
    "Mixing physicians, nurse practitioners and others in one room.",
    "The facilitators keep it safe and confidential.",
]
OPEN_IMPROVE = [
    "Start a little later; 7:30 is hard with school drop-off.",
    "Fewer cancelled sessions in the winter.",
    "More time for the discussion, less for the case presentation.",
    "Coffee that arrives before we start.",
    "Nothing, keep it as it is.",
]
OPEN_OTHER = [
    "Thank you for organising this.",
    "I would recommend it to new colleagues.",
    "Please keep it going next year.",
]


def _years(value: int | None) -> str:
    if value is None:
        return ""
    return "lt5" if value < 5 else ("5to10" if value <= 10 else "gt10")


def _halfdays(value: int | None) -> str:
    if value is None:
        return ""
    return "ge7" if value >= 7 else "le6"


def _pick(rng: random.Random, values: list[str], weights: list[int]) -> str:
    return rng.choices(values, weights=weights)[0]


def answers_for(rng: random.Random, clinician: Clinician | None, group_label: str) -> dict:
    """One respondent's answers: demographics from the roster, opinions from the generator."""
    a: dict[str, str] = {}
    if clinician is not None and rng.random() > 0.05:  # a few skip the demographics
        a["gender"] = clinician.gender
        a["clinician_type"] = clinician.discipline
        a["years_at_institution"] = _years(clinician.years_at_institution)
        a["patient_care_halfdays"] = _halfdays(clinician.patient_care_halfdays)
    a["group"] = group_label
    warmth = rng.random()  # some respondents are keener than others
    for code in SKILLS:
        if warmth > 0.8:
            a[code] = _pick(rng, ["5", "4"], [70, 30])
        elif warmth > 0.15:
            a[code] = _pick(rng, ["5", "4", "3"], [35, 50, 15])
        else:
            a[code] = _pick(rng, ["4", "3", "2"], [45, 45, 10])
    for code in RELEVANCE:
        a[code] = _pick(rng, ["5", "4", "3"], [35, 40, 25])
    for code in CHALLENGES:
        a[code] = _pick(rng, ["1", "2", "3", "4"], [15, 35, 35, 15])
    for code in ADDRESSED:
        a[code] = _pick(rng, ["1", "0"], [80, 20])
    if rng.random() < 0.03:
        a.pop(rng.choice(SKILLS + RELEVANCE))  # an item left blank now and then
    if rng.random() < 0.45:
        a["open_unique"] = rng.choice(OPEN_UNIQUE)
    if rng.random() < 0.3:
        a["open_improve"] = rng.choice(OPEN_IMPROVE)
    if rng.random() < 0.12:
        a["open_other"] = rng.choice(OPEN_OTHER)
    return {k: v for k, v in a.items() if v != ""}


def _recipients(wave: Wave, people: list[Clinician]) -> list[WaveRecipient]:
    rows = []
    for c in people:
        rec = WaveRecipient(wave=wave, clinician=c, email=c.email, nonce=secrets.token_hex(16))
        rec.token_hash = token_hash(link_token(rec))
        rows.append(rec)
    return WaveRecipient.objects.bulk_create(rows)


def _day(moment: datetime) -> datetime:
    """Anonymous online responses keep the day only (midnight UTC)."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


@dataclass(frozen=True)
class _Demo:
    """What every demo wave is made from: the program, the built-in instrument and its
    question specs, the one seeded generator (drawn from in a fixed order, so the demo is the
    same every time), and the participants with their current group's name."""

    program: Program
    now: datetime
    rng: random.Random
    instrument: Instrument
    specs: list[QuestionSpec]
    people: list[Clinician]
    group_of: dict[int, str]

    @property
    def by_pk(self) -> dict[int, Clinician]:
        return {c.pk: c for c in self.people}

    def clean(self, wave: Wave, answers: dict) -> dict:
        """``answers`` as :func:`surveys.responses.answers_clean` stores them for ``wave``."""
        return answers_clean(self.specs, answers, group_labels=group_labels_for(wave))

    def answers(self, clinician: Clinician) -> dict:
        """A generated answer set of ``clinician``, with their group."""
        return answers_for(self.rng, clinician, self.group_of[clinician.pk])


@transaction.atomic
def demo_waves(program: Program, *, now: datetime | None = None) -> list[Wave]:
    """Create the demo waves of ``program`` unless it already has waves; return its waves."""
    existing = list(Wave.objects.filter(program=program).order_by("opens_at", "pk"))
    if existing:
        return existing
    demo = _demo(program, now or timezone.now())
    made = [_pilot_wave(demo), _closed_wave(demo), _open_wave(demo)]
    made += _series_waves(replace(demo, rng=random.Random(SERIES_SEED)))
    return sorted(made, key=lambda w: (w.opens_at, w.pk))


def _demo(program: Program, now: datetime) -> _Demo:
    """The demo's inputs: the participants are the program's active clinicians in a group."""
    rng = random.Random(SEED)
    instrument = builtin_instrument()
    specs = question_specs(instrument)
    people = audience_clinicians(program=program, audience=Wave.Audience.ALL_ACTIVE)
    group_of = dict(
        GroupMembership.objects.current()
        .filter(group__program=program, clinician__in=people)
        .values_list("clinician_id", "group__name")
    )
    people = [c for c in people if c.pk in group_of]
    return _Demo(program, now, rng, instrument, specs, people, group_of)


def _pilot_wave(demo: _Demo) -> Wave:
    """A paper pilot with three people, before the year started (left out of the analysis)."""
    pilot = Wave.objects.create(
        program=demo.program, instrument=demo.instrument, name=PILOT_NAME, slug=PILOT_SLUG,
        source=Wave.Source.PAPER, is_pilot=True, opens_at=demo.now - timedelta(days=120),
        distributed_count=3,
    )  # fmt: skip
    Response.objects.bulk_create(
        Response(
            wave=pilot,
            source=Response.Source.PAPER,
            form_id=f"P{n}",
            answers=demo.clean(pilot, answers_for(demo.rng, None, str(n))),
            submitted_at=pilot.opens_at + timedelta(days=1),
        )
        for n in (1, 2, 3)
    )
    return pilot


def _closed_wave(demo: _Demo) -> Wave:
    """The closed mid-year wave: every active participant, about 70% answered online, and one
    paper form typed in for someone who preferred paper, too damaged to analyse."""
    opened = demo.now - timedelta(days=35)
    closed = Wave.objects.create(
        program=demo.program, instrument=demo.instrument, name=CLOSED_NAME, slug=CLOSED_SLUG,
        audience=Wave.Audience.ALL_ACTIVE, opens_at=opened,
        closes_at=demo.now - timedelta(days=21),
    )  # fmt: skip
    recipients = _recipients(closed, demo.people)
    answered = demo.rng.sample(recipients, round(len(recipients) * CLOSED_RESPONSE_SHARE))
    by_pk = demo.by_pk
    responses = []
    for rec in answered:
        clinician = by_pk[rec.clinician_id]
        when = opened + timedelta(days=demo.rng.choice([0, 0, 1, 2, 3, 5, 8, 11, 13]), hours=2)
        responses.append(
            Response(
                wave=closed,
                source=Response.Source.ONLINE,
                answers=demo.clean(closed, demo.answers(clinician)),
                submitted_at=_day(when),
            )
        )
    WaveRecipient.objects.filter(pk__in=[r.pk for r in answered]).update(responded=True)
    demo.rng.shuffle(responses)  # stored order says nothing about who answered when
    others = [r for r in recipients if r not in answered]
    if others:
        responses.append(_damaged_paper_form(demo, closed, by_pk[others[0].clinician_id]))
    Response.objects.bulk_create(responses)
    return closed


def _damaged_paper_form(demo: _Demo, closed: Wave, clinician: Clinician) -> Response:
    """The paper form of ``clinician`` (not yet saved), excluded: its second page (relevance
    and challenges) is missing."""
    damaged = demo.answers(clinician)
    damaged = {k: v for k, v in damaged.items() if not k.startswith(("relevance", "chall"))}
    return Response(
        wave=closed,
        source=Response.Source.PAPER,
        form_id="1",
        answers=demo.clean(closed, damaged),
        submitted_at=closed.closes_at - timedelta(days=1),
        excluded_reason="Damaged paper form: the second page is missing",
    )


def _open_wave(demo: _Demo) -> Wave:
    """The open wave: closes in two weeks; a few answers and a couple of saved drafts."""
    opened = demo.now - timedelta(days=3)
    spring = Wave.objects.create(
        program=demo.program, instrument=demo.instrument, name=OPEN_NAME, slug=OPEN_SLUG,
        audience=Wave.Audience.ALL_ACTIVE, opens_at=opened,
        closes_at=demo.now + timedelta(days=14),
    )  # fmt: skip
    recipients = _recipients(spring, demo.people)
    picked = demo.rng.sample(recipients, min(len(recipients), OPEN_RESPONSES + OPEN_DRAFTS))
    done, drafting = picked[:OPEN_RESPONSES], picked[OPEN_RESPONSES:]
    _open_responses(demo, spring, done)
    _open_drafts(demo, spring, drafting)
    return spring


def _open_responses(demo: _Demo, spring: Wave, done: list[WaveRecipient]) -> None:
    """The answers of ``done``, recorded as an anonymous wave records them."""
    by_pk = demo.by_pk
    Response.objects.bulk_create(
        Response(
            wave=spring,
            source=Response.Source.ONLINE,
            answers=demo.clean(spring, demo.answers(by_pk[r.clinician_id])),
            submitted_at=_day(spring.opens_at + timedelta(days=demo.rng.choice([0, 1, 2]))),
        )
        for r in done
    )
    # Submitted links of an anonymous wave are recorded as answered in batches of at least k,
    # as the answer page and the periodic job do it.
    SubmittedLink.objects.bulk_create(
        SubmittedLink(wave=spring, marker=r.submitted_marker) for r in done
    )
    respondents_record(wave=spring)


def _open_drafts(demo: _Demo, spring: Wave, drafting: list[WaveRecipient]) -> None:
    """A draft of ``drafting`` each: the answers to the first five questions, saved on page 1."""
    by_pk = demo.by_pk
    first_five = {s.code for s in demo.specs[:5]}
    ResponseDraft.objects.bulk_create(
        ResponseDraft(
            wave=spring,
            key=rec.draft_key,
            answers=demo.clean(
                spring,
                {k: v for k, v in demo.answers(by_pk[rec.clinician_id]).items() if k in first_five},
            ),
            page=1,
            saved_at=demo.now - timedelta(hours=demo.rng.randint(2, 40)),
        )
        for rec in drafting
    )


# -- The wave series: a baseline and a one-year follow-up ------------------------------------


def _series_waves(demo: _Demo) -> list[Wave]:
    """Two anonymous waves a year apart in a before-and-after series that asks for the personal
    code. Most participants answered the baseline, about two thirds of them answered again; a
    few left the code blank, two happen to share a code (linked to nobody), one misremembered
    their birth month a year later, and a few answered the follow-up only. The answers of
    those who answered twice rose a little on a few items (:data:`IMPROVED`)."""
    rng = demo.rng
    baseline_opens = demo.now - timedelta(days=BASELINE_DAYS_AGO)
    followup_opens = demo.now - timedelta(days=FOLLOWUP_DAYS_AGO)
    baseline = _series_wave(demo, BASELINE_NAME, BASELINE_SLUG, baseline_opens)
    followup = _series_wave(demo, FOLLOWUP_NAME, FOLLOWUP_SLUG, followup_opens)
    series = series_create(
        program=demo.program, actor=None, name=SERIES_NAME, design=WaveSeries.Design.PRE_POST,
        instrument_slug=demo.instrument.slug,
    )  # fmt: skip
    series_add_wave(series=series, wave=baseline, actor=None, label=BASELINE_LABEL)
    series_add_wave(series=series, wave=followup, actor=None, label=FOLLOWUP_LABEL)

    codes = _personal_codes(rng, demo.people)
    first = rng.sample(demo.people, round(len(demo.people) * BASELINE_SHARE))
    again = rng.sample(first, round(len(first) * RETURN_SHARE))
    absent = [c for c in demo.people if c not in first]
    newcomers = rng.sample(absent, min(len(absent), FOLLOWUP_NEWCOMERS))
    # Two who answered both waves built the same code: it links neither of them.
    twin, other = _same_code_pair(again)
    codes[other.pk] = codes[twin.pk]
    blank_first = set(rng.sample([c.pk for c in first if c not in (twin, other)], NO_CODE))
    blank_again = set(rng.sample([c.pk for c in again if c not in (twin, other)], NO_CODE))
    # One misremembered their birth month a year on: their two answers do not link.
    settled = blank_first | blank_again | {twin.pk, other.pk}
    forgot = rng.choice([c for c in again if c.pk not in settled])
    before = {c.pk: _baseline_answers(demo, c) for c in first}
    _answer(demo, baseline, {c.pk: (before[c.pk], codes[c.pk]) for c in first}, blank_first)
    after = {c.pk: (_followup_answers(rng, before[c.pk]), codes[c.pk]) for c in again}
    after[forgot.pk] = (after[forgot.pk][0], _misremembered(codes[forgot.pk]))
    after.update({c.pk: (demo.answers(c), codes[c.pk]) for c in newcomers})
    _answer(demo, followup, after, blank_again)
    return [baseline, followup]


def _series_wave(demo: _Demo, name: str, slug: str, opens: datetime) -> Wave:
    wave = Wave.objects.create(
        program=demo.program, instrument=demo.instrument, name=name, slug=slug,
        audience=Wave.Audience.ALL_ACTIVE, opens_at=opens,
        closes_at=opens + timedelta(days=SERIES_WAVE_DAYS),
    )  # fmt: skip
    _recipients(wave, demo.people)
    return wave


def _personal_codes(rng: random.Random, people: list[Clinician]) -> dict[int, dict[str, str]]:
    """Each participant's personal code under the default recipe, as they would type its
    parts: the second letter of their first name, their birth month, their mother's initial
    (no two alike, but for the pair made on purpose)."""
    codes: dict[int, dict[str, str]] = {}
    seen: set[tuple[str, ...]] = set()
    for c in people:
        while True:
            parts = {
                "first_name_letter2": c.first_name[1:2].lower(),
                "birth_month": str(rng.randint(1, 12)),
                "mother_initial": rng.choice(MOTHER_INITIALS),
            }
            if tuple(parts.values()) not in seen:
                break
        seen.add(tuple(parts.values()))
        codes[c.pk] = parts
    return codes


def _same_code_pair(people: list[Clinician]) -> tuple[Clinician, Clinician]:
    """Two of ``people`` whose first names share their second letter (else the first two)."""
    ordered = sorted(people, key=lambda c: c.pk)
    for i, one in enumerate(ordered):
        for two in ordered[i + 1 :]:
            if one.first_name[1:2].lower() == two.first_name[1:2].lower():
                return one, two
    return ordered[0], ordered[1]


def _misremembered(parts: dict[str, str]) -> dict[str, str]:
    month = int(parts["birth_month"])
    return {**parts, "birth_month": str(month % 12 + 1)}


def _step(value: str | None, by: int, low: int, high: int) -> str | None:
    if value is None:
        return None
    return str(min(high, max(low, int(value) + by)))


def _baseline_answers(demo: _Demo, clinician: Clinician) -> dict:
    """A participant's answers before the year: like the others, a little lower on the items
    the groups later helped with."""
    answers = demo.answers(clinician)
    for code in IMPROVED:
        if code in answers and demo.rng.random() < 0.5:
            answers[code] = _step(answers[code], -1, 2, 5)
    return answers


def _followup_answers(rng: random.Random, before: dict) -> dict:
    """The same person a year on: a step up on :data:`IMPROVED` for about half of them, the
    other items much as before (a step either way now and then), new free text."""
    after = {k: v for k, v in before.items() if not k.startswith("open_")}
    for code in SKILLS + RELEVANCE + CHALLENGES:
        if code not in after:
            continue
        high = 4 if code in CHALLENGES else 5
        draw = rng.random()
        if code in IMPROVED:
            by = 1 if draw < 0.55 else (-1 if draw > 0.97 else 0)
        else:
            by = 1 if draw < 0.12 else (-1 if draw > 0.88 else 0)
        after[code] = _step(after[code], by, 1, high)
    for code in ADDRESSED:
        if code in after and rng.random() < 0.1:
            after[code] = "0" if after[code] == "1" else "1"
    if rng.random() < 0.4:
        after["open_unique"] = rng.choice(OPEN_UNIQUE)
    if rng.random() < 0.25:
        after["open_improve"] = rng.choice(OPEN_IMPROVE)
    return after


def _answer(
    demo: _Demo, wave: Wave, answers: dict[int, tuple[dict, dict[str, str]]], blank: set[int]
) -> None:
    """Submit each respondent's answers with their personal code (left out for ``blank``)
    through their link, on a day while the wave was open, in the order they answered; then
    record the respondents in one batch, as the periodic job does."""
    links = {r.clinician_id: r for r in wave.recipients.select_related("wave__program")}
    submissions = []
    for pk, (given, parts) in answers.items():
        when = wave.opens_at + timedelta(
            days=demo.rng.choice([0, 0, 1, 1, 2, 3, 5, 7, 9, 12]), hours=demo.rng.randint(1, 10)
        )
        code = {} if pk in blank else {linking.PART_PREFIX + k: v for k, v in parts.items()}
        submissions.append((when, pk, {**given, **code}))
    for when, pk, given in sorted(submissions, key=lambda s: (s[0], s[1])):
        response_submit(recipient=links[pk], answers=given, now=when)
    respondents_record(wave=wave)
