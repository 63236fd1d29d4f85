"""Re-encrypt every encrypted field under the newest key in CCDG_FIELD_KEYS.

Rotation procedure (docs/case-notes.md): put the new key first in ``CCDG_FIELD_KEYS`` and keep
the old ones after it, restart the app, run this command, and only when it reports no
unreadable rows remove the old keys.

Rows are handled in batches, one transaction per batch, with the batch's rows locked (on
PostgreSQL) so an edit made at the same moment is neither lost nor left under the old key.
Values the newest key already decrypts are left as they are, so running the command again
changes nothing. A row with a value no configured key decrypts (a missing key, altered
ciphertext) is reported by id and left entirely unchanged; the command then exits with
status 1. Text never appears in the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction

from ccdg import crypto
from ccdg.fields import EncryptedTextField, Sealed


@dataclass
class Tally:
    rows: int = 0
    rotated_values: int = 0
    rotated_rows: int = 0
    current_values: int = 0
    unreadable: list[int] = field(default_factory=list)


def encrypted_models() -> list[tuple[type[models.Model], list[str]]]:
    """Every concrete model with encrypted fields, and those fields' names."""
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names and not model._meta.proxy:
            found.append((model, names))
    return found


def rotate_batch(model: type[models.Model], names: list[str], pks: list[Any], tally: Tally) -> None:
    with transaction.atomic():
        rows = model._base_manager.select_for_update().filter(pk__in=pks).values_list("pk", *names)
        for pk, *values in rows:
            tally.rows += 1
            changes: dict[str, Sealed] = {}
            try:
                for name, value in zip(names, values, strict=True):
                    if value is None:
                        continue
                    if crypto.is_current(value.token):
                        tally.current_values += 1
                    else:
                        changes[name] = Sealed(crypto.rotate(value.token))
            except crypto.Unreadable:
                tally.unreadable.append(pk)
                continue  # leave the whole row as it is
            if changes:
                model._base_manager.filter(pk=pk).update(**changes)
                tally.rotated_values += len(changes)
                tally.rotated_rows += 1


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field (case notes) under the newest CCDG_FIELD_KEYS key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=200,
            help="Rows per transaction (default 200).",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        keys = crypto.field_keys()  # ImproperlyConfigured in production without keys
        self.stdout.write(f"Newest key is the first of {len(keys)} configured.")
        unreadable: list[str] = []
        for model, names in encrypted_models():
            tally = Tally()
            pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(pks), batch_size):
                rotate_batch(model, names, pks[start : start + batch_size], tally)
            label = model._meta.label
            self.stdout.write(
                f"{label}: {tally.rows} rows; {tally.rotated_values} values in "
                f"{tally.rotated_rows} rows re-encrypted; {tally.current_values} values "
                f"already under the newest key; {len(tally.unreadable)} rows unreadable."
            )
            if tally.unreadable:
                ids = ", ".join(str(pk) for pk in tally.unreadable)
                unreadable.append(f"{label} ids {ids}")
        if unreadable:
            raise CommandError(
                "Rows no configured key can decrypt were left unchanged: "
                + "; ".join(unreadable)
                + ". Add the key they were written with and run the command again; keep the "
                "old keys until it reports none.",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS("Every encrypted value is under the newest key."))
