"""Case-note pages: the presenter writes, reads and deletes their note; the group's facilitators
and members read it as the presenter chose, once they have accepted the confidentiality
agreement; coordinators, report viewers and staff see metadata only, and coordinators see who
accessed each note.

Every page here sends ``Cache-Control: no-store`` (no copy in a browser or proxy cache), URLs
carry ids only, and the form's fields and the views' variables are hidden from error reports.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from ccdg import crypto
from ccdg.audit import client_ip
from sessions_app import roles
from sessions_app.casenotes import selectors, services
from sessions_app.casenotes.forms import TEXT_LABELS, CaseNoteForm
from sessions_app.casenotes.models import CaseNote

T = "sessions_app/casenotes/"
# Reasons after which someone of the group may still see that the note exists and its dates.
_INSIDER_REASONS = (roles.NOT_SHARED, roles.OUTSIDE_WINDOW, roles.NO_AGREEMENT, roles.DESTROYED)


def no_store(view):
    """Forbid any cache to keep a copy of the response (and old HTTP/1.0 ones too)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)  # Cache-Control: ..., no-store, private; Expires
        response["Pragma"] = "no-cache"
        return response

    return wrapped


def _refused_page(request, program, note: CaseNote | None, reason: str):
    """The page for a refused access: why, and the note's metadata where the person may see it."""
    show_metadata = note is not None and (
        roles.can(request.user, "casenote.metadata", program)
        or reason in _INSIDER_REASONS
        or roles.is_case_note_presenter(request.user, note)
    )
    context = {
        "program": program,
        "note": note if show_metadata else None,
        "reason": reason,
        "message": selectors.REFUSAL_MESSAGES[reason],
    }
    status = 410 if reason == roles.DESTROYED else 403
    return render(request, T + "refused.html", context, status=status)


def _record_refusal(request, note: CaseNote) -> None:
    """A note asked for from outside its program is a refused access, recorded against it."""
    selectors.case_note_refused(
        user=request.user, reason=roles.NOT_A_READER, ip=client_ip(request), note=note
    )


def _unreadable_page(request, program, note: CaseNote):
    """The keys cannot decrypt the note: say so plainly; the ciphertext stays as it is."""
    return render(request, T + "unreadable.html", {"program": program, "note": note}, status=503)


