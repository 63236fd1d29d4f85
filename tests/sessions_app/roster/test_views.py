"""Roster pages, roster import through the browser, invitations."""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.models import (
    Clinician,
    Discipline,
    GroupMembership,
    Invitation,
    ProgramRole,
    RosterImport,
)
from sessions_app.roster import services
from sessions_app.roster.views import ROSTER_PAGE_SIZE
from tests.factories import (
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    UserFactory,
    csv_bytes,
)
from tests.sessions_app.helpers import ROSTER_HEADER, messages_of, page_text, upload, url

# --- Roster list ---------------------------------------------------------------------------


def listed_emails(response) -> list[str]:
    return [c.email for c in response.context["page"]]


def test_roster_list_shows_the_programs_clinicians_only(coordinator_client, program):
    ClinicianFactory(program=program, email="ana@example.org", last_name="Abbott")
    ClinicianFactory(program=program, email="ben@example.org", last_name="Brennan")
    ClinicianFactory(email="elsewhere@example.org")

    response = coordinator_client.get(url("roster_list", program))

    assert response.status_code == 200
    assert listed_emails(response) == ["ana@example.org", "ben@example.org"]


def test_roster_search_matches_name_or_email_words(coordinator_client, program):
    ClinicianFactory(program=program, first_name="Ana", last_name="Lima", email="a@example.org")
    ClinicianFactory(program=program, first_name="Ben", last_name="Lima", email="b@example.org")
    ClinicianFactory(program=program, first_name="Ana", last_name="Okafor", email="c@x.org")

    by_name = coordinator_client.get(url("roster_list", program), {"q": "ana lima"})
    by_email = coordinator_client.get(url("roster_list", program), {"q": "x.org"})

    assert listed_emails(by_name) == ["a@example.org"]
    assert listed_emails(by_email) == ["c@x.org"]


def test_roster_filters_by_discipline_and_status(coordinator_client, program):
    ClinicianFactory(
        program=program, email="np@example.org", discipline=Discipline.NURSE_PRACTITIONER
    )
    ClinicianFactory(
        program=program,
        email="np-inactive@example.org",
        discipline=Discipline.NURSE_PRACTITIONER,
        status=Clinician.Status.INACTIVE,
    )
    ClinicianFactory(program=program, email="md@example.org", discipline=Discipline.PHYSICIAN)

    nps = coordinator_client.get(url("roster_list", program), {"discipline": "nurse_practitioner"})
    active_nps = coordinator_client.get(
        url("roster_list", program), {"discipline": "nurse_practitioner", "status": "eligible"}
    )

    assert sorted(listed_emails(nps)) == ["np-inactive@example.org", "np@example.org"]
    assert listed_emails(active_nps) == ["np@example.org"]


def test_roster_paginates_and_keeps_filters_in_page_links(coordinator_client, program):
    for i in range(ROSTER_PAGE_SIZE + 1):
        ClinicianFactory(program=program, last_name=f"Name{i:03d}", email=f"c{i}@example.org")

    first = coordinator_client.get(url("roster_list", program), {"q": "example"})
    second = coordinator_client.get(url("roster_list", program), {"q": "example", "page": 2})

    assert len(first.context["page"]) == ROSTER_PAGE_SIZE
    assert listed_emails(second) == [f"c{ROSTER_PAGE_SIZE}@example.org"]
    assert "?q=example&amp;page=2" in page_text(first)


def test_roster_htmx_request_returns_only_the_table(coordinator_client, program):
    ClinicianFactory(program=program, email="ana@example.org")

    response = coordinator_client.get(
        url("roster_list", program), {"q": "ana"}, headers={"HX-Request": "true"}
    )

    templates = [t.name for t in response.templates]
    assert "sessions_app/roster/_roster_table.html" in templates
    assert "base.html" not in templates
    assert "<html" not in page_text(response)
    assert "ana@example.org" in page_text(response)


def test_roster_list_costs_the_same_queries_for_1_and_20_clinicians(
    coordinator_client, program, django_assert_num_queries
):
    group = GroupFactory(program=program)
    GroupMembershipFactory(group=group, clinician__user=UserFactory())
    coordinator_client.get(url("roster_list", program))  # warm up the session
    with CaptureQueriesContext(connection) as one:
        coordinator_client.get(url("roster_list", program))
    for _ in range(19):
        GroupMembershipFactory(group=GroupFactory(program=program), clinician__user=UserFactory())

    with django_assert_num_queries(len(one.captured_queries)):
        response = coordinator_client.get(url("roster_list", program))

    assert len(response.context["page"]) == 20


