"""Case-note pages: the form with the identifier guard (highlighted, text kept, escaped), the
limit, who reads what (and the audited refusals with their address), the confidentiality
agreement on first visit, metadata only for coordinators and in the admin, no-store headers,
the clear page for undecryptable text, the static 500 page and the raw database column."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter

from ccdg.models import AuditEvent
from sessions_app.casenotes import selectors as casenotes_selectors
from sessions_app.casenotes import services as casenotes_services
from sessions_app.models import CaseNote, ConfidentialityAgreement
from tests.factories import (
    CaseNoteFactory,
    ConfidentialityAgreementFactory,
)
from tests.sessions_app.helpers import IDENTIFIERS, as_user, page_text, url

SECRET = "Quietly furious at every visit"
IP = "198.51.100.23"
REFUSED = "Mrs. Alvarez, seen on March 14th, says I never listen."
REWRITTEN = "Ana, seen two weeks ago, says I never listen."


def edit_url(world) -> str:
    return url("case_note_edit", world["program"], pk=world["presentation"].pk)


def form_data(**fields) -> dict:
    return {
        "patient_age": "58",
        "patient_gender": "male",
        "patient_name": "Ben",
        "difficulty": SECRET,
        "relationship": "We have known each other for years.",
        "wish": "Help me stay curious.",
        "visibility": "facilitators",
        **fields,
    }


def marks(response) -> list[tuple[str, str]]:
    """(title, text) of every <mark> on the page, unescaped."""
    return [
        (html.unescape(title), html.unescape(text))
        for title, text in re.findall(
            r'<mark title="([^"]*)" aria-describedby="[^"]+">(.*?)</mark>', page_text(response)
        )
    ]


def note_of(world) -> CaseNote:
    # A name that no CSRF token or page text holds by chance.
    return casenotes_selectors.case_note_lookup(
        CaseNoteFactory(presentation=world["presentation"], patient_name="Xanthe").pk
    )


def assert_no_store(response):
    assert "no-store" in response["Cache-Control"]
    assert response["Pragma"] == "no-cache"


# --- Writing ---------------------------------------------------------------------------------


def test_the_presenter_writes_a_note_and_reads_it_back(client, world):
    as_user(client, world["presenter"])

    response = client.post(edit_url(world), form_data(patient_age="93"), REMOTE_ADDR=IP)

    note = CaseNote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("case_note_detail", world["program"], pk=note.pk)
    assert_no_store(response)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert SECRET in page_text(page)
    assert "90+" in page_text(page)
    assert [e.action for e in AuditEvent.objects.order_by("pk")] == [
        "casenote.create",
        "casenote.read",
    ]
    assert AuditEvent.objects.filter(ip_address=IP).count() == 1


def test_a_refused_note_is_not_saved_keeps_the_text_and_marks_each_span(client, world):
    as_user(client, world["presenter"])

    response = client.post(edit_url(world), form_data(difficulty=REFUSED))

    assert response.status_code == 400
    assert CaseNote.objects.count() == 0
    assert_no_store(response)
    content = page_text(response)
    assert f">{html.escape(REFUSED)}</textarea>" in content.replace("\r\n", "\n")
    assert marks(response) == [
        ("A full name identifies a person: keep only a first name or initials.", "Mrs. Alvarez"),
        (casenotes_services.phi.REASONS["date"], "March 14th"),
    ]
    assert 'id="guard-difficulty-1"' in content and 'id="guard-difficulty-2"' in content
    assert "The note was not saved" in content


def test_the_rewritten_note_is_accepted(client, world):
    as_user(client, world["presenter"])
    client.post(edit_url(world), form_data(difficulty=REFUSED))

    response = client.post(edit_url(world), form_data(difficulty=REWRITTEN))

    assert response.status_code == 302
    assert CaseNote.objects.get().difficulty.reveal() == REWRITTEN


@pytest.mark.parametrize("category", sorted(IDENTIFIERS))
def test_each_identifier_category_is_refused_with_its_highlighted_reason(client, world, category):
    as_user(client, world["presenter"])
    text = IDENTIFIERS[category]

    response = client.post(edit_url(world), form_data(relationship=text))

    assert response.status_code == 400
    assert CaseNote.objects.count() == 0
    [(title, marked)] = marks(response)
    assert title == casenotes_services.phi.REASONS[category]
    assert marked in text
    assert html.escape(casenotes_services.phi.CATEGORIES[category]) in page_text(response)
    assert html.escape(text) in page_text(response)


def test_a_first_and_last_name_in_the_name_field_is_refused_and_marked(client, world):
    as_user(client, world["presenter"])

    response = client.post(edit_url(world), form_data(patient_name="Maria Alvarez"))

    assert response.status_code == 400
    assert "never a first and last name" in html.unescape(page_text(response))
    assert marks(response) == [(casenotes_services.phi.REASONS["name"], "Maria Alvarez")]
    assert 'value="Maria Alvarez"' in page_text(response)


def test_html_and_script_typed_in_are_shown_as_text(client, world):
    as_user(client, world["presenter"])
    typed = '<script>alert("x")</script><b>Mrs. Alvarez</b>'

    refused = client.post(edit_url(world), form_data(wish=typed))
    accepted = client.post(edit_url(world), form_data(wish='<script>alert("x")</script><b>hi</b>'))
    shown = client.get(accepted["Location"])

    for response in (refused, shown):
        content = page_text(response)
        assert "<script>alert" not in content
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in content
    assert "&lt;b&gt;hi&lt;/b&gt;" in page_text(shown)


def test_text_over_the_limit_is_refused_with_a_clear_message(client, world):
    as_user(client, world["presenter"])

    response = client.post(edit_url(world), form_data(difficulty="x" * 10_001))

    assert response.status_code == 400
    assert "Keep this to 10,000 characters: it has 10,001." in page_text(response)
    assert CaseNote.objects.count() == 0


def test_the_edit_page_shows_the_presenters_note_and_records_the_read(client, world):
    note = note_of(world)
    as_user(client, world["presenter"])

    response = client.get(edit_url(world))

    assert response.status_code == 200
    assert html.escape(note.difficulty.reveal()) in page_text(response)
    assert_no_store(response)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["casenote.read"]


def test_nobody_else_opens_the_edit_page_and_the_attempt_is_recorded(client, world):
    note_of(world)
    as_user(client, world["facilitator"])

    response = client.get(edit_url(world), REMOTE_ADDR=IP)

    assert response.status_code == 403
    assert SECRET not in page_text(response)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.ip_address) == (
        "casenote.refused",
        world["facilitator"],
        IP,
    )


# --- Reading ---------------------------------------------------------------------------------


def detail(client, world, user, note, **extra):
    as_user(client, user)
    return client.get(
        url("case_note_detail", world["program"], pk=note.pk), REMOTE_ADDR=IP, **extra
    )


def test_a_facilitator_accepts_the_agreement_on_first_visit_then_reads(client, world):
    note = note_of(world)
    user = world["facilitator"]
    path = url("case_note_detail", world["program"], pk=note.pk)

    first = detail(client, world, user, note)
    agreement_page = client.get(first["Location"])
    accepted = client.post(first["Location"], {"next": path}, REMOTE_ADDR=IP)
    then = client.get(accepted["Location"])

    assert first.status_code == 302
    assert (
        first["Location"]
        == url("confidentiality_agreement", world["program"]) + f"?next={path.replace('/', '%2F')}"
    )
    assert "Confidentiality agreement" in page_text(agreement_page)
    assert accepted["Location"] == path
    agreement = ConfidentialityAgreement.objects.get(user=user, program=world["program"])
    assert agreement.accepted_at is not None
    assert then.status_code == 200
    assert html.escape(note.difficulty.reveal()) in page_text(then)
    assert [(e.action, e.ip_address) for e in AuditEvent.objects.order_by("pk")] == [
        ("casenote.refused", IP),
        ("confidentiality.accept", IP),
        ("casenote.read", "127.0.0.1"),
    ]


def _group_note(world):
    return casenotes_selectors.case_note_lookup(
        CaseNoteFactory(
            presentation=world["presentation"], visibility="group", patient_name="Xanthe"
        ).pk
    )


def _start_session(world, minutes_ago: int):
    session = world["session"]
    session.starts_at = timezone.now() - timedelta(minutes=minutes_ago)
    session.save()


def test_a_member_reads_a_group_note_during_the_session(client, world):
    _start_session(world, 10)
    note = _group_note(world)
    ConfidentialityAgreementFactory(program=world["program"], user=world["member"])

    response = detail(client, world, world["member"], note)

    assert response.status_code == 200
    assert html.escape(note.difficulty.reveal()) in page_text(response)


@pytest.mark.parametrize("minutes_ago", [-60, 76])
def test_a_member_is_refused_outside_the_session_window(client, world, minutes_ago):
    _start_session(world, minutes_ago)
    note = _group_note(world)
    ConfidentialityAgreementFactory(program=world["program"], user=world["member"])

    response = detail(client, world, world["member"], note)

    assert response.status_code == 403
    assert "only while the session is on" in page_text(response)
    assert html.escape(note.difficulty.reveal()) not in page_text(response)
    event = AuditEvent.objects.get()
    assert (event.action, event.ip_address, event.data["reason"]) == (
        "casenote.refused",
        IP,
        "outside_window",
    )


@pytest.mark.parametrize(
    ("actor", "shows_metadata"),
    [
        ("coordinator", True),
        ("report_viewer", True),
        ("staff", True),
        ("outsider", False),
    ],
)
def test_those_outside_the_group_see_metadata_at_most_and_are_recorded(
    client, world, actor, shows_metadata
):
    _start_session(world, 10)
    note = _group_note(world)
    ConfidentialityAgreementFactory(program=world["program"], user=world[actor])

    response = detail(client, world, world[actor], note)

    content = page_text(response)
    assert response.status_code == 403
    for field in ("patient_name", "difficulty", "relationship", "wish"):
        assert html.escape(getattr(note, field).reveal()) not in content
    assert ('id="note-metadata"' in content) == shows_metadata
    assert_no_store(response)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.ip_address, event.object_id) == (
        "casenote.refused",
        world[actor],
        IP,
        str(note.pk),
    )


def test_a_coordinator_of_another_program_gets_404_and_is_recorded(client, world):
    note = note_of(world)

    response = detail(client, world, world["other_coordinator"], note)

    assert response.status_code == 404
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.ip_address) == (
        "casenote.refused",
        world["other_coordinator"],
        IP,
    )


@pytest.mark.parametrize(
    "name", ["case_note_detail", "case_note_list", "case_note_access", "confidentiality_agreement"]
)
def test_case_note_pages_are_never_cached(client, world, name):
    note = note_of(world)
    user = world["presenter"] if name == "case_note_detail" else world["coordinator"]
    as_user(client, user)
    kwargs = {"pk": note.pk} if name in ("case_note_detail", "case_note_access") else {}

    response = client.get(url(name, world["program"], **kwargs))

    assert response.status_code == 200
    assert_no_store(response)


# --- Metadata for coordinators ---------------------------------------------------------------


def test_the_coordinator_sees_who_accessed_a_note_and_when_without_its_content(client, world):
    note = note_of(world)
    detail(client, world, world["presenter"], note)
    detail(client, world, world["report_viewer"], note)
    as_user(client, world["coordinator"])

    listing = client.get(url("case_note_list", world["program"]))
    response = client.get(url("case_note_access", world["program"], pk=note.pk))

    content = page_text(listing) + page_text(response)
    assert response.status_code == 200
    for field in ("patient_name", "difficulty", "relationship", "wish"):
        assert html.escape(getattr(note, field).reveal()) not in content
    rows = re.findall(
        r"<tr>\s*<td>.*?</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>",
        page_text(response),
        re.S,
    )
    assert [(who, what.strip(), ip) for who, what, ip in rows] == [
        (world["report_viewer"].get_full_name(), "Refused: not among its readers", IP),
        (world["presenter"].get_full_name(), "Read it", IP),
    ]


# --- Deleting early --------------------------------------------------------------------------


def test_the_presenter_deletes_the_note_early(client, world):
    note = note_of(world)
    as_user(client, world["presenter"])

    response = client.post(url("case_note_delete", world["program"], pk=note.pk), REMOTE_ADDR=IP)

    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.difficulty, note.destroyed_at is not None) == (None, True)
    gone = client.get(url("case_note_detail", world["program"], pk=note.pk))
    assert gone.status_code == 410
    assert 'id="note-metadata"' in page_text(gone)


# --- Admin: metadata only --------------------------------------------------------------------


def test_the_admin_shows_metadata_only(client, world):
    note = casenotes_selectors.case_note_lookup(
        CaseNoteFactory(presentation=world["presentation"], patient_name="Xanthe").pk
    )
    as_user(client, world["staff"])

    listing = client.get(reverse("admin:sessions_app_casenote_changelist"))
    change = client.get(reverse("admin:sessions_app_casenote_change", args=[note.pk]))
    posted = client.post(
        reverse("admin:sessions_app_casenote_change", args=[note.pk]), {"visibility": "group"}
    )

    assert (listing.status_code, change.status_code) == (200, 200)
    for response in (listing, change):
        content = page_text(response)
        for field in ("difficulty", "relationship", "wish"):
            assert html.escape(getattr(note, field).reveal()) not in content
        assert "Xanthe" not in content
        assert raw_token(note) not in content
    assert posted.status_code == 403
    note.refresh_from_db()
    assert note.visibility == "facilitators"


def raw_token(note) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT difficulty FROM sessions_app_casenote WHERE id = %s", [note.pk])
        return cursor.fetchone()[0]


# --- Bad input: undecryptable text, server errors --------------------------------------------


def test_tampered_ciphertext_gives_a_clear_page_and_stays_unchanged(client, world):
    note = note_of(world)
    token = raw_token(note)
    altered = token[:30] + ("x" if token[30] != "x" else "y") + token[31:]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sessions_app_casenote SET difficulty = %s WHERE id = %s", [altered, note.pk]
        )

    response = detail(client, world, world["presenter"], note)
    edit = client.get(edit_url(world))

    for page in (response, edit):
        assert page.status_code == 503
        assert "This note cannot be decrypted with the configured keys" in page_text(page)
        assert_no_store(page)
    assert raw_token(note) == altered


def test_a_missing_key_gives_the_same_clear_page(client, world, settings):
    note = note_of(world)
    token = raw_token(note)
    settings.FIELD_KEYS = [Fernet.generate_key().decode()]

    response = detail(client, world, world["presenter"], note)

    assert response.status_code == 503
    assert "This note cannot be decrypted with the configured keys" in page_text(response)
    assert raw_token(note) == token


def test_a_server_error_shows_the_static_page_without_content(client, world, settings, caplog):
    assert django_settings.DEBUG is False
    settings.FIELD_KEYS = ["not-a-fernet-key"]  # a misconfiguration: saving fails
    settings.ADMINS = [("Ops", "ops@example.org")]
    client.raise_request_exception = False
    as_user(client, world["presenter"])

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.post(edit_url(world), form_data(patient_name="Xanthe"))

    assert response.status_code == 500
    assert "Something went wrong" in page_text(response)
    reported = page_text(response) + caplog.text + "".join(m.body for m in mail.outbox)
    assert SECRET not in reported and "Xanthe" not in reported
    assert "Internal Server Error" in caplog.text
    assert CaseNote.objects.count() == 0
    # What an error report (the admins' email, Sentry) would hold: POST values and every
    # frame's variables below the view are hidden.
    [record] = [r for r in caplog.records if r.name == "django.request"]
    report = ExceptionReporter(record.request, *record.exc_info).get_traceback_text()
    assert "difficulty" in report
    assert SECRET not in report
    assert "Xanthe" not in report


# --- The raw column --------------------------------------------------------------------------


def test_the_database_holds_no_plaintext(client, world):
    as_user(client, world["presenter"])
    client.post(edit_url(world), form_data(patient_name="Xanthe"))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT patient_name, difficulty, relationship, wish FROM sessions_app_casenote"
        )
        rows = cursor.fetchall()

    assert len(rows) == 1
    for value in rows[0]:
        assert value.startswith("gAAAAA")
    dumped = repr(rows)
    for plaintext in ("Xanthe", SECRET, "known each other", "stay curious"):
        assert plaintext not in dumped


def test_the_note_form_checks_each_text_field_as_the_person_types(client, world):
    as_user(client, world["presenter"])
    page = page_text(client.get(edit_url(world)))
    check = reverse("identifiers_check")
    for field in ("difficulty", "relationship", "wish"):
        assert re.search(
            rf'name="{field}"[^>]*hx-post="{check}"[^>]*hx-target="#live-{field}"', page
        ), field
        assert f'<div id="live-{field}" aria-live="polite"></div>' in page
    # the first-name field has its own rule; it is checked when the note is saved
    assert 'name="patient_name"' in page
    assert not re.search(r'name="patient_name"[^>]*hx-post', page)
