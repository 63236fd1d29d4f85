"""The outbox with eager Celery and the locmem email backend: due-scan, staleness, sending,
rendering, preferences, the coordinator's page."""

from __future__ import annotations

import logging
import re
import smtplib
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ccdg.models import OutboxMessage, OutboxOptOut, ReminderSettings
from ccdg.outbox.rendering import render_message, unsubscribe_token
from ccdg.outbox.scan import leases_expire, reminders_scan
from ccdg.outbox.sending import outbox_send
from sessions_app.models import Clinician, Presentation
from sessions_app.reminders import kinds as K
from sessions_app.schedule import services as schedule_services
from tests.factories import (
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    OutboxMessageFactory,
    PresentationFactory,
    ProgramFactory,
    SessionFactory,
)

S = OutboxMessage.Status


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that answers 451 to every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPDataError(451, b"try again later, dear alice@example.org")


@pytest.fixture
def group(program):
    group = GroupFactory(program=program)
    for n in range(3):
        GroupMembershipFactory(group=group, clinician__email=f"member{n}@example.org")
    FacilitatorAssignmentFactory(group=group, facilitator__email="lead@example.org")
    return group


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


def as_text(content) -> str:
    return content.decode() if isinstance(content, bytes) else content


def scan(capture, **kwargs):
    with capture(execute=True):
        return reminders_scan(**kwargs)


def test_session_reminder_goes_to_members_and_facilitators_once(
    group, django_capture_on_commit_callbacks, mailoutbox
):
    session = SessionFactory(group=group, starts_at=in_days(6))

    scan(django_capture_on_commit_callbacks)
    scan(django_capture_on_commit_callbacks)

    reminders = OutboxMessage.objects.filter(kind=K.SESSION_REMINDER, object_id=session.pk)
    assert sorted(reminders.values_list("email", "status")) == [
        ("lead@example.org", S.SENT),
        ("member0@example.org", S.SENT),
        ("member1@example.org", S.SENT),
        ("member2@example.org", S.SENT),
    ]
    session_mail = [m for m in mailoutbox if m.subject.startswith("Reminder:")]
    assert sorted(m.to[0] for m in session_mail) == [
        "lead@example.org",
        "member0@example.org",
        "member1@example.org",
        "member2@example.org",
    ]


def test_nothing_is_due_before_its_time(group, django_capture_on_commit_callbacks, mailoutbox):
    SessionFactory(group=group, starts_at=in_days(8))

    scan(django_capture_on_commit_callbacks)

    assert OutboxMessage.objects.filter(kind=K.SESSION_REMINDER).count() == 0


def test_a_reminder_for_a_session_that_already_happened_is_skipped_with_the_reason(
    group, django_capture_on_commit_callbacks, mailoutbox
):
    SessionFactory(group=group, starts_at=in_days(-1))

    scan(django_capture_on_commit_callbacks)

    reminders = OutboxMessage.objects.filter(kind=K.SESSION_REMINDER)
    assert set(reminders.values_list("status", "skip_reason")) == {
        (S.SKIPPED, "The session had already started when this came due.")
    }
    assert [m for m in mailoutbox if m.subject.startswith("Reminder:")] == []