# --- Add and edit clinicians ---------------------------------------------------------------


def clinician_form_data(**changes) -> dict[str, object]:
    data = {
        "first_name": "Ana",
        "last_name": "Lima",
        "email": "ana@example.org",
        "discipline": "physician",
        "gender": "female",
        "years_at_institution": "",
        "patient_care_halfdays": "",
    }
    data.update(changes)
    return data


def test_coordinator_adds_a_clinician(coordinator_client, program):
    response = coordinator_client.post(url("clinician_create", program), clinician_form_data())

    clinician = Clinician.objects.get(program=program)
    assert response["Location"] == clinician.get_absolute_url()
    assert (clinician.full_name, clinician.status) == ("Ana Lima", Clinician.Status.ELIGIBLE)


def test_add_form_with_errors_keeps_the_typed_values(coordinator_client, program):
    response = coordinator_client.post(
        url("clinician_create", program),
        clinician_form_data(first_name="Zénobie", email="not-an-email", patient_care_halfdays=20),
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"email", "patient_care_halfdays"}
    assert 'value="Zénobie"' in page_text(response)
    assert 'value="not-an-email"' in page_text(response)
    assert Clinician.objects.count() == 0


def test_duplicate_email_in_the_same_program_is_refused_whatever_its_case(
    coordinator_client, program
):
    ClinicianFactory(program=program, email="ana@example.org")

    response = coordinator_client.post(
        url("clinician_create", program), clinician_form_data(email="ANA@Example.org")
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["email"]
    assert Clinician.objects.filter(program=program).count() == 1


def test_same_email_is_allowed_in_another_program(client, program):
    ClinicianFactory(program=program, email="ana@example.org")
    other = ProgramFactory()
    client.force_login(ProgramRoleFactory(program=other).user)

    response = client.post(url("clinician_create", other), clinician_form_data())

    assert response.status_code == 302
    assert Clinician.objects.filter(email="ana@example.org").count() == 2


def test_coordinator_edits_a_clinician_and_history_lists_the_field(coordinator_client, program):
    clinician = ClinicianFactory(
        program=program, **{k: v for k, v in clinician_form_data().items() if v != ""}
    )

    response = coordinator_client.post(
        url("clinician_edit", program, pk=clinician.pk), clinician_form_data(last_name="Costa")
    )
    detail = coordinator_client.get(clinician.get_absolute_url())

    clinician.refresh_from_db()
    assert response.status_code == 302
    assert clinician.last_name == "Costa"
    assert [e.action for e in detail.context["history"]] == ["clinician.update"]
    assert "clinician.update (last_name)" in page_text(detail)


def test_edit_keeping_own_email_is_allowed_but_taking_anothers_is_not(coordinator_client, program):
    clinician = ClinicianFactory(program=program, email="ana@example.org")
    ClinicianFactory(program=program, email="ben@example.org")

    own = coordinator_client.post(
        url("clinician_edit", program, pk=clinician.pk),
        clinician_form_data(email="Ana@example.org"),
    )
    taken = coordinator_client.post(
        url("clinician_edit", program, pk=clinician.pk),
        clinician_form_data(email="BEN@example.org"),
    )

    clinician.refresh_from_db()
    assert (own.status_code, taken.status_code) == (302, 200)
    assert clinician.email == "ana@example.org"


def test_edit_with_errors_shows_the_stored_name_in_the_heading(coordinator_client, program):
    clinician = ClinicianFactory(program=program, first_name="Ana", last_name="Lima")

    response = coordinator_client.post(
        url("clinician_edit", program, pk=clinician.pk),
        clinician_form_data(last_name="Typed", email="bad"),
    )

    assert response.status_code == 200
    assert response.context["clinician"].full_name == "Ana Lima"
    assert "Edit Ana Lima" in page_text(response)
    assert "Edit Ana Typed" not in page_text(response)
    assert 'value="Typed"' in page_text(response)


def test_clinician_of_another_program_is_404(coordinator_client, program):
    elsewhere = ClinicianFactory()

    response = coordinator_client.get(url("clinician_detail", program, pk=elsewhere.pk))

    assert response.status_code == 404


# --- Deactivate and reactivate -------------------------------------------------------------


def test_deactivate_keeps_the_row_closes_the_membership_and_shows_history(
    coordinator_client, program
):
    membership = GroupMembershipFactory(group=GroupFactory(program=program, name="Group A"))
    clinician = membership.clinician

    response = coordinator_client.post(
        url("clinician_deactivate", program, pk=clinician.pk), {"reason": "left the department"}
    )
    detail = coordinator_client.get(clinician.get_absolute_url())

    clinician.refresh_from_db()
    membership.refresh_from_db()
    assert response["Location"] == clinician.get_absolute_url()
    assert clinician.status == Clinician.Status.INACTIVE
    assert membership.left_on == timezone.localdate()
    assert GroupMembership.objects.filter(clinician=clinician).count() == 1
    assert [e.action for e in detail.context["history"]] == ["clinician.deactivate"]
    assert "Group A" in page_text(detail)
    event = AuditEvent.objects.get(action="clinician.deactivate")
    assert event.data == {"from": "eligible", "reason": "left the department"}


def test_reactivate_returns_an_inactive_clinician_to_the_roster(coordinator_client, program):
    clinician = ClinicianFactory(program=program, status=Clinician.Status.INACTIVE)

    response = coordinator_client.post(url("clinician_reactivate", program, pk=clinician.pk))

    clinician.refresh_from_db()
    assert response.status_code == 302
    assert clinician.status == Clinician.Status.ELIGIBLE
    assert AuditEvent.objects.filter(action="clinician.reactivate").count() == 1


# --- Invitations ---------------------------------------------------------------------------

# Where an invitation is answered once its link was opened: no token in it.
ACCOUNT_PAGE = "/accounts/invitation/"
PASSWORD = "quiet-harbour-lantern-9"
INVALID = "This invitation link is not valid"


def invite_and_get_link(client, program, clinician, capture, mailoutbox) -> str:
    with capture(execute=True):
        client.post(url("clinician_invite", program, pk=clinician.pk))
    (email,) = mailoutbox
    (link,) = re.findall(r"https?://\S+", email.body)
    return link


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def open_invitation(client, path: str):
    """Open the e-mailed link as a browser does; returns the page it leads to."""
    exchanged = client.get(path)
    assert (exchanged.status_code, exchanged["Location"]) == (303, ACCOUNT_PAGE)
    return client.get(ACCOUNT_PAGE)


def accept(client, username: str = "ana.lima", password: str = PASSWORD):
    return client.post(
        ACCOUNT_PAGE, {"username": username, "password1": password, "password2": password}
    )


def invitation_path(invitation) -> str:
    return reverse(
        "sessions_app:invitation_accept", kwargs={"token": services.invitation_token(invitation)}
    )


@pytest.fixture
def invitation(program):
    return services.clinician_invite(
        clinician=ClinicianFactory(program=program, first_name="Ana"), actor=UserFactory()
    )


def test_invite_sends_one_email_with_a_link_that_opens_the_form(
    coordinator_client, program, django_capture_on_commit_callbacks, mailoutbox
):
    clinician = ClinicianFactory(program=program, email="ana@example.org", first_name="Ana")

    link = invite_and_get_link(
        coordinator_client, program, clinician, django_capture_on_commit_callbacks, mailoutbox
    )
    coordinator_client.logout()
    response = open_invitation(coordinator_client, path_of(link))

    assert mailoutbox[0].to == ["ana@example.org"]
    assert program.name in mailoutbox[0].subject
    assert link in mailoutbox[0].alternatives[0][0]
    assert response.status_code == 200
    assert "form" in response.context
    clinician.refresh_from_db()
    assert clinician.status == Clinician.Status.INVITED


def test_accepting_creates_account_links_clinician_and_signs_in(
    client, program, django_capture_on_commit_callbacks, mailoutbox
):
    coordinator = ProgramRoleFactory(program=program).user
    clinician = ClinicianFactory(program=program, email="ana@example.org")
    client.force_login(coordinator)
    link = invite_and_get_link(
        client, program, clinician, django_capture_on_commit_callbacks, mailoutbox
    )
    client.logout()
    open_invitation(client, path_of(link))

    response = accept(client)

    clinician.refresh_from_db()
    assert response["Location"] == reverse("home")
    assert clinician.user.username == "ana.lima"
    assert clinician.status == Clinician.Status.ACTIVE
    assert int(client.session["_auth_user_id"]) == clinician.user.pk
    assert client.get(reverse("home")).status_code == 200


def test_an_invitee_not_yet_in_a_group_sees_their_program_after_accepting(client, invitation):
    open_invitation(client, invitation_path(invitation))
    accept(client)

    home = client.get(reverse("home"))
    program = invitation.clinician.program
    detail = client.get(program.get_absolute_url())
    mine = client.get(url("my_sessions", program))

    assert [p.pk for p in home.context["programs"]] == [program.pk]
    assert "On the roster, no group yet" in page_text(home)
    assert "You do not take part in any program yet" not in page_text(home)
    assert detail.status_code == 200
    assert "not in a group yet" in page_text(detail)
    assert mine.status_code == 200


def test_an_invitee_in_a_group_sees_their_group_after_accepting(client, program):
    membership = GroupMembershipFactory(group=GroupFactory(program=program, name="Tuesday group"))
    invitation = services.clinician_invite(clinician=membership.clinician, actor=UserFactory())
    open_invitation(client, invitation_path(invitation))
    accept(client)

    home = client.get(reverse("home"))
    detail = client.get(program.get_absolute_url())

    (shown,) = home.context["programs"]
    assert shown.my_groups == ["Tuesday group"]
    assert "Tuesday group" in page_text(home)
    assert detail.context["my_groups"] == ["Tuesday group"]


def test_a_facilitator_on_the_roster_sees_the_group_they_lead_after_accepting(client, program):
    clinician = ClinicianFactory(program=program)
    assignment = FacilitatorAssignmentFactory(
        group=GroupFactory(program=program, name="Thursday group"),
        facilitator__clinician=clinician,
        role="lead",
    )
    invitation = services.clinician_invite(clinician=clinician, actor=UserFactory())
    open_invitation(client, invitation_path(invitation))
    accept(client)

    home = client.get(reverse("home"))

    assignment.facilitator.refresh_from_db()
    assert assignment.facilitator.user_id == int(client.session["_auth_user_id"])
    (shown,) = home.context["programs"]
    assert shown.my_groups == ["Thursday group (lead facilitator)"]
    assert "Facilitator" in shown.my_roles


def test_the_invitation_link_leads_to_a_page_without_its_token(client, invitation):
    token = services.invitation_token(invitation)

    exchanged = client.get(invitation_path(invitation))
    page = client.get(exchanged["Location"])
    refused = accept(client, password="short1")
    done = accept(client)

    assert exchanged.status_code == 303
    assert exchanged["Location"] == ACCOUNT_PAGE
    cookie = exchanged.cookies["ccdg_invitation"]
    assert cookie["path"] == ACCOUNT_PAGE
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert 0 < int(cookie["max-age"]) <= 12 * 3600
    assert [page.status_code, refused.status_code, done.status_code] == [200, 200, 302]
    for response in (exchanged, page, refused, done):
        html = page_text(response)
        assert token not in html and token not in response.get("Location", "")
        for action in re.findall(r'<form[^>]*action="([^"]*)"', html):
            assert action in ("", ACCOUNT_PAGE, reverse("account_logout"))
    # The account is made: the cookie goes with the invitation.
    assert done.cookies["ccdg_invitation"].value == ""


def test_the_invitation_cookie_is_secure_over_https(client, invitation):
    response = client.get(invitation_path(invitation), secure=True)
    assert response.cookies["ccdg_invitation"]["secure"] is True


def test_the_account_page_without_a_valid_cookie_is_refused_like_an_unknown_link(
    client, invitation, monkeypatch
):
    unknown = client.get("/invitations/unknown/")
    client.get(invitation_path(invitation))
    value = client.cookies["ccdg_invitation"].value
    token = services.invitation_token(invitation)
    later = time.time() + 13 * 3600

    def refusals():
        for forged in (
            None,  # no cookie at all
            value[:-1] + ("A" if value[-1] != "A" else "B"),  # a broken signature
            token,  # the bare token, unsigned
            value.replace(token, f"{invitation.pk}-{'0' * 40}"),  # another token, old signature
        ):
            client.cookies.pop("ccdg_invitation", None)
            if forged is not None:
                client.cookies["ccdg_invitation"] = forged
            yield client.get(ACCOUNT_PAGE)
            yield accept(client)
        client.cookies["ccdg_invitation"] = value
        with monkeypatch.context() as m:
            m.setattr(time, "time", lambda: later)  # the page was left open overnight
            yield client.get(ACCOUNT_PAGE)
            yield accept(client)

    def body(response) -> str:  # without the CSRF token, new on every request
        return re.sub(r'"X-CSRFToken": "[^"]*"', "", page_text(response))

    for response in refusals():
        assert response.status_code == 404
        assert body(response) == body(unknown)
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert Clinician.objects.get(pk=invitation.clinician_id).user is None
    assert client.get(ACCOUNT_PAGE).status_code == 200  # the genuine cookie, in time


def test_no_invitation_token_reaches_the_logs(client, invitation, caplog):
    caplog.set_level(logging.DEBUG)
    token = services.invitation_token(invitation)
    client.get(invitation_path(invitation) + "extra/")
    client.put(invitation_path(invitation))
    client.get(f"/invitations/{invitation.pk}-{'f' * 40}/")
    open_invitation(client, invitation_path(invitation))
    accept(client, password="short1")
    accept(client)
    client.logout()
    client.get(invitation_path(invitation))  # used now

    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("Not Found: /invitations/") for m in messages)
    assert any(m.startswith("Method Not Allowed (PUT): /invitations/") for m in messages)
    assert [m for m in messages if token in m or "f" * 40 in m] == []
    assert token not in caplog.text


