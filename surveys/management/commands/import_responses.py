"""python manage.py import_responses PROGRAM_SLUG WAVE_SLUG FILE.csv [--distributed N] [--check]

Imports a responses CSV (docs/survey-responses-csv.md) into a wave of the program: every row,
or nothing. A wave that does not exist yet is created as a paper wave of the built-in
instrument, with N forms handed out.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import transaction

from ccdg.audit import audit_record
from sessions_app.models import Program
from surveys.models import Wave
from surveys.responses_csv import (
    ResponsesImportError,
    ResponsesReport,
    responses_check,
    responses_import,
)
from surveys.services import builtin_instrument
from surveys.waves import builtin_paper_wave, figures


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


class Command(BaseCommand):
    help = (
        "Import a CSV of survey responses into a wave (all rows or none). A wave that does not "
        "exist is created as a paper wave of the built-in instrument."
    )

    def add_arguments(self, parser):
        parser.add_argument("program", help="Program slug.")
        parser.add_argument("wave", help="Wave slug, for example spring-2027.")
        parser.add_argument("file", help="The CSV file (see docs/survey-responses-csv.md).")
        parser.add_argument(
            "--distributed",
            type=int,
            default=None,
            metavar="N",
            help="Paper waves: how many forms were handed out.",
        )
        parser.add_argument(
            "--check", action="store_true", help="Check the file only; change nothing."
        )

    def handle(self, *args, program, wave, file, distributed, check, **options):
        program_obj = Program.objects.filter(slug=program).first()
        if program_obj is None:
            known = ", ".join(Program.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(f"No program “{program}”. Programs: {known or 'none yet'}.")
        try:
            validate_slug(wave)
        except ValidationError:
            raise CommandError(
                f"“{wave}” is not a valid wave slug: use letters, digits, hyphens and "
                "underscores, for example spring-2027."
            ) from None
        if distributed is not None and distributed < 0:
            raise CommandError("--distributed must be 0 or more.")
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from None

        existing = Wave.objects.filter(program=program_obj, slug=wave).first()
        if existing is not None and distributed is not None and not existing.is_paper:
            raise CommandError(
                f"“{existing.name}” is an online wave: its distributed count is the number of "
                "people it was sent to and cannot be set. Run again without --distributed."
            )

        if check:
            target = existing or Wave(
                program=program_obj, instrument=builtin_instrument(), source=Wave.Source.PAPER
            )
            report = responses_check(wave=target, content=content)
            self._fail_if_wrong(report, file)
            self.stdout.write(
                self.style.SUCCESS(
                    f"{file} is ready to import: {_count(report.rows, 'response')}"
                    f" ({report.excluded:,} excluded). Nothing was changed."
                )
            )
            return

        created = existing is None
        try:
            with transaction.atomic():
                if created:
                    target = builtin_paper_wave(
                        program=program_obj, slug=wave, distributed=distributed, actor=None
                    )
                else:
                    target = existing
                    if distributed is not None and distributed != target.distributed_count:
                        Wave.objects.filter(pk=target.pk).update(distributed_count=distributed)
                        target.distributed_count = distributed
                        audit_record(
                            actor=None, action="survey.wave_distributed", obj=target,
                            program_id=program_obj.pk, data={"distributed": distributed},
                        )  # fmt: skip
                report = responses_import(wave=target, actor=None, content=content)
        except ResponsesImportError as exc:
            self._fail_if_wrong(exc.report, file)
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

        self._summary(target, report, created)

    def _fail_if_wrong(self, report: ResponsesReport, file: str) -> None:
        if report.file_error:
            raise CommandError(f"{file}: {report.file_error} Nothing was imported.")
        if report.ok:
            return
        for e in report.errors:
            where = f"row {e.row}" + (f", {e.column}" if e.column else "")
            self.stderr.write(f"{where}: {e.message}")
        raise CommandError(
            f"{file}: {_count(len(report.errors), 'problem')} in "
            f"{_count(len({e.row for e in report.errors}), 'row')}; nothing was imported."
        )

    def _summary(self, wave: Wave, report: ResponsesReport, created: bool) -> None:
        if created:
            self.stdout.write(
                f"Created the paper wave “{wave.name}” ({wave.slug}) with the built-in instrument."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {_count(report.created, 'response')} into “{wave.name}”, "
                f"{report.excluded:,} of them excluded from the analysis."
            )
        )
        f = figures(wave)
        rate = f"{f.rate:.0%}" if f.rate is not None else "unknown"
        self.stdout.write(
            f"Wave figures: distributed {f.distributed:,}, returned {f.returned:,}, "
            f"analysed {f.analysed:,}, excluded {f.excluded:,}, response rate {rate}."
        )
        if wave.is_paper and not wave.distributed_count:
            self.stdout.write(
                "The number of forms handed out is not recorded: give --distributed N for a "
                "response rate."
            )
