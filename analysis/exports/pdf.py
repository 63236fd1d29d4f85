"""PDF documents, printed with WeasyPrint: the continuing-education certificate of one person
(and of everyone with credit in one file), the report of a survey wave's analysis and the
annual program report.

Each document is an HTML template under ``templates/analysis/pdf/`` with its print CSS inline
(the PDFs are never served as web pages, so the site's content security policy does not apply
to them), rendered by :func:`render_pdf`. The figures come from the computations the pages
use: credit from :func:`sessions_app.presenters.selectors.credit_summary`, attendance from
``attendance_figures``, facilitator cover from :func:`sessions_app.schedule.selectors.cover_of`,
survey results from the stored analysis runs, read through
:func:`analysis.runs.services.run_results` (the small-cell rule of
:mod:`analysis.runs.disclosure`). No document reads case notes or presentation titles; free
text that could come from a survey form (notes, exclusion reasons, the results paragraph) goes
through the identifier guard and is withheld when the guard would refuse it.

An empty program, a wave without an analysis, a person without attendance: the document says
so in words. See docs/pdf-reports.md.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from analysis.exports.services import (
    CONTENT_TYPES,
    ExportFile,
    ExportKind,
    Progress,
    register,
    safe_filename,
)
from analysis.runs import charts, disclosure, summary
from analysis.runs import selectors as runs_selectors
from analysis.runs.models import AnalysisRun
from ccdg import phi
from sessions_app.groups.history import facilitations_on
from sessions_app.models import (
    Attendance,
    Clinician,
    FacilitatorAbsence,
    FacilitatorAssignment,
    Group,
    Presentation,
    Program,
    Session,
)
from sessions_app.presenters import selectors as presenters_selectors
from sessions_app.schedule.selectors import cover_of
from surveys.models import Wave
from surveys.waves import figures as wave_figures
from surveys.waves import waves_with_figures

T = "analysis/pdf/"
WITHHELD = "[withheld: may identify a patient]"
NO_CASE_CONTENT = (
    "This report contains no case content: no case notes, no presentation titles and nothing "
    "said in the groups."
)


# --- Rendering and formatting ------------------------------------------------------------------


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """The template rendered to PDF. The document's title (PDF metadata) is the template's
    ``<title>``; relative addresses resolve against the project directory."""
    try:
        import weasyprint
    except OSError as exc:  # the Pango library is missing on this server
        raise ValidationError(
            "PDF exports need the Pango library on the server (Debian or Ubuntu: "
            "apt install libpango-1.0-0 libpangoft2-1.0-0); see docs/operations.md."
        ) from exc

    html = render_to_string(template_name, context)
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def guarded(text: str | None) -> str:
    """``text``, or the withheld marker when the identifier guard would refuse it."""
    text = text or ""
    return WITHHELD if phi.scan(text) else text


def hours_text(hours: Decimal | int | float) -> str:
    """Credit hours without trailing zeros: 3, 4.5, 0.75."""
    value = Decimal(str(hours)).normalize()
    return f"{value:f}"


p_cell = summary.p_cell


def percent_text(value: float | None) -> str:
    return "—" if value is None else summary.percent(value)


def share(count: int, of: int) -> str:
    """A whole percentage of ``count`` over ``of`` ("—" when ``of`` is 0)."""
    return summary.percent(100 * count / of) if of else "—"


def _year(program: Program, params: dict) -> str:
    """The academic year asked for: the program's own (a program is one academic year)."""
    year = str(params.get("year") or "").strip()
    if year and year != program.academic_year:
        raise ValidationError(
            f"{program.name} is the academic year {program.academic_year}: there is nothing "
            f"to report for {year} in it. Choose the program of that year."
        )
    return program.academic_year


