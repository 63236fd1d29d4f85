"""Agenda templates, the facilitator's agenda page, the live view and take-home points."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ccdg.messages import messages_from
from sessions_app import roles
from sessions_app.agenda import selectors
from sessions_app.agenda import services as agenda_services
from sessions_app.agenda.forms import AgendaTemplateForm, SegmentFormSet, TakeHomeForm
from sessions_app.schedule import services as schedule_services

# --- Agenda templates (coordinator) -----------------------------------------------------------


def agenda_list(request, slug):
    program = roles.program_for_request(request, slug, "sessions.manage")
    templates = selectors.agenda_template_list(program=program)
    return render(
        request,
        "sessions_app/agenda/template_list.html",
        {
            "program": program,
            "built_ins": [t for t in templates if t.built_in],
            "own": [t for t in templates if not t.built_in],
        },
    )


@require_http_methods(["GET", "POST"])
def agenda_edit(request, slug, pk=None):
    program = roles.program_for_request(request, slug, "sessions.manage")
    template = (
        roles.agenda_template_for_request(request, program, pk, editable=True)
        if pk is not None
        else None
    )
    initial = None
    if template is not None:
        initial = [
            {
                "start": selectors.offset_format(s.start_minute),
                "title": s.title,
                "guidance": s.guidance,
            }
            for s in template.segments.all()
        ]
    data = request.POST if request.method == "POST" else None
    form = AgendaTemplateForm(
        data,
        program=program,
        template=template,
        initial=(
            {"name": template.name, "duration_minutes": template.duration_minutes}
            if template
            else {"duration_minutes": program.session_minutes}
        ),
    )
    # Bound, the formset reads the rows as typed: with ``initial`` too, a row typed exactly as
    # it was shown would count as unchanged and be dropped.
    formset = SegmentFormSet(data, initial=None if data else initial, prefix="segments")
    problems: list[str] = []
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = agenda_services.agenda_template_save(
                program=program,
                name=form.cleaned_data["name"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                segments=formset.segments(),
                actor=request.user,
                template=template,
            )
        except ValidationError as exc:
            problems = exc.messages
        else:
            messages.success(
                request,
                f"Agenda “{saved.name}” saved. Sessions already scheduled keep their agenda "
                "until you apply it to upcoming sessions.",
            )
            return redirect("sessions_app:agenda_list", slug=slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "sessions_app/agenda/template_form.html",
        {
            "program": program,
            "template": template,
            "form": form,
            "formset": formset,
            "problems": problems,
        },
        status=status,
    )


@require_POST
def agenda_copy(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.manage")
    original = roles.agenda_template_for_request(request, program, pk)
    copy = agenda_services.agenda_template_copy(
        template=original, program=program, actor=request.user
    )
    messages.success(request, f"Copied “{original.name}” as “{copy.name}”. Edit it below.")
    return redirect("sessions_app:agenda_edit", slug=slug, pk=copy.pk)


@require_http_methods(["GET", "POST"])
def agenda_apply(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.manage")
    template = roles.agenda_template_for_request(request, program, pk)
    if request.method == "POST":
        try:
            count = schedule_services.agenda_apply_to_upcoming(
                template=template, program=program, actor=request.user
            )
        except ValidationError as exc:
            messages_from(request, exc, joined=True, prefix="Nothing was changed: ")
        else:
            messages.success(
                request,
                f"“{template.name}” now is the agenda of {count} upcoming "
                f"session{'s' if count != 1 else ''}.",
            )
            return redirect("sessions_app:agenda_list", slug=slug)
    return render(
        request,
        "sessions_app/agenda/template_apply.html",
        {
            "program": program,
            "template": template,
            "count": selectors.agenda_upcoming_count(program=program),
        },
    )


# --- One session: agenda, live view, take-home points -----------------------------------------


def session_agenda(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    return render(
        request,
        "sessions_app/agenda/session_agenda.html",
        {
            "program": session.group.program,
            "session": session,
            "agenda": selectors.session_agenda_get(session=session),
        },
    )


def session_live(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    segments = list(session.segments.all())
    now = timezone.now()
    program = session.group.program
    opens_at = selectors.live_start_opens_at(session)
    return render(
        request,
        "sessions_app/agenda/live.html",
        {
            "program": program,
            "session": session,
            "segments": segments,
            "state": selectors.live_state(session, now=now, segments=segments),
            "starts_at": program.local(session.starts_at),
            # Before the start window the page says when the clock can be started.
            "opens_at": program.local(opens_at) if now < opens_at else None,
        },
    )


@require_GET
@never_cache
def session_live_state(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    return JsonResponse(selectors.live_state(session, now=timezone.now()).as_json())


def _wants_json(request) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _live_action(request, slug, pk, action):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    error = None
    try:
        session = agenda_services.LIVE_ACTIONS[action](session=session, actor=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if _wants_json(request):
        state = selectors.live_state(session, now=timezone.now())
        return JsonResponse(
            {"state": state.as_json(), "error": error}, status=409 if error else 200
        )
    if error:
        messages.error(request, error)
    return redirect("sessions_app:session_live", slug=slug, pk=pk)


@require_POST
def session_live_start(request, slug, pk):
    return _live_action(request, slug, pk, "start")


@require_POST
def session_live_pause(request, slug, pk):
    return _live_action(request, slug, pk, "pause")


@require_POST
def session_live_resume(request, slug, pk):
    return _live_action(request, slug, pk, "resume")


@require_POST
def session_live_next(request, slug, pk):
    return _live_action(request, slug, pk, "next")


@require_POST
def session_live_extend(request, slug, pk):
    return _live_action(request, slug, pk, "extend")


@require_http_methods(["GET", "POST"])
def session_live_reset(request, slug, pk):
    """Ask first (GET), then clear the live state (POST)."""
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    if request.method == "POST":
        was_started = session.live_started_at is not None
        agenda_services.session_live_reset(session=session, actor=request.user)
        if was_started:
            messages.success(request, "The live view was reset: it can be started again.")
        else:
            messages.info(request, "The live view had not been started: nothing to reset.")
        return redirect("sessions_app:session_live", slug=slug, pk=pk)
    return render(
        request,
        "sessions_app/agenda/live_reset.html",
        {
            "program": session.group.program,
            "session": session,
            "state": selectors.live_state(session, now=timezone.now()),
            "starts_at": session.group.program.local(session.starts_at),
        },
    )


@require_http_methods(["GET", "POST"])
def session_take_home_edit(request, slug, pk):
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.can_run_session)
    existing = "\n".join(p.text for p in session.take_home.all())
    form = TakeHomeForm(request.POST or None, initial={"points": existing})
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            agenda_services.take_home_points_save(
                session=session, texts=form.lines(), actor=request.user
            )
        except ValidationError as exc:
            problems = exc.messages
        else:
            messages.success(request, "Take-home points saved; the group can read them now.")
            return redirect("sessions_app:session_take_home", slug=slug, pk=pk)
    return render(
        request,
        "sessions_app/agenda/take_home_form.html",
        {
            "program": session.group.program,
            "session": session,
            "form": form,
            "problems": problems,
            "starts_at": session.group.program.local(session.starts_at),
        },
        status=400 if request.method == "POST" else 200,
    )


def session_take_home(request, slug, pk):
    """The take-home points, for the group's own members and those who run its sessions."""
    program = roles.program_for_request(request, slug, "sessions.view")
    session = roles.session_for_request(request, program, pk, may=roles.session_may_view)
    may_run = roles.can_run_session(request.user, session)
    return render(
        request,
        "sessions_app/agenda/take_home.html",
        {
            "program": program,
            "session": session,
            "points": list(session.take_home.all()),
            "may_run": may_run,
            "starts_at": program.local(session.starts_at),
        },
    )
