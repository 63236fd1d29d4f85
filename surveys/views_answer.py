"""The respondent's pages, reached through a single-use link: no sign-in needed.

One section per page, answers saved into the link's draft on every step (so the same link
resumes where the respondent left), submission once. Unknown, used and closed links all get
the same page with the same status, so the page never tells whether a token ever existed.

The e-mailed address ``/s/<token>/`` only trades the token for a signed cookie and redirects
to the wave's own address ``/survey/<program>/<wave>/`` (no secret in it), where the pages are
answered: the token stays out of access logs, the browser's history and ``Referer`` headers
(``ccdg.token_links``). The cookie, not the server session, carries the token: these pages
never write a session, so no session row records when someone answered an anonymous wave.

Every page forbids caching and sends no referrer to other sites; nothing the respondent types
is logged.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from ccdg.token_links import TokenCookie, already_logged, token_exchange

from . import linking, series, waves
from .forms_answer import SectionForm, tampered_message
from .models import WaveRecipient
from .responses import group_labels_for, question_specs, sections_of

T = "surveys/answer/"
ACTIONS = ("back", "next", "save", "submit")
# Bootstrap has no width utilities finer than quarters; survey.css has one class per 5 %.
PROGRESS_STEP = 5
# A visit lasts this long after its last page; then the e-mailed link opens it again.
VISIT_SECONDS = 3 * 3600


def token_page(view):
    """No copy in any cache, no referrer to other sites, no search engine indexing, and no
    write to the server session.

    ``same-origin`` rather than ``no-referrer``: with no referrer at all, browsers send
    ``Origin: null`` with the form's POST and Django's CSRF check refuses it.

    The session middleware saves a signed-in person's session when its expiry is pushed back
    (``SessionIdleMiddleware``, once a minute): the row's new expiry, written as the answers
    are sent, would date an anonymous response and name who sent it. Without ``request.session`` the
    middleware leaves the session (and its cookie) as they were. The user is looked up first
    (a read) so that later middleware can still ask who it is. The pages show no messages
    (``_render``), so nothing else writes the session.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if hasattr(request, "user"):
            request.user.is_authenticated  # noqa: B018 - resolves the lazy user now
        request.__dict__.pop("session", None)
        add_never_cache_headers(response)  # Cache-Control: ..., no-store, private; Expires
        response["Pragma"] = "no-cache"
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _render(request, template: str, context: dict | None = None, status: int = 200):
    # No messages: reading them may fall back to the session, whose writes these pages avoid.
    return render(request, T + template, {**(context or {}), "messages": ()}, status=status)


def _refused(request):
    """The one page for an unknown, used or closed link, and for a visit whose cookie is
    missing, forged or expired: it depends on nothing about any of them."""
    # Django logs every 404 with its path, which can hold the token: mark the response as
    # logged already (Django's own flag) so no token reaches the server's logs.
    return already_logged(_render(request, "refused.html", status=404))


def _visit_cookie(slug: str, wave: str) -> TokenCookie:
    """One cookie per wave (its name and path), so two surveys in one browser stay apart."""
    return TokenCookie(
        name=f"ccdg_survey.{slug}.{wave}",
        path=reverse("survey_answer:page", kwargs={"slug": slug, "wave": wave}),
        salt="ccdg.survey-answer",
        max_age=VISIT_SECONDS,
    )