@no_store
@sensitive_post_parameters(*selectors.GUARDED_FIELDS)
@require_http_methods(["GET", "POST"])
@sensitive_variables()
def case_note_edit(request, slug, pk):
    """The presenter writes (or changes) the note on their presentation."""
    program = roles.program_for_request(request, slug, "sessions.view")
    presentation = roles.presentation_for_request(request, program, pk)
    note = CaseNote.objects.filter(presentation=presentation).first()
    ip = client_ip(request)
    if not roles.can_write_case_note(request.user, presentation):
        selectors.case_note_refused(
            user=request.user,
            reason=roles.NOT_A_READER,
            ip=ip,
            note=note,
            presentation=presentation,
        )
        return _refused_page(request, program, note, roles.NOT_A_READER)
    if problem := services.case_note_writable(presentation):
        messages.error(request, problem)
        if note is not None:
            return redirect("sessions_app:case_note_detail", slug=slug, pk=note.pk)
        return redirect("sessions_app:my_sessions", slug=slug)
    if request.method == "POST":
        form = CaseNoteForm(request.POST)
        if form.is_valid():
            try:
                saved = services.case_note_save(
                    presentation=presentation, data=form.note_input(), actor=request.user, ip=ip
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except crypto.Unreadable:
                return _unreadable_page(request, program, note)
            else:
                messages.success(
                    request,
                    "Your case note is saved, encrypted. "
                    f"Who may read it: {saved.get_visibility_display().lower()}.",
                )
                return redirect("sessions_app:case_note_detail", slug=slug, pk=saved.pk)
    else:
        initial = {"visibility": CaseNote.Visibility.FACILITATORS}
        if note is not None and note.destroyed_at is None:
            try:
                text = selectors.case_note_read(note=note, user=request.user, ip=ip)
            except selectors.CaseNoteRefused as exc:
                return _refused_page(request, program, note, exc.reason)
            except crypto.Unreadable:
                return _unreadable_page(request, program, note)
            initial = {
                **text.as_initial(),
                "patient_age": note.patient_age,
                "patient_gender": note.patient_gender,
                "visibility": note.visibility,
            }
        form = CaseNoteForm(initial=initial)
    context = {
        "program": program,
        "presentation": presentation,
        "session": presentation.session,
        "note": note if note is not None and note.destroyed_at is None else None,
        "form": form,
        "rows": form.guarded_rows(),
        "destroy_after": services.destroy_after_for(presentation.session),
    }
    return render(request, T + "form.html", context, status=400 if form.errors else 200)


@no_store
@sensitive_variables()
def case_note_detail(request, slug, pk):
    """The note's text for its readers (audited); a refusal (audited) says why."""
    note = roles.case_note_for_reader(request, slug, pk, refused=_record_refusal)
    program = note.presentation.session.group.program
    try:
        text = selectors.case_note_read(note=note, user=request.user, ip=client_ip(request))
    except selectors.CaseNoteRefused as exc:
        if exc.reason == roles.NO_AGREEMENT:
            target = reverse("sessions_app:confidentiality_agreement", kwargs={"slug": slug})
            return redirect(f"{target}?{urlencode({'next': request.path})}")
        return _refused_page(request, program, note, exc.reason)
    except crypto.Unreadable:
        return _unreadable_page(request, program, note)
    presenter = roles.is_case_note_presenter(request.user, note)
    context = {
        "program": program,
        "note": note,
        "session": note.presentation.session,
        "text": text,
        "labels": TEXT_LABELS,
        "is_presenter": presenter,
        "may_edit": presenter and services.case_note_writable(note.presentation) is None,
        "window": roles.case_note_group_window(note.presentation.session),
    }
    return render(request, T + "detail.html", context)


@no_store
@require_POST
def case_note_delete(request, slug, pk):
    """The presenter destroys their note now rather than after the retention period."""
    note = roles.case_note_for_reader(request, slug, pk, refused=_record_refusal)
    program = note.presentation.session.group.program
    try:
        services.case_note_delete(note=note, actor=request.user, ip=client_ip(request))
    except PermissionDenied:
        return _refused_page(request, program, note, roles.NOT_A_READER)
    messages.success(
        request,
        "Your case note is deleted: its text is gone for good. The record that it existed stays.",
    )
    return redirect("sessions_app:my_sessions", slug=slug)


@no_store
def case_note_list(request, slug):
    """Case notes of the program, metadata only: all of them for coordinators, report viewers
    and staff; for everyone else their own and those shared with them."""
    program = roles.program_for_request(request, slug, "program.view")
    context = {
        "program": program,
        "notes": selectors.case_note_list(program=program, user=request.user),
        "all_notes": roles.can(request.user, "casenote.metadata", program),
        "may_see_access": roles.can(request.user, "casenote.access_log", program),
    }
    return render(request, T + "list.html", context)


@no_store
def case_note_access(request, slug, pk):
    """Who accessed a note and when (coordinators): the audit trail, never the content."""
    program = roles.program_for_request(request, slug, "casenote.access_log")
    note = roles.case_note_for_request(request, program, pk)
    context = {
        "program": program,
        "note": note,
        "events": selectors.case_note_access_list(note=note),
    }
    return render(request, T + "access.html", context)


@no_store
@require_http_methods(["GET", "POST"])
def confidentiality_agreement(request, slug):
    """The program's confidentiality agreement, asked for before a first case note is read."""
    program = roles.program_for_request(request, slug, "program.view")
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = ""
    if request.method == "POST":
        services.agreement_accept(program=program, user=request.user, ip=client_ip(request))
        messages.success(request, "Thank you: your agreement is recorded.")
        return redirect(target or reverse("sessions_app:case_note_list", kwargs={"slug": slug}))
    context = {
        "program": program,
        "agreement": services.agreement_get(program=program, user=request.user),
        "next": target,
    }
    return render(request, T + "agreement.html", context)
