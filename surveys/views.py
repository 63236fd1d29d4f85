"""The coordinator's survey pages: waves, their figures, responses, paper entry, CSV import,
and the codebook of an instrument.

Report viewers see the figures and the responses; only coordinators (and staff) open waves,
enter or exclude responses, and see who a confidential response came from. In an anonymous
wave no page ever says who answered.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ccdg import phi
from ccdg.messages import messages_from
from ccdg.models import OutboxMessage
from sessions_app import roles
from sessions_app.models import Group, Program

from . import builtin, linking, responses_csv, series, services, waves
from . import responses as resp
from . import series as series_module
from .access import wave_for_request
from .forms import (
    ExcludeForm,
    ExtendForm,
    PaperEntryForm,
    PaperWaveForm,
    RecipeForm,
    ResponsesUploadForm,
    SeriesForm,
    SeriesWaveForm,
    WaveForm,
    attach_errors,
)
from .models import (
    Instrument,
    Question,
    Response,
    ResponseImport,
    SeriesWave,
    Wave,
    WaveRecipient,
    WaveSeries,
)
from .outbox_kinds import SURVEY_INVITATION, SURVEY_KINDS, SURVEY_REMINDER

T = "surveys/"
RESPONSES_PER_PAGE = 50
IMPORT_ERRORS_SHOWN = 200


def _local_closing_initial(program: Program) -> dict:
    closing = program.local(waves.default_closing())
    return {"closes_on": closing.date(), "closes_time": closing.time().replace(second=0)}


# --- Waves --------------------------------------------------------------------------------------


def wave_list(request, slug):
    program = roles.program_for_request(request, slug, "surveys.view")
    now = timezone.now()
    rows = [
        _row(wave, now)
        for wave in waves.waves_with_figures(
            Wave.objects.filter(program=program).select_related("instrument")
        ).order_by("-opens_at", "-pk")
    ]
    return render(request, T + "wave_list.html", {"program": program, "rows": rows})


def percent(rate: float | None) -> int | None:
    return None if rate is None else round(rate * 100)


def _row(wave: Wave, now) -> dict:
    f = waves.figures(wave)
    return {"wave": wave, "figures": f, "state": wave.state(now), "percent": percent(f.rate)}


def _audience_count(program: Program, data) -> tuple[int | None, str]:
    """How many people the audience chosen in ``data`` reaches, or None and why not."""
    audience = data.get("audience", "")
    sessions = group = None
    if audience == Wave.Audience.LAST_SESSIONS:
        try:
            sessions = int(data.get("audience_sessions") or 0)
        except ValueError:
            sessions = 0
    elif audience == Wave.Audience.GROUP:
        raw = str(data.get("audience_group") or "")
        group = Group.objects.filter(program=program, pk=raw).first() if raw.isdigit() else None
        if group is None:
            return None, "Choose a group to see how many people it reaches."
    try:
        people = waves.audience_clinicians(
            program=program, audience=audience, sessions=sessions, group=group
        )
    except ValidationError as exc:
        return None, " ".join(exc.messages)
    return len(people), ""


@require_http_methods(["GET", "POST"])
def wave_create(request, slug):
    """The form; then, on a valid POST, a page with the invitation as it will be sent and the
    number of recipients, where the coordinator confirms (``confirm=1``, the form's values in
    hidden fields) or goes back to change something (``edit``). Nothing is saved or sent before
    the confirmation."""
    program = roles.program_for_request(request, slug, "surveys.manage")
    initial = {"instrument": services.builtin_instrument(), **_local_closing_initial(program)}
    form = WaveForm(request.POST or None, initial=initial, program=program)
    # "Change something" on the confirmation page: back to the form, with its values.
    editing = "edit" in request.POST
    if request.method == "POST" and not editing and form.is_valid():
        d = form.cleaned_data
        wave_args = dict(
            program=program,
            actor=request.user,
            name=d["name"],
            slug=d["slug"],
            instrument=d["instrument"],
            mode=d["mode"],
            audience=d["audience"],
            sessions=d["audience_sessions"],
            group=d["audience_group"],
            closes_at=form.closes_at(),
            reminder_days=d["reminder_days"],
            is_pilot=d["is_pilot"],
        )
        try:
            if request.POST.get("confirm") != "1":
                preview = waves.wave_open_preview(**wave_args)
                return render(
                    request,
                    T + "wave_confirm.html",
                    {"program": program, "form": form, "preview": preview},
                )
            wave = waves.wave_open(**wave_args)
        except ValidationError as exc:
            attach_errors(form, exc, WaveForm.ERROR_FIELDS)
        else:
            queued = (
                OutboxMessage.objects.filter(
                    program=program, kind=SURVEY_INVITATION, object_id=wave.pk
                )
                .exclude(status=OutboxMessage.Status.SKIPPED)
                .count()
            )
            recipients = wave.recipients.count()
            text = (
                f"“{wave.name}” is open: {queued} invitation{'s' if queued != 1 else ''} "
                f"queued for {recipients} recipient{'s' if recipients != 1 else ''}."
            )
            if queued < recipients:
                text += " The others have no usable address or opted out of e-mails."
            messages.success(request, text)
            return redirect("surveys:wave_detail", slug=slug, wave=wave.slug)
    data = form.data if form.is_bound else {k: form[k].value() for k in form.fields}
    count, why = _audience_count(program, data)
    return render(
        request,
        T + "wave_form.html",
        {"program": program, "form": form, "count": count, "count_why": why},
        status=400 if form.errors else 200,
    )


@require_GET
def wave_recipients_count(request, slug):
    """The htmx preview of how many people the audience chosen on the form reaches."""
    program = roles.program_for_request(request, slug, "surveys.manage")
    count, why = _audience_count(program, request.GET)
    return render(request, T + "_recipients_count.html", {"count": count, "count_why": why})


@require_http_methods(["GET", "POST"])
def paper_wave_create(request, slug):
    program = roles.program_for_request(request, slug, "surveys.manage")
    form = PaperWaveForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            wave = waves.paper_wave_create(
                program=program,
                actor=request.user,
                name=d["name"],
                slug=d["slug"],
                distributed=d["distributed"],
                mode=d["mode"],
                is_pilot=d["is_pilot"],
                handed_out_on=form.handed_out_at(),
            )
        except ValidationError as exc:
            attach_errors(form, exc, {})
        else:
            messages.success(
                request,
                f"Paper wave “{wave.name}” created: type in the forms or import a CSV.",
            )
            return redirect("surveys:wave_detail", slug=slug, wave=wave.slug)
    return render(
        request,
        T + "paper_wave_form.html",
        {"program": program, "form": form},
        status=400 if form.errors else 200,
    )


def _wave_detail_context(request, program: Program, wave: Wave, extend_form=None) -> dict:
    annotated = waves.waves_with_figures(Wave.objects.filter(pk=wave.pk)).get()
    excluded_reasons = list(
        Response.objects.filter(wave=wave)
        .exclude(excluded_reason="")
        .values("excluded_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "excluded_reason")
    )
    may_manage = roles.can(request.user, "surveys.manage", program)
    recipients = None
    if may_manage and not wave.is_paper and not wave.is_anonymous:
        answered = dict(
            Response.objects.filter(wave=wave, recipient__isnull=False).values_list(
                "recipient_id", "pk"
            )
        )
        recipients = [
            (r, answered.get(r.pk))
            for r in WaveRecipient.objects.filter(wave=wave)
            .select_related("clinician")
            .order_by("clinician__last_name", "clinician__first_name", "pk")
        ]
    outbox_rows = []
    if not wave.is_paper:
        found: dict[str, dict[str, int]] = {}
        for row in (
            OutboxMessage.objects.filter(program=program, kind__in=SURVEY_KINDS, object_id=wave.pk)
            .values("kind", "status")
            .annotate(n=Count("id"))
        ):
            found.setdefault(row["kind"], {})[row["status"]] = row["n"]
        S = OutboxMessage.Status
        for kind, label in [
            (SURVEY_INVITATION, "Invitations"),
            (SURVEY_REMINDER, "Reminders"),
        ]:
            n = found.get(kind, {})
            outbox_rows.append(
                (
                    label,
                    {
                        "pending": n.get(S.PENDING, 0) + n.get(S.SENDING, 0),
                        "sent": n.get(S.SENT, 0),
                        "failed": n.get(S.FAILED, 0) + n.get(S.STUCK, 0),
                        "skipped": n.get(S.SKIPPED, 0),
                    },
                )
            )
    now = timezone.now()
    f = waves.figures(annotated)
    return {
        "program": program,
        "wave": wave,
        "figures": f,
        "percent": percent(f.rate),
        "state": wave.state(now),
        "is_open": wave.is_open(now),
        "excluded_reasons": excluded_reasons,
        "recipients": recipients,
        "outbox_rows": outbox_rows,
        "may_manage": may_manage,
        "extend_form": extend_form
        or ExtendForm(initial=_local_closing_initial(program), program=program),
    }


def wave_detail(request, slug, wave):
    program = roles.program_for_request(request, slug, "surveys.view")
    wave = wave_for_request(request, program, wave)
    return render(request, T + "wave_detail.html", _wave_detail_context(request, program, wave))


@require_POST
def wave_close(request, slug, wave):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    try:
        waves.wave_close(wave=wave, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"“{wave.name}” is closed: its links no longer work.")
    return redirect("surveys:wave_detail", slug=slug, wave=wave.slug)


@require_POST
def wave_extend(request, slug, wave):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    form = ExtendForm(request.POST, program=program)
    if form.is_valid():
        try:
            waves.wave_extend(wave=wave, actor=request.user, closes_at=form.closes_at())
        except ValidationError as exc:
            attach_errors(form, exc, ExtendForm.ERROR_FIELDS)
        else:
            local = program.local(wave.closes_at)
            messages.success(
                request, f"“{wave.name}” now closes {local:%a %b} {local.day}, {local:%Y at %H:%M}."
            )
            return redirect("surveys:wave_detail", slug=slug, wave=wave.slug)
    context = _wave_detail_context(request, program, wave, extend_form=form)
    return render(request, T + "wave_detail.html", context, status=400)


@require_POST
def wave_remind(request, slug, wave):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    try:
        n = waves.wave_remind_now(wave=wave, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        if n:
            who = "person who has" if n == 1 else "people who have"
            messages.success(request, f"A reminder is queued for {n} {who} not answered yet.")
        else:
            messages.info(request, "Everyone has answered: nobody to remind.")
    return redirect("surveys:wave_detail", slug=slug, wave=wave.slug)


@require_POST
def wave_pilot(request, slug, wave):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    is_pilot = request.POST.get("is_pilot") == "1"
    waves.wave_set_pilot(wave=wave, actor=request.user, is_pilot=is_pilot)
    if is_pilot:
        messages.success(request, f"“{wave.name}” is a pilot: its responses stay out of the "
                                  "analysis by default.")  # fmt: skip
    else:
        messages.success(request, f"“{wave.name}” is no longer a pilot: its responses enter "
                                  "the analysis.")  # fmt: skip
    return redirect("surveys:wave_detail", slug=slug, wave=wave.slug)


# --- Responses ----------------------------------------------------------------------------------


def response_list(request, slug, wave):
    program = roles.program_for_request(request, slug, "surveys.view")
    wave = wave_for_request(request, program, wave)
    may_manage = roles.can(request.user, "surveys.manage", program)
    show_names = may_manage and not wave.is_anonymous
    qs = Response.objects.filter(wave=wave).order_by("pk")
    if show_names:
        qs = qs.select_related("recipient__clinician")
    page = Paginator(qs, RESPONSES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(page.start_index() + i, r) for i, r in enumerate(page.object_list)]
    return render(
        request,
        T + "response_list.html",
        {
            "program": program,
            "wave": wave,
            "page": page,
            "rows": rows,
            "show_names": show_names,
            "may_manage": may_manage,
        },
    )


def _response(wave: Wave, pk: int) -> Response:
    return get_object_or_404(
        Response.objects.select_related("recipient__clinician", "entered_by"), wave=wave, pk=pk
    )


def _answer_sections(wave: Wave, response: Response) -> list[tuple[str, list[dict]]]:
    specs = resp.question_specs(wave.instrument)
    group_labels = resp.group_labels_for(wave)
    rare = _rare_answers(wave, specs, response)
    out = []
    for title, questions in resp.sections_of(specs):
        items = []
        for spec in questions:
            value = response.answers.get(spec.code, "")
            labels = dict(resp.choices_for(spec, group_labels))
            hidden = value != "" and (spec.code, value) in rare
            items.append(
                {
                    "spec": spec,
                    "value": "" if hidden else value,
                    "label": "" if hidden else labels.get(value, value),
                    "coded": labels.get(value, value) != value,
                    "hidden": hidden,
                }
            )
        out.append((title, items))
    return out


def _rare_answers(wave: Wave, specs, response: Response) -> set[tuple[str, str]]:
    """In an anonymous wave, the (question, answer) pairs of this response's answers about the
    respondent (profession, gender, group...) that fewer than k responses of the wave gave:
    shown on one response, such an answer would point at a person, so the page hides it
    (small-cell rule, docs/surveys.md). One query, counted by the database."""
    if not wave.is_anonymous:
        return set()
    given = {
        code: response.answers[code]
        for code in resp.demographic_codes(specs)
        if response.answers.get(code)
    }
    if not given:
        return set()
    counts = Response.objects.filter(wave=wave).aggregate(
        **{
            f"n{i}": Count("pk", filter=Q(**{f"answers__{code}": value}))
            for i, (code, value) in enumerate(given.items())
        }
    )
    k = wave.program.small_cell_k
    return {pair for i, pair in enumerate(given.items()) if counts[f"n{i}"] < k}


def _response_detail(request, program, wave, response, exclude_form=None, status=200):
    may_manage = roles.can(request.user, "surveys.manage", program)
    position = Response.objects.filter(wave=wave, pk__lte=response.pk).count()
    return render(
        request,
        T + "response_detail.html",
        {
            "program": program,
            "wave": wave,
            "response": response,
            "position": position,
            "sections": _answer_sections(wave, response),
            "may_manage": may_manage,
            "show_name": may_manage and not wave.is_anonymous,
            "k": program.small_cell_k,
            "exclude_form": exclude_form or ExcludeForm(),
        },
        status=status,
    )


def response_detail(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, "surveys.view")
    wave = wave_for_request(request, program, wave)
    return _response_detail(request, program, wave, _response(wave, pk))


@require_POST
def response_exclude(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    response = _response(wave, pk)
    form = ExcludeForm(request.POST)
    if form.is_valid():
        try:
            resp.response_exclude(
                response=response, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            attach_errors(form, exc, {})
        else:
            messages.success(request, "The response is excluded from the analysis; it still "
                                      "counts as returned.")  # fmt: skip
            return redirect("surveys:response_detail", slug=slug, wave=wave.slug, pk=pk)
    return _response_detail(request, program, wave, response, exclude_form=form, status=400)


@require_POST
def response_include(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    response = _response(wave, pk)
    resp.response_include(response=response, actor=request.user)
    messages.success(request, "The response is included in the analysis again.")
    return redirect("surveys:response_detail", slug=slug, wave=wave.slug, pk=pk)


def _identifier_warnings(form: PaperEntryForm) -> list[str]:
    """Free-text answers that look like they name someone: a warning, not a refusal (the
    form is transcribed as written). Categories only, never the text itself."""
    out = []
    for spec in form.specs:
        if not spec.is_text:
            continue
        found = phi.scan(form.cleaned_data.get(form.field_name(spec.code)) or "")
        if found:
            kinds = sorted({phi.CATEGORIES[f.category].lower() for f in found})
            out.append(
                f"The answer to “{spec.code}” may contain identifiers ({', '.join(kinds)}): "
                "check it and remove them if the respondent named a patient."
            )
    return out


@require_http_methods(["GET", "POST"])
def paper_entry(request, slug, wave):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    specs = resp.question_specs(wave.instrument)
    recipe = linking.recipe_for(program.pk) if series.asks_code(wave) else None
    form = PaperEntryForm(
        request.POST or None,
        specs=specs,
        group_labels=resp.group_labels_for(wave),
        code_recipe=recipe,
    )
    if request.method == "POST" and form.is_valid():
        try:
            response = resp.paper_response_add(
                wave=wave,
                actor=request.user,
                answers=form.answers(),
                form_id=form.cleaned_data["form_id"],
                excluded_reason=form.cleaned_data["excluded_reason"],
                link_code=form.cleaned_data.get("link_code") or "",
            )
        except ValidationError as exc:
            form.attach_errors(exc)
        else:
            for warning in _identifier_warnings(form):
                messages.warning(request, warning)
            number = Response.objects.filter(wave=wave, pk__lte=response.pk).count()
            label = f"Response {number}" + (
                f" (form {response.form_id})" if response.form_id else ""
            )
            if "another" in request.POST:
                messages.success(request, f"{label} saved. Enter the next form.")
                return redirect("surveys:paper_entry", slug=slug, wave=wave.slug)
            messages.success(request, f"{label} saved.")
            return redirect("surveys:response_detail", slug=slug, wave=wave.slug, pk=response.pk)
    return render(
        request,
        T + "paper_entry.html",
        {"program": program, "wave": wave, "form": form},
        status=400 if form.errors else 200,
    )


# --- CSV import ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def response_import(request, slug, wave):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    form = ResponsesUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            draft = responses_csv.responses_upload(
                wave=wave, actor=request.user, filename=upload.name, content=upload.read()
            )
        except ValidationError as exc:
            attach_errors(form, exc, {}, default="file")
        else:
            return redirect("surveys:response_import_preview", slug=slug, wave=wave.slug,
                            pk=draft.pk)  # fmt: skip
    specs = resp.question_specs(wave.instrument)
    return render(
        request,
        T + "response_import.html",
        {
            "program": program,
            "wave": wave,
            "form": form,
            "specs": specs,
            "group_labels": resp.group_labels_for(wave),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def response_import_preview(request, slug, wave, pk):
    program = roles.program_for_request(request, slug, "surveys.manage")
    wave = wave_for_request(request, program, wave)
    draft = get_object_or_404(ResponseImport, wave=wave, pk=pk)
    if draft.committed_at is not None:
        messages.info(request, f"{draft.filename} was already imported.")
        return redirect("surveys:response_list", slug=slug, wave=wave.slug)
    status = 200
    if request.method == "POST":
        try:
            report = responses_csv.responses_confirm(draft=draft, actor=request.user)
        except responses_csv.ResponsesImportError as exc:
            report = exc.report
            status = 400
            messages.error(request, "Nothing was imported: the file has problems listed below.")
        except ValidationError as exc:
            messages_from(request, exc)
            return redirect("surveys:response_list", slug=slug, wave=wave.slug)
        else:
            text = f"{report.created} response{'s' if report.created != 1 else ''} imported"
            if report.excluded:
                text += f", {report.excluded} of them excluded from the analysis"
            messages.success(request, text + ".")
            return redirect("surveys:wave_detail", slug=slug, wave=wave.slug)
    else:
        report = responses_csv.report_from_summary(draft.summary)
    return render(
        request,
        T + "response_import_preview.html",
        {
            "program": program,
            "wave": wave,
            "draft": draft,
            "report": report,
            "errors_shown": report.errors[:IMPORT_ERRORS_SHOWN],
            "errors_hidden": max(0, len(report.errors) - IMPORT_ERRORS_SHOWN),
            "preview_rows": [[p.get(c, "") for c in report.columns] for p in report.preview],
        },
        status=status,
    )


# --- Codebook -----------------------------------------------------------------------------------


def codebook(request, instrument, version=None):
    """Any signed-in user: the codebook describes the questionnaire, not anyone's answers."""
    try:
        found = services.instrument_get(slug=instrument, version=version)
    except Instrument.DoesNotExist:
        raise Http404("No such instrument.") from None
    entries = services.codebook(found)
    if request.GET.get("format") == "json":
        return JsonResponse(
            entries, safe=False, json_dumps_params={"indent": 2, "ensure_ascii": False}
        )
    versions = list(Instrument.objects.filter(slug=found.slug).order_by("version"))
    sections: list[tuple[str, list[dict]]] = []
    for entry in entries:
        if not sections or sections[-1][0] != entry["section"]:
            sections.append((entry["section"], []))
        entry = {**entry, "type_label": _type_label(entry["type"])}
        sections[-1][1].append(entry)
    return render(
        request,
        T + "codebook.html",
        {"instrument": found, "sections": sections, "versions": versions, "count": len(entries)},
    )


