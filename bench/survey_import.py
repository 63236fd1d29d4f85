"""Benchmark: check and import a paper-wave responses CSV of N rows (default 50,000, the limit).

    .venv/bin/python bench/survey_import.py [N]

Runs on a fresh SQLite database in a temporary folder (or on DATABASE_URL if set, which must
then be a throwaway database; ``python -m tests.services --no-redis -- python
bench/survey_import.py`` starts one). Writes a seeded CSV for the built-in questionnaire (every
question code as a column plus form_id and excluded_reason; 3% blank answers, 2% excluded
forms), then times the code paths of the upload page and its confirm button: the check
(:func:`surveys.responses_csv.responses_upload`, which keeps the draft) and the import
(:func:`surveys.responses_csv.responses_confirm`). Prints seconds and rows per second of each.
"""

from __future__ import annotations

import csv
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CCDG_VAR_DIR", tempfile.mkdtemp(prefix="ccdg-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from sessions_app.models import Program  # noqa: E402
from surveys.models import Response  # noqa: E402
from surveys.responses import question_specs  # noqa: E402
from surveys.responses_csv import responses_confirm, responses_upload  # noqa: E402
from surveys.waves import paper_wave_create  # noqa: E402

SEED = 20_270_401
MISSING = 0.03
EXCLUDED = 0.02


def make_csv(specs, rows: int) -> bytes:
    """Every question of the built-in questionnaire, answered with one of its value codes (a
    short sentence for free text, a group label for the group question)."""
    rng = random.Random(SEED)
    codes = [s.code for s in specs]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*codes, "form_id", "excluded_reason"])
    for i in range(rows):
        cells = []
        for spec in specs:
            if rng.random() < MISSING and not spec.required:
                cells.append("")
            elif spec.is_text:
                cells.append("Time to think" if rng.random() < 0.1 else "")
            elif spec.choices:
                cells.append(rng.choice(spec.choices)[0])
            else:  # the group question of a paper wave: the forms' own labels
                cells.append(f"G{rng.randrange(10) + 1}")
        reason = "damaged form" if rng.random() < EXCLUDED else ""
        writer.writerow([*cells, f"P-{i + 1:06d}", reason])
    return out.getvalue().encode()


def timed(label: str, rows: int, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:8.3f} s  {rows / seconds:10,.0f} rows/s")
    return result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    call_command("migrate", verbosity=0)
    program = Program.objects.create(
        name="Bench", slug=f"bench-{time.time_ns()}", academic_year="2026-2027"
    )
    wave = paper_wave_create(program=program, actor=None, name="Bench wave", distributed=rows)
    content = make_csv(question_specs(wave.instrument), rows)
    print(
        f"responses CSV of {rows:,} rows, {len(content) / 1_048_576:.1f} MB, "
        f"database {django.db.connection.vendor}"
    )
    draft = timed(
        "check (upload)",
        rows,
        lambda: responses_upload(wave=wave, actor=None, filename="bench.csv", content=content),
    )
    assert not draft.summary["errors"] and not draft.summary["file_error"], draft.summary
    timed("import (confirm)", rows, lambda: responses_confirm(draft=draft, actor=None))
    assert Response.objects.filter(wave=wave).count() == rows


if __name__ == "__main__":
    main()
