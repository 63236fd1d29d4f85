"""Who may open which page, and who may post to it: one entry per URL pattern of the project.

Each entry says what a GET and what a POST answers every actor (see :func:`harness.row`), how
to build the address from a program's objects, and, for a POST that changes something, the
body to send and where a permitted POST leads. A new URL pattern fails
``test_every_url_pattern_has_an_expectation`` until it has an entry here, with both a GET and a
POST row; adding one is one line, for example::

    "surveys:answer_start": Expect(get=PUBLIC, post=PUBLIC, kwargs=_token("survey_token")),

Pages that do not look at the method answer a POST like a GET (``post=`` the same row, nothing
changes); views that accept GET only answer a POST with 405, and POST-only views a GET with 405
(after the site's sign-in requirement, for anonymous visitors).

The rules (from the foundation issue and those after it):

* roster pages and program settings: the program's coordinator (and site staff);
* roster export: coordinator and report viewer (and staff);
* program overview: anyone holding a role in the program (and staff);
* groups list: anyone holding a role in the program; a group's page (its members): the
  coordinator, staff, and that group's own current facilitators and members;
* group assignment, rules, group settings and the facilitator pool: the coordinator (and staff);
* a signed-in person with no role in the program gets 404, a role without the permission 403;
* anonymous visitors are sent to /accounts/login/?next=<page>;
* sign-in, password reset, the invitation link, /healthz/ and a private calendar feed address
  (its token is the secret) are public.

Sessions: a session's page is seen by its group's members and facilitators, the coordinator and
staff; running it (agenda, live view, attendance, presenters) is for its group's facilitators,
the coordinator and staff; only group members RSVP and volunteer, and only the group's lead
facilitator (besides coordinator and staff) asks people to present.

Case notes: the presenter writes, reads and deletes their note; the group's facilitators read it
(visibility "facilitators") after accepting the confidentiality agreement (the world's
facilitator has not yet: sent to the agreement page first); coordinators, report viewers and
staff get a 403 page with metadata only, never the text; coordinators (and staff) see who
accessed a note. Every refusal is audited (tests/sessions_app/casenotes/test_views.py).
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from sessions_app.models import AgendaTemplate, CalendarToken, CaseNote, Rsvp
from tests.factories import PASSWORD

from .harness import LOGIN, Expect, row

# --- Rows: what each actor gets -----------------------------------------------------------------

PUBLIC = row(200, 200, 200, 200, 200, 200, 200)
# The sign-in page: signed-in users are sent on (redirect_authenticated_user).
SIGN_IN = row(200, 302, 302, 302, 302, 302, 302)
SIGNED_IN = row(LOGIN, 200, 200, 200, 200, 200, 200)
PROGRAM_MEMBERS = row(LOGIN, 200, 200, 200, 200, 200, 404)
COORDINATOR_ONLY = row(LOGIN, 403, 403, 200, 403, 200, 404)
EXPORTERS = row(LOGIN, 403, 403, 200, 200, 200, 404)
# A page that sends everyone on (to sign in, or home).
EVERYONE_REDIRECTED = row(302, 302, 302, 302, 302, 302, 302)
NOT_FOUND = row(404, 404, 404, 404, 404, 404, 404)
# One's own thing that does not exist (a second factor not set up).
SIGNED_IN_NOT_FOUND = row(LOGIN, 404, 404, 404, 404, 404, 404)
# The other method of a view that accepts one only: sign-in first (middleware), then 405.
NOT_ALLOWED = row(LOGIN, 405, 405, 405, 405, 405, 405)
# The same for a public view.
NOT_ALLOWED_PUBLIC = row(405, 405, 405, 405, 405, 405, 405)
# A session of the world's group: its members and facilitators, the coordinator and staff see
# it; a report viewer (no group of their own) does not.
SESSION_VIEWERS = row(LOGIN, 200, 200, 200, 403, 200, 404)
# Running a session (agenda, live view, attendance, presenters): the group's facilitators, the
# coordinator and staff.
SESSION_RUNNERS = row(LOGIN, 403, 200, 200, 403, 200, 404)
# Presenter turns: coordinator and facilitators (their own groups); attendance figures and
# credit: the report viewer too.
PRESENTER_MANAGERS = row(LOGIN, 403, 200, 200, 403, 200, 404)
FIGURES = row(LOGIN, 403, 200, 200, 200, 200, 404)

# A POST that acts (and redirects on): for those who may manage the roster, the groups, the
# schedule, the surveys: coordinator and staff.
POST_MANAGERS = row(LOGIN, 403, 403, 302, 403, 302, 404)
# Running a session: the group's facilitators too.
POST_RUNNERS = row(LOGIN, 403, 302, 302, 403, 302, 404)
# Answering for oneself as a member of the group: RSVP, volunteering, an invitation.
POST_MEMBER = row(LOGIN, 302, 403, 403, 403, 403, 404)
# Asking someone to present: the group's lead facilitator, the coordinator and staff.
POST_INVITERS = row(LOGIN, 403, 302, 302, 403, 302, 404)
# Withdrawing a presenter: the presenter themself, or whoever may invite.
POST_WITHDRAW = row(LOGIN, 302, 302, 302, 403, 302, 404)
# One's own case note: its presenter only.
POST_PRESENTER = row(LOGIN, 302, 403, 403, 403, 403, 404)
# One's own things (calendar feeds, password): everyone signed in.
POST_SIGNED_IN = row(LOGIN, 302, 302, 302, 302, 302, 302)
# Starting or retrying an analysis run, requesting an export: coordinators and report viewers.
POST_ANALYSTS = row(LOGIN, 403, 403, 302, 302, 302, 404)
# A public form that redirects on.
POST_PUBLIC = row(302, 302, 302, 302, 302, 302, 302)
# A token link opened by a person: exchanged for a signed cookie, redirected to a token-free page.
EXCHANGED = row(303, 303, 303, 303, 303, 303, 303)


# --- Addresses: from one program's objects --------------------------------------------------------


def _slug(side) -> dict:
    return {"slug": side.slug}


def _pk(attr: str):
    """The program's slug and the id of ``side.<attr>``."""
    return lambda side: {"slug": side.slug, "pk": getattr(side, attr).pk}


def _wave(side) -> dict:
    return {"slug": side.slug, "wave": side.wave.slug}