def _type_label(value: str) -> str:
    return dict(Question.Type.choices).get(value, value)


# -- wave series ---------------------------------------------------------------------------------


def _series_for_request(program: Program, series_slug: str) -> WaveSeries:
    return get_object_or_404(WaveSeries, program=program, slug=series_slug)


def series_list(request, slug):
    """The program's series, a new one, and the personal-code recipe."""
    program = roles.program_for_request(request, slug, "surveys.view")
    may_manage = roles.can(request.user, "surveys.manage", program)
    # Both built-in surveys are offered (each is made again if a database lost it).
    services.builtin_instrument()
    services.wellbeing_instrument()
    form = SeriesForm(
        request.POST or None,
        initial={"design": WaveSeries.Design.PRE_POST, "instrument": builtin.SLUG},
    )
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                made = series.series_create(
                    program=program, actor=request.user, name=form.cleaned_data["name"],
                    design=form.cleaned_data["design"],
                    instrument_slug=form.cleaned_data["instrument"],
                    ask_code=form.cleaned_data["ask_code"],
                )  # fmt: skip
            except ValidationError as exc:
                attach_errors(form, exc, {})
            else:
                messages.success(request, f"Series “{made.name}” created: now add its waves.")
                return redirect("surveys:series_detail", slug=program.slug, series=made.slug)
    recipe = [c.key for c in linking.recipe_for(program.pk)]
    context = {
        "program": program,
        "series_rows": WaveSeries.objects.filter(program=program)
        .annotate(waves=Count("members"))
        .order_by("-created_at", "-pk"),
        "form": form,
        "may_manage": may_manage,
        "recipe_label": linking.recipe_label(recipe),
        "recipe_form": RecipeForm(initial={"recipe": ",".join(recipe)}),
    }
    status = 400 if form.errors else 200
    return render(request, T + "series_list.html", context, status=status)


