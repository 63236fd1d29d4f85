"""Survey invitations and reminders through the outbox: a link for each person, reminders
only to those who have not answered, nothing after the wave closes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from ccdg.models import OutboxMessage, OutboxOptOut
from ccdg.outbox.rendering import render_message
from ccdg.outbox.scan import reminders_scan
from ccdg.outbox.sending import outbox_send
from sessions_app.models import Program
from surveys import outbox_kinds as K
from surveys import waves
from surveys.models import Wave
from tests.factories import GroupFactory, GroupMembershipFactory

S = OutboxMessage.Status


def _wave(program, coordinator, capture, mode=Wave.Mode.ANONYMOUS):
    group = GroupFactory(program=program, name="Tuesday")
    for n in range(4):
        GroupMembershipFactory(group=group, clinician__email=f"member{n}@example.org")
    with capture(execute=True):
        return waves.wave_open(
            program=program,
            actor=coordinator,
            name="Spring 2027",
            closes_at=timezone.now() + timedelta(days=10),
            audience=Wave.Audience.ALL_ACTIVE,
            mode=mode,
        )


@pytest.fixture
def wave(program, coordinator, django_capture_on_commit_callbacks):
    return _wave(program, coordinator, django_capture_on_commit_callbacks)


@pytest.fixture
def confidential_wave(program, coordinator, django_capture_on_commit_callbacks):
    """Who answered a confidential wave is known at once (in an anonymous one: in batches)."""
    return _wave(program, coordinator, django_capture_on_commit_callbacks, Wave.Mode.CONFIDENTIAL)


def body(message) -> str:
    return message.body


def link_in(text: str) -> str:
    found = re.search(r"/s/([0-9a-f]{40})/", text)
    assert found, text
    return found.group(1)


def test_opening_a_wave_sends_each_recipient_their_own_link(wave, mailoutbox):
    assert len(mailoutbox) == 4
    tokens = set()
    for message in mailoutbox:
        assert message.subject.endswith("a short survey about your group")
        token = link_in(body(message))
        rec = waves.recipient_for_token(token)
        assert rec is not None and rec.email == message.to[0]
        assert "anonymous" in body(message)
        tokens.add(token)
    assert len(tokens) == 4
    rows = OutboxMessage.objects.filter(kind=K.SURVEY_INVITATION, object_id=wave.pk)
    assert set(rows.values_list("status", flat=True)) == {S.SENT}
    # The token is in the message only: never in the outbox row.
    for row in rows:
        assert all(t not in (row.occurrence + row.last_error) for t in tokens)


def test_the_reminder_reaches_only_those_who_have_not_answered(
    confidential_wave, mailoutbox, django_capture_on_commit_callbacks
):
    wave = confidential_wave
    answered = list(wave.recipients.all()[:2])
    for rec in answered:
        waves.response_submit(recipient=rec, answers={"skill_empathy": "4"})
    mailoutbox.clear()
    before_due = wave.closes_at - timedelta(days=wave.reminder_days, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_scan(now=before_due)
    assert not mailoutbox
    with django_capture_on_commit_callbacks(execute=True):
        reminders_scan(now=wave.closes_at - timedelta(days=wave.reminder_days) + timedelta(hours=1))
    reminded = sorted(m.to[0] for m in mailoutbox)
    expected = sorted(wave.recipients.filter(responded=False).values_list("email", flat=True))
    assert reminded == expected and len(reminded) == 2
    assert all("closes" in m.subject for m in mailoutbox)
    # The reminder carries the same personal link as the invitation.
    for m in mailoutbox:
        assert waves.recipient_for_token(link_in(body(m))).email == m.to[0]


def test_a_reminder_queued_before_the_person_answered_is_skipped(confidential_wave, mailoutbox):
    wave = confidential_wave
    rec = wave.recipients.first()
    row = OutboxMessage.objects.create(
        program=wave.program, kind=K.SURVEY_REMINDER, object_id=wave.pk,
        recipient_type="clinician", recipient_id=rec.clinician_id, email=rec.email,
        occurrence="reminder:manual", due_at=timezone.now(),
    )  # fmt: skip
    waves.response_submit(recipient=rec, answers={})
    mailoutbox.clear()
    assert outbox_send(message_id=row.pk) == "skipped"
    row.refresh_from_db()
    assert row.skip_reason == "The person had already answered."
    assert not mailoutbox


def test_nothing_goes_out_for_a_closed_wave(wave, mailoutbox, coordinator):
    rec = wave.recipients.first()
    row = OutboxMessage.objects.create(
        program=wave.program, kind=K.SURVEY_REMINDER, object_id=wave.pk,
        recipient_type="clinician", recipient_id=rec.clinician_id, email=rec.email,
        occurrence="reminder:late", due_at=timezone.now(),
    )  # fmt: skip
    waves.wave_close(wave=wave, actor=coordinator)
    mailoutbox.clear()
    assert outbox_send(message_id=row.pk) == "skipped"
    assert not mailoutbox
    reminders_scan(now=wave.closes_at - timedelta(hours=1), enqueue=False)
    assert not OutboxMessage.objects.filter(occurrence="reminder").exists()


def test_a_manual_reminder_goes_to_non_respondents_now(
    confidential_wave, mailoutbox, coordinator, django_capture_on_commit_callbacks
):
    wave = confidential_wave
    waves.response_submit(recipient=wave.recipients.first(), answers={})
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        n = waves.wave_remind_now(wave=wave, actor=coordinator)
    assert n == 3 and len(mailoutbox) == 3


def test_an_anonymous_wave_skips_only_people_recorded_in_a_batch(
    wave, mailoutbox, coordinator, django_capture_on_commit_callbacks
):
    """Until at least k have answered, nobody is known to have answered an anonymous wave:
    a reminder reaches all (and thanks those who did). Once a batch is recorded, it skips
    the batch."""
    Program.objects.filter(pk=wave.program_id).update(
        small_cell_k=3, small_cell_k_reason="Four recipients in this test"
    )
    wave.program.refresh_from_db()
    people = list(wave.recipients.all())
    for rec in people[:2]:
        waves.response_submit(recipient=rec, answers={})
    assert waves.respondents_record(wave=wave) == 0
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert waves.wave_remind_now(wave=wave, actor=coordinator) == 4
    assert "If you have already sent them, thank you" in body(mailoutbox[0])

    waves.response_submit(recipient=people[2], answers={})
    assert waves.respondents_record(wave=wave) == 3
    OutboxMessage.objects.all().delete()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert waves.wave_remind_now(wave=wave, actor=coordinator) == 1
    assert [m.to[0] for m in mailoutbox] == [people[3].email]


def test_people_who_unsubscribed_get_the_invitation_but_not_reminders(
    wave, mailoutbox, coordinator, django_capture_on_commit_callbacks
):
    rec = wave.recipients.first()
    OutboxOptOut.objects.create(program=wave.program, email=rec.email)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        waves.wave_remind_now(wave=wave, actor=coordinator)
    assert rec.email not in [m.to[0] for m in mailoutbox] and len(mailoutbox) == 3


def test_a_confidential_invitation_says_answers_are_linked(program, coordinator):
    group = GroupFactory(program=program)
    GroupMembershipFactory(group=group)
    wave = waves.wave_open(
        program=program, actor=coordinator, name="Follow-up", mode=Wave.Mode.CONFIDENTIAL,
        closes_at=timezone.now() + timedelta(days=5), audience=Wave.Audience.ALL_ACTIVE,
    )  # fmt: skip
    row = OutboxMessage.objects.get(kind=K.SURVEY_INVITATION, object_id=wave.pk)
    rendered = render_message(row)
    assert "confidential, not anonymous" in rendered.text
    assert "linked to your name" in rendered.html
    assert rendered.ics is None