def _series(side) -> dict:
    return {"slug": side.slug, "series": side.series.slug}


def _wave_pk(attr: str):
    return lambda side: {**_wave(side), "pk": getattr(side, attr).pk}


def _token(attr: str):
    return lambda side: {"token": getattr(side, attr)}


def _page(name: str, **kwargs):
    """Where a POST leads: ``name`` with the program's slug and ``kwargs`` from the side."""
    return lambda side: reverse(
        name, kwargs={"slug": side.slug, **{k: f(side) for k, f in kwargs.items()}}
    )


def _at(path: str):
    return lambda side: path


# --- Bodies and the states a POST acts on --------------------------------------------------------


def _day(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _refetch(obj):
    return type(obj)._base_manager.get(pk=obj.pk)


def _due_soon(side) -> None:
    """The world's session begins in ten minutes: its live view may be started."""
    from sessions_app.models import Session

    Session.objects.filter(pk=side.session.pk).update(
        starts_at=timezone.now() + timedelta(minutes=10)
    )


def _start(side) -> None:
    from sessions_app.agenda import services as agenda_services

    _due_soon(side)
    agenda_services.session_live_start(
        session=_refetch(side.session), actor=_refetch(side.people["facilitator"])
    )


def _attendance_recorded(side) -> None:
    from sessions_app.models import Attendance

    Attendance.objects.get_or_create(
        session=side.past_session,
        clinician=side.participant_clinician,
        defaults={"status": "present"},
    )


def _start_and_pause(side) -> None:
    from sessions_app.agenda import services as agenda_services

    _start(side)
    agenda_services.session_live_pause(
        session=_refetch(side.session), actor=_refetch(side.people["facilitator"])
    )


def _lead_absent(side) -> None:
    from tests.factories import FacilitatorAbsenceFactory

    FacilitatorAbsenceFactory(session=side.session, facilitator=side.lead)


def _own_feed(side, user) -> dict:
    """The poster's own feed address (the participant's for an anonymous visitor)."""
    owner = user or side.people["participant"]
    return {"token": CalendarToken.objects.get(user=owner, revoked_at=None, program=None).pk}


def _pause_sending(side) -> None:
    from ccdg.outbox.services import outbox_pause

    outbox_pause(program=side.program, paused=True, actor=None)


def _exclude_response(side) -> None:
    from surveys.responses import response_exclude

    response_exclude(response=side.response, actor=None, reason="Damaged")


def _both_reviewers_coded(side) -> None:
    from analysis.coding import services as coding
    from surveys.models import Response

    response = Response.objects.select_related("wave").get(pk=side.response.pk)
    for actor, themes in (("coordinator", [side.theme]), ("report_viewer", [])):
        coding.coding_save(
            reviewer=side.people[actor], response=response, question_code="open_unique",
            themes=themes,
        )  # fmt: skip


def _coding_item(side, user) -> dict:
    return {"item": side.item, "no_theme": "on"}


def _newest(model_path: str):
    def newest():
        from django.apps import apps

        return apps.get_model(model_path)._base_manager.latest("pk")

    return newest


def _newest_run_page(side) -> str:
    run = _newest("analysis.AnalysisRun")()
    return reverse(
        "analysis:run_detail", kwargs={"slug": side.slug, "wave": run.wave.slug, "pk": run.pk}
    )


def _newest_job_page(side) -> str:
    job = _newest("analysis.ExportJob")()
    return reverse("reports:job", kwargs={"slug": side.slug, "pk": job.pk})


def _newest_agenda_page(side) -> str:
    pk = AgendaTemplate.objects.filter(program=side.program).latest("pk").pk
    return reverse("sessions_app:agenda_edit", kwargs={"slug": side.slug, "pk": pk})


def _roster_csv(side, user) -> dict:
    content = b"email,first_name,last_name,discipline\nnew.person@example.org,New,Person,nurse\n"
    return {"file": SimpleUploadedFile("roster.csv", content, content_type="text/csv")}


def _responses_csv(side, user) -> dict:
    content = b"gender,skill_empathy\nmale,3\n"
    return {"file": SimpleUploadedFile("forms.csv", content, content_type="text/csv")}


def _program(side, user) -> dict:
    return {
        "name": "Renamed program", "department": "Medicine", "institution": "Riverside",
        "academic_year": "2026-2027", "timezone": "America/New_York", "eligible_clinicians": 40,
        "sessions_per_year_min": 6, "sessions_per_year_max": 10, "format": "ccdg60",
        "small_cell_k": 5, "small_cell_k_reason": "",
    }  # fmt: skip


def _clinician(side, user) -> dict:
    return {
        "first_name": "Nora", "last_name": "Novak", "email": "nora.novak@example.org",
        "discipline": "nurse", "gender": "female",
    }  # fmt: skip


def _facilitator(side, user) -> dict:
    return {
        "name": "Dr. Ines Ortega", "email": "ines.ortega@example.org",
        "background": "psychologist", "clinician": side.clinician.pk, "active": "on",
    }  # fmt: skip


def _agenda(side, user) -> dict:
    return {
        "name": "A shorter agenda", "duration_minutes": 45,
        "segments-TOTAL_FORMS": 2, "segments-INITIAL_FORMS": 0,
        "segments-MIN_NUM_FORMS": 0, "segments-MAX_NUM_FORMS": 40,
        "segments-0-start": "0", "segments-0-title": "Welcome",
        "segments-1-start": "10", "segments-1-title": "The case",
    }  # fmt: skip


def _schedule(side, user) -> dict:
    return {
        "frequency": "monthly", "ordinal": 2, "weekday": 1, "interval": 1,
        "first": _day(60), "count": 1, "start_time": "07:30", "duration_minutes": 60,
        "agenda": side.agenda.pk, "action": "create",
        f"g{side.group.pk}_include": "on", f"g{side.group.pk}_room": side.room.pk,
    }  # fmt: skip


def _wave_form(side, user) -> dict:
    from surveys.services import builtin_instrument

    return {
        "name": "Autumn", "slug": "autumn", "instrument": builtin_instrument().pk,
        "mode": "anonymous", "audience": "group", "audience_group": side.group.pk,
        "closes_on": _day(20), "closes_time": "23:59", "reminder_days": 3, "confirm": "1",
    }  # fmt: skip


def _fresh_reset_limits(side) -> None:
    """Each actor asks for a reset as if first (the per-address limit would refuse the fourth)."""
    cache.clear()


def _refreshment_day(side) -> dict:
    """The day the session meets, in the program's time zone."""
    day = side.session.starts_at.astimezone(ZoneInfo(side.program.timezone)).date()
    return {"slug": side.slug, "day": day.isoformat()}


# --- The table ------------------------------------------------------------------------------------

_CLINICIAN_DONE = lambda side: side.clinician.get_absolute_url()  # noqa: E731
_SESSION = _pk("session")
_SESSION_PAGE = _page("sessions_app:session_detail", pk=lambda s: s.session.pk)
_LIVE_PAGE = _page("sessions_app:session_live", pk=lambda s: s.session.pk)
_MY_SESSIONS = _page("sessions_app:my_sessions")
_WAVE_PAGE = _page("surveys:wave_detail", wave=lambda s: s.wave.slug)
_SERIES_PAGE = _page("surveys:series_detail", series=lambda s: s.series.slug)
_RESPONSE_PAGE = _page(
    "surveys:response_detail", wave=lambda s: s.wave.slug, pk=lambda s: s.response.pk
)
_CODING_THEMES = _page("coding:themes", wave=lambda s: s.wave.slug)
_SAML = lambda side: {"organization_slug": "hospital"}  # noqa: E731
_ABSENCE = lambda side, user: {"facilitator": side.lead.pk, "reason": "conference"}  # noqa: E731

# One entry per URL, kept compact (as written, not as the formatter would spread it).
# fmt: off
EXPECTATIONS: dict[str, Expect] = {
    "home": Expect(get=SIGNED_IN, post=SIGNED_IN),
    "healthz": Expect(get=PUBLIC, post=PUBLIC),
    "favicon": Expect(get=EVERYONE_REDIRECTED, post=EVERYONE_REDIRECTED),
    # Any signed-in person may check their own text; nothing is read, stored or shown but it.
    "identifiers_check": Expect(get=NOT_ALLOWED, post=SIGNED_IN),
    # Sign-in, sign-out, passwords (django-allauth, docs/sign-in.md). The sign-in page and the
    # account-less pages are public; a signed-in person is sent on from the sign-in page.
    "account_login": Expect(get=SIGN_IN, post=SIGN_IN),
    "admin_login_redirect": Expect(get=EVERYONE_REDIRECTED, post=EVERYONE_REDIRECTED),
    # Sign-out asks first (GET); the POST signs out (anonymous visitors are sent to sign in).
    "account_logout": Expect(get=row(302, 200, 200, 200, 200, 200, 200),
                             post=EVERYONE_REDIRECTED),
    # After signing out of a single sign-on session: public (the person is signed out).
    "account_signed_out": Expect(get=PUBLIC, post=NOT_ALLOWED_PUBLIC),
    "account_reauthenticate": Expect(get=SIGNED_IN, post=SIGNED_IN),
    # Nobody signs up: accounts come from invitations and single sign-on (the page says so).
    "account_signup": Expect(get=SIGN_IN, post=SIGN_IN),
    "account_inactive": Expect(get=PUBLIC, post=NOT_ALLOWED_PUBLIC),
    # Addresses are not confirmed by e-mail here (ACCOUNT_EMAIL_VERIFICATION = "none"): the
    # pages say the link is not valid; a sign-in code is not offered, so its page sends on.
    "account_email_verification_sent": Expect(get=PUBLIC, post=NOT_ALLOWED_PUBLIC),
    "account_confirm_email": Expect(
        get=PUBLIC, post=row(404, 404, 404, 404, 404, 404, 404),
        kwargs=lambda side: {"key": "not-a-key"},
    ),
    "account_confirm_login_code": Expect(get=EVERYONE_REDIRECTED, post=EVERYONE_REDIRECTED),
    # One's e-mail address, read only (the coordinator keeps it with the roster entry).
    "account_email": Expect(get=SIGNED_IN, post=NOT_ALLOWED),
    "account_change_password": Expect(
        get=SIGNED_IN, post=POST_SIGNED_IN, acts=True,
        data=lambda side, user: {"oldpassword": PASSWORD, "password1": "a-new-pass-phrase-7",
                                 "password2": "a-new-pass-phrase-7"},
        done=_at("/accounts/password/change/"),
    ),
    # Everyone here has a password; the page for setting a first one sends them on to change it.
    "account_set_password": Expect(get=POST_SIGNED_IN, post=POST_SIGNED_IN),
    # A reset request is queued whoever asks and whatever the address (the worker sends it).
    "account_reset_password": Expect(
        get=PUBLIC, post=POST_PUBLIC, acts=True, setup=_fresh_reset_limits,
        data=lambda side, user: {"email": "participant@example.org"},
        done=_at("/accounts/password/reset/done/"),
    ),
    "account_reset_password_done": Expect(get=PUBLIC, post=NOT_ALLOWED_PUBLIC),
    "account_reset_password_from_key": Expect(
        get=PUBLIC, post=PUBLIC, kwargs=lambda side: {"uidb36": "1", "key": "not-a-valid-token"}
    ),
    "account_reset_password_from_key_done": Expect(get=PUBLIC, post=NOT_ALLOWED_PUBLIC),
    # Second factors: one's own, for everyone signed in. Adding or removing one asks for the
    # password again first; pages of a factor one does not have are not found; the sign-in
    # step for a second factor sends on whoever is not half-way through signing in.
    "mfa_index": Expect(get=SIGNED_IN, post=NOT_ALLOWED),
    "mfa_authenticate": Expect(get=EVERYONE_REDIRECTED, post=EVERYONE_REDIRECTED),
    "mfa_reauthenticate": Expect(get=POST_SIGNED_IN, post=POST_SIGNED_IN),
    "mfa_reauthenticate_webauthn": Expect(get=POST_SIGNED_IN, post=POST_SIGNED_IN),
    "mfa_activate_totp": Expect(get=POST_SIGNED_IN, post=POST_SIGNED_IN),
    "mfa_deactivate_totp": Expect(get=SIGNED_IN_NOT_FOUND, post=SIGNED_IN_NOT_FOUND),
    "mfa_view_recovery_codes": Expect(get=SIGNED_IN_NOT_FOUND, post=NOT_ALLOWED),
    "mfa_download_recovery_codes": Expect(get=SIGNED_IN_NOT_FOUND, post=SIGNED_IN_NOT_FOUND),
    "mfa_generate_recovery_codes": Expect(get=POST_SIGNED_IN, post=POST_SIGNED_IN),
    "mfa_list_webauthn": Expect(get=SIGNED_IN, post=NOT_ALLOWED),
    "mfa_add_webauthn": Expect(get=POST_SIGNED_IN, post=POST_SIGNED_IN),
    "mfa_edit_webauthn": Expect(
        get=POST_SIGNED_IN, post=POST_SIGNED_IN, kwargs=lambda side: {"pk": 1}
    ),
    "mfa_remove_webauthn": Expect(
        get=POST_SIGNED_IN, post=POST_SIGNED_IN, kwargs=lambda side: {"pk": 1}
    ),
    # One's sessions; the POST signs out one's other sessions (there are none here).
    "usersessions_list": Expect(get=SIGNED_IN, post=POST_SIGNED_IN),
    # Single sign-on: no provider is configured in the tests' settings, so a provider's pages
    # are not found (tests/sessions_app/signin/test_sso.py runs them against a real one); the
    # error and cancelled pages are public; one's linked provider accounts, for everyone
    # signed in.
    "ccdg_oidc_login": Expect(
        get=NOT_FOUND, post=NOT_FOUND, kwargs=lambda side: {"provider_id": "hospital"}
    ),
    "ccdg_oidc_callback": Expect(
        get=NOT_FOUND, post=NOT_FOUND, kwargs=lambda side: {"provider_id": "hospital"}
    ),
    # SAML 2.0: likewise, no identity provider in the tests' settings
    # (tests/sessions_app/signin/test_saml.py runs them against a real one).
    "saml_login": Expect(get=NOT_FOUND, post=NOT_FOUND, kwargs=_SAML),
    "saml_metadata": Expect(get=NOT_FOUND, post=NOT_FOUND, kwargs=_SAML),
    "saml_acs": Expect(get=EVERYONE_REDIRECTED, post=EVERYONE_REDIRECTED, kwargs=_SAML),
    "saml_finish_acs": Expect(get=NOT_FOUND, post=NOT_FOUND, kwargs=_SAML),
    "saml_sls": Expect(get=NOT_FOUND, post=NOT_FOUND, kwargs=_SAML),
    "socialaccount_login_error": Expect(get=row(401, 401, 401, 401, 401, 401, 401),
                                        post=NOT_ALLOWED_PUBLIC),
    "socialaccount_login_cancelled": Expect(get=PUBLIC, post=NOT_ALLOWED_PUBLIC),
    "socialaccount_signup": Expect(get=EVERYONE_REDIRECTED, post=EVERYONE_REDIRECTED),
    "socialaccount_connections": Expect(get=SIGNED_IN, post=SIGNED_IN),
    # Programs and the roster
    "sessions_app:program_detail": Expect(get=PROGRAM_MEMBERS, post=PROGRAM_MEMBERS, kwargs=_slug),
    "sessions_app:program_edit": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, data=_program, acts=True,
        done=_page("sessions_app:program_detail"),
    ),
    # A new program: site staff only (no program in the address: a coordinator of another
    # program is refused like anyone else).
    "sessions_app:program_create": Expect(
        get=row(LOGIN, 403, 403, 403, 403, 200, 403),
        post=row(LOGIN, 403, 403, 403, 403, 302, 403), acts=True,
        data=lambda side, user: {
            "name": "New program", "slug": "new-program", "academic_year": "2027-2028",
            "timezone": "America/New_York", "locale": "en-US", "sessions_per_year_min": 6,
            "sessions_per_year_max": 12, "format": "ccdg60", "small_cell_k": 5,
            "eligible_clinicians": 40,
            "coordinator": side.people["coordinator"].username,
        },
        done=lambda side: "/programs/new-program/",
    ),
    # Inviting a facilitator of the pool to create an account: who manages facilitators.
    "sessions_app:facilitator_invite": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("spare_facilitator"), acts=True,
        done=_page("sessions_app:facilitator_list"),
    ),
    # Who coordinates the program and reads its reports: the coordinator (and staff) give and
    # take roles; a person is named by e-mail or username.
    "sessions_app:program_team": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"person": side.people["participant"].username,
                                 "role": "report_viewer"},
        done=_page("sessions_app:program_team"),
    ),
    "sessions_app:role_invite": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"name": "Quinn Quality", "email": "quinn@example.org",
                                 "role": "report_viewer"},
        done=_page("sessions_app:program_team"),
    ),
    "sessions_app:role_revoke": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("report_role"), acts=True,
        done=_page("sessions_app:program_team"),
    ),
    "sessions_app:roster_list": Expect(get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_slug),
    "sessions_app:clinician_create": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, data=_clinician, acts=True
    ),
    "sessions_app:roster_export": Expect(get=EXPORTERS, post=EXPORTERS, kwargs=_slug),
    "sessions_app:roster_import": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, data=_roster_csv, acts=True
    ),
    "sessions_app:roster_import_preview": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_pk("draft"), acts=True,
        done=_page("sessions_app:roster_list"),
    ),
    "sessions_app:clinician_detail": Expect(
        get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_pk("clinician")
    ),
    "sessions_app:clinician_edit": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_pk("clinician"), data=_clinician,
        acts=True, done=_CLINICIAN_DONE,
    ),
    "sessions_app:clinician_deactivate": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("clinician"), acts=True,
        data=lambda side, user: {"reason": "left"}, done=_CLINICIAN_DONE,
    ),
    "sessions_app:clinician_reactivate": Expect(
        # Reactivating a clinician who is not inactive changes nothing, for anyone.
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("clinician"), done=_CLINICIAN_DONE
    ),
    "sessions_app:clinician_invite": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("clinician"), acts=True,
        done=_CLINICIAN_DONE,
    ),
    # The invitation link is public: its token is the secret. Opening it exchanges the token
    # for a signed cookie and redirects to the token-free account page, which needs the cookie.
    "sessions_app:invitation_accept": Expect(
        get=EXCHANGED, post=EXCHANGED, kwargs=_token("invitation_token")
    ),
    "sessions_app:invitation_account": Expect(
        get=PUBLIC, post=POST_PUBLIC, acts=True, done=_at("/"),
        via=lambda s: reverse(
            "sessions_app:invitation_accept", kwargs={"token": s.invitation_token}
        ),
        data=lambda side, user: {"username": "new.person", "password1": "a-new-pass-phrase-7",
                                 "password2": "a-new-pass-phrase-7"},
    ),  # fmt: skip
    # Groups. The world's participant and facilitator belong to the group checked here; another
    # group's page is 403 for them (test_group_page_of_another_group_is_403...).
    "sessions_app:group_list": Expect(get=PROGRAM_MEMBERS, post=PROGRAM_MEMBERS, kwargs=_slug),
    "sessions_app:group_detail": Expect(
        get=row(LOGIN, 200, 200, 200, 403, 200, 404), post=row(LOGIN, 200, 200, 200, 403, 200, 404),
        kwargs=_pk("group"),
    ),
    "sessions_app:group_edit": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_pk("group"), acts=True,
        data=lambda side, user: {"name": "Group One", "default_room": side.room.pk,
                                 "min_size": 4, "max_size": 10},
        done=_page("sessions_app:group_detail", pk=lambda s: s.group.pk),
    ),
    "sessions_app:group_facilitation_add": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("group"), acts=True,
        data=lambda side, user: {"facilitator": side.spare_facilitator.pk, "role": "backup"},
        done=_page("sessions_app:group_detail", pk=lambda s: s.group.pk),
    ),
    "sessions_app:facilitation_end": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("facilitation"), acts=True,
        done=_page("sessions_app:group_detail", pk=lambda s: s.group.pk),
    ),
    "sessions_app:assignment_start": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"mode": "fresh", "groups": 1, "min_size": 1, "max_size": 12,
                                 "seed": 0},
    ),
    "sessions_app:assignment_run": Expect(
        get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_pk("run")
    ),
    "sessions_app:assignment_move": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("move_run"), acts=True,
        data=lambda side, user: {"clinician": side.mover.pk, "to": f"g{side.other_group.pk}"},
        done=_page("sessions_app:assignment_run", pk=lambda s: s.move_run.pk),
    ),
    "sessions_app:assignment_commit": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("run"), acts=True,
        done=_page("sessions_app:group_list"),
    ),
    "sessions_app:assignment_discard": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("move_run"), acts=True,
        done=_page("sessions_app:assignment_start"),
    ),
    "sessions_app:constraint_list": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"kind": "together", "clinician": side.clinician.pk,
                                 "other": side.mover.pk},
        done=_page("sessions_app:constraint_list"),
    ),
    "sessions_app:constraint_delete": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("rule"), acts=True,
        done=_page("sessions_app:constraint_list"),
    ),
    "sessions_app:facilitator_list": Expect(
        get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_slug
    ),
    "sessions_app:facilitator_create": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, data=_facilitator, acts=True,
        done=_page("sessions_app:facilitator_list"),
    ),
    "sessions_app:facilitator_edit": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_pk("spare_facilitator"),
        data=_facilitator, acts=True, done=_page("sessions_app:facilitator_list"),
    ),
    # Schedule. The session checked is an upcoming one of the world's group.
    "sessions_app:session_list": Expect(get=PROGRAM_MEMBERS, post=PROGRAM_MEMBERS, kwargs=_slug),
    "sessions_app:session_detail": Expect(
        get=SESSION_VIEWERS, post=SESSION_VIEWERS, kwargs=_SESSION
    ),
    "sessions_app:session_ics": Expect(get=SESSION_VIEWERS, post=NOT_ALLOWED, kwargs=_SESSION),
    "sessions_app:schedule_generate": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, data=_schedule, acts=True,
        done=_page("sessions_app:session_list"),
    ),
    "sessions_app:session_coverage": Expect(
        get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_slug
    ),
    "sessions_app:session_reschedule": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_SESSION, acts=True,
        data=lambda side, user: {"day": _day(15), "start_time": "08:00", "room": side.room.pk},
        done=_SESSION_PAGE,
    ),
    # A session's theme and cases: those who run it (its facilitators, coordinator, staff).
    "sessions_app:session_plan": Expect(
        get=SESSION_RUNNERS, post=POST_RUNNERS, kwargs=_SESSION, acts=True,
        data=lambda side, user: {"theme": "Patients who do not follow advice",
                                 "two_cases": "on", "mode": "online",
                                 "meeting_url": "https://meet.example.org/j/42"},
        done=_SESSION_PAGE,
    ),  # fmt: skip
    "sessions_app:session_cancel": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_SESSION, acts=True,
        data=lambda side, user: {"reason": "Grand rounds moved"}, done=_SESSION_PAGE,
    ),
    # The coordinator and staff name the facilitator; a facilitator is always about themself.
    "sessions_app:session_absence_add": Expect(
        get=NOT_ALLOWED, post=POST_RUNNERS, kwargs=_SESSION, data=_ABSENCE, acts=True,
        done=_SESSION_PAGE,
    ),
    "sessions_app:session_absence_remove": Expect(
        get=NOT_ALLOWED, post=POST_RUNNERS, kwargs=_SESSION, data=_ABSENCE, acts=True,
        done=_SESSION_PAGE, setup=_lead_absent,
    ),
    "sessions_app:room_list": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"name": "Library", "location": "Building B", "capacity": 12},
        done=_page("sessions_app:room_list"),
    ),
    "sessions_app:room_edit": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_pk("room"), acts=True,
        data=lambda side, user: {"name": "Library", "location": "Building B", "capacity": 12},
        done=_page("sessions_app:room_list"),
    ),
    "sessions_app:room_delete": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("room"), acts=True,
        done=_page("sessions_app:room_list"),
    ),
    "sessions_app:blackout_list": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"date": _day(100), "reason": "Holiday"},
        done=_page("sessions_app:blackout_list"),
    ),
    "sessions_app:blackout_delete": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("blackout"), acts=True,
        done=_page("sessions_app:blackout_list"),
    ),
    "sessions_app:refreshment_list": Expect(
        get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_slug
    ),
    "sessions_app:refreshment_edit": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_refreshment_day, acts=True,
        data=lambda side, user: {"status": "requested", "vendor": "Corner Bakery",
                                 "items": "Bagels", "headcount": 12},
        done=_page("sessions_app:refreshment_list"),
    ),
    # One's own feeds: a new address is shown once on the page itself.
    "sessions_app:calendar_feeds": Expect(
        get=SIGNED_IN, post=row(LOGIN, 200, 200, 200, 200, 200, 200), acts=True
    ),
    "sessions_app:calendar_feed_revoke": Expect(
        get=NOT_ALLOWED, post=POST_SIGNED_IN, data=_own_feed, acts=True, done=_at("/calendar/")
    ),
    # The feed address is the secret: it works for whoever holds it, signed in or not (a wrong
    # token is 404 for everyone: test_calendar_feed_with_a_wrong_or_revoked_token_is_404).
    "sessions_app:calendar_feed": Expect(
        get=PUBLIC, post=NOT_ALLOWED_PUBLIC, kwargs=lambda side: {"token": side.feed_token}
    ),
    # Agendas and the live view, checked on the program's own template (a built-in one belongs
    # to no program).
    "sessions_app:agenda_list": Expect(get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_slug),
    "sessions_app:agenda_create": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, data=_agenda, acts=True,
        done=_page("sessions_app:agenda_list"),
    ),
    "sessions_app:agenda_edit": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_pk("agenda"), data=_agenda, acts=True,
        done=_page("sessions_app:agenda_list"),
    ),
    "sessions_app:agenda_copy": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("agenda"), acts=True,
        done=_newest_agenda_page,
    ),
    "sessions_app:agenda_apply": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_pk("agenda"), acts=True,
        done=_page("sessions_app:agenda_list"),
    ),
    "sessions_app:session_agenda": Expect(
        get=SESSION_RUNNERS, post=SESSION_RUNNERS, kwargs=_SESSION
    ),
    "sessions_app:session_live": Expect(get=SESSION_RUNNERS, post=SESSION_RUNNERS, kwargs=_SESSION),
    "sessions_app:session_live_state": Expect(
        get=SESSION_RUNNERS, post=NOT_ALLOWED, kwargs=_SESSION
    ),
    "sessions_app:session_live_start": Expect(
        get=NOT_ALLOWED, post=POST_RUNNERS, kwargs=_SESSION, acts=True, done=_LIVE_PAGE,
        setup=_due_soon,
    ),
    "sessions_app:session_live_pause": Expect(
        get=NOT_ALLOWED, post=POST_RUNNERS, kwargs=_SESSION, acts=True, done=_LIVE_PAGE,
        setup=_start,
    ),
    "sessions_app:session_live_resume": Expect(
        get=NOT_ALLOWED, post=POST_RUNNERS, kwargs=_SESSION, acts=True, done=_LIVE_PAGE,
        setup=_start_and_pause,
    ),
    "sessions_app:session_live_next": Expect(
        get=NOT_ALLOWED, post=POST_RUNNERS, kwargs=_SESSION, acts=True, done=_LIVE_PAGE,
        setup=_start,
    ),
    "sessions_app:session_live_extend": Expect(
        get=NOT_ALLOWED, post=POST_RUNNERS, kwargs=_SESSION, acts=True, done=_LIVE_PAGE,
        setup=_start,
    ),
    "sessions_app:session_live_reset": Expect(
        get=SESSION_RUNNERS, post=POST_RUNNERS, kwargs=_SESSION, acts=True, done=_LIVE_PAGE,
        setup=_start,
    ),
    "sessions_app:session_take_home": Expect(
        get=SESSION_VIEWERS, post=SESSION_VIEWERS, kwargs=_SESSION
    ),
    "sessions_app:session_take_home_edit": Expect(
        get=SESSION_RUNNERS, post=POST_RUNNERS, kwargs=_SESSION, acts=True,
        data=lambda side, user: {"points": "Listening first helps."},
        done=_page("sessions_app:session_take_home", pk=lambda s: s.session.pk),
    ),
    # Presenters and attendance. attendance_record is checked on a session that has started.
    "sessions_app:my_sessions": Expect(get=PROGRAM_MEMBERS, post=PROGRAM_MEMBERS, kwargs=_slug),
    "sessions_app:presenter_volunteer": Expect(
        get=NOT_ALLOWED, post=POST_MEMBER, kwargs=_SESSION, acts=True, done=_MY_SESSIONS,
        data=lambda side, user: {"working_title": "A difficult conversation"},
    ),
    "sessions_app:rsvp_set": Expect(
        get=NOT_ALLOWED, post=POST_MEMBER, kwargs=_SESSION, acts=True, done=_MY_SESSIONS,
        data=lambda side, user: {"answer": Rsvp.Answer.GOING},
    ),
    "sessions_app:session_presenters": Expect(
        get=SESSION_RUNNERS, post=SESSION_RUNNERS, kwargs=_SESSION
    ),
    "sessions_app:presenter_invite": Expect(
        get=NOT_ALLOWED, post=POST_INVITERS, kwargs=_SESSION, acts=True,
        data=lambda side, user: {"clinician": side.participant_clinician.pk},
        done=_page("sessions_app:session_presenters", pk=lambda s: s.session.pk),
    ),
    "sessions_app:attendance_record": Expect(
        get=SESSION_RUNNERS, post=POST_RUNNERS, kwargs=_pk("past_session"), acts=True,
        data=lambda side, user: {f"member_{side.participant_clinician.pk}": "present",
                                 "guests": side.clinician.pk},
        done=_page("sessions_app:attendance_record", pk=lambda s: s.past_session.pk),
    ),
    "sessions_app:attendance_guests": Expect(
        get=SESSION_RUNNERS, post=NOT_ALLOWED, kwargs=_pk("past_session")
    ),
    "sessions_app:attendance_clear": Expect(
        get=NOT_ALLOWED, post=POST_RUNNERS, kwargs=_pk("past_session"), acts=True,
        done=_page("sessions_app:attendance_record", pk=lambda s: s.past_session.pk),
        setup=_attendance_recorded,
    ),
    "sessions_app:presentation_withdraw": Expect(
        get=NOT_ALLOWED, post=POST_WITHDRAW, kwargs=_pk("presentation"), acts=True,
        done=_MY_SESSIONS,
    ),
    "sessions_app:presentation_accept": Expect(
        get=NOT_ALLOWED, post=POST_MEMBER, kwargs=_pk("invitation"), acts=True, done=_MY_SESSIONS
    ),
    "sessions_app:presentation_decline": Expect(
        get=NOT_ALLOWED, post=POST_MEMBER, kwargs=_pk("invitation"), acts=True, done=_MY_SESSIONS
    ),
    "sessions_app:presenter_turns": Expect(
        get=PRESENTER_MANAGERS, post=PRESENTER_MANAGERS, kwargs=_slug
    ),
    "sessions_app:attendance_figures": Expect(get=FIGURES, post=FIGURES, kwargs=_slug),
    "sessions_app:credit_summary": Expect(get=FIGURES, post=FIGURES, kwargs=_slug),
    "sessions_app:credit_export": Expect(get=FIGURES, post=FIGURES, kwargs=_slug),
    # Case notes, checked on the world's note (visibility "facilitators").
    "sessions_app:case_note_edit": Expect(
        get=row(LOGIN, 200, 403, 403, 403, 403, 404), post=POST_PRESENTER,
        kwargs=_pk("presentation"), acts=True,
        data=lambda side, user: {"patient_name": "Ana", "visibility": CaseNote.Visibility.GROUP,
                                 "difficulty": "She reminds me of my mother."},
        done=_page("sessions_app:case_note_detail", pk=lambda s: s.case_note.pk),
    ),
    "sessions_app:case_note_detail": Expect(
        get=row(LOGIN, 200, 302, 403, 403, 403, 404), post=row(LOGIN, 200, 302, 403, 403, 403, 404),
        kwargs=_pk("case_note"),
    ),
    # Only the presenter deletes their case note.
    "sessions_app:case_note_delete": Expect(
        get=NOT_ALLOWED, post=POST_PRESENTER, kwargs=_pk("case_note"), acts=True,
        done=_MY_SESSIONS,
    ),
    "sessions_app:case_note_list": Expect(get=PROGRAM_MEMBERS, post=PROGRAM_MEMBERS, kwargs=_slug),
    "sessions_app:case_note_access": Expect(
        get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_pk("case_note")
    ),
    # Anyone with a role in the program may promise confidentiality.
    "sessions_app:confidentiality_agreement": Expect(
        get=PROGRAM_MEMBERS, post=row(LOGIN, 302, 302, 302, 302, 302, 404), kwargs=_slug,
        acts=True, done=_page("sessions_app:case_note_list"),
    ),
    # Reminders: the outbox is the coordinator's; the unsubscribe link is public (its token is
    # the secret; a wrong one is 404: tests/ccdg/test_outbox.py).
    "outbox:outbox": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"launch_days": 10, "second_launch_days": 3, "session_days": 2,
                                 "presenter_days": 5, "no_presenter_days": 4},
        done=_page("outbox:outbox"),
    ),
    "outbox:outbox_preview": Expect(
        get=COORDINATOR_ONLY, post=COORDINATOR_ONLY, kwargs=_pk("outbox_row")
    ),
    "outbox:outbox_resend": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_pk("outbox_row"), acts=True,
        done=lambda side: reverse("outbox:outbox", kwargs={"slug": side.slug}) + "?tab=failed",
    ),
    "outbox:outbox_pause": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_slug, acts=True, done=_page("outbox:outbox")
    ),
    "outbox:outbox_resume": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_slug, acts=True, done=_page("outbox:outbox"),
        setup=_pause_sending,
    ),
    # GET exchanges the token for a cookie; a mail program's one-click POST acts at once.
    "outbox:unsubscribe": Expect(
        get=EXCHANGED, post=PUBLIC, kwargs=_token("unsubscribe_token"), acts=True
    ),
    "outbox:unsubscribe_confirm": Expect(
        get=PUBLIC, post=PUBLIC, kwargs=_slug, acts=True,
        via=lambda s: reverse("outbox:unsubscribe", kwargs={"token": s.unsubscribe_token}),
    ),  # fmt: skip
    # Surveys: coordinators and report viewers see waves and responses (names of respondents
    # only for coordinators, in confidential waves); coordinators manage. The codebook is not
    # sensitive. A survey link is public: the token is the key (unknown, used and closed links
    # all get the same 404 page: tests/surveys/test_answer.py).
    "surveys:wave_list": Expect(get=EXPORTERS, post=EXPORTERS, kwargs=_slug),
    "surveys:wave_detail": Expect(get=EXPORTERS, post=EXPORTERS, kwargs=_wave),
    "surveys:response_list": Expect(get=EXPORTERS, post=EXPORTERS, kwargs=_wave),
    "surveys:response_detail": Expect(
        get=EXPORTERS, post=EXPORTERS, kwargs=_wave_pk("response")
    ),
    "surveys:wave_create": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, data=_wave_form, acts=True,
        done=_page("surveys:wave_detail", wave=lambda s: "autumn"),
    ),
    "surveys:wave_recipients_count": Expect(
        get=COORDINATOR_ONLY, post=NOT_ALLOWED, kwargs=_slug
    ),
    "surveys:paper_wave_create": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"name": "Paper", "slug": "paper-2027", "distributed": 12,
                                 "mode": "anonymous"},
        done=_page("surveys:wave_detail", wave=lambda s: "paper-2027"),
    ),
    "surveys:paper_entry": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_wave, acts=True,
        data=lambda side, user: {"form_id": "17", "q_skill_empathy": "4"},
    ),
    "surveys:response_import": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_wave, data=_responses_csv, acts=True
    ),
    "surveys:response_import_preview": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_wave_pk("upload"), acts=True,
        done=_WAVE_PAGE,
    ),
    "surveys:wave_close": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_wave, acts=True, done=_WAVE_PAGE
    ),
    "surveys:wave_extend": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_wave, acts=True, done=_WAVE_PAGE,
        data=lambda side, user: {"closes_on": _day(30), "closes_time": "18:00"},
    ),
    "surveys:wave_remind": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_wave, acts=True, done=_WAVE_PAGE
    ),
    "surveys:wave_pilot": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_wave, acts=True, done=_WAVE_PAGE,
        data=lambda side, user: {"is_pilot": "1"},
    ),
    "surveys:response_exclude": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_wave_pk("response"), acts=True,
        data=lambda side, user: {"reason": "Damaged form"}, done=_RESPONSE_PAGE,
    ),
    "surveys:response_include": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_wave_pk("response"), acts=True,
        done=_RESPONSE_PAGE, setup=_exclude_response,
    ),
    "surveys:codebook": Expect(
        get=SIGNED_IN, post=SIGNED_IN, kwargs=lambda side: {"instrument": "ccdg-participant"}
    ),
    "surveys:codebook_version": Expect(
        get=SIGNED_IN, post=SIGNED_IN,
        kwargs=lambda side: {"instrument": "ccdg-participant", "version": 1},
    ),
    "survey_answer:answer": Expect(
        get=EXCHANGED, post=EXCHANGED, kwargs=_token("survey_token")
    ),
    "survey_answer:page": Expect(
        get=PUBLIC, post=POST_PUBLIC, kwargs=_wave, acts=True,
        via=lambda s: reverse("survey_answer:answer", kwargs={"token": s.survey_token}),
        data=lambda side, user: {"action": "save", "page": 1},
    ),  # fmt: skip
    "survey_answer:thanks": Expect(get=PUBLIC, post=NOT_ALLOWED_PUBLIC),
    # Wave series: coordinators and report viewers see them and their results over time;
    # coordinators make them, add and take out waves, and set the personal-code recipe.
    "surveys:series_list": Expect(
        get=EXPORTERS, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"name": "Autumn series", "design": "pre_post", "ask_code": "on",
                             "instrument": "ccdg-participant"},
        done=_page("surveys:series_detail", series=lambda s: "autumn-series"),
    ),  # fmt: skip
    "surveys:series_recipe": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_slug, acts=True,
        data=lambda side, user: {"recipe": "birth_day,mother_initial,father_initial"},
        done=_page("surveys:series_list"),
    ),  # fmt: skip
    "surveys:series_detail": Expect(
        get=EXPORTERS, post=POST_MANAGERS, kwargs=_series, acts=True,
        data=lambda side, user: {"wave": side.paper_wave.pk, "label": "One year on"},
        done=_SERIES_PAGE,
    ),  # fmt: skip
    "surveys:series_remove_wave": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, acts=True, done=_SERIES_PAGE,
        kwargs=lambda side: {**_series(side), "wave": side.wave.slug},
    ),  # fmt: skip
    "series:results": Expect(get=EXPORTERS, post=EXPORTERS, kwargs=_series),
    "series:chart": Expect(
        get=EXPORTERS, post=EXPORTERS,
        kwargs=lambda side: {**_series(side), "name": "scale-1"},
    ),
    # Analysis: coordinators and report viewers run analyses and read the results.
    "analysis:run_list": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_wave),
    "analysis:run_detail": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_wave_pk("analysis_run")),
    "analysis:run_progress": Expect(
        get=EXPORTERS, post=NOT_ALLOWED, kwargs=_wave_pk("analysis_run")
    ),
    "analysis:run_json": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_wave_pk("analysis_run")),
    "analysis:run_chart": Expect(
        get=EXPORTERS, post=NOT_ALLOWED,
        kwargs=lambda side: {**_wave_pk("analysis_run")(side), "name": "agreement"},
    ),
    "analysis:run_start": Expect(
        get=NOT_ALLOWED, post=POST_ANALYSTS, kwargs=_wave, acts=True, done=_newest_run_page
    ),
    "analysis:run_retry": Expect(
        get=NOT_ALLOWED, post=POST_ANALYSTS, kwargs=_wave_pk("failed_run"), acts=True,
        done=_page("analysis:run_detail", wave=lambda s: s.wave.slug, pk=lambda s: s.failed_run.pk),
    ),
    # Qualitative coding: the figures for coordinators and report viewers; themes and reviewers
    # set by the coordinator; coding only by the two named reviewers (here the coordinator and
    # the report viewer; staff are never reviewers by their flag).
    "coding:overview": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_wave),
    "coding:disagreements": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_wave),
    "coding:themes": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_wave, acts=True,
        data=lambda side, user: {"name": "Belonging"}, done=_CODING_THEMES,
    ),
    "coding:theme_edit": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_wave_pk("theme"), acts=True,
        data=lambda side, user: {"name": "A safe space"}, done=_CODING_THEMES,
    ),
    "coding:theme_delete": Expect(
        get=NOT_ALLOWED, post=POST_MANAGERS, kwargs=_wave_pk("theme"), acts=True,
        done=_CODING_THEMES,
    ),
    "coding:reviewers": Expect(
        get=COORDINATOR_ONLY, post=POST_MANAGERS, kwargs=_wave, acts=True,
        data=lambda side, user: {"first": side.people["report_viewer"].pk,
                                 "second": side.people["coordinator"].pk},
        done=_page("coding:overview", wave=lambda s: s.wave.slug),
    ),
    "coding:code": Expect(
        get=row(LOGIN, 403, 403, 200, 200, 403, 404), post=row(LOGIN, 403, 403, 302, 302, 403, 404),
        kwargs=_wave, data=_coding_item, acts=True,
        done=_page("coding:code", wave=lambda s: s.wave.slug),
    ),
    # A consensus: the coordinator, staff, or either named reviewer.
    "coding:consensus": Expect(
        get=NOT_ALLOWED, post=POST_ANALYSTS, kwargs=_wave, data=_coding_item, acts=True,
        setup=_both_reviewers_coded,
        done=lambda side: _page("coding:disagreements", wave=lambda s: s.wave.slug)(side)
        + f"#item-{side.item}",
    ),
    # Reports and exports: coordinators and report viewers (and staff). Jobs are checked on a
    # finished export of the program; download_now on a direct kind.
    "reports:index": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_slug),
    "reports:clinician_search": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_slug),
    "reports:download_now": Expect(
        get=EXPORTERS, post=NOT_ALLOWED, kwargs=lambda side: {"slug": side.slug, "key": "ce_hours"}
    ),
    "reports:job": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_pk("export_job")),
    "reports:job_progress": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_pk("export_job")),
    "reports:job_download": Expect(get=EXPORTERS, post=NOT_ALLOWED, kwargs=_pk("export_job")),
    "reports:request": Expect(
        get=NOT_ALLOWED, post=POST_ANALYSTS, acts=True, done=_newest_job_page,
        kwargs=lambda side: {"slug": side.slug, "key": "attendance"},
    ),
    "reports:job_retry": Expect(
        get=NOT_ALLOWED, post=POST_ANALYSTS, kwargs=_pk("failed_job"), acts=True,
        done=_page("reports:job", pk=lambda s: s.failed_job.pk),
    ),
}
# fmt: on