@require_POST
def series_recipe(request, slug):
    program = roles.program_for_request(request, slug, "surveys.manage")
    form = RecipeForm(request.POST)
    if form.is_valid():
        try:
            series.recipe_set(
                program=program, actor=request.user, recipe=form.cleaned_data["recipe"].split(",")
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Personal code recipe saved.")
    else:
        messages.error(request, "Choose one of the recipes shown.")
    return redirect("surveys:series_list", slug=program.slug)


def series_detail(request, slug, series):
    """A series: its waves in order, how many answers link, and adding or removing waves."""
    program = roles.program_for_request(request, slug, "surveys.view")
    found = _series_for_request(program, series)
    may_manage = roles.can(request.user, "surveys.manage", program)
    candidates = Wave.objects.filter(
        program=program,
        instrument__slug=found.instrument_slug,
        series_membership__isnull=True,
    ).order_by("-opens_at", "-pk")
    form = SeriesWaveForm(request.POST or None, candidates=candidates)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                series_module.series_add_wave(
                    series=found, wave=form.cleaned_data["wave"], actor=request.user,
                    label=form.cleaned_data["label"],
                )  # fmt: skip
            except ValidationError as exc:
                attach_errors(form, exc, {})
            else:
                messages.success(request, f"“{form.cleaned_data['wave'].name}” added.")
                return redirect("surveys:series_detail", slug=program.slug, series=found.slug)
    context = {
        "program": program,
        "series": found,
        "summary": series_module.linking_summary(found, k=program.small_cell_k),
        "form": form,
        "may_manage": may_manage,
        "has_candidates": candidates.exists(),
        "recipe_label": linking.recipe_label(c.key for c in linking.recipe_for(program.pk)),
    }
    return render(request, T + "series_detail.html", context, status=400 if form.errors else 200)


@require_POST
def series_remove_wave(request, slug, series, wave):
    program = roles.program_for_request(request, slug, "surveys.manage")
    found = _series_for_request(program, series)
    member = get_object_or_404(SeriesWave, series=found, wave__slug=wave)
    series_module.series_remove_wave(member=member, actor=request.user)
    messages.success(request, f"“{member.wave.name}” taken out of the series; its responses stay.")
    return redirect("surveys:series_detail", slug=program.slug, series=found.slug)
