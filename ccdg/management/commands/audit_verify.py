"""Check the audit trail's hash chain and name the first broken or missing link.

    python manage.py audit_verify
    python manage.py audit_verify --head-id 5120 --head 3f9a...   # a head recorded earlier

Exit status 0 when the chain is intact (and holds the recorded head), 1 otherwise. The output
holds ids, positions and hashes, never the events' data. What each finding means is in
docs/operations.md ("Verifying the audit trail").
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ccdg.audit import audit_chain_verify
from ccdg.audit_chain import HASH_PATTERN


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit status 1 at the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--head",
            metavar="HASH",
            help="A head hash recorded earlier (the daily 'audit chain head' log line): it "
            "must still be in the chain.",
        )
        parser.add_argument(
            "--head-id",
            type=int,
            metavar="ID",
            help="The id recorded with that head (needs --head).",
        )

    def handle(self, *args: Any, head: str | None, head_id: int | None, **options: Any) -> None:
        if head is not None:
            head = head.strip().lower()
            if not HASH_PATTERN.match(head):
                raise CommandError("--head must be a SHA-256 hash: 64 hexadecimal digits.")
        if head_id is not None and head is None:
            raise CommandError("--head-id needs --head (the hash recorded with that id).")

        report = audit_chain_verify(head_hash=head, head_id=head_id)
        if report.head is None:
            self.stdout.write(f"Checked {report.checked} audit events.")
        else:
            self.stdout.write(
                f"Checked {report.checked} audit events: seq 1 to {report.head.seq} are in order "
                f"up to row id={report.head.id} hash={report.head.hash}."
            )
        problem = report.problem
        if problem is None:
            if head is not None:
                self.stdout.write(f"The recorded head id={head_id or '-'} hash={head} is in it.")
            self.stdout.write(self.style.SUCCESS("The audit chain is intact."))
            return
        where = (
            f"row id={problem.row_id} (seq {problem.seq})"
            if problem.seq is not None
            else f"the recorded head (id={problem.row_id or '-'})"
        )
        self.stdout.write(f"BROKEN at {where}: {problem.kind}.")
        self.stdout.write(f"  expected hash: {problem.expected}")
        self.stdout.write(f"  found hash:    {problem.found}")
        self.stdout.write(f"  {problem.explanation}")
        raise CommandError(f"The audit chain is broken at {where}: {problem.kind}.", returncode=1)
