"""The schedule: sessions, generating a year, rooms, blackout dates, refreshments, calendar
feeds and facilitator cover. Views parse input, call one service, then render or redirect."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ccdg.messages import messages_from
from ccdg.pickers import chosen_pk
from sessions_app import roles
from sessions_app.groups.models import Group
from sessions_app.programs.models import Program
from sessions_app.schedule import calendar as ics
from sessions_app.schedule import selectors, services
from sessions_app.schedule.forms import (
    AbsenceForm,
    BlackoutForm,
    CancelForm,
    FeedForm,
    RefreshmentForm,
    RescheduleForm,
    RoomForm,
    ScheduleForm,
    SessionPlanForm,
)
from sessions_app.schedule.models import BlackoutDate, CalendarToken, Room, Session

ICS_TYPE = "text/calendar; charset=utf-8"


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    """Render with the program's time zone as the current one: Django's date filters convert
    aware datetimes to the current zone, and the program's clock is the one that matters."""
    with timezone.override(context["program"].tz):
        return render(request, template, context, status=status)


# --- Sessions ---------------------------------------------------------------------------------


#: Sessions per page of the schedule: a term of weekly sessions for a few groups; a program
#: with dozens of groups pages (or filters by group) rather than building a page of thousands.
SESSIONS_PAGE_SIZE = 50


