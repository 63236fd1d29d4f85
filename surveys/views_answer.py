"""The respondent's pages, reached through a single-use link: no sign-in needed.

One section per page, answers saved into the link's draft on every step (so the same link
resumes where the respondent left), submission once. Unknown, used and closed links all get
the same page with the same status, so the page never tells whether a token ever existed.

Every token page forbids caching and sends no referrer, so the token stays out of caches,
proxies and other sites' logs; nothing the respondent types is logged.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from . import waves
from .forms_answer import SectionForm, tampered_message
from .models import WaveRecipient
from .responses import group_labels_for, question_specs, sections_of

T = "surveys/answer/"
ACTIONS = ("back", "next", "save", "submit")
# Bootstrap has no width utilities finer than quarters; survey.css has one class per 5 %.
PROGRESS_STEP = 5


def token_page(view):
    """No copy in any cache, no referrer to other sites, no search engine indexing.

    ``same-origin`` rather than ``no-referrer``: with no referrer at all, browsers send
    ``Origin: null`` with the form's POST and Django's CSRF check refuses it.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)  # Cache-Control: ..., no-store, private; Expires
        response["Pragma"] = "no-cache"
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _refused(request):
    """The one page for an unknown, used or closed link: it depends on nothing about it."""
    response = render(request, T + "refused.html", status=404)
    # Django logs every 404 with its path, which here holds the token: mark the response as
    # logged already (Django's own flag) so no token reaches the server's logs.
    response._has_been_logged = True
    return response


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
    return render(
        request,
        T + "page.html",
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
    first_number = 1 + sum(len(specs) for _, specs in sections[:index])
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
    recipient = waves.recipient_for_token(token)
    if not waves.link_usable(recipient):
        return _refused(request)
    wave = recipient.wave
    specs = question_specs(wave.instrument)
    sections = sections_of(specs)
    if not sections:
        return _refused(request)
    group_labels = group_labels_for(wave)
    total = len(sections)
    saved_index = min(recipient.draft_page, total - 1)

    if request.method == "GET":
        if request.GET.get("saved") == "1":
            return render(
                request,
                T + "saved.html",
                {"wave": wave, "survey_program": wave.program, "continue_url": request.path},
            )
        number = _page_number(request.GET.get("page"), total)
        index = number - 1 if number else saved_index
        form = _form_for(sections, index, group_labels, saved=recipient.draft)
        return _render_page(request, recipient, sections, index, form)
    return _answer_post(request, recipient, sections, group_labels, saved_index)


@sensitive_variables()
def _answer_post(request, recipient, sections, group_labels, saved_index: int):
    total = len(sections)
    number = _page_number(request.POST.get("page"), total)
    index = number - 1 if number else saved_index
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
        if code in required and any(m.endswith("an answer is required.") for m in messages):
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
        page = _form_for(sections, target, group_labels, saved=saved.draft)
        page.set_errors(errors)
        return _render_page(request, recipient, sections, target, page)
    return redirect("survey_answer:thanks")


@login_not_required
@token_page
@require_GET
def thanks(request):
    return render(request, T + "thanks.html")
