"""The coordinator's survey pages: waves and their figures, opening a wave (and every bad
input), paper waves, wave actions, responses (list, detail, exclusion), paper entry, CSV import
through a preview, the codebook; who sees names, who may act, and flat query counts."""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ccdg.models import OutboxMessage
from sessions_app.models import Attendance, ProgramRole
from surveys import waves
from surveys.models import Response, ResponseImport, Wave, WaveRecipient
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    ResponseFactory,
    SessionFactory,
    UserFactory,
    WaveFactory,
    csv_bytes,
)
from tests.pages import program_page

pytestmark = pytest.mark.django_db


url = program_page("surveys")


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def members(program, n: int, group=None):
    group = group or GroupFactory(program=program)
    return group, [GroupMembershipFactory(group=group).clinician for _ in range(n)]


def online_wave(program, coordinator, *, mode=Wave.Mode.ANONYMOUS, **kwargs) -> Wave:
    return waves.wave_open(
        program=program,
        actor=coordinator,
        name=kwargs.pop("name", "Spring 2027"),
        closes_at=timezone.now() + timedelta(days=14),
        audience=Wave.Audience.ALL_ACTIVE,
        mode=mode,
        **kwargs,
    )


def submit(recipient: WaveRecipient, **answers) -> Response:
    return waves.response_submit(recipient=recipient, answers=answers or {"skill_empathy": "4"})


@pytest.fixture
def report_viewer_client(client, program):
    user = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    client.force_login(user)
    return client


@pytest.fixture
def paper_wave(program):
    """The reference program's paper wave: 35 handed out, 25 returned, one excluded."""
    wave = WaveFactory(program=program, name="Pilot year paper", slug="paper-2026",
                       distributed_count=35)  # fmt: skip
    for n in range(25):
        ResponseFactory(wave=wave, form_id=str(n + 1), answers={"skill_empathy": "4"},
                        excluded_reason="Damaged form" if n == 0 else "")  # fmt: skip
    return wave


# --- Wave list ---------------------------------------------------------------------------------


def test_wave_list_shows_each_wave_with_its_state_and_figures(
    coordinator_client, program, coordinator, paper_wave
):
    members(program, 4)
    online = online_wave(program, coordinator, is_pilot=True)
    submit(online.recipients.first())
    response = coordinator_client.get(url("wave_list", program))
    assert response.status_code == 200
    page = text(response)
    assert "Pilot year paper" in page and "Spring 2027" in page
    # 35 distributed, 25 returned (71%), 24 analysed, 1 excluded
    assert "Pilot year paper" in page
    assert "paper Anonymous Paper Handed out" in page
    assert "35 25 71% 24 1" in page
    assert "open pilot" in page
    assert "4 1 25% 1 0" in page
    assert "Open an online wave" in page
    assert "Record a paper wave" in page


def test_wave_list_of_a_program_without_waves(coordinator_client, program):
    response = coordinator_client.get(url("wave_list", program))
    assert "No survey waves yet." in text(response)


def test_wave_list_query_count_is_the_same_for_one_and_five_waves(
    coordinator_client, program, coordinator
):
    members(program, 3)

    def add_wave(n):
        wave = online_wave(program, coordinator, name=f"Online {n}")
        submit(wave.recipients.first())
        paper = WaveFactory(program=program)
        ResponseFactory(wave=paper, excluded_reason="Damaged form")
        ResponseFactory(wave=paper)

    add_wave(1)
    coordinator_client.get(url("wave_list", program))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(url("wave_list", program))
    for n in range(2, 6):
        add_wave(n)
    with CaptureQueriesContext(connection) as five:
        response = coordinator_client.get(url("wave_list", program))
    assert len(response.context["rows"]) == 10
    assert len(five) == len(one)


def test_program_nav_links_to_the_surveys(coordinator_client, program):
    response = coordinator_client.get(reverse("sessions_app:program_detail", args=[program.slug]))
    assert url("wave_list", program) in response.content.decode()


# --- Opening a wave ------------------------------------------------------------------------------


def wave_post(**overrides) -> dict:
    closes = timezone.localdate() + timedelta(days=10)
    data = {
        "name": "Spring 2027",
        "slug": "",
        "mode": "anonymous",
        "audience": "all_active",
        "audience_sessions": "3",
        "audience_group": "",
        "closes_on": closes.isoformat(),
        "closes_time": "23:59",
        "reminder_days": "3",
        "confirm": "1",  # as confirmed on the page that shows the invitation
    }
    data.update(overrides)
    return data


def builtin_pk():
    from surveys.services import builtin_instrument

    return builtin_instrument().pk


def test_wave_form_defaults(coordinator_client, program):
    response = coordinator_client.get(url("wave_create", program))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["instrument"].value() == builtin_pk()
    assert form["mode"].value() == "anonymous"
    assert form["reminder_days"].value() == 3
    closes = datetime.combine(form["closes_on"].value(), form["closes_time"].value())
    assert closes.date() == timezone.localdate() + timedelta(days=14) or closes.date() == (
        timezone.localdate() + timedelta(days=13)
    )
    assert "linked to its respondent so you can follow up" in text(response)


