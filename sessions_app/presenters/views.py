"""Participants' sessions, presenter volunteering and invitations, RSVPs, attendance, figures
and continuing-education credit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ccdg.audit import audit_record
from ccdg.messages import messages_from
from ccdg.pickers import chosen_pk, people_found
from ccdg.spreadsheets import csv_writer
from sessions_app import roles
from sessions_app.groups import history
from sessions_app.presenters import selectors as presenters_selectors
from sessions_app.presenters import services
from sessions_app.presenters.forms import AttendanceForm, InviteForm, RsvpForm, VolunteerForm
from sessions_app.presenters.models import Attendance, Presentation
from sessions_app.schedule import selectors as schedule_selectors
from sessions_app.schedule.models import Session

T = "sessions_app/presenters/"
#: Possible guests found per search of the attendance sheet's guest picker.
GUESTS_FOUND = 20
#: Up to this many groups, the attendance figures list every session and person at once.
FIGURES_ALL_GROUPS = 6


def _back(request, slug):
    """Where a POST returns to: a safe ``next`` from the form, else "My sessions"."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("sessions_app:my_sessions", slug=slug)


def _participant(request, program):
    clinician = presenters_selectors.program_participant(request.user, program)
    if clinician is None:
        raise PermissionDenied
    return clinician


# --- Participants -------------------------------------------------------------------------------


def my_sessions(request, slug):
    program = roles.program_for_request(request, slug, "sessions.view")
    clinician = presenters_selectors.program_participant(request.user, program)
    context = {
        "program": program,
        "clinician": clinician,
        # A facilitator's own sessions: those of the groups they lead or back up.
        "facilitated": schedule_selectors.facilitated_sessions_list(
            user=request.user, program=program
        ),
        "facilitates": roles.FACILITATOR in roles.roles_in(request.user, program),
    }
    if clinician is not None:
        now = timezone.now()
        attended, credit = presenters_selectors.my_credit(clinician=clinician, now=now)
        context.update(
            items=presenters_selectors.my_sessions_list(clinician=clinician, now=now),
            turns=presenters_selectors.turns_for(clinician=clinician, now=now),
            attended=attended,
            credit=credit,
            volunteer_form=VolunteerForm(),
        )
    return render(request, T + "my_sessions.html", context)


