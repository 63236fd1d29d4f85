"""Case notes through the services and roles: writing with the identifier guard, encryption at
rest (the raw column), who may read (need to know), the audit trail, bad ciphertext, deleting
early and the confidentiality agreement."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from ccdg import crypto
from ccdg.models import AuditEvent
from sessions_app import roles
from sessions_app.casenotes import selectors as casenotes_selectors
from sessions_app.casenotes import services as casenotes_services
from sessions_app.models import CaseNote, ConfidentialityAgreement, Presentation, ProgramRole
from tests.factories import (
    CaseNoteFactory,
    ClinicianFactory,
    ConfidentialityAgreementFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    SessionFactory,
    UserFactory,
)
from tests.sessions_app.helpers import IDENTIFIERS

IP = "10.20.30.40"
SECRET = "Dreading every visit with Ana"


def note_input(**fields) -> casenotes_services.CaseNoteInput:
    values = {
        "patient_age": 67,
        "patient_gender": "female",
        "patient_name": "Xanthe",
        "difficulty": SECRET,
        "relationship": "Six years of visits; her daughter comes along.",
        "wish": "How do I stay kind without giving in?",
        "visibility": CaseNote.Visibility.FACILITATORS,
    }
    return casenotes_services.CaseNoteInput(**{**values, **fields})


def save(world, **fields) -> CaseNote:
    return casenotes_services.case_note_save(
        presentation=world["presentation"],
        data=note_input(**fields),
        actor=world["presenter"],
        ip=IP,
    )


def raw_columns(note) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT patient_name, difficulty, relationship, wish FROM sessions_app_casenote "
            "WHERE id = %s",
            [note.pk],
        )
        return cursor.fetchone()


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


# --- Writing ---------------------------------------------------------------------------------


def test_presenter_writes_a_note_stored_encrypted_and_audited_with_ids_only(world):
    note = save(world)

    stored = raw_columns(note)
    assert all(value.startswith("gAAAAA") for value in stored)
    for plaintext in ("Xanthe", SECRET, "her daughter", "giving in"):
        assert all(plaintext not in value for value in stored)
    note.refresh_from_db()
    assert note.difficulty.reveal() == SECRET
    assert str(note.difficulty) == "[encrypted]"
    [event] = events("casenote.create")
    assert (event.actor, event.object_id, event.ip_address) == (
        world["presenter"],
        str(note.pk),
        IP,
    )
    assert event.data == {
        "presentation_id": world["presentation"].pk,
        "fields": sorted(
            [
                "difficulty",
                "patient_age",
                "patient_gender",
                "patient_name",
                "relationship",
                "visibility",
                "wish",
            ]
        ),
    }
    assert SECRET not in json.dumps(list(AuditEvent.objects.values("data")))


def test_destroy_after_is_the_session_end_plus_the_programs_retention(world):
    session = world["session"]

    note = save(world)

    assert note.destroy_after == session.starts_at + timedelta(minutes=60, days=7)


def test_changing_a_note_records_the_changed_fields_only(world):
    save(world)

    save(world, wish="Help me say no kindly.", visibility=CaseNote.Visibility.GROUP)

    [event] = events("casenote.update")
    assert event.data["fields"] == ["visibility", "wish"]
    assert CaseNote.objects.count() == 1


@pytest.mark.parametrize(
    ("age", "kept", "shown"), [(45, 45, "45"), (89, 89, "89"), (97, 90, "90+")]
)
def test_ages_from_90_on_are_kept_as_90_and_shown_as_90_plus(world, age, kept, shown):
    note = save(world, patient_age=age)

    assert (note.patient_age, note.age_display) == (kept, shown)


@pytest.mark.parametrize("token", ["Ana", "J. D.", "J.D.", "JD", "Anne-Marie", "Zoë", ""])
def test_one_first_name_or_initials_is_a_valid_name_token(token):
    assert casenotes_services.name_token_problem(token) is None


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("Maria Alvarez", "never a first and last name"),
        ("Ana1952", "in letters"),
        ("Maximiliana-Josefina-Ann", "at most 20 characters"),
        ("Ana,Bo", "in letters"),
    ],
)
def test_a_name_token_that_is_not_one_first_name_is_refused(world, token, message):
    assert message in casenotes_services.name_token_problem(token)
    with pytest.raises(ValidationError) as refused:
        save(world, patient_name=token)
    assert message in " ".join(refused.value.message_dict["patient_name"])
    assert CaseNote.objects.count() == 0


def test_the_name_field_flags_a_full_name_but_not_a_first_name():
    assert casenotes_services.guard_findings("patient_name", "Ana") == []
    assert [
        f.category for f in casenotes_services.guard_findings("patient_name", "Maria Alvarez")
    ] == ["name"]
    assert [
        f.category for f in casenotes_services.guard_findings("patient_name", "Mrs. Alvarez")
    ] == ["name"]


@pytest.mark.parametrize("field", ["difficulty", "relationship", "wish"])
@pytest.mark.parametrize("category", sorted(IDENTIFIERS))
def test_each_identifier_category_is_refused_in_every_free_text_field(world, field, category):
    with pytest.raises(ValidationError) as refused:
        save(world, **{field: IDENTIFIERS[category]})

    messages = refused.value.message_dict[field]
    assert any(casenotes_services.phi.CATEGORIES[category] in m for m in messages), messages
    assert CaseNote.objects.count() == 0
    assert events("casenote.create") == []


def test_allowed_details_are_accepted(world):
    note = save(
        world,
        patient_name="J. D.",
        difficulty="A 67-year-old woman with diabetes; BP 150/90 on metformin 500 mg. "
        "Her daughter brought her in two weeks ago; she has been ill since 2019.",
        relationship="I have known her for six years, since residency.",
        wish="Ideas for the next visit.",
    )

    assert note.pk is not None


def test_text_over_the_limit_is_refused_with_a_clear_message(world, settings):
    settings.CASE_NOTE_MAX_CHARS = 10_000

    with pytest.raises(ValidationError) as refused:
        save(world, relationship="a" * 10_001)

    assert refused.value.message_dict["relationship"] == [
        "Keep this to 10,000 characters: it has 10,001. Shorten it and save again."
    ]
    assert save(world, relationship="a" * 10_000).relationship.reveal() == "a" * 10_000


def test_nobody_but_the_presenter_writes_the_note_and_the_refusal_is_audited(world):
    with pytest.raises(PermissionDenied):
        casenotes_services.case_note_save(
            presentation=world["presentation"],
            data=note_input(),
            actor=world["facilitator"],
            ip=IP,
        )

    assert CaseNote.objects.count() == 0
    [event] = events("casenote.refused")
    assert (event.actor, event.ip_address, event.data) == (
        world["facilitator"],
        IP,
        {"reason": "not_a_reader", "presentation_id": world["presentation"].pk},
    )


def test_no_note_after_the_session_or_on_a_withdrawn_presentation(world):
    presentation = world["presentation"]
    presentation.status = Presentation.Status.WITHDRAWN
    presentation.slot = None
    presentation.save()

    with pytest.raises(ValidationError, match="no longer presenting"):
        save(world)

    ended = PresentationFactory(
        session=SessionFactory(group=world["group"], starts_at=timezone.now() - timedelta(hours=2)),
        clinician=presentation.clinician,
    )
    with pytest.raises(ValidationError, match="has ended"):
        casenotes_services.case_note_save(
            presentation=ended, data=note_input(), actor=world["presenter"], ip=IP
        )


# --- Reading: need to know -------------------------------------------------------------------


def _in_window(session):
    return session.starts_at + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("reader", "visibility", "agreed", "when", "expected"),
    [
        ("presenter", "presenter", False, "before", None),
        ("facilitator", "presenter", True, "before", roles.NOT_SHARED),
        ("facilitator", "facilitators", False, "before", roles.NO_AGREEMENT),
        ("facilitator", "facilitators", True, "before", None),
        ("facilitator", "group", True, "before", None),
        ("member", "facilitators", True, "during", roles.NOT_SHARED),
        ("member", "group", True, "before", roles.OUTSIDE_WINDOW),
        ("member", "group", True, "during", None),
        ("member", "group", True, "last_minute", None),
        ("member", "group", True, "after", roles.OUTSIDE_WINDOW),
        ("member", "group", False, "during", roles.NO_AGREEMENT),
        ("outsider", "group", True, "during", roles.NOT_A_READER),
        ("coordinator", "group", True, "during", roles.NOT_A_READER),
        ("report_viewer", "group", True, "during", roles.NOT_A_READER),
        ("staff", "group", True, "during", roles.NOT_A_READER),
    ],
)
def test_who_may_read_a_note(world, reader, visibility, agreed, when, expected):
    program, session = world["program"], world["session"]
    world["coordinator"] = ProgramRoleFactory(program=program).user
    world["report_viewer"] = ProgramRoleFactory(
        program=program, role=ProgramRole.Role.REPORT_VIEWER
    ).user
    world["staff"] = UserFactory(is_staff=True, is_superuser=True)
    user = world[reader]
    if agreed:
        ConfidentialityAgreementFactory(program=program, user=user)
    note = CaseNoteFactory(presentation=world["presentation"], visibility=visibility)
    now = {
        "before": session.starts_at - timedelta(days=1),
        "during": _in_window(session),
        # The window closes 15 minutes after the session's end (60 minutes long).
        "last_minute": session.starts_at + timedelta(minutes=74),
        "after": session.starts_at + timedelta(minutes=75),
    }[when]

    assert roles.case_note_refusal(user, note, now) == expected


def test_a_former_facilitator_or_member_no_longer_reads(world):
    note = CaseNoteFactory(presentation=world["presentation"], visibility="group")
    for user in (world["facilitator"], world["member"]):
        ConfidentialityAgreementFactory(program=world["program"], user=user)
    world["group"].facilitations.update(ends_on=timezone.localdate())
    world["group"].memberships.filter(clinician__user=world["member"]).update(
        left_on=timezone.localdate()
    )
    during = _in_window(world["session"])

    assert roles.case_note_refusal(world["facilitator"], note, during) == roles.NOT_A_READER
    assert roles.case_note_refusal(world["member"], note, during) == roles.NOT_A_READER


def test_the_case_note_permissions_are_need_to_know(world):
    staff = UserFactory(is_staff=True)

    assert {"casenote.read", "casenote.write"} <= roles.NEED_TO_KNOW
    assert not roles.can(staff, "casenote.read", world["program"])
    assert roles.can(staff, "casenote.metadata", world["program"])


def test_a_read_is_audited_and_a_refusal_is_audited_with_its_reason_and_address(world):
    note = casenotes_selectors.case_note_lookup(
        CaseNoteFactory(presentation=world["presentation"]).pk
    )

    text = casenotes_selectors.case_note_read(note=note, user=world["presenter"], ip=IP)
    with pytest.raises(casenotes_selectors.CaseNoteRefused) as refused:
        casenotes_selectors.case_note_read(note=note, user=world["facilitator"], ip="192.0.2.7")

    assert text.difficulty == note.difficulty.reveal()
    assert refused.value.reason == roles.NO_AGREEMENT
    assert [
        (e.action, e.actor, e.ip_address, e.data) for e in AuditEvent.objects.order_by("pk")
    ] == [
        ("casenote.read", world["presenter"], IP, {"presentation_id": note.presentation_id}),
        (
            "casenote.refused",
            world["facilitator"],
            "192.0.2.7",
            {"reason": "no_agreement", "presentation_id": note.presentation_id},
        ),
    ]


def test_the_text_is_not_readable_after_its_destroy_date(world):
    note = CaseNoteFactory(presentation=world["presentation"])

    later = note.destroy_after + timedelta(minutes=1)

    assert roles.case_note_refusal(world["presenter"], note, later) == roles.DESTROYED


# --- Bad ciphertext, missing key -------------------------------------------------------------


def _tamper(note) -> str:
    token = raw_columns(note)[1]
    altered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sessions_app_casenote SET difficulty = %s WHERE id = %s", [altered, note.pk]
        )
    return altered


def test_tampered_ciphertext_cannot_be_read_and_stays_as_it_is(world):
    note = CaseNoteFactory(presentation=world["presentation"])
    altered = _tamper(note)
    note = casenotes_selectors.case_note_lookup(note.pk)

    with pytest.raises(crypto.Unreadable):
        casenotes_selectors.case_note_read(note=note, user=world["presenter"], ip=IP)
    with pytest.raises(crypto.Unreadable):
        save(world, wish="Something new")

    assert raw_columns(note)[1] == altered
    [event] = events("casenote.read")
    assert event.data == {"presentation_id": note.presentation_id, "unreadable": True}


def test_a_missing_key_leaves_the_note_unreadable_but_unchanged(world):
    note = casenotes_selectors.case_note_lookup(
        CaseNoteFactory(presentation=world["presentation"]).pk
    )
    before = raw_columns(note)

    with override_settings(FIELD_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(crypto.Unreadable):
            casenotes_selectors.case_note_read(
                note=casenotes_selectors.case_note_lookup(note.pk), user=world["presenter"], ip=IP
            )

    assert raw_columns(note) == before
    assert (
        casenotes_selectors.case_note_read(note=note, user=world["presenter"], ip=IP).wish
        == note.wish.reveal()
    )


# --- Deleting early --------------------------------------------------------------------------


def test_the_presenter_deletes_early_text_gone_metadata_kept_and_audited(world):
    note = save(world)

    casenotes_services.case_note_delete(note=note, actor=world["presenter"], ip=IP)

    note.refresh_from_db()
    assert raw_columns(note) == (None, None, None, None)
    assert (note.patient_age, note.patient_gender) == (None, "")
    assert note.destroyed_at is not None
    assert (note.presentation, note.visibility) == (world["presentation"], "facilitators")
    [event] = events("casenote.delete")
    assert (event.actor, event.ip_address, event.object_id) == (
        world["presenter"],
        IP,
        str(note.pk),
    )


def test_nobody_else_deletes_a_note(world):
    note = CaseNoteFactory(presentation=world["presentation"])
    coordinator = ProgramRoleFactory(program=world["program"]).user

    with pytest.raises(PermissionDenied):
        casenotes_services.case_note_delete(note=note, actor=coordinator, ip=IP)

    note.refresh_from_db()
    assert note.destroyed_at is None
    assert [e.data["reason"] for e in events("casenote.refused")] == ["not_a_reader"]


# --- Confidentiality agreement ---------------------------------------------------------------


def test_accepting_the_agreement_is_recorded_once_with_its_time(world):
    user = world["member"]
    before = timezone.now()

    first = casenotes_services.agreement_accept(program=world["program"], user=user, ip=IP)
    again = casenotes_services.agreement_accept(program=world["program"], user=user, ip=IP)

    assert first == again
    assert first.accepted_at >= before
    assert ConfidentialityAgreement.objects.filter(user=user).count() == 1
    [event] = events("confidentiality.accept")
    assert (event.actor, event.program_id, event.ip_address) == (user, world["program"].pk, IP)


def test_an_agreement_holds_for_its_own_program_only(world):
    ConfidentialityAgreementFactory(program=ProgramFactory(), user=world["facilitator"])
    note = CaseNoteFactory(presentation=world["presentation"])

    assert roles.case_note_refusal(world["facilitator"], note) == roles.NO_AGREEMENT


def test_the_list_shows_coordinators_every_note_and_members_only_their_own_or_shared(world):
    mine = CaseNoteFactory(presentation=world["presentation"], visibility="presenter")
    other = PresentationFactory(
        session=world["session"],
        clinician=ClinicianFactory(program=world["program"], user=UserFactory()),
        slot=2,
    )
    GroupMembershipFactory(group=world["group"], clinician=other.clinician)
    shared = CaseNoteFactory(presentation=other, visibility="group")
    coordinator = ProgramRoleFactory(program=world["program"]).user

    def listed(user):
        return {
            (n.pk, n.may_open)
            for n in casenotes_selectors.case_note_list(program=world["program"], user=user)
        }

    assert listed(coordinator) == {(mine.pk, False), (shared.pk, False)}
    assert listed(world["presenter"]) == {(mine.pk, True), (shared.pk, True)}
    assert listed(world["facilitator"]) == {(shared.pk, True)}
    assert listed(world["outsider"]) == set()