def test_invitation_link_cannot_be_used_twice(
    client, program, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(ProgramRoleFactory(program=program).user)
    clinician = ClinicianFactory(program=program)
    link = invite_and_get_link(
        client, program, clinician, django_capture_on_commit_callbacks, mailoutbox
    )
    client.logout()
    open_invitation(client, path_of(link))
    cookie = client.cookies["ccdg_invitation"].value
    accept(client, username="ana")
    client.logout()

    again = client.get(path_of(link))
    client.cookies["ccdg_invitation"] = cookie  # the same browser, the cookie put back
    resubmit = accept(client, username="ana2")

    assert again.status_code == 404
    assert "sessions_app/roster/invitation_invalid.html" in [t.name for t in again.templates]
    assert resubmit.status_code == 404
    assert Clinician.objects.get(pk=clinician.pk).user.username == "ana"


def test_expired_invitation_link_shows_the_invalid_page(client, program, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(invitation_path(invitation))

    assert response.status_code == 404
    assert INVALID in page_text(response)


def test_an_invitation_expiring_while_its_page_is_open_is_refused(client, invitation):
    open_invitation(client, invitation_path(invitation))
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = accept(client)

    assert response.status_code == 404
    assert INVALID in page_text(response)
    assert Clinician.objects.get(pk=invitation.clinician_id).user is None


@pytest.mark.parametrize("token", ["unknown", "99999-" + "a" * 40, "%00", "a" * 500])
def test_unknown_invitation_token_shows_the_invalid_page(client, db, token):
    response = client.get(f"/invitations/{token}/")

    assert response.status_code == 404
    assert INVALID in page_text(response)


def test_reinviting_makes_the_older_link_invalid(
    coordinator_client, program, django_capture_on_commit_callbacks, mailoutbox
):
    clinician = ClinicianFactory(program=program)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            coordinator_client.post(url("clinician_invite", program, pk=clinician.pk))
    first, second = (re.search(r"https?://\S+", m.body).group() for m in mailoutbox)
    coordinator_client.logout()

    assert coordinator_client.get(path_of(first)).status_code == 404
    assert open_invitation(coordinator_client, path_of(second)).status_code == 200


def test_reinviting_while_the_older_page_is_open_refuses_it(
    coordinator_client, program, django_capture_on_commit_callbacks, mailoutbox
):
    clinician = ClinicianFactory(program=program)
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(url("clinician_invite", program, pk=clinician.pk))
    (link,) = re.findall(r"https?://\S+", mailoutbox[0].body)
    coordinator_client.logout()
    open_invitation(coordinator_client, path_of(link))
    services.clinician_invite(clinician=clinician, actor=UserFactory())

    assert accept(coordinator_client).status_code == 404
    assert Clinician.objects.get(pk=clinician.pk).user is None


@pytest.mark.parametrize(
    "clinician_kwargs",
    [{"status": Clinician.Status.INACTIVE}, {"status": Clinician.Status.ACTIVE, "user": True}],
    ids=["inactive", "has-account"],
)
def test_invite_is_refused_with_a_message(
    coordinator_client, program, clinician_kwargs, django_capture_on_commit_callbacks, mailoutbox
):
    if clinician_kwargs.pop("user", False):
        clinician_kwargs["user"] = UserFactory()
    clinician = ClinicianFactory(program=program, **clinician_kwargs)

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(
            url("clinician_invite", program, pk=clinician.pk), follow=True
        )

    (message,) = response.context["messages"]
    assert message.level_tag == "error"
    assert clinician.full_name in str(message)
    assert Invitation.objects.count() == 0
    assert mailoutbox == []


def test_short_password_is_refused_and_the_username_kept(client, program, invitation):
    open_invitation(client, invitation_path(invitation))

    response = accept(client, password="short1")

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["password1"]
    assert 'value="ana.lima"' in page_text(response)
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert Clinician.objects.get(pk=invitation.clinician_id).user is None


def test_taken_username_is_refused(client, program, invitation):
    UserFactory(username="ana")
    open_invitation(client, invitation_path(invitation))

    response = accept(client, username="ANA")

    assert list(response.context["form"].errors) == ["username"]


# --- Roster import through the pages ---------------------------------------------------------


GOOD_FILE = csv_bytes(
    ROSTER_HEADER,
    "ana@example.org,Ana,Lima,physician",
    "ben@example.org,Ben,Okafor,Nurse practitioner",
)


def test_upload_preview_confirm_puts_the_rows_on_the_roster(coordinator_client, program):
    uploaded = upload(coordinator_client, program, GOOD_FILE)
    draft = RosterImport.objects.get(program=program)
    assert uploaded["Location"] == url("roster_import_preview", program, pk=draft.pk)
    assert Clinician.objects.count() == 0

    preview = coordinator_client.get(uploaded["Location"])
    assert [r.raw["email"] for r in preview.context["report"].rows] == [
        "ana@example.org",
        "ben@example.org",
    ]
    assert "ben@example.org" in page_text(preview)

    confirmed = coordinator_client.post(uploaded["Location"])
    roster = coordinator_client.get(confirmed["Location"])

    assert confirmed["Location"] == url("roster_list", program)
    assert sorted(listed_emails(roster)) == ["ana@example.org", "ben@example.org"]
    draft.refresh_from_db()
    assert draft.content is None
    assert draft.committed_at is not None


def test_posting_a_committed_draft_again_does_not_import_twice(coordinator_client, program):
    preview_url = upload(coordinator_client, program, GOOD_FILE)["Location"]
    coordinator_client.post(preview_url)
    Clinician.objects.filter(email="ana@example.org").update(last_name="Changed since")

    again = coordinator_client.post(preview_url, follow=True)

    assert Clinician.objects.filter(program=program).count() == 2
    assert Clinician.objects.get(email="ana@example.org").last_name == "Changed since"
    assert AuditEvent.objects.filter(action="roster.import").count() == 1
    assert any("already imported" in m for m in messages_of(again))


def test_file_with_3_good_rows_and_1_bad_row_saves_nothing(coordinator_client, program):
    content = csv_bytes(
        ROSTER_HEADER,
        "ana@example.org,Ana,Lima,physician",
        "ben@example.org,Ben,Okafor,physician",
        "not-an-email,Cleo,Diaz,physician",
        "dan@example.org,Dan,Ruiz,physician",
    )
    preview_url = upload(coordinator_client, program, content)["Location"]

    preview = coordinator_client.get(preview_url)
    confirm = coordinator_client.post(preview_url)

    assert preview.context["report"].ok is False
    assert [r.line for r in preview.context["report"].error_rows] == [4]
    assert "not-an-email" in page_text(preview)
    assert confirm.status_code == 200
    assert any("Nothing was imported" in m for m in messages_of(confirm))
    assert Clinician.objects.count() == 0
    assert RosterImport.objects.get().committed_at is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\n\n", "empty"),
        (csv_bytes(ROSTER_HEADER), "no clinicians"),
        (csv_bytes(ROSTER_HEADER + ",name", "a@example.org,Ana,Lima,md,Ana Lima"), "“name”"),
        ("email,first_name,last_name,discipline\nj@x.org,José,L,md\n".encode("latin-1"), "line 2"),
    ],
    ids=["empty", "header-only", "unknown-column", "latin-1"],
)
def test_unreadable_file_is_refused_on_the_upload_page(
    coordinator_client, program, content, expected
):
    response = upload(coordinator_client, program, content)

    assert response.status_code == 200
    (error,) = response.context["report"].file_errors
    assert expected in error
    assert error in page_text(response).replace("&#x27;", "'")
    assert RosterImport.objects.count() == 0
    assert Clinician.objects.count() == 0