def test_opening_a_wave_sends_to_the_last_sessions_attendees_only(coordinator_client, program):
    group = GroupFactory(program=program)
    now = timezone.now()
    recent, older, oldest = (
        SessionFactory(group=group, starts_at=now - timedelta(days=d)) for d in (7, 14, 21)
    )
    SessionFactory(group=group, starts_at=now + timedelta(days=7))  # not held yet
    alice, bob, carol, dan, eve = (ClinicianFactory(program=program) for _ in range(5))
    AttendanceFactory(session=recent, clinician=alice)
    AttendanceFactory(session=older, clinician=bob, status=Attendance.Status.GUEST)
    AttendanceFactory(session=older, clinician=dan, status=Attendance.Status.ABSENT)
    AttendanceFactory(session=oldest, clinician=carol)
    response = coordinator_client.post(
        url("wave_create", program),
        wave_post(audience="last_sessions", audience_sessions="2", mode="confidential",
                  slug="spring-2027", **{"instrument": builtin_pk()}),
    )  # fmt: skip
    wave = Wave.objects.get(program=program)
    assert response.status_code == 302
    assert response["Location"] == url("wave_detail", program, wave="spring-2027")
    assert set(wave.recipients.values_list("clinician_id", flat=True)) == {alice.pk, bob.pk}
    assert wave.mode == "confidential" and wave.audience_sessions == 2
    queued = OutboxMessage.objects.filter(kind="survey_invitation", object_id=wave.pk).count()
    assert queued == 2
    page = coordinator_client.get(response["Location"])
    assert "“Spring 2027” is open: 2 invitations queued for 2 recipients." in messages_of(page)
    assert eve.pk not in set(wave.recipients.values_list("clinician_id", flat=True))


def test_the_closing_date_is_entered_in_the_programs_time_zone(coordinator_client):
    program = ProgramFactory(timezone="Asia/Tokyo")
    coordinator = ProgramRoleFactory(program=program).user
    coordinator_client.force_login(coordinator)
    members(program, 2)
    day = timezone.localdate() + timedelta(days=5)
    coordinator_client.post(
        url("wave_create", program),
        wave_post(closes_on=day.isoformat(), closes_time="18:00", instrument=builtin_pk()),
    )
    wave = Wave.objects.get(program=program)
    assert wave.closes_at == datetime.combine(day, time(18, 0), zoneinfo.ZoneInfo("Asia/Tokyo"))
    page = text(coordinator_client.get(url("wave_detail", program, wave=wave.slug)))
    assert f"{day:%b} {day.day}, {day.year} 18:00" in page


def test_a_group_wave_reaches_that_groups_members(coordinator_client, program):
    group, people = members(program, 3)
    members(program, 2)  # another group
    response = coordinator_client.post(
        url("wave_create", program),
        wave_post(audience="group", audience_group=str(group.pk), instrument=builtin_pk()),
    )
    assert response.status_code == 302
    wave = Wave.objects.get(program=program)
    assert set(wave.recipients.values_list("clinician_id", flat=True)) == {c.pk for c in people}


def test_opening_a_wave_first_shows_the_invitation_and_the_recipient_count_and_sends_nothing(
    coordinator_client, program, mailoutbox
):
    _, people = members(program, 4)
    data = wave_post(name="Autumn check-in", mode="anonymous", instrument=builtin_pk())
    del data["confirm"]

    response = coordinator_client.post(url("wave_create", program), data)

    assert response.status_code == 200
    page = text(response)
    assert "The invitation goes to 4 people as soon as you confirm." in page
    assert f"{program.name}: a short survey about your group" in page
    assert '("Autumn check-in", about 10 minutes)' in response.content.decode()
    assert "Your answers are anonymous" in page
    assert "Open the wave and send 4 invitations" in page
    for person in people:  # an anonymous wave's page names nobody
        assert person.first_name not in page and person.email not in page
    assert not Wave.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert mailoutbox == []


def test_the_invitation_shown_before_opening_is_the_one_sent(
    coordinator_client, program, mailoutbox, django_capture_on_commit_callbacks
):
    from ccdg.outbox.rendering import FIRST_NAME, PERSONAL_LINK

    members(program, 3)
    data = wave_post(mode="confidential", instrument=builtin_pk())
    del data["confirm"]
    shown = coordinator_client.post(url("wave_create", program), data).context["preview"]

    with django_capture_on_commit_callbacks(execute=True):
        opened = coordinator_client.post(url("wave_create", program), {**data, "confirm": "1"})

    assert opened.status_code == 302
    wave = Wave.objects.get(program=program)
    assert shown.recipients == wave.recipients.count() == len(mailoutbox) == 3
    for recipient in wave.recipients.select_related("clinician"):
        sent = next(m for m in mailoutbox if m.to == [recipient.email])
        expected = shown.text.replace(FIRST_NAME, recipient.clinician.first_name).replace(
            PERSONAL_LINK, waves.link_url(recipient)
        )
        assert (sent.subject, sent.body) == (shown.subject, expected)


