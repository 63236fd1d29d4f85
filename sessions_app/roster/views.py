"""Roster pages: the list, a clinician's page and form, CSV import and export, invitations.
Views parse input, call one service, render or redirect."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from ccdg.audit import audit_list_for, audit_record
from ccdg.messages import messages_from
from ccdg.token_links import TokenCookie, already_logged, token_exchange
from sessions_app import roles
from sessions_app.groups.models import Facilitator
from sessions_app.presenters import selectors as presenters_selectors
from sessions_app.roster import selectors, services
from sessions_app.roster.csv_format import (
    COLUMNS,
    REQUIRED_COLUMNS,
    roster_csv_export,
    roster_csv_parse,
)
from sessions_app.roster.forms import (
    ClinicianForm,
    DeactivateForm,
    InvitationAcceptForm,
    RoleInviteForm,
    RosterFilterForm,
    RosterUploadForm,
)
from sessions_app.roster.models import RosterImport

ROSTER_PAGE_SIZE = 50


def roster_list(request, slug):
    program = roles.program_for_request(request, slug, "roster.view")
    filters = RosterFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    clinicians = selectors.clinician_list(
        program=program,
        query=criteria.get("q", ""),
        discipline=criteria.get("discipline", ""),
        status=criteria.get("status", ""),
    )
    page = Paginator(clinicians, ROSTER_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "program": program,
        "filters": filters,
        "page": page,
        "counts": selectors.roster_counts(program=program),
        "query_string": query.urlencode(),
    }
    template = (
        "sessions_app/roster/_roster_table.html"
        if request.htmx
        else "sessions_app/roster/roster_list.html"
    )
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def clinician_create(request, slug):
    program = roles.program_for_request(request, slug, "roster.manage")
    form = ClinicianForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        clinician = services.clinician_create(
            program=program, actor=request.user, data=form.cleaned_data
        )
        messages.success(request, f"{clinician.full_name} added to the roster.")
        return redirect(clinician)
    return render(
        request, "sessions_app/roster/clinician_form.html", {"program": program, "form": form}
    )


def clinician_detail(request, slug, pk):
    program = roles.program_for_request(request, slug, "roster.view")
    clinician = roles.clinician_for_request(request, program, pk)
    context = {
        "program": program,
        "clinician": clinician,
        "memberships": clinician.memberships.select_related("group"),
        "invitations": clinician.invitations.all()[:5],
        "history": audit_list_for(clinician)[:50],
        "deactivate_form": DeactivateForm(),
        "now": timezone.now(),
    }
    if roles.can(request.user, "attendance.view", program):
        # The same figures as the attendance page and the credit CSV, never a second count.
        people = presenters_selectors.credit_summary(program=program)
        context["attendance"] = next((p for p in people if p.pk == clinician.pk), None)
    return render(request, "sessions_app/roster/clinician_detail.html", context)


@require_http_methods(["GET", "POST"])
def clinician_edit(request, slug, pk):
    program = roles.program_for_request(request, slug, "roster.manage")
    clinician = roles.clinician_for_request(request, program, pk)
    form = ClinicianForm(request.POST or None, instance=clinician, program=program)
    if request.method == "POST" and form.is_valid():
        # The ModelForm wrote the typed values onto the instance; start from the stored row.
        clinician.refresh_from_db()
        services.clinician_update(clinician=clinician, actor=request.user, data=form.cleaned_data)
        messages.success(request, "Changes saved.")
        return redirect(clinician)
    return render(
        request,
        "sessions_app/roster/clinician_form.html",
        {
            "program": program,
            "form": form,
            "clinician": roles.clinician_for_request(request, program, pk),
        },
    )


@require_POST
def clinician_deactivate(request, slug, pk):
    program = roles.program_for_request(request, slug, "roster.manage")
    clinician = roles.clinician_for_request(request, program, pk)
    form = DeactivateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.clinician_deactivate(clinician=clinician, actor=request.user, reason=reason)
    messages.success(request, f"{clinician.full_name} is now inactive. Their history is kept.")
    return redirect(clinician)


@require_POST
def clinician_reactivate(request, slug, pk):
    program = roles.program_for_request(request, slug, "roster.manage")
    clinician = roles.clinician_for_request(request, program, pk)
    services.clinician_reactivate(clinician=clinician, actor=request.user)
    messages.success(request, f"{clinician.full_name} is back on the active roster.")
    return redirect(clinician)


@require_POST
def clinician_invite(request, slug, pk):
    program = roles.program_for_request(request, slug, "roster.invite")
    clinician = roles.clinician_for_request(request, program, pk)
    try:
        invitation = services.clinician_invite(clinician=clinician, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc, joined=True)
    else:
        messages.success(
            request,
            f"Invitation sent to {clinician.email}; the link works until "
            f"{timezone.localtime(invitation.expires_at):%B %-d, %Y}.",
        )
    return redirect(clinician)


@require_POST
def facilitator_invite(request, slug, pk):
    """Invite a facilitator of the pool to create their account (from the Facilitators page)."""
    program = roles.program_for_request(request, slug, "facilitators.manage")
    facilitator = get_object_or_404(Facilitator, program=program, pk=pk)
    try:
        invitation = services.facilitator_invite(facilitator=facilitator, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc, joined=True)
    else:
        messages.success(
            request,
            f"Invitation sent to {invitation.email}; the link works until "
            f"{timezone.localtime(invitation.expires_at):%B %-d, %Y}.",
        )
    return redirect("sessions_app:facilitator_list", slug=program.slug)


@require_POST
def role_invite(request, slug):
    """From the Team page: invite someone with no account to a role in the program. A form
    that does not validate goes back to the Team page with what was typed."""
    program = roles.program_for_request(request, slug, "program.edit")
    form = RoleInviteForm(request.POST)
    team = reverse("sessions_app:program_team", args=[program.slug])
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        typed = {k: request.POST.get(k, "") for k in ("name", "email", "role")}
        return redirect(f"{team}?{urlencode(typed)}#team-invite")
    invitation = services.role_invite(program=program, actor=request.user, **form.cleaned_data)
    messages.success(
        request,
        f"Invitation sent to {invitation.email}; the link works until "
        f"{timezone.localtime(invitation.expires_at):%B %-d, %Y}.",
    )
    return redirect(team)


@require_http_methods(["GET", "POST"])
def roster_import(request, slug):
    program = roles.program_for_request(request, slug, "roster.manage")
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        draft, report = services.roster_import_upload(
            program=program, actor=request.user, filename=upload.name, content=upload.read()
        )
        if draft is not None:
            return redirect("sessions_app:roster_import_preview", slug=slug, pk=draft.pk)
    context = {
        "program": program,
        "form": form,
        "report": report,
        "columns": COLUMNS,
        "required_columns": REQUIRED_COLUMNS,
        "max_rows": f"{settings.ROSTER_IMPORT_MAX_ROWS:,}",
    }
    return render(request, "sessions_app/roster/roster_import.html", context)


@require_http_methods(["GET", "POST"])
def roster_import_preview(request, slug, pk):
    program = roles.program_for_request(request, slug, "roster.manage")
    draft = get_object_or_404(RosterImport, program=program, pk=pk)
    if draft.committed_at is not None:
        messages.info(request, f"{draft.filename} was already imported.")
        return redirect("sessions_app:roster_list", slug=slug)
    if request.method == "POST":
        try:
            report = services.roster_import_confirm(draft=draft, actor=request.user)
        except services.RosterImportError as exc:
            report = exc.report
            messages.error(request, "Nothing was imported: the file has problems listed below.")
        else:
            summary = report.summary()
            messages.success(
                request,
                f"Roster imported: {summary['create']} added, {summary['update']} updated, "
                f"{summary['unchanged']} unchanged.",
            )
            return redirect("sessions_app:roster_list", slug=slug)
    else:
        report = roster_csv_parse(program=program, content=bytes(draft.content))
    return render(
        request,
        "sessions_app/roster/roster_import_preview.html",
        {"program": program, "draft": draft, "report": report},
    )


def roster_export(request, slug):
    program = roles.program_for_request(request, slug, "roster.export")
    clinicians = selectors.clinician_list(program=program).order_by("last_name", "first_name")
    audit_record(
        actor=request.user,
        action="roster.export",
        program_id=program.pk,
        data={"rows": clinicians.count()},
    )
    response = HttpResponse(
        roster_csv_export(clinicians=clinicians), content_type="text/csv; charset=utf-8"
    )
    filename = f"roster-{program.slug}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# The e-mailed invitation link trades its token for this cookie and redirects to the account
# page, so the token is in no later request, page or log line (ccdg/token_links.py). An hour
# to choose a username and password; every page of the form renews it.
INVITATION_COOKIE = TokenCookie(
    name="ccdg_invitation",
    path="/accounts/invitation/",
    salt="ccdg.invitation-accept",
    max_age=3600,
)


def _invitation_invalid(request):
    """One page for an unknown, used, replaced or expired invitation, and for an account page
    opened without a valid cookie. Django would log the 404 with its path (the token)."""
    return already_logged(
        render(request, "sessions_app/roster/invitation_invalid.html", status=404)
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    """The e-mailed link: trade the token for the account page's cookie."""
    if services.invitation_get_valid(token=token) is None:
        return _invitation_invalid(request)
    return token_exchange(request, token, INVITATION_COOKIE)


@login_not_required
@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation_account(request):
    """Choose a username and password, for the invitation whose token the cookie holds."""
    token = INVITATION_COOKIE.read(request)
    invitation = services.invitation_get_valid(token=token) if token else None
    if invitation is None:
        return _invitation_invalid(request)
    form = InvitationAcceptForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                invitation=invitation,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError:
            return _invitation_invalid(request)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {invitation.greeting_name}. Your account is ready.")
        return INVITATION_COOKIE.forget(redirect("home"))
    response = render(
        request,
        "sessions_app/roster/invitation_accept.html",
        {"form": form, "invitation": invitation, "program": invitation.in_program},
    )
    return INVITATION_COOKIE.write(response, request, token)