@require_POST
def presenter_volunteer(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    clinician = _participant(request, program)
    session = roles.session_for_request(request, program, pk)
    form = VolunteerForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("working_title", ["Check the title."])))
        return _back(request, slug)
    try:
        presentation = services.presenter_volunteer(
            session=session,
            clinician=clinician,
            working_title=form.cleaned_data["working_title"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        if presentation.status == Presentation.Status.CONFIRMED:
            messages.success(request, "Thank you: you are presenting at this session.")
        else:
            messages.info(
                request,
                "The presenter slots are taken: you are on the waitlist and will be told if a "
                "slot frees up.",
            )
    return _back(request, slug)


@require_POST
def presentation_withdraw(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    presentation = roles.presentation_for_request(
        request, program, pk, may=roles.can_withdraw_presentation
    )
    own = roles.is_own_presentation(request.user, presentation)
    try:
        services.presenter_withdraw(presentation=presentation, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        who = "You have" if own else f"{presentation.clinician.full_name} has"
        messages.success(request, f"{who} withdrawn from presenting.")
    return _back(request, slug)


@require_POST
def presentation_accept(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    presentation = roles.presentation_for_request(
        request, program, pk, may=roles.is_own_presentation
    )
    form = VolunteerForm(request.POST)
    title = form.cleaned_data["working_title"] if form.is_valid() else ""
    try:
        presentation = services.presenter_accept(
            presentation=presentation, actor=request.user, working_title=title
        )
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        if presentation.status == Presentation.Status.CONFIRMED:
            messages.success(request, "Thank you: you are presenting at this session.")
        else:
            messages.info(request, "The slots filled up meanwhile: you are on the waitlist.")
    return _back(request, slug)


@require_POST
def presentation_decline(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    presentation = roles.presentation_for_request(
        request, program, pk, may=roles.is_own_presentation
    )
    try:
        services.presenter_decline(presentation=presentation, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.info(request, "You declined the invitation. Thank you for answering.")
    return _back(request, slug)


@require_POST
def rsvp_set(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    clinician = _participant(request, program)
    session = roles.session_for_request(request, program, pk)
    form = RsvpForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Answer “going” or “cannot make it”.")
        return _back(request, slug)
    try:
        rsvp = services.rsvp_set(
            session=session,
            clinician=clinician,
            answer=form.cleaned_data["answer"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"Your answer is saved: {rsvp.get_answer_display().lower()}.")
    return _back(request, slug)


# --- Coordinator and facilitators: presenters ---------------------------------------------------


def session_presenters(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    presentations = list(
        session.presentations.select_related("clinician", "invited_by").order_by("created_at", "id")
    )
    confirmed = sorted(
        (p for p in presentations if p.status == Presentation.Status.CONFIRMED),
        key=lambda p: p.slot or 0,
    )
    waitlist = [p for p in presentations if p.status == Presentation.Status.WAITLISTED]
    invited = [p for p in presentations if p.status == Presentation.Status.INVITED]
    closed = [p for p in presentations if p.status not in presenters_selectors.OPEN]
    may_invite = services.can_invite(request.user, session)
    group_turns = presenters_selectors.fair_turns_list(
        program=program, group_ids={session.group_id}
    )[0]
    open_ids = {p.clinician_id for p in presentations if p.status in presenters_selectors.OPEN}
    suggestions = [t for t in group_turns.suggestions if t.clinician.pk not in open_ids][:3]
    members = [t.clinician for t in group_turns.members if t.clinician.pk not in open_ids]
    context = {
        "program": program,
        "session": session,
        "confirmed": confirmed,
        "free_slots": range(max(session.presenter_slots - len(confirmed), 0)),
        "waitlist": waitlist,
        "invited": invited,
        "closed": closed,
        "may_invite": may_invite,
        "suggestions": suggestions,
        "invite_form": InviteForm(members=members) if may_invite else None,
        "closes_at": presenters_selectors.volunteer_closes_at(session),
        "is_past": session.starts_at <= timezone.now(),
    }
    return render(request, T + "session_presenters.html", context)


@require_POST
def presenter_invite(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_ask_to_present)
    group_turns = presenters_selectors.fair_turns_list(
        program=program, group_ids={session.group_id}
    )[0]
    form = InviteForm(request.POST, members=[t.clinician for t in group_turns.members])
    if not form.is_valid():
        messages.error(request, "Choose a member of the group to ask.")
    else:
        try:
            presentation = services.presenter_invite(
                session=session, clinician=form.cleaned_data["clinician"], actor=request.user
            )
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(
                request, f"{presentation.clinician.full_name} has been asked to present."
            )
    return redirect("sessions_app:session_presenters", slug=slug, pk=pk)


def presenter_turns(request, slug):
    program = roles.program_for_request(request, slug, "presenters.manage")
    scope = roles.figures_scope(request.user, program)
    now = timezone.now()
    groups = presenters_selectors.fair_turns_list(program=program, group_ids=scope, now=now)
    sessions = (
        Session.objects.filter(group__program=program, starts_at__gt=now)
        .select_related("group", "room")
        .annotate(
            presenting=Count(
                "presentations", filter=Q(presentations__status=Presentation.Status.CONFIRMED)
            ),
            waiting=Count(
                "presentations", filter=Q(presentations__status=Presentation.Status.WAITLISTED)
            ),
        )
        .order_by("starts_at", "group__name")
    )
    if scope is not None:
        sessions = sessions.filter(group_id__in=scope)
    by_group: dict[int, list[Session]] = {}
    for s in sessions:
        by_group.setdefault(s.group_id, []).append(s)
    for g in groups:
        g.upcoming = by_group.get(g.group.pk, [])
        g.top = g.suggestions[:3]
    return render(request, T + "turns.html", {"program": program, "groups": groups})


# --- Attendance ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def attendance_record(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    members = presenters_selectors.attendance_members(session=session)
    candidates = presenters_selectors.guest_candidates(session=session)
    existing = {a.clinician_id: a.status for a in Attendance.objects.filter(session=session)}
    member_ids = {m.pk for m in members}
    rsvps = {r.clinician_id: r.answer for r in session.rsvps.all() if r.clinician_id in member_ids}
    initial = presenters_selectors.attendance_initial(
        members=members, existing=existing, rsvps=rsvps
    )
    # Bound on every POST, even an empty one (a sheet with nobody on it), so that saving always
    # answers instead of showing the form again as if nothing had been sent.
    data = request.POST if request.method == "POST" else None
    if data is not None and "rest_present" in data:
        # "Save, everyone not marked was present": the quick way for a facilitator who only
        # marks who was missing.
        data = data.copy()
        for m in members:
            data.setdefault(f"member_{m.pk}", Attendance.Status.PRESENT)
    form = AttendanceForm(
        data,
        members=members,
        candidates=candidates,
        initial_status=initial,
        search_url=reverse("sessions_app:attendance_guests", kwargs={"slug": slug, "pk": pk}),
        initial={
            # Anyone recorded as present who was not a member that day came as a guest.
            "guests": [
                c
                for c, s in existing.items()
                if c not in member_ids and s in presenters_selectors.ATTENDED
            ],
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            count = services.attendance_record(
                session=session,
                statuses=form.statuses(),
                guest_ids=[c.pk for c in form.cleaned_data["guests"]],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Attendance saved for {count} people.")
            return redirect("sessions_app:attendance_record", slug=slug, pk=pk)
    context = {
        "program": program,
        "session": session,
        "form": form,
        "rsvps": rsvps,
        "rows": [(m, field, rsvps.get(m.pk)) for m, field in form.member_rows()],
        "not_started": session.starts_at > timezone.now(),
        "recorded": bool(existing),
        "facilitators": presenters_selectors.sheet_facilitators(session=session),
        "session_day": history.session_day(session, program),
    }
    return render(request, T + "attendance_form.html", context, status=400 if form.errors else 200)


@require_GET
def attendance_guests(request, slug, pk):
    """Possible guests of the session whose first or last name starts with ``q`` (at most
    20), for the guest picker of a large program's attendance sheet."""
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    return people_found(
        request, presenters_selectors.guest_candidates(session=session), limit=GUESTS_FOUND,
        label=lambda c: c.full_name,
    )  # fmt: skip


@require_POST
def attendance_clear(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    removed = services.attendance_clear(session=session, actor=request.user)
    messages.success(
        request, f"Attendance sheet cleared ({removed} record{'s' if removed != 1 else ''})."
    )
    return redirect("sessions_app:attendance_record", slug=slug, pk=pk)


def attendance_figures(request, slug):
    program = roles.program_for_request(request, slug, "attendance.view")
    scope = roles.figures_scope(request.user, program)
    figures = presenters_selectors.attendance_figures(program=program, group_ids=scope)
    groups = {g.group.pk: g.group for g in figures.groups}
    # Many groups: the per-session and per-person tables show one group at a time (a program
    # of thirty groups made a page of hundreds of rows of each).
    chosen = chosen_pk(request.GET.get("group"), groups)
    detail = chosen is not None or len(groups) <= FIGURES_ALL_GROUPS
    sessions = [s for s in figures.sessions if chosen is None or s.group_id == chosen]
    people = [p for p in figures.people if chosen is None or (p.group and p.group.pk == chosen)]
    for s in sessions:
        s.group = groups[s.group_id]
    context = {
        "program": program,
        "figures": figures,
        "detail": detail,
        "sessions": sessions if detail else [],
        "people": people if detail else [],
        "chosen": chosen,
        "whole_program": scope is None,
        "may_record": scope is not None or roles.can(request.user, "sessions.manage", program),
    }
    return render(request, T + "attendance_figures.html", context)


def credit_summary(request, slug):
    program = roles.program_for_request(request, slug, "attendance.view")
    people = presenters_selectors.credit_summary(
        program=program, group_ids=roles.figures_scope(request.user, program)
    )
    return render(request, T + "credit_summary.html", {"program": program, "people": people})


def credit_export(request, slug):
    program = roles.program_for_request(request, slug, "attendance.view")
    people = presenters_selectors.credit_summary(
        program=program, group_ids=roles.figures_scope(request.user, program)
    )
    audit_record(
        actor=request.user,
        action="credit.export",
        program_id=program.pk,
        data={"rows": len(people)},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{program.slug}-credit-{program.academic_year}.csv"'
    )
    writer = csv_writer(response)  # every cell guarded against spreadsheet formulas
    writer.writerow(presenters_selectors.CREDIT_COLUMNS)
    for p in people:
        writer.writerow(p.credit_row())
    return response
