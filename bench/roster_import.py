"""Benchmark: check and import a roster CSV of N clinicians (default 5,000, the limit).

    .venv/bin/python bench/roster_import.py [N]

Runs on a fresh SQLite database in a temporary folder (or on DATABASE_URL if set, which must
then be a throwaway database). Prints the time and rows per second of: the preview check, the
first import, and the re-import of the same file (idempotent: nothing to write).
"""

from __future__ import annotations

import io
import os
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

from sessions_app.models import Clinician, Program  # noqa: E402
from sessions_app.roster.csv_format import roster_csv_parse  # noqa: E402
from sessions_app.roster.services import roster_import_commit  # noqa: E402


def make_csv(rows: int) -> bytes:
    out = io.StringIO()
    out.write(
        "email,first_name,last_name,discipline,gender,years_at_institution,patient_care_halfdays\n"
    )
    disciplines = ["physician"] * 8 + ["nurse_practitioner", "social_worker"]
    for i in range(rows):
        out.write(
            f"person{i}@example.org,First{i},Last{i},{disciplines[i % 10]},"
            f"{'female' if i % 2 else 'male'},{i % 30},{i % 10}\n"
        )
    return out.getvalue().encode()


def timed(label: str, rows: int, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:8.3f} s  {rows / seconds:10,.0f} rows/s")
    return result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    call_command("migrate", verbosity=0)
    program = Program.objects.create(
        name="Bench", slug=f"bench-{time.time_ns()}", academic_year="2026-2027"
    )
    content = make_csv(rows)
    print(
        f"roster of {rows:,} clinicians, {len(content) / 1024:,.0f} KiB, "
        f"database {django.db.connection.vendor}"
    )
    report = timed(
        "preview check", rows, lambda: roster_csv_parse(program=program, content=content)
    )
    assert report.ok, report.file_errors
    timed(
        "import (all new)",
        rows,
        lambda: roster_import_commit(program=program, actor=None, content=content),
    )
    timed(
        "re-import (unchanged)",
        rows,
        lambda: roster_import_commit(program=program, actor=None, content=content),
    )
    assert Clinician.objects.filter(program=program).count() == rows


if __name__ == "__main__":
    main()
