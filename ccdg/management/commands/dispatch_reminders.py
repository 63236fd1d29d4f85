"""Run the reminders due-scan once (what the beat task does every five minutes)."""

from django.core.management.base import BaseCommand

from ccdg.outbox.scan import reminders_scan


class Command(BaseCommand):
    help = "Write the reminders and announcements due now into the outbox and enqueue them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-enqueue", action="store_true", help="Only write the rows; send nothing now."
        )

    def handle(self, *args, **options):
        result = reminders_scan(enqueue=not options["no_enqueue"])
        self.stdout.write(
            f"{result.created} new, {result.enqueued} enqueued, {result.expired} expired leases"
        )