def _id(value: Any, what: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(f"Choose {what}.") from None
    if number <= 0:
        raise ValidationError(f"Choose {what}.")
    return number


def _step(progress: Progress | None, fraction: float, step: str) -> None:
    if progress is not None:
        progress(fraction, step)


def _program_context(program: Program, now: datetime) -> dict[str, Any]:
    where = ", ".join(p for p in (program.department, program.institution) if p)
    return {"program": program, "where": where, "issued": program.local(now)}


# --- Continuing-education certificates ---------------------------------------------------------


def clean_certificate(program: Program, params: dict) -> dict:
    if params.get("clinician") in (None, ""):
        raise ValidationError("Choose the clinician whose certificate to print.")
    clinician_id = _id(params.get("clinician"), "the clinician whose certificate to print")
    if not Clinician.objects.filter(program=program, pk=clinician_id).exists():
        raise ValidationError(f"There is no clinician {clinician_id} in {program.name}.")
    return {"clinician": clinician_id, "year": _year(program, params)}


def clean_certificates(program: Program, params: dict) -> dict:
    return {"year": _year(program, params)}


def _attended_sessions(program: Program, clinician_ids: list[int], now: datetime) -> dict:
    """Held sessions each person attended (present or as a guest), oldest first: the rows
    that ``credit_summary`` counts."""
    rows = (
        Attendance.objects.filter(
            clinician_id__in=clinician_ids,
            session__group__program=program,
            session__status=Session.Status.SCHEDULED,
            session__starts_at__lte=now,
            status__in=presenters_selectors.ATTENDED,
        )
        .select_related("session__group")
        .order_by("session__starts_at", "session__group__name", "session_id")
    )
    out: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        out[row.clinician_id].append(
            {
                "date": program.local(row.session.starts_at),
                "group": row.session.group.name,
                "guest": row.status == Attendance.Status.GUEST,
                "minutes": row.session.duration_minutes,
            }
        )
    return out


def _certificate_page(program, person, sessions: list[dict], year: str) -> dict[str, Any]:
    """One certificate: the person's figures from ``credit_summary`` and their sessions."""
    return {
        "name": person.clinician.full_name,
        "attended": person.sessions_credited,
        "hours": hours_text(person.credit_hours),
        "per_session": hours_text(program.credit_hours_per_session),
        "sessions": sessions,
        "year": year,
    }


def build_ce_certificate(*, program: Program, params: dict, progress: Progress | None = None):
    now = timezone.now()
    year = _year(program, params)
    clinician = Clinician.objects.filter(program=program, pk=params.get("clinician")).first()
    if clinician is None:
        raise ValidationError("The clinician is no longer on the roster of this program.")
    _step(progress, 0.2, "Reading the attendance")
    people = {
        p.clinician.pk: p for p in presenters_selectors.credit_summary(program=program, now=now)
    }
    person = people.get(clinician.pk)
    sessions = _attended_sessions(program, [clinician.pk], now).get(clinician.pk, [])
    if person is None or not person.sessions_credited:
        page = {"name": clinician.full_name, "attended": 0, "sessions": [], "year": year}
    else:
        page = _certificate_page(program, person, sessions, year)
    _step(progress, 0.6, "Printing")
    context = {
        **_program_context(program, now),
        "title": f"Continuing-education certificate, {clinician.full_name}, {year}",
        "pages": [page],
        "year": year,
    }
    content = render_pdf(T + "certificate.html", context)
    filename = safe_filename(program.slug, "ce-certificate", year, str(clinician.pk), ext="pdf")
    return ExportFile(filename, CONTENT_TYPES["pdf"], content)


def build_ce_certificates(*, program: Program, params: dict, progress: Progress | None = None):
    now = timezone.now()
    year = _year(program, params)
    _step(progress, 0.1, "Reading the attendance")
    people = [
        p
        for p in presenters_selectors.credit_summary(program=program, now=now)
        if p.sessions_credited
    ]
    sessions = _attended_sessions(program, [p.clinician.pk for p in people], now)
    pages = []
    for i, person in enumerate(people):
        pages.append(
            _certificate_page(program, person, sessions.get(person.clinician.pk, []), year)
        )
        _step(progress, 0.1 + 0.5 * (i + 1) / len(people), "Preparing the certificates")
    _step(progress, 0.6, "Printing")
    context = {
        **_program_context(program, now),
        "title": f"Continuing-education certificates, {program.name}, {year}",
        "pages": pages,
        "year": year,
        "everyone": True,
    }
    content = render_pdf(T + "certificate.html", context)
    return ExportFile(
        safe_filename(program.slug, "ce-certificates", year, ext="pdf"),
        CONTENT_TYPES["pdf"],
        content,
    )


# --- Analysis report ---------------------------------------------------------------------------


def clean_analysis_report(program: Program, params: dict) -> dict:
    slug = str(params.get("wave") or "").strip()
    if not slug:
        raise ValidationError("Choose the survey wave whose analysis to print.")
    wave = Wave.objects.filter(program=program, slug=slug).first()
    if wave is None:
        raise ValidationError(f"There is no survey wave “{slug[:60]}” in {program.name}.")
    cleaned: dict[str, Any] = {"wave": wave.slug}
    if params.get("run") not in (None, ""):
        run_id = _id(params["run"], "an analysis run of the wave")
        run = AnalysisRun.objects.filter(wave=wave, pk=run_id).only("status").first()
        if run is None:
            raise ValidationError(f"Wave {wave.name} has no analysis run {run_id}.")
        if run.status != AnalysisRun.Status.DONE:
            raise ValidationError(
                f"Analysis run {run_id} has no results ({run.get_status_display().lower()}): "
                "choose a finished run."
            )
        cleaned["run"] = run_id
    return cleaned


def _table1(results: dict) -> list[dict]:
    k = disclosure.threshold(results)
    items = {i["question"]: i for i in results.get("table1_items") or []}
    blocks: dict[str, dict] = {}
    for row in results.get("table1") or []:
        item = items.get(row["question"], {})
        block = blocks.setdefault(
            row["question"],
            {"text": row["text"], "n": item.get("n"), "missing": item.get("missing"), "rows": []},
        )
        block["rows"].append(
            {"label": guarded(row["label"]), "n": row["n"], "percent": percent_text(row["percent"]),
             "hidden": disclosure.count_text(row, k)}
        )  # fmt: skip
    return list(blocks.values())


def _table2(results: dict) -> dict:
    k = disclosure.threshold(results)
    rows = results.get("table2") or []
    groups = list((results.get("meta") or {}).get("groups") or [])
    stem = charts.common_stem([r["text"] for r in rows])
    out = []
    for r in rows:
        cells = []
        for g in groups:
            f = (r.get("by_group") or {}).get(g) or {"n": 0, "agree": 0, "percent": None}
            cells.append(
                {"agree": f["agree"], "n": f["n"], "percent": percent_text(f["percent"]),
                 "hidden": disclosure.count_text(f, k)}
            )  # fmt: skip
        test = r.get("test") or {}
        overall = r["overall"]
        out.append(
            {
                "label": charts.short_label(r["text"], stem),
                "overall": {
                    "agree": overall["agree"],
                    "n": overall["n"],
                    "percent": percent_text(overall["percent"]),
                },
                "groups": cells,
                "p": p_cell(r.get("p_value")),
                "significant": bool(r.get("significant")),
                "monte_carlo": test.get("method") == "monte_carlo",
            }
        )
    return {
        "stem": stem.strip().rstrip(":"),
        "groups": [guarded(g) for g in groups],
        "rows": out,
        "any_significant": any(r["significant"] for r in out),
        "any_monte_carlo": any(r["monte_carlo"] for r in out),
    }


def _demographics(results: dict) -> list[dict]:
    """The characteristics of Table 1, with a short column heading made of the code
    ("years_at_institution" gives "Years at institution")."""
    return [
        {
            "code": i["question"],
            "text": i["text"],
            "short": i["question"].replace("_", " ").capitalize(),
        }
        for i in results.get("table1_items") or []
    ]


def _by_ps(row: dict, demographics: list[dict], fisher: bool) -> list[dict]:
    ps = []
    for demo in demographics:
        by = (row.get("by") or {}).get(demo["code"]) or {}
        p = by.get("p_value")
        if fisher:
            marked = (by.get("test") or {}).get("method") == "monte_carlo"
        else:
            marked = False
        ps.append(
            {"p": p_cell(p), "significant": p is not None and p < summary.SIGNIFICANCE,
             "monte_carlo": marked}
        )  # fmt: skip
    return ps


def _mean_sd(f: dict) -> str:
    if f.get("mean") is None:
        return "—"
    sd = f.get("sd")
    return f"{f['mean']:.1f} ({sd:.1f})" if sd is not None else f"{f['mean']:.1f} (—)"


def _median_iqr(f: dict) -> str:
    if f.get("median") is None:
        return "—"
    if f.get("q1") is None or f.get("q3") is None:
        return f"{f['median']:g}"
    return f"{f['median']:g} ({f['q1']:g}–{f['q3']:g})"


def _relevance(results: dict, demographics: list[dict]) -> dict:
    rows = results.get("relevance") or []
    stem = charts.common_stem([r["text"] for r in rows])
    return {
        "stem": stem.strip().rstrip(":"),
        "rows": [
            {
                "label": charts.short_label(r["text"], stem),
                "n": r["overall"].get("n", 0),
                "mean_sd": _mean_sd(r["overall"]),
                "median_iqr": _median_iqr(r["overall"]),
                "ps": _by_ps(r, demographics, fisher=False),
            }
            for r in rows
        ],
    }


STRESSOR_TITLES = {
    "challenge": "Challenges: a moderate or serious challenge",
    "addressed": "Did the group address it: yes",
}


def _stressors(results: dict, demographics: list[dict]) -> list[dict]:
    out = []
    for kind, title in STRESSOR_TITLES.items():
        rows = [r for r in results.get("stressors") or [] if r.get("kind") == kind]
        if not rows:
            continue
        out.append(
            {
                "kind": kind,
                "title": title,
                "rows": [
                    {
                        "label": _capital(summary.item_name(r["text"])),
                        "n": r.get("n", 0),
                        "positive": r.get("positive", 0),
                        "percent": percent_text(r.get("percent")),
                        "ps": _by_ps(r, demographics, fisher=True),
                    }
                    for r in rows
                ],
            }
        )
    return out


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _charts(results: dict) -> list[dict]:
    svgs = results.get("charts") or {}
    return [
        {
            "title": charts.CHART_TITLES.get(name, name),
            "src": "data:image/svg+xml;base64,"
            + base64.b64encode(svgs[name].encode("utf-8")).decode("ascii"),
        }
        for name in charts.RENDERERS
        if svgs.get(name)
    ]


def response_line(line: dict) -> str:
    """ "35 distributed · 25 returned (71%) · 24 analysed · 1 excluded"."""
    rate = line.get("rate")
    shown = f" ({summary.percent(rate * 100)})" if rate is not None else ""
    return (
        f"{line.get('distributed', 0)} distributed · {line.get('returned', 0)} returned{shown} · "
        f"{line.get('analyzed', 0)} analysed · {line.get('excluded', 0)} excluded"
    )


def _summary_of(results: dict, program: Program) -> str:
    text = results.get("summary") or summary.summary_paragraph(results, program_name=program.name)
    return guarded(text)


def _hides_a_category(table1: list[dict], table2: dict) -> bool:
    return any(row["hidden"] for block in table1 for row in block["rows"]) or any(
        c["hidden"] for row in table2["rows"] for c in row["groups"]
    )


def program_notice(program: Program) -> str | None:
    """The program's lowered small-cell threshold, in words (None at the standard k)."""
    return disclosure.notice({"k": program.small_cell_k, "reason": program.small_cell_k_reason})


def analysis_report_context(program: Program, wave: Wave, run: AnalysisRun | None) -> dict:
    context: dict[str, Any] = {"wave": wave, "run": run}
    if run is None:
        return context
    results = runs_selectors.run_results(run, program=program)
    line = results.get("response") or {}
    demographics = _demographics(results)
    table1, table2 = _table1(results), _table2(results)
    k = disclosure.threshold(results)
    context.update(
        notice=disclosure.notice(results.get("meta") or {}),
        small_cells=disclosure.footnote(k) if k and _hides_a_category(table1, table2) else "",
        line=response_line(line),
        analysed=line.get("analyzed", 0),
        excluded_reasons=[(guarded(r), n) for r, n in (line.get("excluded_reasons") or {}).items()],
        summary=_summary_of(results, program),
        table1=table1,
        table2=table2,
        demographics=demographics,
        relevance=_relevance(results, demographics),
        stressors=_stressors(results, demographics),
        notes=[guarded(n) for n in results.get("notes") or []],
        charts=_charts(results),
        finished=program.local(run.finished_at or run.created_at),
    )
    return context


def _latest_done(wave: Wave) -> AnalysisRun | None:
    return (
        AnalysisRun.objects.filter(wave=wave, status=AnalysisRun.Status.DONE)
        .order_by("-finished_at", "-created_at", "-pk")
        .first()
    )


def build_analysis_report(*, program: Program, params: dict, progress: Progress | None = None):
    now = timezone.now()
    wave = Wave.objects.filter(program=program, slug=params.get("wave")).first()
    if wave is None:
        raise ValidationError("The survey wave no longer exists.")
    _step(progress, 0.1, "Reading the results")
    if params.get("run"):
        run = AnalysisRun.objects.filter(
            wave=wave, pk=params["run"], status=AnalysisRun.Status.DONE
        ).first()
        if run is None:
            raise ValidationError(f"Analysis run {params['run']} no longer has results.")
    else:
        run = _latest_done(wave)
    context = {
        **_program_context(program, now),
        **analysis_report_context(program, wave, run),
        "title": f"Survey results, {wave.name}, {program.name}",
        "any_run": run is not None or AnalysisRun.objects.filter(wave=wave).exists(),
    }
    _step(progress, 0.4, "Printing")
    content = render_pdf(T + "analysis_report.html", context)
    parts = [program.slug, wave.slug, f"run{run.pk}" if run else "no-run", "report"]
    return ExportFile(safe_filename(*parts, ext="pdf"), CONTENT_TYPES["pdf"], content)


# --- Annual program report ---------------------------------------------------------------------


def clean_annual(program: Program, params: dict) -> dict:
    return {"year": _year(program, params)}


def annual_figures(program: Program, now: datetime | None = None) -> dict[str, Any]:
    """Everything the annual report prints, from the same computations as the pages."""
    now = now or timezone.now()
    figures = presenters_selectors.attendance_figures(program=program, now=now)
    groups = list(Group.objects.filter(program=program).order_by("name"))
    sessions = _annual_sessions(program)
    per_group = _session_counts(program, groups, sessions, now)
    rows = _group_rows(groups, per_group, figures)
    return _annual_totals(program, now, figures, sessions, rows)


def _annual_sessions(program: Program) -> list[Session]:
    """The program's sessions in time order, each with its facilitator absences
    (``absence_list``) for the cover count."""
    return list(
        Session.objects.filter(group__program=program)
        .prefetch_related(
            Prefetch(
                "absences",
                queryset=FacilitatorAbsence.objects.select_related("facilitator"),
                to_attr="absence_list",
            )
        )
        .order_by("starts_at", "pk")
    )


def _assignments_by_group(program: Program) -> dict[int, list[FacilitatorAssignment]]:
    """The program's facilitator assignments, by group id."""
    assignments: dict[int, list[FacilitatorAssignment]] = defaultdict(list)
    for a in FacilitatorAssignment.objects.filter(group__program=program).select_related(
        "facilitator"
    ):
        assignments[a.group_id].append(a)
    return assignments


def _presenters_held(program: Program, now: datetime) -> dict[int, set[int]]:
    """The clinicians with a confirmed presentation in each held scheduled session (by session
    id); a session is a key only if it had one."""
    presenting = Presentation.objects.filter(
        session__group__program=program,
        status=Presentation.Status.CONFIRMED,
        session__status=Session.Status.SCHEDULED,
    ).values_list("session_id", "clinician_id", "session__starts_at")
    presenters_of: dict[int, set[int]] = defaultdict(set)
    for sid, clinician_id, at in presenting:
        if at <= now:
            presenters_of[sid].add(clinician_id)
    return presenters_of


def _session_counts(
    program: Program, groups: list[Group], sessions: list[Session], now: datetime
) -> dict[int, dict[str, Any]]:
    """Per group id: sessions held, upcoming and cancelled, held ones with a presenter (and
    who presented), and who led the held ones (the lead, a backup, or nobody: a gap)."""
    assignments = _assignments_by_group(program)
    presenters_of = _presenters_held(program, now)
    per_group = {
        g.pk: {
            "name": g.name, "held": 0, "upcoming": 0, "cancelled": 0, "with_presenter": 0,
            "presenters": set(), "lead": 0, "backup": 0, "gap": 0,
        }
        for g in groups
    }  # fmt: skip
    for s in sessions:
        row = per_group[s.group_id]
        if s.status == Session.Status.CANCELLED:
            row["cancelled"] += 1
        elif s.status != Session.Status.SCHEDULED or s.starts_at > now:
            row["upcoming"] += 1
        else:
            row["held"] += 1
            if s.pk in presenters_of:
                row["with_presenter"] += 1
                row["presenters"] |= presenters_of[s.pk]
            row[_cover_kind(program, s, assignments[s.group_id])] += 1
    return per_group


def _cover_kind(
    program: Program, session: Session, assignments: list[FacilitatorAssignment]
) -> str:
    """Who led a held session: ``"lead"`` (the group's lead), ``"backup"`` (someone acting for
    the lead) or ``"gap"`` (nobody)."""
    cover = cover_of(
        facilitations=facilitations_on(assignments, program.local_day(session.starts_at)),
        absences=session.absence_list,
    )
    if cover.acting_lead is None:
        return "gap"
    if cover.lead is not None and cover.acting_lead == cover.lead:
        return "lead"
    return "backup"


def _group_rows(
    groups: list[Group], per_group: dict[int, dict[str, Any]], figures: presenters_selectors.Figures
) -> list[dict[str, Any]]:
    """One row per group, in name order: its session counts with its attendance figures."""
    attendance = {g.group.pk: g for g in figures.groups}
    rows = []
    for g in groups:
        row = per_group[g.pk]
        fig = attendance[g.pk]
        expected = fig.member_sessions  # members on each recorded session's day, summed
        row.update(
            members=fig.members,
            attendances=fig.attendances,
            expected=expected,
            rate=share(fig.attendances, expected),
            mean_present=fig.mean_present,
            regular=fig.regular,
            distinct_presenters=len(row["presenters"]),
        )
        rows.append(row)
    return rows


def _annual_totals(
    program: Program,
    now: datetime,
    figures: presenters_selectors.Figures,
    sessions: list[Session],
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """The program's totals over the group rows, with credit and the program-wide figures."""

    def total(key: str) -> int:
        return sum(r[key] for r in rows)

    credit = [
        p
        for p in presenters_selectors.credit_summary(program=program, now=now)
        if p.sessions_credited
    ]
    attendances, expected = total("attendances"), total("expected")
    members = total("members")
    all_presenters = set().union(*(r["presenters"] for r in rows)) if rows else set()
    return {
        "groups": rows,
        "sessions_total": len(sessions),
        "held": total("held"),
        "upcoming": total("upcoming"),
        "cancelled": total("cancelled"),
        "attendances": attendances,
        "expected": expected,
        "rate": share(attendances, expected),
        "members": members,
        "eligible": figures.eligible,
        "members_share": share(members, figures.eligible),
        "regular": figures.regular,
        "regular_sentence": figures.regular_sentence,
        "credited": len(credit),
        "credit_hours": hours_text(sum((p.credit_hours for p in credit), Decimal(0))),
        "with_presenter": total("with_presenter"),
        "distinct_presenters": len(all_presenters),
        "lead": total("lead"),
        "backup": total("backup"),
        "gap": total("gap"),
    }


def _survey_rows(program: Program) -> list[dict]:
    waves = list(
        waves_with_figures(Wave.objects.filter(program=program, is_pilot=False)).order_by(
            "opens_at", "pk"
        )
    )
    out = []
    for wave in waves:
        fig = wave_figures(wave)
        run = _latest_done(wave)
        line = {
            "distributed": fig.distributed,
            "returned": fig.returned,
            "analyzed": fig.analysed,
            "excluded": fig.excluded,
            "rate": fig.rate,
        }
        out.append(
            {
                "name": wave.name,
                "opens": program.local(wave.opens_at),
                "line": response_line(line),
                "summary": _summary_of(runs_selectors.run_results(run, program=program), program)
                if run is not None
                else "",
                "run": run,
            }
        )
    return out


def build_annual_report(*, program: Program, params: dict, progress: Progress | None = None):
    now = timezone.now()
    year = _year(program, params)
    _step(progress, 0.1, "Counting sessions and attendance")
    figures = annual_figures(program, now)
    _step(progress, 0.5, "Reading the survey results")
    surveys = _survey_rows(program)
    _step(progress, 0.7, "Printing")
    context = {
        **_program_context(program, now),
        "title": f"Annual report {year}, {program.name}",
        "year": year,
        "f": figures,
        "surveys": surveys,
        "small_cell_notice": program_notice(program),
        "per_session": hours_text(program.credit_hours_per_session),
        "no_case_content": NO_CASE_CONTENT,
        "eligible_from_roster": not program.eligible_clinicians,
    }
    content = render_pdf(T + "annual_report.html", context)
    return ExportFile(
        safe_filename(program.slug, "annual-report", year, ext="pdf"), CONTENT_TYPES["pdf"], content
    )


# --- Registration ------------------------------------------------------------------------------

register(
    ExportKind(
        key="ce_certificate",
        label="Continuing-education certificate (PDF)",
        description="A printable certificate for one person: the sessions they attended this "
        "academic year, with dates, and their continuing-education hours.",
        build=build_ce_certificate,
        perm="reports.view",
        background=False,
        group="People",
        clean_params=clean_certificate,
        formats=("pdf",),
    )
)
register(
    ExportKind(
        key="ce_certificates",
        label="Continuing-education certificates, everyone (PDF)",
        description="One certificate page for each person who earned credit this academic "
        "year, in one file to print.",
        build=build_ce_certificates,
        perm="reports.view",
        background=True,
        group="People",
        clean_params=clean_certificates,
        formats=("pdf",),
    )
)
register(
    ExportKind(
        key="analysis_report",
        label="Survey results report (PDF)",
        description="The analysis of a survey wave: response, results paragraph, Table 1, "
        "Table 2, relevance, stressors, notes and charts.",
        build=build_analysis_report,
        perm="analysis.run",
        background=True,
        group="Analysis",
        clean_params=clean_analysis_report,
        formats=("pdf",),
    )
)
register(
    ExportKind(
        key="annual_report",
        label="Annual program report (PDF)",
        description="Sessions held, attendance, presentations, facilitator cover and survey "
        "results of the academic year. No case content.",
        build=build_annual_report,
        perm="reports.view",
        background=True,
        group="Program",
        clean_params=clean_annual,
        formats=("pdf",),
    )
)