def _page_number(raw, total: int) -> int | None:
    """A 1-based page number from the request, or None when absent or not a valid page."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= total else None


def _progress(index: int, total: int) -> int:
    """Per cent of the sections reached, rounded to the step of the width classes."""
    percent = round(100 * (index + 1) / total)
    return min(100, PROGRESS_STEP * round(percent / PROGRESS_STEP))


def _render_page(request, recipient: WaveRecipient, sections, index: int, form: SectionForm):
    wave = recipient.wave
    total = len(sections)
    required = any(s.required for _, specs in sections for s in specs)
    return _render(
        request,
        "page.html",
        {
            "wave": wave,
            "survey_program": wave.program,
            "form": form,
            "section_title": sections[index][0],
            "number": index + 1,
            "total": total,
            "is_first": index == 0,
            "is_last": index == total - 1,
            "percent": round(100 * (index + 1) / total),
            "progress_class": f"survey-w-{_progress(index, total)}",
            "has_required": required,
            "action_url": request.path,
        },
    )


def _form_for(sections, index: int, group_labels, *, data=None, saved=None) -> SectionForm:
    # The personal code's parts are not questions: the survey's numbering starts after them.
    first_number = 1 + sum(
        1 for _, specs in sections[:index] for s in specs if s.type != linking.PART_TYPE
    )
    return SectionForm(
        sections[index][1],
        group_labels=group_labels,
        first_number=first_number,
        data=data,
        saved=saved,
    )


@login_not_required
@token_page
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def answer(request, token):
    """The e-mailed address: trade the token for the wave page's cookie, or refuse the link.

    Opening it again later (to resume a saved draft) starts a new visit the same way.
    """
    recipient = waves.recipient_for_token(token)
    if not waves.link_usable(recipient):
        return _refused(request)
    wave = recipient.wave
    return token_exchange(request, token, _visit_cookie(wave.program.slug, wave.slug))


@login_not_required
@token_page
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def page(request, slug, wave):
    """The wave's pages, for the link whose token the visit's cookie holds."""
    cookie = _visit_cookie(slug, wave)
    token = cookie.read(request)
    recipient = waves.recipient_for_token(token) if token else None
    if not waves.link_usable(recipient) or (
        (recipient.wave.program.slug, recipient.wave.slug) != (slug, wave)
    ):
        return _refused(request)
    sections = sections_of(question_specs(recipient.wave.instrument))
    if not sections:
        return _refused(request)
    code = series.code_page(recipient.wave)
    if code is not None:
        sections = [code, *sections]
    if request.method == "GET":
        response = _answer_get(request, recipient, sections)
    else:
        response = _answer_post(request, recipient, sections)
    if response.status_code == 404 or cookie.name in response.cookies:
        return response  # refused meanwhile, or submitted (the cookie is gone)
    return cookie.write(response, request, token)  # the visit goes on: renew


def _answer_get(request, recipient: WaveRecipient, sections):
    wave = recipient.wave
    if request.GET.get("saved") == "1":
        return _render(
            request,
            "saved.html",
            {"wave": wave, "survey_program": wave.program, "continue_url": request.path},
        )
    total = len(sections)
    number = _page_number(request.GET.get("page"), total)
    index = number - 1 if number else min(recipient.draft_page, total - 1)
    form = _form_for(sections, index, group_labels_for(wave), saved=recipient.draft)
    return _render_page(request, recipient, sections, index, form)


@sensitive_variables()
def _answer_post(request, recipient: WaveRecipient, sections):
    group_labels = group_labels_for(recipient.wave)
    total = len(sections)
    number = _page_number(request.POST.get("page"), total)
    index = number - 1 if number else min(recipient.draft_page, total - 1)
    action = request.POST.get("action")
    if action not in ACTIONS:
        action = "next"
    form = _form_for(sections, index, group_labels, data=request.POST, saved=recipient.draft)
    if not form.is_valid():
        return _render_page(request, recipient, sections, index, form)
    try:
        if action == "submit":
            return _submit(request, recipient, sections, group_labels, index, form)
        target = {"back": index - 1, "next": index + 1}.get(action, index)
        target = max(0, min(target, total - 1))
        waves.draft_save(recipient=recipient, answers=form.answers, page=target)
    except waves.LinkRefused:
        return _refused(request)
    if action == "save":
        return redirect(f"{request.path}?saved=1")
    return redirect(request.path)


def _submit_errors(sections, exc: ValidationError) -> dict[str, str]:
    """Messages for the respondent, by question code, from :func:`answers_clean`'s."""
    required = {s.code for _, specs in sections for s in specs if s.required}
    errors = {}
    for code, messages in exc.message_dict.items():
        if code.startswith(linking.PART_PREFIX):
            errors[code] = (
                "Give every part of your personal code, or leave them all blank: half a code "
                "links to nobody."
            )
        elif code in required and any(m.endswith("an answer is required.") for m in messages):
            errors[code] = "This question needs an answer before you submit."
        else:
            problem = " ".join(m.split(": ", 1)[-1].rstrip(".") for m in messages)
            errors[code] = tampered_message(problem)
    return errors


@sensitive_variables()
def _submit(request, recipient, sections, group_labels, index: int, form: SectionForm):
    try:
        waves.response_submit(recipient=recipient, answers=form.answers)
    except ValidationError as exc:
        errors = _submit_errors(sections, exc)
        # Send the respondent to the first page with a missing or refused answer, keeping
        # what this page held in the draft so nothing typed is lost.
        target = next(
            (i for i, (_, specs) in enumerate(sections) if any(s.code in errors for s in specs)),
            index,
        )
        saved = waves.draft_save(recipient=recipient, answers=form.answers, page=target)
        form = _form_for(sections, target, group_labels, saved=saved.draft)
        form.set_errors(errors)
        return _render_page(request, recipient, sections, target, form)
    wave = recipient.wave
    # The link is used up: its visit ends with it.
    return _visit_cookie(wave.program.slug, wave.slug).forget(redirect("survey_answer:thanks"))


@login_not_required
@token_page
@require_GET
def thanks(request):
    return _render(request, "thanks.html")
