"""seed_demo's survey waves: a closed wave with valid, realistic responses, an open wave, and a
wave series (a baseline and a one-year follow-up linked by personal codes)."""

from __future__ import annotations

from collections import Counter
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from sessions_app.models import Clinician, GroupMembership, Program
from surveys import demo, waves
from surveys.models import Response, Wave, WaveRecipient, WaveSeries
from surveys.responses import answers_clean, group_labels_for, question_specs


def seed() -> str:
    out = StringIO()
    with override_settings(DEBUG=True):  # as `make run` loads it
        call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def demo_state() -> dict:
    return {
        "waves": sorted(Wave.objects.values_list("slug", "source", "is_pilot")),
        "responses": Counter(Response.objects.values_list("wave__slug", flat=True)),
        "recipients": Counter(WaveRecipient.objects.values_list("wave__slug", flat=True)),
    }


def test_seed_demo_opens_a_closed_wave_with_valid_responses_and_an_open_wave(db):
    out = seed()

    program = Program.objects.get()
    now = timezone.now()
    states = Counter(w.state(now) for w in Wave.objects.filter(program=program))
    # Closed: the mid-year wave, and the series' baseline and follow-up.
    assert states == {"closed": 3, "open": 1, "paper": 1}

    closed = Wave.objects.get(program=program, slug=demo.CLOSED_SLUG)
    assert closed.is_anonymous and not closed.is_pilot
    f = waves.figures(closed)
    active = Clinician.objects.filter(program=program, status=Clinician.Status.ACTIVE).count()
    assert f.distributed == active == 30
    assert 0 < f.returned <= f.distributed
    assert 0.6 <= f.rate <= 0.8
    assert f.excluded == 1 and f.analysed == f.returned - 1
    # Anonymous: no response points at its respondent, and times are kept to the day.
    responses = list(closed.responses.all())
    assert all(r.recipient_id is None for r in responses)
    online = [r for r in responses if r.source == Response.Source.ONLINE]
    assert all(r.submitted_at.hour == 0 and r.submitted_at.minute == 0 for r in online)
    assert closed.recipients.filter(responded=True).count() == len(online)

    specs = question_specs(closed.instrument)
    labels = group_labels_for(closed)
    for r in responses:
        assert answers_clean(specs, r.answers, group_labels=labels) == r.answers
    # Realistic: groups are the demo groups, agreement mostly agree, roster demographics.
    assert {r.answers["group"] for r in online} <= set(labels)
    empathy = [r.answers.get("skill_empathy") for r in online]
    assert sum(v in ("4", "5") for v in empathy) >= 0.6 * len(empathy)
    types = {r.answers.get("clinician_type") for r in online} - {None}
    assert types <= set(Clinician.objects.values_list("discipline", flat=True))

    spring = Wave.objects.get(program=program, slug=demo.OPEN_SLUG)
    f = waves.figures(spring)
    assert f.distributed == 30 and 0 < f.returned <= f.distributed
    assert f.saved_drafts == 2
    spring_labels = group_labels_for(spring)
    for r in spring.responses.all():
        assert answers_clean(specs, r.answers, group_labels=spring_labels) == r.answers
    drafting = [rec for rec in spring.recipients.all() if rec.draft]
    assert len(drafting) == 2
    for rec in drafting:
        assert answers_clean(specs, rec.draft, group_labels=spring_labels, check_required=False)
        assert not rec.responded
    # Every link works like one made by wave_open.
    rec = spring.recipients.filter(responded=False).first()
    assert waves.link_usable(waves.recipient_for_token(waves.link_token(rec)))
    assert not waves.link_usable(
        waves.recipient_for_token(waves.link_token(closed.recipients.first()))
    )

    pilot = Wave.objects.get(program=program, source=Wave.Source.PAPER)
    assert pilot.is_pilot
    f = waves.figures(pilot)
    assert f.returned <= f.distributed

    assert "Survey waves:" in out
    for wave in Wave.objects.all():
        assert wave.name in out


def test_demo_respondents_are_group_members(db):
    seed()

    members = set(
        GroupMembership.objects.filter(left_on=None).values_list("clinician_id", flat=True)
    )
    assert set(WaveRecipient.objects.values_list("clinician_id", flat=True)) == members


def test_seed_demo_twice_adds_no_waves_or_responses(db):
    seed()
    first = demo_state()

    out = seed()

    assert demo_state() == first
    assert "Survey waves:" in out


def test_seed_demo_makes_a_series_whose_respondents_link_over_a_year(db, client):
    seed()

    program = Program.objects.get()
    series = WaveSeries.objects.get(program=program)
    members = list(series.members.select_related("wave").order_by("position"))
    assert [(m.label, m.wave.slug) for m in members] == [
        ("Baseline", demo.BASELINE_SLUG),
        ("One year on", demo.FOLLOWUP_SLUG),
    ]
    baseline, followup = (m.wave for m in members)
    assert series.design == WaveSeries.Design.PRE_POST and series.ask_code
    assert baseline.is_anonymous and followup.is_anonymous
    assert 360 <= (followup.opens_at - baseline.opens_at).days <= 370
    now = timezone.now()
    assert baseline.state(now) == followup.state(now) == "closed"

    first = list(baseline.responses.all())
    again = list(followup.responses.all())
    # Anonymous and linked by code only: no recipient, no code part in the answers, a hash.
    for r in first + again:
        assert r.recipient_id is None
        assert not any(key.startswith("link:") for key in r.answers)
        assert r.link_hash == "" or len(r.link_hash) == 64
    # The respondents were recorded as a batch, as the periodic job does.
    assert baseline.recipients.filter(responded=True).count() == len(first)
    assert followup.recipients.filter(responded=True).count() == len(again)

    # Attrition, blank codes, one code shared by two people.
    def hashes(responses):
        return Counter(r.link_hash for r in responses if r.link_hash)

    before, after = hashes(first), hashes(again)
    assert sum(1 for r in first if not r.link_hash) >= 1
    assert sum(1 for r in again if not r.link_hash) >= 1
    assert sorted(n for n in before.values() if n > 1) == [2]
    unique_before = {h for h, n in before.items() if n == 1}
    unique_after = {h for h, n in after.items() if n == 1}
    linked = unique_before & unique_after
    assert program.small_cell_k <= len(linked) < len(unique_before)
    assert 0.5 <= len(again) / len(first) <= 0.9

    # A modest improvement on the items the groups helped with, among linked respondents.
    by_hash_before = {r.link_hash: r.answers for r in first if r.link_hash in linked}
    by_hash_after = {r.link_hash: r.answers for r in again if r.link_hash in linked}
    for code in demo.IMPROVED:
        changes = [
            int(by_hash_after[h][code]) - int(by_hash_before[h][code])
            for h in linked
            if code in by_hash_before[h] and code in by_hash_after[h]
        ]
        assert sum(changes) > 0, code

    # The series page and the results over time show the pairs.
    coordinator = get_user_model().objects.get(username="coordinator")
    client.force_login(coordinator)
    page = client.get(reverse("surveys:series_detail", args=[program.slug, series.slug]))
    assert page.status_code == 200
    assert f"{len(linked)} of {len(unique_before)}" in page.content.decode()
    results = client.get(reverse("series:results", args=[program.slug, series.slug]))
    text = results.content.decode()
    assert results.status_code == 200
    assert f"{len(linked)} pairs: shift" in text
    assert "Fewer than" not in text and "No linked pairs" not in text