def test_a_rescheduled_session_is_a_new_occurrence_with_its_own_reminders(
    group, django_capture_on_commit_callbacks, mailoutbox
):
    session = SessionFactory(group=group, starts_at=in_days(6))
    scan(django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        schedule_services.session_reschedule(
            session=session,
            starts_at=in_days(5).replace(minute=0, second=0, microsecond=0),
            room=None,
            actor=None,
        )
    scan(django_capture_on_commit_callbacks)

    rows = OutboxMessage.objects.filter(object_id=session.pk, recipient_type="clinician")
    assert rows.filter(kind=K.SESSION_REMINDER).values("occurrence").distinct().count() == 2
    assert rows.filter(kind=K.SESSION_RESCHEDULED, status=S.SENT).count() == 3
    moved = [m for m in mailoutbox if m.subject.startswith("Moved:")]
    assert len(moved) == 4
    ics = moved[0].attachments[0]
    assert ics[0] == "session.ics"
    assert "SEQUENCE:1" in as_text(ics[1])


def test_a_cancellation_reaches_people_who_opted_out(
    group, django_capture_on_commit_callbacks, mailoutbox
):
    session = SessionFactory(group=group, starts_at=in_days(20))
    OutboxOptOut.objects.create(program=group.program, email="member0@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        schedule_services.session_cancel(session=session, reason="snow", actor=None)

    cancelled = [m for m in mailoutbox if m.subject.startswith("Cancelled:")]
    assert "member0@example.org" in {m.to[0] for m in cancelled}
    assert "STATUS:CANCELLED" in as_text(cancelled[0].attachments[0][1])


def test_the_message_carries_no_case_details(group, mailoutbox):
    session = SessionFactory(group=group, starts_at=in_days(6), agenda_name="Balint 60")
    PresentationFactory(
        session=session,
        clinician=Clinician.objects.filter(memberships__group=group).first(),
        working_title="Mrs Smith's terminal diagnosis",
    )
    row = OutboxMessageFactory(
        program=group.program, object_id=session.pk, email="member1@example.org"
    )

    rendered = render_message(row)

    assert "Presenter: confirmed" in rendered.text
    assert "Balint 60" in rendered.text
    for part in (rendered.text, rendered.html, rendered.ics.decode()):
        assert "Smith" not in part
    assert "my-sessions" in rendered.text


def test_a_malformed_address_fails_only_its_own_row(
    group, django_capture_on_commit_callbacks, mailoutbox
):
    Clinician.objects.filter(email="member1@example.org").update(email="not an address")
    SessionFactory(group=group, starts_at=in_days(6))

    scan(django_capture_on_commit_callbacks)

    rows = OutboxMessage.objects.filter(kind=K.SESSION_REMINDER)
    assert rows.get(email="not an address").status == S.FAILED
    assert rows.get(email="not an address").last_error == "Invalid email address on the roster."
    assert rows.filter(status=S.SENT).count() == 3


def test_a_template_error_fails_only_that_kind(
    group, django_capture_on_commit_callbacks, mailoutbox, settings, tmp_path
):
    (tmp_path / "emails" / "outbox").mkdir(parents=True)
    (tmp_path / "emails" / "outbox" / "no_presenter.txt").write_text("{% broken %}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    SessionFactory(group=group, starts_at=in_days(6))

    scan(django_capture_on_commit_callbacks)

    alert = OutboxMessage.objects.get(kind=K.NO_PRESENTER)
    assert (alert.status, alert.last_error) == (S.FAILED, "Template error: TemplateSyntaxError")
    assert OutboxMessage.objects.filter(kind=K.SESSION_REMINDER, status=S.SENT).count() == 4


def test_a_refusing_smtp_server_is_retried_then_the_row_fails(
    group, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    row = OutboxMessageFactory(program=group.program)

    with django_capture_on_commit_callbacks(execute=True):
        reminders_scan()

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (S.FAILED, 3, "SMTPDataError 451")


def test_a_paused_program_keeps_its_messages_until_resumed(
    group, coordinator_client, django_capture_on_commit_callbacks, mailoutbox
):
    slug = group.program.slug
    coordinator_client.post(reverse("outbox:outbox_pause", kwargs={"slug": slug}))
    SessionFactory(group=group, starts_at=in_days(6))

    scan(django_capture_on_commit_callbacks)

    assert OutboxMessage.objects.filter(status=S.PENDING).count() > 0
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(reverse("outbox:outbox_resume", kwargs={"slug": slug}))
    assert OutboxMessage.objects.filter(status=S.PENDING).count() == 0
    assert len(mailoutbox) > 0


def test_a_row_claimed_by_someone_else_is_not_sent_again(group, mailoutbox):
    row = OutboxMessageFactory(program=group.program, status=S.SENDING)

    assert outbox_send(message_id=row.pk) == "not claimed"
    assert mailoutbox == []


def test_a_row_whose_lease_expired_goes_back_to_pending_and_is_sent(group, mailoutbox):
    row = OutboxMessageFactory(
        program=group.program, status=S.SENDING, attempts=1, lease_owner="dead-worker:1:ab",
        claimed_at=timezone.now() - timedelta(hours=1),
        lease_expires_at=timezone.now() - timedelta(minutes=58),
    )  # fmt: skip

    assert leases_expire(now=timezone.now()) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (S.PENDING, 1, "lease expired")
    assert outbox_send(message_id=row.pk) == "sent"
    assert len(mailoutbox) == 1


def test_launch_announcements_go_to_invited_clinicians(
    program, django_capture_on_commit_callbacks, mailoutbox
):
    invited = ClinicianFactory(program=program, status=Clinician.Status.INVITED)
    ClinicianFactory(program=program, status=Clinician.Status.ELIGIBLE)
    SessionFactory(group=GroupFactory(program=program), starts_at=in_days(25))

    scan(django_capture_on_commit_callbacks)

    launch = OutboxMessage.objects.filter(kind__in=[K.LAUNCH, K.LAUNCH_SECOND])
    assert list(launch.values_list("kind", "email", "status")) == [
        (K.LAUNCH, invited.email, S.SENT)
    ]


def test_timings_are_the_programs(group, django_capture_on_commit_callbacks, mailoutbox):
    ReminderSettings.objects.create(program=group.program, session_days=2)
    SessionFactory(group=group, starts_at=in_days(6))

    scan(django_capture_on_commit_callbacks)

    assert OutboxMessage.objects.filter(kind=K.SESSION_REMINDER).count() == 0


def test_dispatch_reminders_runs_the_scan_once(group, capsys):
    SessionFactory(group=group, starts_at=in_days(6))

    call_command("dispatch_reminders", "--no-enqueue")
    call_command("dispatch_reminders", "--no-enqueue")

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("5 new")  # 4 reminders + the facilitators' no-presenter alert
    assert out[1].startswith("0 new")


# --- Preferences -------------------------------------------------------------------------


def _next_meeting(group):
    SessionFactory(group=group, starts_at=timezone.now() - timedelta(hours=2))
    return SessionFactory(group=group, starts_at=in_days(14))


def unsubscribe_link(group, capture, mailoutbox) -> str:
    """The path of the unsubscribe link in member0's next-meeting note."""
    _next_meeting(group)
    scan(capture)
    note = next(m for m in mailoutbox if m.to == ["member0@example.org"])
    link = note.extra_headers["List-Unsubscribe"].strip("<>")
    assert f"<{link}>" in note.extra_headers["List-Unsubscribe"]
    assert link in note.body  # the same address in the text
    return link.split("localhost:8000", 1)[1]


def unsubscribe_page(program) -> str:
    """The program's unsubscribe page, where the link leads (no token in it)."""
    return reverse("outbox:unsubscribe_confirm", kwargs={"slug": program.slug})


def test_optional_messages_carry_a_working_unsubscribe_link(
    group, client, django_capture_on_commit_callbacks, mailoutbox
):
    path = unsubscribe_link(group, django_capture_on_commit_callbacks, mailoutbox)

    opened = client.get(path)
    page = client.get(opened["Location"])
    assert not OutboxOptOut.objects.exists()  # opening the link unsubscribes nobody
    done = client.post(opened["Location"])

    assert (opened.status_code, opened["Location"]) == (303, unsubscribe_page(group.program))
    assert page.status_code == 200 and b">Unsubscribe</button>" in page.content
    assert done.status_code == 200 and b"Done: you will no longer receive" in done.content
    assert OutboxOptOut.objects.filter(email="member0@example.org").exists()


def test_a_mail_program_unsubscribes_in_one_click(
    group, client, django_capture_on_commit_callbacks, mailoutbox
):
    """RFC 8058: the mail program POSTs to the link itself, with no cookie and no redirect."""
    path = unsubscribe_link(group, django_capture_on_commit_callbacks, mailoutbox)

    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert OutboxOptOut.objects.filter(email="member0@example.org").exists()


def test_the_unsubscribe_link_leads_to_a_page_without_its_token(
    group, django_capture_on_commit_callbacks, mailoutbox
):
    path = unsubscribe_link(group, django_capture_on_commit_callbacks, mailoutbox)
    token = path.strip("/").rsplit("/", 1)[-1]
    client = Client(enforce_csrf_checks=True)

    opened = client.get(path)
    page = client.get(opened["Location"])
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    done = client.post(opened["Location"], {"csrfmiddlewaretoken": csrf.group(1)})

    name = f"ccdg_unsubscribe.{group.program.slug}"
    cookie = opened.cookies[name]
    assert cookie["path"] == unsubscribe_page(group.program)
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert 0 < int(cookie["max-age"]) <= 12 * 3600
    assert [page.status_code, done.status_code] == [200, 200]
    for response in (opened, page, done):
        html = response.content.decode()
        assert token not in html and token not in response.get("Location", "")
        for action in re.findall(r'<form[^>]*action="([^"]*)"', html):
            assert token not in action
    assert done.cookies[name].value == ""  # done: the cookie goes
    assert OutboxOptOut.objects.filter(email="member0@example.org").exists()


def test_the_unsubscribe_page_needs_its_form_token(
    group, django_capture_on_commit_callbacks, mailoutbox
):
    """The page's form is protected like any other (only the one-click POST is exempt)."""
    path = unsubscribe_link(group, django_capture_on_commit_callbacks, mailoutbox)
    client = Client(enforce_csrf_checks=True)
    opened = client.get(path)

    assert client.post(opened["Location"]).status_code == 403
    assert not OutboxOptOut.objects.exists()


def test_the_unsubscribe_page_without_a_valid_cookie_is_refused_like_an_unknown_link(
    group, client, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    path = unsubscribe_link(group, django_capture_on_commit_callbacks, mailoutbox)
    token = path.strip("/").rsplit("/", 1)[-1]
    name = f"ccdg_unsubscribe.{group.program.slug}"
    page = unsubscribe_page(group.program)
    unknown = client.get(reverse("outbox:unsubscribe", kwargs={"token": "f" * 64}))
    client.get(path)
    value = client.cookies[name].value
    other = ProgramFactory()

    def refusals():
        for forged in (
            None,  # no cookie
            value[:-1] + ("A" if value[-1] != "A" else "B"),  # a broken signature
            token,  # the bare token, unsigned
            value.replace(token, "0" * 64),  # another token, old signature
        ):
            client.cookies.pop(name, None)
            if forged is not None:
                client.cookies[name] = forged
            yield client.get(page)
            yield client.post(page)
        # A genuine cookie, at another program's page (under that page's cookie name).
        client.cookies[f"ccdg_unsubscribe.{other.slug}"] = value
        yield client.get(unsubscribe_page(other))
        yield client.post(unsubscribe_page(other))
        client.cookies[name] = value
        later = time.time() + 13 * 3600
        with monkeypatch.context() as m:
            m.setattr(time, "time", lambda: later)  # the page was left open overnight
            yield client.get(page)
            yield client.post(page)

    def body(response) -> str:  # without the CSRF token, new on every request
        return re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())

    assert unknown.status_code == 404
    for response in refusals():
        assert response.status_code == 404
        assert body(response) == body(unknown)
    assert not OutboxOptOut.objects.exists()
    assert client.get(page).status_code == 200  # the genuine cookie, in time


def test_no_unsubscribe_token_reaches_the_logs(
    group, client, django_capture_on_commit_callbacks, mailoutbox, caplog
):
    path = unsubscribe_link(group, django_capture_on_commit_callbacks, mailoutbox)
    token = path.strip("/").rsplit("/", 1)[-1]
    caplog.set_level(logging.DEBUG)

    client.get(path + "extra/")
    client.put(path)
    client.get(reverse("outbox:unsubscribe", kwargs={"token": "f" * 64}))
    client.post(reverse("outbox:unsubscribe", kwargs={"token": "e" * 64}))
    opened = client.get(path)
    client.post(opened["Location"])
    client.post(path)

    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Not Found: /unsubscribe/") for m in messages)
    assert any(m.startswith("Method Not Allowed (PUT): /unsubscribe/") for m in messages)
    assert [m for m in messages if token in m or "f" * 64 in m or "e" * 64 in m] == []
    assert token not in caplog.text


def test_an_unsubscribed_person_gets_no_optional_messages(
    group, django_capture_on_commit_callbacks, mailoutbox
):
    OutboxOptOut.objects.create(program=group.program, email="member0@example.org")
    _next_meeting(group)

    scan(django_capture_on_commit_callbacks)

    row = OutboxMessage.objects.get(kind=K.NEXT_MEETING, email="member0@example.org")
    assert (row.status, row.skip_reason) == (
        S.SKIPPED,
        "The person unsubscribed from optional messages.",
    )
    assert "member0@example.org" not in {m.to[0] for m in mailoutbox}


def test_an_unknown_unsubscribe_token_is_404(group, client):
    unsubscribe_token(program_id=group.program.pk, email="member0@example.org")

    response = client.post(reverse("outbox:unsubscribe", kwargs={"token": "f" * 64}))

    assert response.status_code == 404
    assert not OutboxOptOut.objects.exists()


def test_only_the_token_hash_is_stored(group):
    from ccdg.models import UnsubscribeToken

    token = unsubscribe_token(program_id=group.program.pk, email="member0@example.org")

    assert not UnsubscribeToken.objects.filter(token_hash=token).exists()
    assert UnsubscribeToken.objects.count() == 1


# --- The coordinator's page --------------------------------------------------------------


def test_outbox_page_shows_counts_per_tab(group, coordinator_client):
    OutboxMessageFactory(program=group.program, status=S.FAILED, last_error="SMTPDataError 550")
    OutboxMessageFactory(program=group.program, status=S.SENT)
    OutboxMessageFactory(program=group.program, status=S.SENT)

    response = coordinator_client.get(
        reverse("outbox:outbox", kwargs={"slug": group.program.slug}) + "?tab=failed"
    )

    assert response.context["counts"] == {
        "upcoming": 0, "sent": 2, "failed": 1, "skipped": 0,
    }  # fmt: skip
    assert b"SMTPDataError 550" in response.content


def test_preview_shows_the_recipients_message(group, coordinator_client):
    row = OutboxMessageFactory(program=group.program)

    response = coordinator_client.get(
        reverse("outbox:outbox_preview", kwargs={"slug": group.program.slug, "pk": row.pk})
    )

    assert response.status_code == 200
    assert b"Presenter: not yet confirmed" in response.content


def test_resend_puts_a_failed_message_back_and_sends_it(
    group, coordinator_client, django_capture_on_commit_callbacks, mailoutbox
):
    row = OutboxMessageFactory(program=group.program, status=S.FAILED, attempts=5)

    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            reverse("outbox:outbox_resend", kwargs={"slug": group.program.slug, "pk": row.pk})
        )

    row.refresh_from_db()
    assert row.status == S.SENT
    assert [m.to for m in mailoutbox] == [[row.email]]


def test_a_no_presenter_alert_is_skipped_when_someone_confirmed_meanwhile(group, mailoutbox):
    session = SessionFactory(group=group, starts_at=in_days(6))
    row = OutboxMessageFactory(
        program=group.program, kind=K.NO_PRESENTER, object_id=session.pk,
        recipient_type="facilitator",
    )  # fmt: skip
    PresentationFactory(session=session, status=Presentation.Status.CONFIRMED)

    assert outbox_send(message_id=row.pk) == "skipped"
    assert mail.outbox == []


def test_a_long_outbox_tab_comes_in_pages_of_fifty(coordinator_client, program):
    from ccdg.outbox.services import PAGE
    from tests.factories import OutboxMessageFactory

    for _ in range(PAGE + 5):
        OutboxMessageFactory(program=program, status="sent")
    tab = reverse("outbox:outbox", kwargs={"slug": program.slug}) + "?tab=sent"

    first = coordinator_client.get(tab)
    second = coordinator_client.get(tab + "&page=2")

    assert len(first.context["rows"]) == PAGE and len(second.context["rows"]) == 5
    assert "page=2" in first.content.decode()
