"""Writes for the roster: import (all or nothing, idempotent), clinicians, invitations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ccdg.models import AuditEvent
from sessions_app.models import Clinician, Discipline, GroupMembership, Invitation
from sessions_app.programs import services as programs_services
from sessions_app.roster import services as roster_services
from sessions_app.roster.csv_format import roster_csv_export
from tests.factories import (
    ClinicianFactory,
    GroupMembershipFactory,
    InvitationFactory,
    ProgramFactory,
    RosterImportFactory,
    UserFactory,
    csv_bytes,
)
from tests.sessions_app.helpers import ROSTER_HEADER

pytestmark = pytest.mark.django_db

THREE_GOOD_ROWS = (
    "ana@example.org,Ana,Lima,physician",
    "ben@example.org,Ben,Okafor,NP",
    "cleo@example.org,Cleo,Diaz,Social worker",
)


def roster_of(program) -> list[tuple[str, str, str, str]]:
    return list(
        Clinician.objects.filter(program=program)
        .order_by("email")
        .values_list("email", "first_name", "last_name", "discipline")
    )


# --- Import --------------------------------------------------------------------------------


def test_import_creates_clinicians_as_eligible():
    program = ProgramFactory()

    report = roster_services.roster_import_commit(
        program=program, actor=None, content=csv_bytes(ROSTER_HEADER, *THREE_GOOD_ROWS)
    )

    assert report.summary() == {"rows": 3, "create": 3, "update": 0, "unchanged": 0, "errors": 0}
    assert roster_of(program) == [
        ("ana@example.org", "Ana", "Lima", Discipline.PHYSICIAN),
        ("ben@example.org", "Ben", "Okafor", Discipline.NURSE_PRACTITIONER),
        ("cleo@example.org", "Cleo", "Diaz", Discipline.SOCIAL_WORKER),
    ]
    assert set(Clinician.objects.values_list("status", flat=True)) == {Clinician.Status.ELIGIBLE}


def test_import_records_one_audit_event_per_clinician_and_one_for_the_import():
    program = ProgramFactory()
    actor = UserFactory()

    roster_services.roster_import_commit(
        program=program, actor=actor, content=csv_bytes(ROSTER_HEADER, *THREE_GOOD_ROWS)
    )

    events = AuditEvent.objects.filter(program_id=program.pk)
    actions = sorted(events.values_list("action", "actor"))
    assert actions == [("clinician.create", actor.pk)] * 3 + [("roster.import", actor.pk)]


def test_second_import_of_the_same_file_changes_nothing():
    program = ProgramFactory()
    content = csv_bytes(ROSTER_HEADER, *THREE_GOOD_ROWS)
    roster_services.roster_import_commit(program=program, actor=None, content=content)
    before = list(Clinician.objects.order_by("pk").values())
    events_before = set(AuditEvent.objects.values_list("pk", flat=True))

    report = roster_services.roster_import_commit(program=program, actor=None, content=content)

    assert report.summary() == {"rows": 3, "create": 0, "update": 0, "unchanged": 3, "errors": 0}
    assert list(Clinician.objects.order_by("pk").values()) == before
    new_events = AuditEvent.objects.exclude(pk__in=events_before)
    assert list(new_events.values_list("action", flat=True)) == ["roster.import"]


def test_import_updates_only_changed_fields_and_audits_their_names():
    program = ProgramFactory()
    ana = ClinicianFactory(
        program=program,
        email="ana@example.org",
        first_name="Ana",
        last_name="Lima",
        discipline=Discipline.PHYSICIAN,
    )

    report = roster_services.roster_import_commit(
        program=program,
        actor=None,
        content=csv_bytes(ROSTER_HEADER, "ANA@example.org,Ana,Lima-Costa,Nurse practitioner"),
    )

    assert report.summary()["update"] == 1
    ana.refresh_from_db()
    assert (ana.last_name, ana.discipline) == ("Lima-Costa", Discipline.NURSE_PRACTITIONER)
    assert Clinician.objects.count() == 1
    event = AuditEvent.objects.get(action="clinician.update")
    assert event.data == {"fields": ["last_name", "discipline"], "via": "import"}


def test_import_with_a_status_column_sets_status_and_blank_keeps_it():
    program = ProgramFactory()
    active = ClinicianFactory(
        program=program,
        email="ana@example.org",
        first_name="Ana",
        last_name="Lima",
        status=Clinician.Status.ACTIVE,
    )

    roster_services.roster_import_commit(
        program=program,
        actor=None,
        content=csv_bytes(
            ROSTER_HEADER + ",status",
            "ana@example.org,Ana,Lima,physician,",
            "ben@example.org,Ben,Okafor,physician,invited",
        ),
    )

    active.refresh_from_db()
    assert active.status == Clinician.Status.ACTIVE
    assert Clinician.objects.get(email="ben@example.org").status == Clinician.Status.INVITED


def test_import_with_bad_email_reports_row_and_saves_nothing():
    program = ProgramFactory()
    content = csv_bytes(ROSTER_HEADER, *THREE_GOOD_ROWS, "dan-at-example.org,Dan,Ruiz,physician")

    with pytest.raises(roster_services.RosterImportError) as caught:
        roster_services.roster_import_commit(program=program, actor=None, content=content)

    assert [r.line for r in caught.value.report.error_rows] == [5]
    assert Clinician.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_failed_import_leaves_existing_clinicians_unchanged():
    program = ProgramFactory()
    ana = ClinicianFactory(program=program, email="ana@example.org", last_name="Lima")
    content = csv_bytes(
        ROSTER_HEADER,
        "ana@example.org,Ana,Changed,physician",
        "ben@example.org,Ben,Okafor,astronaut",
    )

    with pytest.raises(roster_services.RosterImportError):
        roster_services.roster_import_commit(program=program, actor=None, content=content)

    ana.refresh_from_db()
    assert ana.last_name == "Lima"
    assert Clinician.objects.count() == 1


@pytest.mark.parametrize(
    "content",
    [
        b"",
        csv_bytes(ROSTER_HEADER),
        csv_bytes(ROSTER_HEADER + ",shoe_size", "ana@example.org,Ana,Lima,physician,38"),
        csv_bytes("email,first_name", "ana@example.org,Ana"),
        csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician", "ana@example.org,A,L,md"),
        csv_bytes(ROSTER_HEADER, "ana@example.org,Ana,Lima,physician,extra"),
        csv_bytes(ROSTER_HEADER, "josé@example.org,José,Lima,physician", encoding="latin-1"),
    ],
    ids=[
        "empty",
        "header-only",
        "unknown-column",
        "missing-column",
        "duplicate",
        "fields",
        "latin-1",
    ],
)
def test_bad_file_raises_and_saves_nothing(content):
    program = ProgramFactory()

    with pytest.raises(roster_services.RosterImportError):
        roster_services.roster_import_commit(program=program, actor=None, content=content)

    assert Clinician.objects.count() == 0


def test_file_over_the_size_limit_raises_and_saves_nothing(settings):
    settings.ROSTER_IMPORT_MAX_BYTES = 64
    program = ProgramFactory()

    with pytest.raises(roster_services.RosterImportError):
        roster_services.roster_import_commit(
            program=program, actor=None, content=csv_bytes(ROSTER_HEADER, *THREE_GOOD_ROWS)
        )

    assert Clinician.objects.count() == 0


def test_export_imported_into_a_fresh_program_gives_the_same_clinicians():
    source = ProgramFactory()
    ClinicianFactory(
        program=source,
        email="ana@example.org",
        first_name="Ana",
        last_name='Lima, "Annie"',
        discipline=Discipline.PSYCHOLOGIST,
        gender="female",
        years_at_institution=4,
        patient_care_halfdays=7,
        status=Clinician.Status.ACTIVE,
    )
    ClinicianFactory(
        program=source,
        email="ben@example.org",
        first_name="Benoît",
        last_name="Okafor",
        discipline=Discipline.NURSE_PRACTITIONER,
        status=Clinician.Status.INACTIVE,
    )
    ClinicianFactory(
        program=source,
        email="cleo@example.org",
        first_name="Cleo",
        last_name="Díaz",
        discipline=Discipline.OTHER,
        gender="nonbinary",
    )
    fresh = ProgramFactory()
    exported = roster_csv_export(clinicians=Clinician.objects.filter(program=source))

    roster_services.roster_import_commit(program=fresh, actor=None, content=exported.encode())

    fields = (
        "email",
        "first_name",
        "last_name",
        "discipline",
        "gender",
        "years_at_institution",
        "patient_care_halfdays",
        "status",
    )

    def rows(program):
        return list(
            Clinician.objects.filter(program=program).order_by("email").values_list(*fields)
        )

    assert rows(fresh) == rows(source)


NAME_CHARACTERS = st.sampled_from(list("abcXYZéñøß'\",;- \t"))
names = (
    st.text(NAME_CHARACTERS, min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda s: s and s[0] not in "-\t")
)


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(first=names, last=names, discipline=st.sampled_from(Discipline.values))
def test_any_name_survives_export_and_reimport(first, last, discipline):
    source = ProgramFactory()
    ClinicianFactory(
        program=source,
        email="ana@example.org",
        first_name=first,
        last_name=last,
        discipline=discipline,
    )
    fresh = ProgramFactory()
    exported = roster_csv_export(clinicians=Clinician.objects.filter(program=source))

    roster_services.roster_import_commit(program=fresh, actor=None, content=exported.encode())

    assert roster_of(fresh) == roster_of(source)


def test_roster_import_upload_keeps_a_draft_only_for_a_readable_file():
    program = ProgramFactory()
    actor = UserFactory()

    draft, _ = roster_services.roster_import_upload(
        program=program, actor=actor, filename="a.csv", content=csv_bytes(ROSTER_HEADER, "x,,,")
    )
    refused, report = roster_services.roster_import_upload(
        program=program, actor=actor, filename="b.csv", content=b""
    )

    assert draft.summary["errors"] == 1
    assert refused is None
    assert report.file_errors != []


def test_confirming_a_draft_imports_it_and_drops_its_content():
    program = ProgramFactory()
    draft = RosterImportFactory(program=program, content=csv_bytes(ROSTER_HEADER, *THREE_GOOD_ROWS))

    roster_services.roster_import_confirm(draft=draft, actor=None)

    draft.refresh_from_db()
    assert draft.content is None
    assert draft.committed_at is not None
    assert Clinician.objects.filter(program=program).count() == 3


def test_confirming_a_committed_draft_again_is_refused():
    program = ProgramFactory()
    draft = RosterImportFactory(program=program, content=csv_bytes(ROSTER_HEADER, *THREE_GOOD_ROWS))
    roster_services.roster_import_confirm(draft=draft, actor=None)

    with pytest.raises(ValidationError):
        roster_services.roster_import_confirm(draft=draft, actor=None)

    assert Clinician.objects.filter(program=program).count() == 3


# --- Clinicians ----------------------------------------------------------------------------


def test_clinician_create_lowercases_the_email_and_audits_field_names():
    program = ProgramFactory()

    clinician = roster_services.clinician_create(
        program=program,
        actor=None,
        data={
            "first_name": "Ana",
            "last_name": "Lima",
            "email": " Ana@Example.ORG ",
            "discipline": Discipline.PHYSICIAN,
        },
    )

    assert clinician.email == "ana@example.org"
    event = AuditEvent.objects.get(action="clinician.create")
    assert event.data == {"fields": ["discipline", "email", "first_name", "last_name"]}


def test_clinician_update_records_field_names_not_values():
    clinician = ClinicianFactory(last_name="Lima", email="ana@example.org")

    roster_services.clinician_update(
        clinician=clinician,
        actor=None,
        data={
            "last_name": "Secret-Surname",
            "email": "private@example.org",
        },
    )

    event = AuditEvent.objects.get(action="clinician.update")
    assert event.data == {"fields": ["email", "last_name"]}
    assert (event.object_type, event.object_id) == ("sessions_app.clinician", str(clinician.pk))
    assert "Secret-Surname" not in str(event.data)
    assert "private@example.org" not in str(event.data)


def test_clinician_update_without_changes_records_nothing():
    clinician = ClinicianFactory(last_name="Lima")

    roster_services.clinician_update(clinician=clinician, actor=None, data={"last_name": "Lima"})

    assert AuditEvent.objects.count() == 0


def test_deactivate_keeps_the_row_and_closes_the_current_membership():
    membership = GroupMembershipFactory(joined_on=date(2026, 1, 5))
    clinician = membership.clinician

    roster_services.clinician_deactivate(clinician=clinician, actor=None, reason="left")

    clinician.refresh_from_db()
    membership.refresh_from_db()
    assert clinician.status == Clinician.Status.INACTIVE
    assert membership.left_on == timezone.localdate()
    assert GroupMembership.objects.filter(clinician=clinician).count() == 1


def test_deactivate_withdraws_open_invitations():
    invitation = InvitationFactory()

    roster_services.clinician_deactivate(clinician=invitation.clinician, actor=None)

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_reactivate_makes_a_clinician_without_account_eligible_and_with_one_active():
    without = ClinicianFactory(status=Clinician.Status.INACTIVE)
    with_account = ClinicianFactory(status=Clinician.Status.INACTIVE, user=UserFactory())

    roster_services.clinician_reactivate(clinician=without, actor=None)
    roster_services.clinician_reactivate(clinician=with_account, actor=None)

    assert (without.status, with_account.status) == (
        Clinician.Status.ELIGIBLE,
        Clinician.Status.ACTIVE,
    )


# --- Invitations ---------------------------------------------------------------------------


def test_invite_marks_the_clinician_invited_and_stores_only_a_hash_of_the_token():
    clinician = ClinicianFactory()

    invitation = roster_services.clinician_invite(clinician=clinician, actor=UserFactory())

    token = roster_services.invitation_token(invitation)
    clinician.refresh_from_db()
    assert clinician.status == Clinician.Status.INVITED
    assert token not in invitation.token_hash
    assert roster_services.invitation_get_valid(token=token) == invitation


def test_invite_link_expires_after_the_configured_days(settings):
    settings.INVITATION_DAYS = 3
    before = timezone.now()

    invitation = roster_services.clinician_invite(clinician=ClinicianFactory(), actor=UserFactory())

    assert before + timedelta(days=3) <= invitation.expires_at <= timezone.now() + timedelta(days=3)


def test_reinvite_revokes_the_earlier_link():
    clinician = ClinicianFactory()
    first = roster_services.clinician_invite(clinician=clinician, actor=UserFactory())

    second = roster_services.clinician_invite(clinician=clinician, actor=UserFactory())

    assert (
        roster_services.invitation_get_valid(token=roster_services.invitation_token(first)) is None
    )
    assert (
        roster_services.invitation_get_valid(token=roster_services.invitation_token(second))
        == second
    )


def test_invite_of_inactive_clinician_is_refused():
    clinician = ClinicianFactory(status=Clinician.Status.INACTIVE)

    with pytest.raises(ValidationError):
        roster_services.clinician_invite(clinician=clinician, actor=UserFactory())

    assert Invitation.objects.count() == 0


def test_invite_of_clinician_with_an_account_is_refused():
    clinician = ClinicianFactory(user=UserFactory(), status=Clinician.Status.ACTIVE)

    with pytest.raises(ValidationError):
        roster_services.clinician_invite(clinician=clinician, actor=UserFactory())

    assert Invitation.objects.count() == 0


def test_accepting_creates_the_account_and_the_link_cannot_be_used_twice():
    clinician = ClinicianFactory(email="ana@example.org")
    invitation = roster_services.clinician_invite(clinician=clinician, actor=UserFactory())

    user = roster_services.invitation_accept(
        invitation=invitation, username="ana", password="a-long-passphrase-77"
    )

    clinician.refresh_from_db()
    assert (clinician.user, clinician.status, user.email) == (
        user,
        Clinician.Status.ACTIVE,
        "ana@example.org",
    )
    assert user.check_password("a-long-passphrase-77") is True
    with pytest.raises(ValidationError):
        roster_services.invitation_accept(invitation=invitation, username="ana2", password="x" * 20)
    assert (
        roster_services.invitation_get_valid(token=roster_services.invitation_token(invitation))
        is None
    )


def test_expired_invitation_is_not_valid_and_cannot_be_accepted():
    invitation = roster_services.clinician_invite(clinician=ClinicianFactory(), actor=UserFactory())
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    invitation.refresh_from_db()

    assert (
        roster_services.invitation_get_valid(token=roster_services.invitation_token(invitation))
        is None
    )
    with pytest.raises(ValidationError):
        roster_services.invitation_accept(invitation=invitation, username="ana", password="x" * 20)


@pytest.mark.parametrize("token", ["", "garbage", "1-" + "0" * 40, "../../etc/passwd"])
def test_unknown_token_is_not_valid(token):
    roster_services.clinician_invite(clinician=ClinicianFactory(), actor=UserFactory())

    assert roster_services.invitation_get_valid(token=token) is None


def test_program_update_audits_changed_field_names_only():
    program = ProgramFactory(name="Old")

    programs_services.program_update(
        program=program, actor=None, data={"name": "New", "department": program.department}
    )

    event = AuditEvent.objects.get(action="program.update")
    assert event.data == {"fields": ["name"]}
