"""Waves: who gets one, single-use links, drafts, submission and the anonymity rules."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.models import Attendance, Clinician
from surveys import waves
from surveys.models import Response, Wave, WaveRecipient
from surveys.responses import answers_clean, paper_response_add, response_exclude
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    GroupFactory,
    GroupMembershipFactory,
    ResponseFactory,
    SessionFactory,
    WaveFactory,
)


@pytest.fixture
def groups(program):
    a, b = GroupFactory(program=program, name="Tuesday"), GroupFactory(program=program, name="Thu")
    for g in (a, b):
        for _ in range(3):
            GroupMembershipFactory(group=g)
    return a, b


def soon(days=14):
    return timezone.now() + timedelta(days=days)


def open_wave(program, coordinator, **kwargs):
    kwargs.setdefault("name", "Spring 2027")
    kwargs.setdefault("closes_at", soon())
    kwargs.setdefault("audience", Wave.Audience.ALL_ACTIVE)
    return waves.wave_open(program=program, actor=coordinator, **kwargs)


def test_all_active_participants_get_one_link_each(program, coordinator, groups):
    inactive = GroupMembershipFactory(group=groups[0]).clinician
    Clinician.objects.filter(pk=inactive.pk).update(status=Clinician.Status.INACTIVE)
    ClinicianFactory(program=program)  # on the roster, in no group
    wave = open_wave(program, coordinator)
    assert wave.recipients.count() == 6
    assert not wave.recipients.filter(clinician=inactive).exists()
    hashes = set(wave.recipients.values_list("token_hash", flat=True))
    assert len(hashes) == 6
    # Only the hash is stored; the token is derived again, the same each time.
    rec = wave.recipients.first()
    token = waves.link_token(rec)
    assert token not in hashes and waves.token_hash(token) == rec.token_hash
    assert waves.recipient_for_token(token) == rec
    other = token[:-1] + ("1" if token[-1] != "1" else "2")
    assert waves.recipient_for_token(other) is None
    assert waves.recipient_for_token("nope") is None
    assert AuditEvent.objects.filter(action="survey.wave_open").count() == 1


def test_one_group_audience(program, coordinator, groups):
    wave = open_wave(program, coordinator, audience=Wave.Audience.GROUP, group=groups[1])
    members = set(groups[1].memberships.values_list("clinician_id", flat=True))
    assert set(wave.recipients.values_list("clinician_id", flat=True)) == members


def test_last_sessions_audience_is_who_attended(program, coordinator, groups):
    g = groups[0]
    now = timezone.now()
    old = SessionFactory(group=g, starts_at=now - timedelta(days=30))
    recent = SessionFactory(group=g, starts_at=now - timedelta(days=2))
    SessionFactory(group=g, starts_at=now + timedelta(days=5))  # not held yet
    m = [x.clinician for x in g.memberships.all()]
    AttendanceFactory(session=old, clinician=m[0], status=Attendance.Status.PRESENT)
    AttendanceFactory(session=recent, clinician=m[1], status=Attendance.Status.PRESENT)
    AttendanceFactory(session=recent, clinician=m[2], status=Attendance.Status.ABSENT)
    wave = open_wave(program, coordinator, audience=Wave.Audience.LAST_SESSIONS, sessions=1)
    assert list(wave.recipients.values_list("clinician_id", flat=True)) == [m[1].pk]
    wave2 = open_wave(
        program, coordinator, name="Two", audience=Wave.Audience.LAST_SESSIONS, sessions=2
    )
    assert set(wave2.recipients.values_list("clinician_id", flat=True)) == {m[0].pk, m[1].pk}


def test_a_wave_without_recipients_is_refused_and_nothing_saved(program, coordinator):
    with pytest.raises(ValidationError) as exc:
        open_wave(program, coordinator)
    assert "Nobody matches" in str(exc.value)
    assert not Wave.objects.exists()


def test_a_closing_date_in_the_past_is_refused(program, coordinator, groups):
    with pytest.raises(ValidationError) as exc:
        open_wave(program, coordinator, closes_at=timezone.now() - timedelta(hours=1))
    assert "closing date must be in the future" in str(exc.value)
    assert not Wave.objects.exists()


def test_a_duplicate_slug_is_refused_but_names_get_their_own_slug(program, coordinator, groups):
    first = open_wave(program, coordinator)
    second = open_wave(program, coordinator)
    assert first.slug == "spring-2027" and second.slug == "spring-2027-2"
    with pytest.raises(ValidationError):
        open_wave(program, coordinator, slug="spring-2027")


def test_anonymous_submission_keeps_no_link_to_the_person(program, coordinator, groups):
    wave = open_wave(program, coordinator)
    rec = wave.recipients.first()
    waves.draft_save(recipient=rec, answers={"skill_empathy": "5"}, page=1)
    rec.refresh_from_db()
    assert rec.draft == {"skill_empathy": "5"} and rec.draft_page == 1
    response = waves.response_submit(
        recipient=rec, answers={"gender": "female", "group": "Tuesday"}
    )
    assert response.recipient is None
    assert response.answers == {"skill_empathy": "5", "gender": "female", "group": "Tuesday"}
    st = response.submitted_at.astimezone(UTC)
    assert (st.hour, st.minute, st.second) == (0, 0, 0)
    rec.refresh_from_db()
    # The recipient's row is not written: "has answered" is recorded later, in batches.
    assert not rec.responded and rec.responded_at is None and rec.draft == {}
    assert not waves.link_usable(rec)
    assert not AuditEvent.objects.filter(action__startswith="survey.response").exists()


def test_confidential_submission_is_linked(program, coordinator, groups):
    wave = open_wave(program, coordinator, mode=Wave.Mode.CONFIDENTIAL)
    rec = wave.recipients.first()
    response = waves.response_submit(recipient=rec, answers={"skill_empathy": "2"})
    assert response.recipient == rec
    rec.refresh_from_db()
    assert rec.responded_at is not None


def test_a_link_answers_once(program, coordinator, groups):
    wave = open_wave(program, coordinator)
    rec = wave.recipients.first()
    waves.response_submit(recipient=rec, answers={})
    with pytest.raises(waves.LinkRefused):
        waves.response_submit(recipient=rec, answers={"skill_empathy": "4"})
    with pytest.raises(waves.LinkRefused):
        waves.draft_save(recipient=rec, answers={"skill_empathy": "4"}, page=0)
    assert Response.objects.count() == 1


def test_a_closed_wave_refuses_answers(program, coordinator, groups):
    wave = open_wave(program, coordinator)
    waves.wave_close(wave=wave, actor=coordinator)
    rec = wave.recipients.first()
    assert not waves.link_usable(waves.recipient_for_token(waves.link_token(rec)))
    with pytest.raises(waves.LinkRefused):
        waves.response_submit(recipient=rec, answers={})
    with pytest.raises(ValidationError):
        waves.wave_extend(wave=wave, actor=coordinator, closes_at=soon(30))


def test_a_wave_past_its_date_can_be_extended(program, coordinator, groups):
    wave = open_wave(program, coordinator)
    later = timezone.now() + timedelta(days=20)
    assert not wave.is_open(later)
    waves.wave_extend(wave=wave, actor=coordinator, closes_at=later + timedelta(days=7))
    wave.refresh_from_db()
    assert wave.is_open(later)
    with pytest.raises(ValidationError):
        waves.wave_extend(wave=wave, actor=coordinator, closes_at=timezone.now())


def test_invalid_answers_are_refused_with_the_question_named(program, coordinator, groups):
    wave = open_wave(program, coordinator)
    rec = wave.recipients.first()
    with pytest.raises(ValidationError) as exc:
        waves.response_submit(
            recipient=rec, answers={"skill_empathy": "7", "group": "No such group", "x": "1"}
        )
    errors = exc.value.message_dict
    assert set(errors) == {"skill_empathy", "group", "x"}
    assert "not one of 1, 2, 3, 4, 5" in errors["skill_empathy"][0]
    assert not Response.objects.exists()


def test_paper_wave_group_labels_are_free(program, coordinator):
    wave = waves.paper_wave_create(program=program, actor=coordinator, name="Pilot", distributed=3)
    r = paper_response_add(wave=wave, actor=coordinator, answers={"group": "2"}, form_id="7")
    assert r.answers == {"group": "2"}
    with pytest.raises(ValidationError):
        paper_response_add(wave=wave, actor=coordinator, answers={}, form_id="7")
    assert wave.responses.count() == 1


def test_required_questions_are_enforced(program):
    from tests.factories import QuestionFactory, SectionFactory

    section = SectionFactory()
    QuestionFactory(section=section, code="why", required=True)
    with pytest.raises(ValidationError) as exc:
        answers_clean(section.instrument, {})
    assert "required" in exc.value.message_dict["why"][0]


def test_figures_count_returned_excluded_and_rate(program, coordinator):
    wave = WaveFactory(program=program, distributed_count=35)
    for _ in range(25):
        ResponseFactory(wave=wave)
    response_exclude(response=wave.responses.first(), actor=coordinator, reason="Damaged form")
    f = waves.figures(wave)
    assert (f.distributed, f.returned, f.excluded, f.analysed) == (35, 25, 1, 24)
    assert f.rate == pytest.approx(25 / 35)
    with pytest.raises(ValidationError):
        response_exclude(response=wave.responses.last(), actor=coordinator, reason="  ")


def test_figures_of_an_online_wave_count_recipients_and_drafts(program, coordinator, groups):
    wave = open_wave(program, coordinator)
    recs = list(wave.recipients.all())
    waves.response_submit(recipient=recs[0], answers={})
    waves.draft_save(recipient=recs[1], answers={"gender": "male"}, page=0)
    f = waves.figures(wave)
    assert (f.distributed, f.returned, f.saved_drafts) == (6, 1, 1)


def test_pilot_responses_stay_out_of_the_analysis_by_default(program, coordinator):
    from surveys.responses import analysable

    pilot = WaveFactory(program=program, is_pilot=True)
    main = WaveFactory(program=program)
    ResponseFactory(wave=pilot)
    ResponseFactory(wave=main)
    ResponseFactory(wave=main, excluded_reason="Damaged")
    assert analysable(Response.objects.all()).count() == 1
    assert analysable(Response.objects.all(), include_pilot=True).count() == 2
    waves.wave_set_pilot(wave=main, actor=coordinator, is_pilot=True)
    assert analysable(Response.objects.all()).count() == 0


def test_recipient_rows_cannot_be_found_from_an_anonymous_response(program, coordinator, groups):
    """Nothing in an anonymous response points back: no recipient, no time of day."""
    wave = open_wave(program, coordinator)
    for rec in wave.recipients.all()[:3]:
        waves.response_submit(recipient=rec, answers={"skill_empathy": "4"})
    assert set(Response.objects.values_list("recipient", flat=True)) == {None}
    assert not WaveRecipient.objects.filter(responded=True).exists()
    assert set(WaveRecipient.objects.values_list("responded_at", flat=True)) == {None}


def test_the_periodic_job_records_a_batch_of_k_and_drops_drafts_of_closed_waves(
    program, coordinator, groups
):
    from surveys.models import ResponseDraft
    from surveys.tasks import task_respondents_record

    wave = open_wave(program, coordinator)
    people = list(wave.recipients.all())
    assert len(people) > program.small_cell_k
    for rec in people[: program.small_cell_k - 1]:
        waves.response_submit(recipient=rec, answers={"skill_empathy": "4"})
    waves.draft_save(recipient=people[-1], answers={"skill_empathy": "2"}, page=1)
    assert task_respondents_record.delay().get() == {
        "respondents_recorded": 0,
        "drafts_deleted": 0,
    }
    waves.response_submit(recipient=people[program.small_cell_k - 1], answers={})
    assert task_respondents_record.delay().get()["respondents_recorded"] == program.small_cell_k
    assert wave.recipients.filter(responded=True).count() == program.small_cell_k
    assert ResponseDraft.objects.filter(wave=wave).count() == 1

    waves.wave_close(wave=wave, actor=coordinator)
    assert task_respondents_record.delay().get()["drafts_deleted"] == 1
    assert not ResponseDraft.objects.exists()