def session_list(request, slug):
    program = roles.program_for_request(request, slug, "sessions.view")
    show_past = request.GET.get("past") == "1"
    visible = Group.objects.filter(program=program)
    ids = roles.visible_group_ids(user=request.user, program=program)
    if ids is not None:
        visible = visible.filter(pk__in=ids)
    groups = list(visible.order_by("name").values_list("pk", "name"))
    group_id = chosen_pk(request.GET.get("group"), {pk for pk, _name in groups})
    rows = selectors.session_list(
        program=program, user=request.user, upcoming_only=not show_past, group_id=group_id
    )
    page = Paginator(rows, SESSIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _render(
        request,
        "sessions_app/schedule/session_list.html",
        {
            "program": program,
            "page": page,
            "sessions": selectors.with_local_times(page.object_list, program),
            "groups": groups,
            "group_id": group_id,
            "show_past": show_past,
            "query_string": query.urlencode(),
            "may_manage": roles.can(request.user, "sessions.manage", program),
            "tz_name": program.timezone,
        },
    )


def session_detail(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_checked(
        request, selectors.session_get(program=program, pk=pk), may=roles.session_may_view
    )
    manage = roles.can(request.user, "sessions.manage", program)
    cover = selectors.session_cover(session=session)
    own = selectors.own_facilitator(user=request.user, session=session)
    facilitators = selectors.facilitators_of(session=session)
    context = {
        "program": program,
        "session": session,
        "cover": cover,
        "may_manage": manage,
        "own_facilitator": own,
        "own_absent": own is not None and own.pk in {f.pk for f in cover.absent},
        "absence_form": AbsenceForm(facilitators=facilitators) if manage else None,
        "warnings": services.room_warnings(session=session) if session.room_id else [],
        "upcoming": session.starts_at > timezone.now()
        and session.status == Session.Status.SCHEDULED,
    }
    return _render(request, "sessions_app/schedule/session_detail.html", context)


@require_http_methods(["GET", "POST"])
def schedule_generate(request, slug):
    program = roles.program_for_request(request, slug, "sessions.manage")
    groups = list(Group.objects.filter(program=program).select_related("default_room"))
    agenda = services.agenda_for_program(program)
    balint = program.format == Program.Format.BALINT_90
    initial = {
        "frequency": "weekly" if balint else "monthly",
        "count": program.sessions_per_year_max,
        "duration_minutes": agenda.duration_minutes,
        "agenda": agenda.pk,
        "first": program.today(),
    }
    form = ScheduleForm(request.POST or None, initial=initial, program=program, groups=groups)
    preview = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        args = {
            "program": program,
            "slots": form.slots(),
            "rule": form.recurrence(),
            "first": d["first"],
            "count": d["count"],
            "duration_minutes": d["duration_minutes"],
            "agenda": d["agenda"],
            "skip_scheduled": d["skip_scheduled"],
        }
        if request.POST.get("action") == "create" and args["slots"]:
            try:
                created = services.schedule_generate(**args, actor=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                skipped = created.skipped_scheduled
                messages.success(
                    request,
                    f"{len(created)} session{'s' if len(created) != 1 else ''} scheduled for "
                    f"{len(args['slots'])} group{'s' if len(args['slots']) > 1 else ''}"
                    + (
                        f"; {skipped} date{' was' if skipped == 1 else 's were'} left alone: "
                        "the group already had a session that day."
                        if skipped
                        else "."
                    ),
                )
                warnings = services.schedule_warnings(
                    sessions=created, program=program, slots=args["slots"]
                )
                for warning in warnings:
                    messages.warning(request, warning)
                return redirect("sessions_app:session_list", slug=slug)
        preview = services.schedule_preview(**args)
    return _render(
        request,
        "sessions_app/schedule/schedule_generate.html",
        {"program": program, "form": form, "preview": preview, "groups": groups},
    )


@require_http_methods(["GET", "POST"])
def session_reschedule(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.manage")
    session = roles.session_checked(
        request, selectors.session_get(program=program, pk=pk), may=roles.session_may_view
    )
    initial = {
        "day": session.local_start.date(),
        "start_time": session.local_start.time(),
        "room": session.room_id,
    }
    form = RescheduleForm(request.POST or None, initial=initial, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_reschedule(
                session=session,
                starts_at=form.starts_at(),
                room=form.cleaned_data["room"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Session moved; calendars will show the new time.")
            for warning in services.room_warnings(session=session):
                messages.warning(request, warning)
            return redirect("sessions_app:session_detail", slug=slug, pk=pk)
    return _render(
        request,
        "sessions_app/schedule/session_reschedule.html",
        {"program": program, "session": session, "form": form},
    )


@require_http_methods(["GET", "POST"])
def session_plan(request, slug, pk):
    """A session's theme and whether it discusses two cases: its facilitators, the coordinator
    and staff."""
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_checked(
        request, selectors.session_get(program=program, pk=pk), may=roles.can_run_session
    )
    initial = {
        "theme": session.theme, "two_cases": session.agenda_name == services.TWO_CASES,
        "mode": session.mode, "meeting_url": session.meeting_url,
    }  # fmt: skip
    form = SessionPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_plan_set(
                session=session, actor=request.user, theme=form.cleaned_data["theme"],
                two_cases=form.cleaned_data["two_cases"], mode=form.cleaned_data["mode"],
                meeting_url=form.cleaned_data["meeting_url"],
            )  # fmt: skip
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for field, found in errors.items():
                form.add_error(field if field in form.fields else None, found)
        else:
            messages.success(request, "Session plan saved.")
            return redirect("sessions_app:session_detail", slug=slug, pk=pk)
    return _render(
        request,
        "sessions_app/schedule/session_plan.html",
        {"program": program, "session": session, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def session_cancel(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.manage")
    session = roles.session_checked(
        request, selectors.session_get(program=program, pk=pk), may=roles.session_may_view
    )
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_cancel(
                session=session, reason=form.cleaned_data["reason"], actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Session cancelled; the room is free again.")
            return redirect("sessions_app:session_detail", slug=slug, pk=pk)
    return _render(
        request,
        "sessions_app/schedule/session_cancel.html",
        {"program": program, "session": session, "form": form},
        status=400 if form.errors else 200,
    )


@require_GET
def session_ics(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_checked(
        request, selectors.session_get(program=program, pk=pk), may=roles.session_may_view
    )
    body = ics.calendar_bytes(
        [selectors.session_for_ics(session=session)],
        name=ics.event_summary(session),
        url_for=lambda s: request.build_absolute_uri(
            reverse("sessions_app:session_detail", kwargs={"slug": slug, "pk": s.pk})
        ),
    )
    response = HttpResponse(body, content_type=ICS_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="session-{session.local_start:%Y-%m-%d}-{session.pk}.ics"'
    )
    return response


def _absence_target(request, program, session):
    """The facilitator an absence form is about: anyone of the group for the coordinator,
    oneself for a facilitator of the group; None (with a message) if the form is wrong."""
    own = selectors.own_facilitator(user=request.user, session=session)
    if roles.can(request.user, "sessions.manage", program):
        form = AbsenceForm(request.POST, facilitators=selectors.facilitators_of(session=session))
        if form.is_valid():
            return form.cleaned_data["facilitator"], form.cleaned_data["reason"]
        messages.error(request, "Choose one of the group's facilitators.")
        return None, ""
    if own is None:
        raise PermissionDenied
    return own, request.POST.get("reason", "")[:200]


@require_POST
def session_absence_add(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_checked(
        request, selectors.session_get(program=program, pk=pk), may=roles.session_may_view
    )
    facilitator, reason = _absence_target(request, program, session)
    if facilitator is not None:
        try:
            services.facilitator_absence_mark(
                session=session, facilitator=facilitator, reason=reason, actor=request.user
            )
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            cover = selectors.session_cover(session=session)
            messages.success(
                request,
                f"{facilitator.name} is marked absent. "
                + (
                    f"Acting lead: {cover.acting_lead.name}."
                    if cover.acting_lead
                    else "No facilitator is available for this session."
                ),
            )
    return redirect("sessions_app:session_detail", slug=slug, pk=pk)


@require_POST
def session_absence_remove(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_checked(
        request, selectors.session_get(program=program, pk=pk), may=roles.session_may_view
    )
    facilitator, _ = _absence_target(request, program, session)
    if facilitator is not None:
        try:
            services.facilitator_absence_remove(
                session=session, facilitator=facilitator, actor=request.user
            )
        except ValidationError as exc:
            messages_from(request, exc)
        else:
            messages.success(request, f"{facilitator.name} can come after all.")
    return redirect("sessions_app:session_detail", slug=slug, pk=pk)


def coverage(request, slug):
    program = roles.program_for_request(request, slug, "sessions.manage")
    return _render(
        request,
        "sessions_app/schedule/coverage.html",
        {"program": program, "coverage": selectors.coverage_upcoming(program=program)},
    )


# --- Rooms and blackout dates ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def room_list(request, slug):
    program = roles.program_for_request(request, slug, "sessions.manage")
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_save(program=program, actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{room.name} added.")
            return redirect("sessions_app:room_list", slug=slug)
    return _render(
        request,
        "sessions_app/schedule/room_list.html",
        {"program": program, "rooms": selectors.room_list(program=program), "form": form},
    )


@require_http_methods(["GET", "POST"])
def room_edit(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.manage")
    room = get_object_or_404(Room, program=program, pk=pk)
    form = RoomForm(request.POST or None, instance=room)
    if request.method == "POST" and form.is_valid():
        room.refresh_from_db()  # the form wrote the typed values onto the instance
        try:
            services.room_save(
                program=program, actor=request.user, data=form.cleaned_data, room=room
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Room saved.")
            return redirect("sessions_app:room_list", slug=slug)
    return _render(
        request,
        "sessions_app/schedule/room_form.html",
        {"program": program, "room": room, "form": form},
    )


@require_POST
def room_delete(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.manage")
    room = get_object_or_404(Room, program=program, pk=pk)
    try:
        services.room_delete(room=room, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, "Room removed.")
    return redirect("sessions_app:room_list", slug=slug)


@require_http_methods(["GET", "POST"])
def blackout_list(request, slug):
    program = roles.program_for_request(request, slug, "sessions.manage")
    form = BlackoutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.blackout_add(
                program=program,
                day=form.cleaned_data["date"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("date", exc)
        else:
            messages.success(request, "Blackout date added.")
            return redirect("sessions_app:blackout_list", slug=slug)
    return _render(
        request,
        "sessions_app/schedule/blackout_list.html",
        {
            "program": program,
            "form": form,
            "blackouts": BlackoutDate.objects.filter(program=program),
            "clashes": selectors.sessions_on_blackout_dates(program=program),
        },
    )


@require_POST
def blackout_delete(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.manage")
    blackout = get_object_or_404(BlackoutDate, program=program, pk=pk)
    services.blackout_remove(blackout=blackout, actor=request.user)
    messages.success(request, "Blackout date removed.")
    return redirect("sessions_app:blackout_list", slug=slug)


# --- Refreshments ---------------------------------------------------------------------------


def refreshment_list(request, slug):
    program = roles.program_for_request(request, slug, "sessions.manage")
    return _render(
        request,
        "sessions_app/schedule/refreshment_list.html",
        {
            "program": program,
            "checklist": selectors.refreshment_checklist(program=program),
        },
    )


@require_http_methods(["GET", "POST"])
def refreshment_edit(request, slug, day):
    program = roles.program_for_request(request, slug, "sessions.manage")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise Http404("No such date.") from None
    meeting = selectors.meeting_date_get(program=program, day=when)
    initial = {} if meeting.order else {"headcount": meeting.suggested_headcount}
    form = RefreshmentForm(request.POST or None, instance=meeting.order, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.refreshment_save(
                program=program, day=when, data=form.cleaned_data, actor=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Refreshments for {when:%b %-d} saved.")
            return redirect("sessions_app:refreshment_list", slug=slug)
    return _render(
        request,
        "sessions_app/schedule/refreshment_form.html",
        {"program": program, "meeting": meeting, "form": form},
    )


# --- Calendar feeds -------------------------------------------------------------------------


def _feed_programs(user) -> list[Program]:
    return [p for p in roles.programs_for(user) if roles.can(user, "calendar.program_feed", p)]


def _feeds_page(request, *, new_url: str = "", status: int = 200):
    programs = _feed_programs(request.user)
    return render(
        request,
        "sessions_app/schedule/calendar_feeds.html",
        {
            "tokens": selectors.calendar_tokens_of(user=request.user),
            "programs": programs,
            "form": FeedForm(programs=programs),
            "new_url": new_url,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def calendar_feeds(request):
    """The signed-in person's feed addresses. A new address is shown once, on this page."""
    if request.method == "GET":
        return _feeds_page(request)
    form = FeedForm(request.POST, programs=_feed_programs(request.user))
    if not form.is_valid():
        messages.error(request, "Choose one of the programs you coordinate.")
        return redirect("sessions_app:calendar_feeds")
    program = form.cleaned_data["program"]
    try:
        token = services.calendar_token_create(
            user=request.user,
            scope=CalendarToken.Scope.PROGRAM if program else CalendarToken.Scope.PERSON,
            program=program,
        )
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("sessions_app:calendar_feeds")
    url = request.build_absolute_uri(reverse("sessions_app:calendar_feed", kwargs={"token": token}))
    return _feeds_page(request, new_url=url)


@require_POST
def calendar_feed_revoke(request):
    token = CalendarToken.objects.filter(
        user=request.user, pk=request.POST.get("token") or 0, revoked_at__isnull=True
    ).first()
    if token is None:
        messages.error(request, "That feed address does not exist or is already revoked.")
    else:
        services.calendar_token_revoke(token=token, actor=request.user)
        messages.success(request, "Feed address revoked: calendars using it stop updating.")
    return redirect("sessions_app:calendar_feeds")


def _not_found() -> HttpResponse:
    response = HttpResponse("Not found.\n", status=404, content_type="text/plain; charset=utf-8")
    # The path holds the secret token: keep it out of Django's "Not Found: <path>" log line.
    response._has_been_logged = True
    return response


@login_not_required
@never_cache
@require_GET
def calendar_feed(request, token):
    """A private feed. Unknown, revoked and no-longer-allowed tokens get the same bare 404."""
    row = selectors.calendar_token_resolve(token=token)
    if row is None:
        return _not_found()
    name = row.program.name if row.program else "My CCDG sessions"
    body = ics.calendar_bytes(
        selectors.feed_sessions(token=row),
        name=name,
        url_for=lambda s: request.build_absolute_uri(
            reverse(
                "sessions_app:session_detail",
                kwargs={"slug": s.group.program.slug, "pk": s.pk},
            )
        ),
    )
    return HttpResponse(body, content_type=ICS_TYPE)
