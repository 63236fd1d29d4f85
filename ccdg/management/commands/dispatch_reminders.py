"""Run the reminders due-scan once (what the beat task does every five minutes)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ccdg.outbox.scan import reminders_scan


class Command(BaseCommand):
    help = "Write the reminders and announcements due now into the outbox and enqueue them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-enqueue", action="store_true", help="Only write the rows; send nothing now."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = reminders_scan(enqueue=not options["no_enqueue"])
        self.stdout.write(
            f"{result.created} new, {result.enqueued} enqueued, {result.expired} expired leases"
        )
