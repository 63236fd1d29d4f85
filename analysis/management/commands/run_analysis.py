"""python manage.py run_analysis PROGRAM_SLUG WAVE_SLUG [--json] [--include-pilot]

Runs the analysis of a survey wave now, in this process (no broker, no worker), through the
same code path as the page (:func:`analysis.runs.services.run_execute`), and keeps the run like any
other. Prints the results as JSON (``--json``, the schema of docs/analysis-json.md) or a short
summary: the response line, the results paragraph and the items with p < .05.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from analysis.models import AnalysisRun
from analysis.runs.selectors import run_export, run_results
from analysis.runs.services import run_create, run_execute
from sessions_app.models import Program
from surveys.models import Wave


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


class Command(BaseCommand):
    help = (
        "Analyse a survey wave now (the same computation as the analysis page) and print the "
        "results: a summary, or the results JSON with --json."
    )

    def add_arguments(self, parser):
        parser.add_argument("program", help="Program slug.")
        parser.add_argument("wave", help="Wave slug, for example spring-2027.")
        parser.add_argument(
            "--json", action="store_true", help="Print the results JSON (indented) to stdout."
        )
        parser.add_argument(
            "--include-pilot",
            action="store_true",
            help="Also analyse the responses of a pilot wave (left out by default).",
        )

    def handle(self, *args, program, wave, include_pilot, **options):
        program_obj = Program.objects.filter(slug=program).first()
        if program_obj is None:
            known = ", ".join(Program.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(f"No program “{program}”. Programs: {known or 'none yet'}.")
        wave_obj = (
            Wave.objects.select_related("program", "instrument")
            .filter(program=program_obj, slug=wave)
            .first()
        )
        if wave_obj is None:
            known = ", ".join(
                Wave.objects.filter(program=program_obj)
                .order_by("slug")
                .values_list("slug", flat=True)
            )
            raise CommandError(
                f"No wave “{wave}” in program “{program}”. Waves: {known or 'none yet'}."
            )
        run = run_create(wave=wave_obj, actor=None, include_pilot=include_pilot)
        run = run_execute(run.pk)
        if run.status != AnalysisRun.Status.DONE:
            raise CommandError(f"Analysis run {run.pk} failed. {run.error}")
        if options["json"]:
            self.stdout.write(json.dumps(run_export(run), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(_human(run))


def _human(run: AnalysisRun) -> str:
    results = run_results(run)  # as every output shows them (small cells)
    line = results.get("response", {})
    rate = f" ({line['rate']:.0%})" if line.get("rate") is not None else ""
    out = [
        f"Analysis run {run.pk} of wave “{run.wave.name}” ({run.wave.slug}), "
        f"{run.timings.get('total', 0):.2f} s",
        f"Responses: {line.get('distributed', 0)} distributed, {line.get('returned', 0)} "
        f"returned{rate}, {line.get('analyzed', 0)} analysed, {line.get('excluded', 0)} excluded",
    ]
    for reason, n in (line.get("excluded_reasons") or {}).items():
        out.append(f"  excluded, {reason}: {n}")
    if results.get("summary"):
        out += ["", results["summary"]]
    significant = []
    for row in results.get("table2", []):
        if row.get("p_value") is not None and row["p_value"] < 0.05:
            significant.append(
                f"  {row['text']} ({row['item']}): across groups, {_p(row['p_value'])}"
            )
    for key in ("relevance", "stressors"):
        for row in results.get(key, []):
            for demo, by in (row.get("by") or {}).items():
                p = by.get("p_value")
                if p is not None and p < 0.05:
                    significant.append(f"  {row['text']} ({row['item']}): by {demo}, {_p(p)}")
    out += ["", "Where p < .05:"] + (significant or ["  nowhere"])
    if results.get("notes"):
        out += ["", "Notes:"] + [f"  - {note}" for note in results["notes"]]
    out += [
        "",
        f"Inputs fingerprint {run.inputs_fingerprint}",
        f"Code version {run.code_version}",
    ]
    return "\n".join(out)
