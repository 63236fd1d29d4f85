"""Print an instrument's codebook: question codes, texts, types and value codes with labels."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from surveys.models import Instrument
from surveys.services import codebook, instrument_get


class Command(BaseCommand):
    help = "List each question's code, text, type and value codes with labels."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version (the instrument version) replaces Django's --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Instrument slug, for example ccdg-participant.")
        parser.add_argument("--version", type=int, dest="instrument_version", default=None)
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args, slug, instrument_version, json: bool = False, **options):
        try:
            instrument = instrument_get(slug=slug, version=instrument_version)
        except Instrument.DoesNotExist:
            which = f" version {instrument_version}" if instrument_version is not None else ""
            raise CommandError(f"No survey instrument “{slug}”{which}.") from None
        entries = codebook(instrument)
        if json:
            self.stdout.write(_dumps(entries))
            return
        self.stdout.write(f"{instrument.name} ({instrument.slug}, version {instrument.version})")
        section = None
        for entry in entries:
            if entry["section"] != section:
                section = entry["section"]
                self.stdout.write(f"\n## {section}")
            required = ", required" if entry["required"] else ""
            self.stdout.write(f"{entry['code']} [{entry['type']}{required}]: {entry['text']}")
            for value in entry["values"]:
                mark = " *" if value["value"] in entry["positive"] else ""
                self.stdout.write(f"    {value['value']} = {value['label']}{mark}")


def _dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
