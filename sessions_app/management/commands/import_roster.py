"""python manage.py import_roster PROGRAM_SLUG FILE.csv [--dry-run]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sessions_app.programs.models import Program
from sessions_app.roster.csv_format import roster_csv_parse
from sessions_app.roster.services import RosterImportError, roster_import_commit


class Command(BaseCommand):
    help = (
        "Import a roster CSV into a program: all rows or none, idempotent on email. "
        "Columns are described in docs/roster-csv.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("program_slug")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; change nothing."
        )

    def handle(self, *args, program_slug, file, dry_run, **options):
        try:
            program = Program.objects.get(slug=program_slug)
        except Program.DoesNotExist:
            raise CommandError(f"No program with slug “{program_slug}”.") from None
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        if dry_run:
            report = roster_csv_parse(program=program, content=content)
        else:
            try:
                report = roster_import_commit(program=program, actor=None, content=content)
            except RosterImportError as exc:
                report = exc.report
        for message in report.file_errors:
            self.stderr.write(f"{file}: {message}")
        for row in report.error_rows:
            for message in row.errors:
                self.stderr.write(f"{file}, line {row.line}: {message}")
        if not report.ok:
            raise CommandError("Nothing was imported.")
        s = report.summary()
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {s['rows']} rows into {program.slug}: {s['create']} added, "
            f"{s['update']} updated, {s['unchanged']} unchanged."
        )
