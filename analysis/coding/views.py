"""The qualitative coding pages of a survey wave (namespace ``coding``).

Coordinators and report viewers see the overview (themes, reviewers, progress, agreement,
final themes) and the disagreements; coordinators edit the codebook and name the reviewers;
only the two named reviewers code, each on their own page, which never shows the other
reviewer's codes. Items are named by ids in addresses, never by their text.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analysis.coding import selectors
from analysis.coding import services as coding
from analysis.coding.forms import ReviewersForm, ThemeForm, ThemesChoiceForm
from analysis.coding.models import Coding, Theme
from ccdg.messages import messages_from
from sessions_app import roles
from sessions_app.models import Program
from surveys.access import wave_for_request
from surveys.models import Response, Wave

T = "analysis/coding/"


def _theme(wave: Wave, pk: int) -> Theme:
    theme = get_object_or_404(Theme, wave=wave, pk=pk)
    theme.wave = wave
    return theme


def _attach(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            target = key if key in form.fields else None
            form.add_error(target, [m for e in errors for m in e])
    else:
        form.add_error(None, exc.messages)


def _base(program: Program, wave: Wave, request, **extra) -> dict:
    return {
        "program": program,
        "wave": wave,
        "may_manage": roles.can(request.user, "coding.manage", program),
        **extra,
    }


# --- Overview -----------------------------------------------------------------------------------


@require_GET
def overview(request, slug, wave):
    program = roles.program_for_request(request, slug, "coding.view")
    wave = wave_for_request(request, program, wave)
    snap = selectors.snapshot(wave)
    found = selectors.agreement(wave, snap)
    context = _base(
        program,
        wave,
        request,
        snap=snap,
        progress=selectors.reviewer_progress(wave, snap),
        agreement=found,
        final=selectors.final_themes(wave, snap),
        my_slot=next((s for s, u in snap.reviewers.items() if u.pk == request.user.pk), None),
    )
    return render(request, T + "overview.html", context)


# --- Codebook -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def themes(request, slug, wave):
    program = roles.program_for_request(request, slug, "coding.manage")
    wave = wave_for_request(request, program, wave)
    form = ThemeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            theme = coding.theme_add(
                wave=wave,
                actor=request.user,
                name=d["name"],
                description=d["description"],
                order=d["order"],
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"Theme “{theme.name}” added to the codebook.")
            return redirect("coding:themes", slug=slug, wave=wave.slug)
    return render(
        request,
        T + "themes.html",
        _base(program, wave, request, form=form, themes=_themes_with_uses(wave)),
        status=400 if form.errors else 200,
    )


def _themes_with_uses(wave: Wave) -> list[Theme]:
    return list(
        Theme.objects.filter(wave=wave).annotate(
            n_codes=Count("codings", distinct=True), n_consensus=Count("consensus", distinct=True)
        )
    )


@require_http_methods(["GET", "POST"])
def theme_edit(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, "coding.manage")
    wave = wave_for_request(request, program, wave)
    theme = _theme(wave, pk)
    initial = {"name": theme.name, "description": theme.description, "order": theme.order}
    form = ThemeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            changed = coding.theme_update(
                theme=theme,
                actor=request.user,
                name=d["name"],
                description=d["description"],
                order=d["order"],
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            if changed:
                messages.success(request, f"Theme “{theme.name}” saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("coding:themes", slug=slug, wave=wave.slug)
    return render(
        request,
        T + "theme_edit.html",
        _base(program, wave, request, form=form, theme=theme, uses=selectors.theme_uses(theme)),
        status=400 if form.errors else 200,
    )


@require_POST
def theme_delete(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, "coding.manage")
    wave = wave_for_request(request, program, wave)
    theme = _theme(wave, pk)
    name = theme.name
    try:
        coding.theme_delete(theme=theme, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"Theme “{name}” deleted.")
    return redirect("coding:themes", slug=slug, wave=wave.slug)


# --- Reviewers ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def reviewers(request, slug, wave):
    program = roles.program_for_request(request, slug, "coding.manage")
    wave = wave_for_request(request, program, wave)
    named = selectors.reviewers(wave)
    initial = {"first": named.get(1), "second": named.get(2)}
    form = ReviewersForm(request.POST or None, initial=initial, wave=wave)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            coding.reviewers_set(
                wave=wave, first=d["first"], second=d["second"], actor=request.user
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, "Reviewers named. Each codes the open answers on their own.")
            return redirect("coding:overview", slug=slug, wave=wave.slug)
    return render(
        request,
        T + "reviewers.html",
        _base(program, wave, request, form=form, named=named),
        status=400 if form.errors else 200,
    )


# --- Coding -------------------------------------------------------------------------------------


def _own_codes(wave: Wave, user) -> dict[tuple[int, str], list[int]]:
    """This reviewer's codes only (item -> theme ids): never the other reviewer's."""
    own: dict[tuple[int, str], list[int]] = {}
    for coding_row in (
        Coding.objects.filter(response__wave=wave, reviewer=user)
        .prefetch_related("themes")
        .only("pk", "response_id", "question_code")
    ):
        own[(coding_row.response_id, coding_row.question_code)] = [
            t.pk for t in coding_row.themes.all()
        ]
    return own


@require_http_methods(["GET", "POST"])
def code(request, slug, wave):
    program = roles.program_for_request(request, slug, "coding.view")
    wave = wave_for_request(request, program, wave)
    slot = selectors.reviewer_slot(request.user, wave)
    if slot is None:
        raise PermissionDenied("Only the survey's two named reviewers code its answers.")
    all_items = selectors.items(wave)
    keys = [(r, q) for r, q, _ in all_items]
    texts = {(r, q): t for r, q, t in all_items}
    theme_list = list(Theme.objects.filter(wave=wave))
    own = _own_codes(wave, request.user)
    form = None
    current = None
    status = 200

    if request.method == "POST":
        form = ThemesChoiceForm(request.POST, wave=wave, themes=theme_list)
        current = selectors.parse_item_key(request.POST.get("item", ""))
        if current not in texts:
            # Excluded, blanked or never an item: nothing to save; go on with the next one.
            messages.error(request, "That answer is not among the items to code (any more).")
            return redirect("coding:code", slug=slug, wave=wave.slug)
        if form.is_valid():
            response = get_object_or_404(Response, wave=wave, pk=current[0])
            response.wave = wave
            try:
                coding.coding_save(
                    reviewer=request.user,
                    response=response,
                    question_code=current[1],
                    themes=form.cleaned_data["themes"],
                )
            except ValidationError as exc:
                _attach(form, exc)
            else:
                own[current] = [t.pk for t in form.cleaned_data["themes"]]
                nxt = _next_item(keys, own, after=current)
                messages.success(request, "Saved.")
                url = reverse("coding:code", kwargs={"slug": slug, "wave": wave.slug})
                if nxt is not None:
                    url += "?item=" + selectors.item_key(*nxt)
                return redirect(url)
        status = 400
    else:
        wanted = request.GET.get("item")
        if wanted:
            current = selectors.parse_item_key(wanted)
            if current not in texts:
                raise Http404("No such answer to code.")
        else:
            current = _next_item(keys, own)
        if current is not None:
            initial = {"item": selectors.item_key(*current)}
            if current in own:
                initial["themes"] = own[current]
                initial["no_theme"] = not own[current]
            form = ThemesChoiceForm(initial=initial, wave=wave, themes=theme_list)

    coded = sum(1 for k in keys if k in own)
    position = keys.index(current) + 1 if current is not None else None
    questions = {q.code: q.text for q in selectors.open_questions(wave)}
    rows = [
        {"key": selectors.item_key(*k), "n": i, "done": k in own, "current": k == current}
        for i, k in enumerate(keys, start=1)
    ]
    context = _base(
        program,
        wave,
        request,
        slot=slot,
        form=form,
        themes=theme_list,
        current=current,
        current_text=texts.get(current, "") if current else "",
        current_question=questions.get(current[1], "") if current else "",
        position=position,
        total=len(keys),
        coded=coded,
        percent=round(100 * coded / len(keys)) if keys else 0,
        rows=rows,
        already=current in own if current else False,
    )
    return render(request, T + "code.html", context, status=status)


def _next_item(keys, own, after=None):
    """The first item this reviewer has not coded, looking after ``after`` first."""
    start = keys.index(after) + 1 if after in keys else 0
    for key in keys[start:] + keys[:start]:
        if key not in own:
            return key
    return None


# --- Disagreements and consensus ----------------------------------------------------------------


def _disagreements_page(request, program, wave, bound=None, status=200):
    snap = selectors.snapshot(wave)
    rows = selectors.disagreements(wave, snap)
    may_decide = roles.can(request.user, "coding.manage", program) or any(
        u.pk == request.user.pk for u in snap.reviewers.values()
    )
    entries = []
    matched = False
    for row in rows:
        form = None
        if may_decide:
            if bound is not None and bound.data.get("item") == row.key:
                form = bound
                matched = True
            else:
                initial = {"item": row.key}
                if row.consensus_ids is not None:
                    initial["themes"] = sorted(row.consensus_ids)
                    initial["no_theme"] = not row.consensus_ids
                form = ThemesChoiceForm(initial=initial, wave=wave, themes=snap.themes)
        entries.append({"row": row, "form": form})
    context = _base(
        program,
        wave,
        request,
        entries=entries,
        may_decide=may_decide,
        agreement=selectors.agreement(wave, snap),
        reviewers=snap.reviewers,
        # A refused consensus on an item not listed here (any more): say why at the top.
        unmatched=bound if bound is not None and not matched else None,
    )
    return render(request, T + "disagreements.html", context, status=status)


@require_GET
def disagreements(request, slug, wave):
    program = roles.program_for_request(request, slug, "coding.view")
    wave = wave_for_request(request, program, wave)
    return _disagreements_page(request, program, wave)


@require_POST
def consensus(request, slug, wave):
    program = roles.program_for_request(request, slug, "coding.view")
    wave = wave_for_request(request, program, wave)
    if not selectors.may_decide(request.user, wave):
        raise PermissionDenied("Only the coordinator or a named reviewer records a consensus.")
    form = ThemesChoiceForm(request.POST, wave=wave)
    if form.is_valid():
        response_id, question_code = form.cleaned_data["item"]
        response = Response.objects.filter(wave=wave, pk=response_id).first()
        if response is None:
            form.add_error(None, "This answer is not one of the survey's open answers.")
        else:
            response.wave = wave
            try:
                coding.consensus_save(
                    actor=request.user,
                    response=response,
                    question_code=question_code,
                    themes=form.cleaned_data["themes"],
                )
            except ValidationError as exc:
                _attach(form, exc)
            else:
                messages.success(request, "Consensus recorded.")
                url = reverse("coding:disagreements", kwargs={"slug": slug, "wave": wave.slug})
                return redirect(f"{url}#item-{selectors.item_key(response_id, question_code)}")
    messages.error(request, "The consensus was not recorded: see the form below.")
    return _disagreements_page(request, program, wave, bound=form, status=400)
