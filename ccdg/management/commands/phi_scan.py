"""python manage.py phi_scan: check text on standard input for identifiers that are not allowed.

Prints the findings as JSON (a list of {category, start, end, text, reason}; offsets count
characters of the text as read) and exits 1 when something is found, 0 when the text is clean.
Nothing leaves the machine.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ccdg.phi import scan


class Command(BaseCommand):
    help = "Read text on standard input and print the identifiers found as JSON (exit 1 if any)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        stdin = getattr(self, "stdin", None) or sys.stdin
        text = stdin.read()
        findings = scan(text)
        self.stdout.write(
            json.dumps(
                [f.as_dict() for f in findings], ensure_ascii=False, indent=options["indent"]
            )
        )
        if findings:
            self.stdout.flush()
            sys.exit(1)