def test_the_confirmation_page_carries_the_form_and_can_go_back_to_it(
    coordinator_client, program, mailoutbox
):
    group, _ = members(program, 2)
    members(program, 3)
    data = wave_post(name="Tuesday only", audience="group", audience_group=str(group.pk),
                     is_pilot="on", reminder_days="5", instrument=builtin_pk())  # fmt: skip
    del data["confirm"]
    page = coordinator_client.post(url("wave_create", program), data).content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page))

    back = coordinator_client.post(url("wave_create", program), {**hidden, "edit": "1"})

    assert back.status_code == 200 and "Tuesday only" in back.content.decode()
    assert back.context["form"]["reminder_days"].value() == "5"
    assert not Wave.objects.exists() and mailoutbox == []
    coordinator_client.post(url("wave_create", program), {**hidden, "confirm": "1"})
    wave = Wave.objects.get(program=program)
    assert (wave.name, wave.audience_group, wave.is_pilot, wave.reminder_days) == (
        "Tuesday only", group, True, 5,
    )  # fmt: skip
    assert wave.recipients.count() == 2


def test_an_anonymous_wave_below_the_small_cell_threshold_is_flagged_before_opening(
    coordinator_client, program
):
    members(program, program.small_cell_k - 1)
    data = wave_post(instrument=builtin_pk())
    del data["confirm"]

    response = coordinator_client.post(url("wave_create", program), data)

    assert response.context["preview"].below_k
    assert "fewer people than the program's small-cell threshold" in text(response)