def test_file_over_the_limit_is_refused_by_the_form(coordinator_client, program, settings):
    settings.ROSTER_IMPORT_MAX_BYTES = 50

    response = upload(coordinator_client, program, GOOD_FILE)

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["file"]
    assert RosterImport.objects.count() == 0


def test_a_real_10_mb_upload_is_refused_with_a_clear_message(coordinator_client, program):
    row = b"someone@example.org,Some,One,physician\n"
    content = ROSTER_HEADER.encode() + b"\n" + row * (10 * 1024 * 1024 // len(row))
    assert len(content) > 10_000_000

    response = upload(coordinator_client, program, content, name="huge.csv")

    assert response.status_code == 200
    (message,) = response.context["form"].errors["file"]
    assert "the limit is 2.0 MB" in message
    assert message in page_text(response)
    assert RosterImport.objects.count() == 0
    assert Clinician.objects.count() == 0


def test_upload_without_a_file_shows_a_form_error(coordinator_client, program):
    response = coordinator_client.post(url("roster_import", program), {"file": ""})

    assert list(response.context["form"].errors) == ["file"]


def test_upload_of_a_zero_byte_file_shows_a_form_error(coordinator_client, program):
    response = upload(coordinator_client, program, b"")

    assert list(response.context["form"].errors) == ["file"]
    assert RosterImport.objects.count() == 0


def test_preview_of_another_programs_draft_is_404(coordinator_client, program):
    other = ProgramFactory()
    client_other = ProgramRoleFactory(program=other, role=ProgramRole.Role.COORDINATOR).user
    draft, _ = services.roster_import_upload(
        program=other, actor=client_other, filename="x.csv", content=GOOD_FILE
    )

    response = coordinator_client.get(url("roster_import_preview", program, pk=draft.pk))

    assert response.status_code == 404


# --- Export ----------------------------------------------------------------------------------


def test_export_is_a_csv_attachment_and_is_audited(client, program):
    viewer = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    ClinicianFactory(program=program, email="ana@example.org", first_name="=cmd|' /C calc'!A0")
    client.force_login(viewer)

    response = client.get(url("roster_export", program))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="roster-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["email", "first_name", "last_name", "discipline"]
    assert rows[1][0] == "ana@example.org"
    assert not rows[1][1].startswith("=")
    event = AuditEvent.objects.get(action="roster.export")
    assert (event.actor, event.program_id, event.data) == (viewer, program.pk, {"rows": 1})


def test_exported_file_imports_into_a_fresh_program_unchanged(client, program):
    coordinator = ProgramRoleFactory(program=program).user
    ClinicianFactory(
        program=program,
        email="ana@example.org",
        first_name="Ana",
        last_name="Lima",
        years_at_institution=5,
        gender="female",
    )
    ClinicianFactory(
        program=program,
        email="ben@example.org",
        first_name="Ben",
        last_name="O'Kafor",
        discipline=Discipline.PHARMACIST,
        status=Clinician.Status.INACTIVE,
    )
    fresh = ProgramFactory()
    ProgramRoleFactory(program=fresh, user=coordinator)
    client.force_login(coordinator)
    exported = client.get(url("roster_export", program)).content

    preview_url = upload(client, fresh, exported)["Location"]
    client.post(preview_url)

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
    assert list(
        Clinician.objects.filter(program=fresh).order_by("email").values_list(*fields)
    ) == list(Clinician.objects.filter(program=program).order_by("email").values_list(*fields))