def test_a_closing_date_in_the_past_is_refused_and_the_form_keeps_the_input(
    coordinator_client, program
):
    members(program, 2)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = coordinator_client.post(
        url("wave_create", program),
        wave_post(name="Late wave", closes_on=yesterday.isoformat(), instrument=builtin_pk()),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["closes_on"] == [
        "The closing date must be in the future."
    ]
    assert 'value="Late wave"' in response.content.decode()
    assert f'value="{yesterday.isoformat()}"' in response.content.decode()
    assert not Wave.objects.exists()


def test_an_audience_with_nobody_is_refused(coordinator_client, program):
    members(program, 2)
    response = coordinator_client.post(
        url("wave_create", program),
        wave_post(name="Empty", audience="last_sessions", audience_sessions="4",
                  instrument=builtin_pk()),
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["audience"] == [
        "Nobody matches this choice of recipients; the wave was not opened."
    ]
    assert 'value="Empty"' in response.content.decode()
    assert "Nobody matches this choice: the wave cannot be opened." in text(response)
    assert not Wave.objects.exists()


def test_a_group_audience_without_a_group_is_refused_on_the_group_field(
    coordinator_client, program
):
    members(program, 2)
    response = coordinator_client.post(
        url("wave_create", program), wave_post(audience="group", instrument=builtin_pk())
    )
    assert response.context["form"].errors["audience_group"] == [
        "Choose one of the program's groups."
    ]
    assert not Wave.objects.exists()


def test_a_duplicate_slug_is_refused(coordinator_client, program):
    members(program, 2)
    WaveFactory(program=program, slug="spring")
    response = coordinator_client.post(
        url("wave_create", program),
        wave_post(name="Spring again", slug="spring", instrument=builtin_pk()),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == ["The program already has a wave “spring”."]
    assert 'value="Spring again"' in response.content.decode()
    assert Wave.objects.filter(program=program).count() == 1


def test_a_slug_the_pages_use_is_refused(coordinator_client, program):
    members(program, 2)
    response = coordinator_client.post(
        url("wave_create", program), wave_post(slug="new", instrument=builtin_pk())
    )
    assert response.context["form"].errors["slug"] == [
        "“new” is used by the survey pages; choose another."
    ]
    assert not Wave.objects.exists()


def test_another_programs_group_cannot_be_chosen(coordinator_client, program):
    members(program, 2)
    other_group, _ = members(ProgramFactory(), 2)
    response = coordinator_client.post(
        url("wave_create", program),
        wave_post(audience="group", audience_group=str(other_group.pk), instrument=builtin_pk()),
    )
    assert "audience_group" in response.context["form"].errors
    assert not Wave.objects.exists()


def test_the_recipient_count_preview(coordinator_client, program):
    group, _ = members(program, 3)
    members(program, 2)
    count = url("wave_recipients_count", program)
    assert "reaches 5 people" in text(coordinator_client.get(count, {"audience": "all_active"}))
    page = coordinator_client.get(count, {"audience": "group", "audience_group": group.pk})
    assert "reaches 3 people" in text(page)
    page = coordinator_client.get(count, {"audience": "last_sessions", "audience_sessions": "2"})
    assert "Nobody matches" in text(page)
    page = coordinator_client.get(count, {"audience": "group", "audience_group": "x"})
    assert "Choose a group" in text(page)


# --- Paper waves ---------------------------------------------------------------------------------


def test_creating_a_paper_wave(coordinator_client, program):
    response = coordinator_client.post(
        url("paper_wave_create", program),
        {"name": "Reference session", "slug": "", "distributed": "35",
         "handed_out_on": "2026-10-14", "mode": "anonymous", "is_pilot": "on"},
    )  # fmt: skip
    wave = Wave.objects.get(program=program)
    assert response.status_code == 302
    assert response["Location"] == url("wave_detail", program, wave="reference-session")
    assert (wave.source, wave.distributed_count, wave.is_pilot) == ("paper", 35, True)
    assert timezone.localtime(wave.opens_at, zoneinfo.ZoneInfo(program.timezone)).date() == date(
        2026, 10, 14
    )


def test_a_paper_wave_needs_a_name_and_a_sensible_count(coordinator_client, program):
    response = coordinator_client.post(
        url("paper_wave_create", program),
        {"name": "", "distributed": "-3", "mode": "anonymous"},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "distributed"}
    assert not Wave.objects.exists()


# --- Wave page -----------------------------------------------------------------------------------


def test_paper_wave_page_shows_the_response_line_and_exclusion_reasons(
    coordinator_client, program, paper_wave
):
    response = coordinator_client.get(url("wave_detail", program, wave=paper_wave.slug))
    assert response.status_code == 200
    page = text(response)
    assert "35 distributed · 25 returned (71%) · 24 analysed · 1 excluded" in page
    assert "Damaged form: 1" in page
    assert "Enter a paper form" in page and "Import a CSV" in page
    assert reverse("surveys:codebook_version", args=["ccdg-participant", 1]) in (
        response.content.decode()
    )


def test_anonymous_wave_page_never_shows_who_was_asked_or_answered(
    coordinator_client, program, coordinator
):
    _, people = members(program, 3)
    wave = online_wave(program, coordinator)
    submit(wave.recipients.first())
    response = coordinator_client.get(url("wave_detail", program, wave=wave.slug))
    page = text(response)
    assert "3 distributed · 1 returned (33%)" in page
    for person in people:
        assert person.last_name not in page
        assert person.email not in page
    assert "Anonymous wave" in page
    listing = text(coordinator_client.get(url("response_list", program, wave=wave.slug)))
    for person in people:
        assert person.last_name not in listing


def test_confidential_wave_page_lists_recipients_with_answered_or_not(
    coordinator_client, program, coordinator
):
    _, people = members(program, 2)
    wave = online_wave(program, coordinator, mode=Wave.Mode.CONFIDENTIAL)
    first = wave.recipients.get(clinician=people[0])
    answer = submit(first)
    response = coordinator_client.get(url("wave_detail", program, wave=wave.slug))
    page = text(response)
    assert f"{people[0].full_name} Answered" in page
    assert f"{people[1].full_name} Not yet" in page
    assert url("response_detail", program, wave=wave.slug, pk=answer.pk) in (
        response.content.decode()
    )
    # The invitations in the outbox
    assert "Invitations 2 0 0 0" in page


def test_report_viewer_sees_figures_but_no_names_and_may_not_act(
    report_viewer_client, program, coordinator
):
    _, people = members(program, 2)
    wave = online_wave(program, coordinator, mode=Wave.Mode.CONFIDENTIAL)
    answer = submit(wave.recipients.get(clinician=people[0]))
    client = report_viewer_client
    assert client.get(url("wave_list", program)).status_code == 200
    detail = client.get(url("wave_detail", program, wave=wave.slug))
    assert detail.status_code == 200
    assert "2 distributed · 1 returned (50%)" in text(detail)
    assert "Close now" not in text(detail) and "Open an online wave" not in text(
        client.get(url("wave_list", program))
    )
    listing = client.get(url("response_list", program, wave=wave.slug))
    assert listing.status_code == 200
    assert people[0].last_name not in text(listing)
    shown = client.get(url("response_detail", program, wave=wave.slug, pk=answer.pk))
    assert shown.status_code == 200 and people[0].last_name not in text(shown)
    w, pk = {"wave": wave.slug}, {"wave": wave.slug, "pk": answer.pk}
    for name, kwargs in [
        ("wave_create", {}), ("paper_wave_create", {}), ("wave_recipients_count", {}),
        ("paper_entry", w), ("response_import", w),
    ]:  # fmt: skip
        assert client.get(url(name, program, **kwargs)).status_code == 403, name
    for name, kwargs in [
        ("wave_close", w), ("wave_extend", w), ("wave_remind", w), ("wave_pilot", w),
        ("response_exclude", pk), ("response_include", pk), ("paper_entry", w),
        ("wave_create", {}),
    ]:  # fmt: skip
        assert client.post(url(name, program, **kwargs), {"reason": "x"}).status_code == 403
    wave.refresh_from_db()
    assert wave.is_open() and not Response.objects.exclude(excluded_reason="").exists()


def test_someone_without_a_role_gets_404(client, program, paper_wave):
    client.force_login(ProgramRoleFactory().user)  # coordinator elsewhere
    assert client.get(url("wave_list", program)).status_code == 404
    assert client.get(url("wave_detail", program, wave=paper_wave.slug)).status_code == 404


def test_unknown_wave_is_404(coordinator_client, program):
    other = WaveFactory()  # another program's wave
    assert coordinator_client.get(url("wave_detail", program, wave=other.slug)).status_code == 404


def test_close_now(coordinator_client, program, coordinator):
    members(program, 2)
    wave = online_wave(program, coordinator)
    response = coordinator_client.post(url("wave_close", program, wave=wave.slug))
    assert response.status_code == 302
    wave.refresh_from_db()
    assert not wave.is_open() and wave.closed_at is not None
    again = coordinator_client.post(url("wave_close", program, wave=wave.slug), follow=True)
    assert "The wave is already closed." in messages_of(again)


def test_extend_the_closing_date(coordinator_client, program, coordinator):
    members(program, 2)
    wave = online_wave(program, coordinator)
    day = timezone.localdate() + timedelta(days=30)
    response = coordinator_client.post(
        url("wave_extend", program, wave=wave.slug),
        {"closes_on": day.isoformat(), "closes_time": "12:00"},
        follow=True,
    )
    wave.refresh_from_db()
    tz = zoneinfo.ZoneInfo(program.timezone)
    assert wave.closes_at == datetime.combine(day, time(12, 0), tz)
    assert f"“Spring 2027” now closes {day:%a %b} {day.day}, {day.year} at 12:00." in (
        messages_of(response)
    )


def test_extend_to_a_past_date_is_refused_with_the_input_kept(
    coordinator_client, program, coordinator
):
    members(program, 2)
    wave = online_wave(program, coordinator)
    before = wave.closes_at
    past = timezone.localdate() - timedelta(days=2)
    response = coordinator_client.post(
        url("wave_extend", program, wave=wave.slug),
        {"closes_on": past.isoformat(), "closes_time": "12:00"},
    )
    assert response.status_code == 400
    assert response.context["extend_form"].errors["closes_on"] == [
        "The closing date must be in the future."
    ]
    assert f'value="{past.isoformat()}"' in response.content.decode()
    wave.refresh_from_db()
    assert wave.closes_at == before


def test_remind_now_queues_a_reminder_for_those_who_have_not_answered(
    coordinator_client, program, coordinator
):
    members(program, 3)
    wave = online_wave(program, coordinator, mode=Wave.Mode.CONFIDENTIAL)
    submit(wave.recipients.first())
    response = coordinator_client.post(url("wave_remind", program, wave=wave.slug), follow=True)
    assert "A reminder is queued for 2 people who have not answered yet." in messages_of(response)
    assert OutboxMessage.objects.filter(kind="survey_reminder", object_id=wave.pk).count() == 2
    assert "Reminders 2 0 0 0" in text(response)


def test_anonymous_wave_reminds_everyone_not_yet_recorded_as_answered(
    coordinator_client, program, coordinator
):
    """Who answered an anonymous wave is known only in batches of k: until a batch is
    recorded, a reminder also reaches people who answered (its text thanks them)."""
    members(program, 7)
    wave = online_wave(program, coordinator)
    people = list(wave.recipients.all())
    for rec in people[:4]:
        submit(rec)
    response = coordinator_client.post(url("wave_remind", program, wave=wave.slug), follow=True)
    assert "A reminder is queued for 7 people who have not answered yet." in messages_of(response)

    submit(people[4])
    assert waves.respondents_record(wave=wave) == 5
    OutboxMessage.objects.all().delete()
    response = coordinator_client.post(url("wave_remind", program, wave=wave.slug), follow=True)
    assert "A reminder is queued for 2 people who have not answered yet." in messages_of(response)


def test_mark_and_unmark_pilot(coordinator_client, program, paper_wave):
    coordinator_client.post(url("wave_pilot", program, wave=paper_wave.slug), {"is_pilot": "1"})
    paper_wave.refresh_from_db()
    assert paper_wave.is_pilot
    coordinator_client.post(url("wave_pilot", program, wave=paper_wave.slug), {"is_pilot": "0"})
    paper_wave.refresh_from_db()
    assert not paper_wave.is_pilot


def test_wave_actions_refuse_get(coordinator_client, program, paper_wave):
    for name in ("wave_close", "wave_extend", "wave_remind", "wave_pilot"):
        assert coordinator_client.get(url(name, program, wave=paper_wave.slug)).status_code == 405


# --- Responses -----------------------------------------------------------------------------------


def test_response_list_pages_by_fifty(coordinator_client, program):
    wave = WaveFactory(program=program)
    ResponseFactory.create_batch(55, wave=wave)
    first = coordinator_client.get(url("response_list", program, wave=wave.slug))
    assert "55 responses." in text(first)
    assert "Response 50" in text(first) and "Response 51" not in text(first)
    second = coordinator_client.get(url("response_list", program, wave=wave.slug), {"page": 2})
    assert "Response 51" in text(second) and "Response 55" in text(second)


def test_response_list_in_a_confidential_wave_names_respondents_for_the_coordinator(
    coordinator_client, program, coordinator
):
    _, people = members(program, 2)
    wave = online_wave(program, coordinator, mode=Wave.Mode.CONFIDENTIAL)
    submit(wave.recipients.get(clinician=people[1]))
    page = text(coordinator_client.get(url("response_list", program, wave=wave.slug)))
    assert people[1].full_name in page and people[0].full_name not in page


def test_response_list_query_count_is_the_same_for_one_and_thirty_responses(
    coordinator_client, program, coordinator
):
    members(program, 30)
    wave = online_wave(program, coordinator, mode=Wave.Mode.CONFIDENTIAL)
    recipients = list(wave.recipients.all())
    submit(recipients[0])
    ResponseFactory(wave=wave, form_id="P1")
    page = url("response_list", program, wave=wave.slug)
    coordinator_client.get(page)
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(page)
    for r in recipients[1:29]:
        submit(r)
    with CaptureQueriesContext(connection) as thirty:
        response = coordinator_client.get(page)
    assert "30 responses." in text(response)
    assert len(thirty) == len(one)


def test_response_detail_shows_answers_with_question_text_and_labels_by_section(
    coordinator_client, program
):
    wave = WaveFactory(program=program, mode=Wave.Mode.CONFIDENTIAL)
    answer = ResponseFactory(
        wave=wave,
        form_id="17",
        answers={"gender": "female", "skill_empathy": "4", "addressed_isolation": "0",
                 "group": "2", "open_unique": "A place to think aloud."},
    )  # fmt: skip
    response = coordinator_client.get(url("response_detail", program, wave=wave.slug, pk=answer.pk))
    assert response.status_code == 200
    page = text(response)
    assert "Demographics" in page
    assert "Gender gender Female (female)" in page
    assert "Agree (4)" in page
    assert "No (0)" in page
    assert "A place to think aloud." in page
    assert "Form number 17" in page
    assert "No answer" in page


def test_an_anonymous_response_hides_answers_about_the_person_that_fewer_than_k_gave(
    coordinator_client, program
):
    """One psychologist among five physicians: her response page must not say
    "Psychologist", or the coordinator knows whose answers these are."""
    wave = WaveFactory(program=program)
    assert wave.is_anonymous and program.small_cell_k == 5
    physicians = [
        ResponseFactory(wave=wave, answers={"clinician_type": "physician", "skill_empathy": "4"})
        for _ in range(5)
    ]
    psychologist = ResponseFactory(
        wave=wave, answers={"clinician_type": "psychologist", "skill_empathy": "2"}
    )

    page = text(
        coordinator_client.get(url("response_detail", program, wave=wave.slug, pk=psychologist.pk))
    )
    assert "Psychologist" not in page and "psychologist" not in page
    assert "Hidden: fewer than 5 respondents gave this answer" in page
    assert "Disagree (2)" in page  # a rating describes no one: shown
    page = text(
        coordinator_client.get(url("response_detail", program, wave=wave.slug, pk=physicians[0].pk))
    )
    assert "Physician (physician)" in page and "Hidden" not in page

    wave.mode = Wave.Mode.CONFIDENTIAL
    wave.save()
    page = text(
        coordinator_client.get(url("response_detail", program, wave=wave.slug, pk=psychologist.pk))
    )
    assert "Psychologist" in page


def test_a_response_of_another_wave_or_program_is_404(coordinator_client, program):
    wave = WaveFactory(program=program)
    other_wave = WaveFactory(program=program)
    foreign = ResponseFactory()  # another program
    mine = ResponseFactory(wave=other_wave)
    assert (
        coordinator_client.get(
            url("response_detail", program, wave=wave.slug, pk=mine.pk)
        ).status_code
        == 404
    )
    assert (
        coordinator_client.get(
            url("response_detail", program, wave=wave.slug, pk=foreign.pk)
        ).status_code
        == 404
    )
    assert (
        coordinator_client.post(
            url("response_exclude", program, wave=wave.slug, pk=mine.pk), {"reason": "x"}
        ).status_code
        == 404
    )


def test_exclude_and_include_a_response(coordinator_client, program):
    wave = WaveFactory(program=program)
    answer = ResponseFactory(wave=wave)
    response = coordinator_client.post(
        url("response_exclude", program, wave=wave.slug, pk=answer.pk),
        {"reason": "Damaged form"},
        follow=True,
    )
    answer.refresh_from_db()
    assert answer.excluded_reason == "Damaged form"
    assert "Excluded because Damaged form" in text(response)
    wave_page = text(coordinator_client.get(url("wave_detail", program, wave=wave.slug)))
    assert "1 returned (10%) · 0 analysed · 1 excluded" in wave_page
    coordinator_client.post(url("response_include", program, wave=wave.slug, pk=answer.pk))
    answer.refresh_from_db()
    assert answer.excluded_reason == ""


def test_excluding_needs_a_reason(coordinator_client, program):
    wave = WaveFactory(program=program)
    answer = ResponseFactory(wave=wave)
    response = coordinator_client.post(
        url("response_exclude", program, wave=wave.slug, pk=answer.pk), {"reason": "  "}
    )
    assert response.status_code == 400
    assert response.context["exclude_form"].errors["reason"] == ["This field is required."]
    answer.refresh_from_db()
    assert answer.excluded_reason == ""


# --- Paper entry ---------------------------------------------------------------------------------


def test_paper_entry_page_has_every_question(coordinator_client, program):
    wave = WaveFactory(program=program)
    response = coordinator_client.get(url("paper_entry", program, wave=wave.slug))
    html = response.content.decode()
    assert response.status_code == 200
    assert len(re.findall(r'<legend class="h5">', html)) == 5
    for code in ("gender", "skill_empathy", "challenge_isolation", "open_other"):
        assert f'name="q_{code}"' in html
    # A paper wave: the group is whatever label the forms used
    assert '<input type="text" name="q_group"' in html


def test_paper_entry_on_an_online_wave_offers_the_group_names(
    coordinator_client, program, coordinator
):
    group, _ = members(program, 2)
    wave = online_wave(program, coordinator)
    html = coordinator_client.get(url("paper_entry", program, wave=wave.slug)).content.decode()
    assert f'<option value="{group.name}">{group.name}</option>' in html


def test_paper_entry_stores_a_response(coordinator_client, program, coordinator):
    wave = WaveFactory(program=program)
    response = coordinator_client.post(
        url("paper_entry", program, wave=wave.slug),
        {"form_id": "12", "q_gender": "female", "q_skill_empathy": "5", "q_group": "2",
         "q_open_unique": "Hearing how others cope.", "q_addressed_isolation": "",
         "excluded_reason": ""},
    )  # fmt: skip
    saved = Response.objects.get(wave=wave)
    assert response.status_code == 302
    assert response["Location"] == url("response_detail", program, wave=wave.slug, pk=saved.pk)
    assert saved.answers == {"gender": "female", "skill_empathy": "5", "group": "2",
                             "open_unique": "Hearing how others cope."}  # fmt: skip
    assert (saved.source, saved.form_id, saved.entered_by) == ("paper", "12", coordinator)


def test_save_and_enter_another_returns_to_an_empty_form(coordinator_client, program):
    wave = WaveFactory(program=program)
    response = coordinator_client.post(
        url("paper_entry", program, wave=wave.slug),
        {"q_skill_empathy": "3", "another": "1"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("paper_entry", program, wave=wave.slug)
    assert "Response 1 saved. Enter the next form." in messages_of(response)
    assert 'value="3" checked' not in response.content.decode()
    assert Response.objects.filter(wave=wave).count() == 1


def test_paper_entry_refuses_an_invalid_form_and_keeps_what_was_typed(coordinator_client, program):
    wave = WaveFactory(program=program)
    ResponseFactory(wave=wave, form_id="12")
    response = coordinator_client.post(
        url("paper_entry", program, wave=wave.slug),
        {"form_id": "12", "q_skill_empathy": "4", "q_group": "G" * 41,
         "q_open_other": "Thanks"},
    )  # fmt: skip
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["q_group"] == ["group: is longer than 40 characters."]
    html = response.content.decode()
    assert re.search(r'value="4"[^>]*checked', html)
    assert "Thanks</textarea>" in html
    assert Response.objects.filter(wave=wave).count() == 1
    # The group is fine now; the form number is still a duplicate.
    response = coordinator_client.post(
        url("paper_entry", program, wave=wave.slug),
        {"form_id": "12", "q_skill_empathy": "4", "q_group": "3"},
    )
    assert response.context["form"].errors["form_id"] == ["Form “12” has already been entered."]
    assert Response.objects.filter(wave=wave).count() == 1


def test_paper_entry_refuses_an_unknown_value_code(coordinator_client, program):
    wave = WaveFactory(program=program)
    response = coordinator_client.post(
        url("paper_entry", program, wave=wave.slug), {"q_skill_empathy": "9"}
    )
    assert response.status_code == 400
    assert "q_skill_empathy" in response.context["form"].errors
    assert not Response.objects.filter(wave=wave).exists()


def test_paper_entry_warns_about_identifiers_in_free_text(coordinator_client, program):
    wave = WaveFactory(program=program)
    response = coordinator_client.post(
        url("paper_entry", program, wave=wave.slug),
        {"q_open_other": "My patient John Smith, born 03/14/1950, came back."},
        follow=True,
    )
    warnings = [m for m in messages_of(response) if "may contain identifiers" in m]
    assert len(warnings) == 1 and "open_other" in warnings[0]
    assert "John" not in warnings[0]
    assert Response.objects.filter(wave=wave).count() == 1


# --- CSV import ----------------------------------------------------------------------------------


def upload(client, program, wave, content: bytes, name="responses.csv"):
    return client.post(
        url("response_import", program, wave=wave.slug),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_import_page_lists_the_columns(coordinator_client, program):
    wave = WaveFactory(program=program)
    page = text(coordinator_client.get(url("response_import", program, wave=wave.slug)))
    assert "skill_empathy 1 = Strongly disagree;" in page
    assert "excluded_reason" in page


def test_import_with_errors_shows_them_by_line_and_saves_nothing(coordinator_client, program):
    wave = WaveFactory(program=program)
    content = csv_bytes(
        "form_id,gender,skill_empathy",
        "1,female,4",
        "2,woman,4",
        "3,male,7",
        "1,male,2",
    )
    response = upload(coordinator_client, program, wave, content)
    draft = ResponseImport.objects.get(wave=wave)
    assert response.status_code == 302
    assert response["Location"] == url("response_import_preview", program, wave=wave.slug,
                                       pk=draft.pk)  # fmt: skip
    preview = coordinator_client.get(response["Location"])
    page = text(preview)
    assert "Nothing can be imported until these problems are fixed" in page
    assert re.search(r"\b3 gender .*woman", page)
    assert re.search(r"\b4 skill_empathy .*7", page)
    assert re.search(r"\b5 form_id Duplicates row 2", page)
    assert "Import " not in page.replace("Import responses", "")
    # Confirming anyway imports nothing.
    refused = coordinator_client.post(response["Location"])
    assert refused.status_code == 400
    assert not Response.objects.filter(wave=wave).exists()


def test_a_good_file_is_previewed_then_imported_on_confirmation(coordinator_client, program):
    wave = WaveFactory(program=program)
    content = csv_bytes(
        "form_id,gender,skill_empathy,open_other,excluded_reason",
        "1,female,4,Good,",
        "2,male,5,,",
        "3,,2,,Damaged form",
    )
    preview_url = upload(coordinator_client, program, wave, content)["Location"]
    preview = coordinator_client.get(preview_url)
    page = re.sub(r" ,", ",", text(preview))
    assert "3 responses ready to import, 1 of them excluded from the analysis" in page
    assert "Import 3 responses" in page
    assert "columns recognised: form_id, gender, skill_empathy, open_other, excluded_reason" in page
    assert not Response.objects.filter(wave=wave).exists()
    done = coordinator_client.post(preview_url, follow=True)
    assert "3 responses imported, 1 of them excluded from the analysis." in messages_of(done)
    assert Response.objects.filter(wave=wave, source="import").count() == 3
    assert "10 distributed · 3 returned (30%) · 2 analysed · 1 excluded" in text(done)
    again = coordinator_client.post(preview_url, follow=True)
    assert "responses.csv was already imported." in messages_of(again)
    assert Response.objects.filter(wave=wave).count() == 3


def test_a_file_that_is_not_text_is_refused_at_upload(coordinator_client, program):
    wave = WaveFactory(program=program)
    response = upload(coordinator_client, program, wave, b"\x00\x01binary", name="data.xlsx")
    assert response.status_code == 400
    assert "not a text file" in " ".join(response.context["form"].errors["file"])
    assert not ResponseImport.objects.exists()


def test_another_waves_import_draft_is_404(coordinator_client, program):
    wave = WaveFactory(program=program)
    other = WaveFactory(program=program)
    draft = ResponseImport.objects.create(wave=other, filename="x.csv", content=b"gender\n")
    page = url("response_import_preview", program, wave=wave.slug, pk=draft.pk)
    assert coordinator_client.get(page).status_code == 404


# --- Codebook ------------------------------------------------------------------------------------


def test_codebook_page_is_open_to_any_signed_in_user(client):
    client.force_login(UserFactory())  # no role anywhere
    response = client.get(reverse("surveys:codebook", args=["ccdg-participant"]))
    assert response.status_code == 200
    page = text(response)
    assert "Codebook: CCDG participant survey" in page
    assert "version 1 · published" in page
    assert "skill_empathy" in page
    assert "4 = Agree positive" in page
    assert "undisclosed = Prefer not to say" in page
    versioned = client.get(reverse("surveys:codebook_version", args=["ccdg-participant", 1]))
    assert versioned.status_code == 200


def test_codebook_json_is_the_commands_json(coordinator_client):
    response = coordinator_client.get(
        reverse("surveys:codebook", args=["ccdg-participant"]), {"format": "json"}
    )
    out = StringIO()
    call_command("survey_codebook", "ccdg-participant", "--json", stdout=out)
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == json.loads(out.getvalue())


def test_codebook_links_versions_and_marks_drafts(coordinator_client):
    from surveys import services
    from surveys.models import Instrument

    services.instrument_new_version(instrument=Instrument.objects.get(slug="ccdg-participant"))
    response = coordinator_client.get(reverse("surveys:codebook_version",
                                              args=["ccdg-participant", 2]))  # fmt: skip
    page = text(response)
    assert "draft" in page
    assert reverse("surveys:codebook_version", args=["ccdg-participant", 1]) in (
        response.content.decode()
    )


def test_unknown_codebook_is_404(coordinator_client):
    assert coordinator_client.get(reverse("surveys:codebook", args=["nope"])).status_code == 404
    missing = reverse("surveys:codebook_version", args=["ccdg-participant", 9])
    assert coordinator_client.get(missing).status_code == 404


def test_codebook_needs_sign_in(client):
    response = client.get(reverse("surveys:codebook", args=["ccdg-participant"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
