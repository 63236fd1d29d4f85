"""python manage.py import_responses: paper waves, figures, errors, nothing half-saved."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from surveys import waves
from surveys.models import Response, Wave
from tests.factories import GroupFactory, WaveFactory

# The reference program: 35 forms handed out, 25 returned, one of them damaged.
GOOD = "form_id,gender,group,skill_empathy,excluded_reason\n" + "".join(
    f"{n},female,{n % 3 + 1},{4 + n % 2},{'Damaged paper form' if n == 7 else ''}\n"
    for n in range(1, 26)
)


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_responses", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def csv_file(tmp_path):
    def write(text: str, name: str = "forms.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_creates_a_paper_wave_with_forms_handed_out_and_prints_the_figures(program, csv_file):
    out, _ = run(program.slug, "pilot-2026", csv_file(GOOD), "--distributed", "35")

    wave = Wave.objects.get(program=program, slug="pilot-2026")
    assert wave.is_paper and wave.distributed_count == 35
    assert wave.instrument.slug == "ccdg-participant"
    f = waves.figures(wave)
    assert (f.distributed, f.returned, f.excluded, f.analysed) == (35, 25, 1, 24)
    assert "Imported 25 responses" in out
    assert "distributed 35, returned 25, analysed 24, excluded 1, response rate 71%" in out
    assert Response.objects.get(wave=wave, form_id="7").excluded_reason == "Damaged paper form"


def test_imports_into_an_existing_wave_and_updates_its_distributed_count(program, csv_file):
    wave = WaveFactory(program=program, slug="spring", distributed_count=20)

    out, _ = run(program.slug, "spring", csv_file(GOOD), "--distributed", "30")

    wave.refresh_from_db()
    assert wave.distributed_count == 30
    assert Response.objects.filter(wave=wave).count() == 25
    assert "Created" not in out and "response rate 83%" in out


def test_without_distributed_the_rate_is_unknown(program, csv_file):
    out, _ = run(program.slug, "autumn", csv_file(GOOD))

    assert Wave.objects.get(slug="autumn").distributed_count is None
    assert "response rate unknown" in out and "--distributed N" in out


def test_distributed_cannot_be_set_on_an_online_wave(program, csv_file):
    GroupFactory(program=program, name="1")
    WaveFactory(program=program, slug="online", source=Wave.Source.ONLINE, distributed_count=None)

    with pytest.raises(CommandError, match="online wave"):
        run(program.slug, "online", csv_file(GOOD), "--distributed", "10")

    assert not Response.objects.exists()


def test_errors_are_printed_per_row_and_nothing_is_saved(program, csv_file):
    bad = "form_id,gender,skill_empathy\n1,female,4\n2,woman,4\n1,male,9\n"

    with pytest.raises(CommandError, match="3 problems in 2 rows; nothing was imported"):
        out, err = StringIO(), StringIO()
        call_command(
            "import_responses", program.slug, "new-wave", csv_file(bad), "--distributed", "5",
            stdout=out, stderr=err,
        )  # fmt: skip

    lines = err.getvalue().splitlines()
    assert lines[0].startswith("row 3, gender: “woman” is not one of female")
    assert lines[1].startswith("row 4, skill_empathy: ")
    assert lines[2] == "row 4, form_id: Duplicates row 2: form “1” is on both."
    # Not even the wave the command would have created.
    assert not Wave.objects.filter(slug="new-wave").exists()
    assert not Response.objects.exists()


def test_a_whole_file_problem_exits_with_the_reason(program, csv_file):
    with pytest.raises(CommandError, match="Unknown column.*“age”"):
        run(program.slug, "w", csv_file("age,gender\n40,female\n"))

    assert not Wave.objects.exists()


def test_check_validates_without_saving(program, csv_file):
    out, _ = run(program.slug, "spring", csv_file(GOOD), "--check")

    assert "ready to import: 25 responses (1 excluded)" in out
    assert not Wave.objects.exists() and not Response.objects.exists()


def test_check_reports_errors_like_an_import(program, csv_file):
    with pytest.raises(CommandError, match="1 problem in 1 row"):
        run(program.slug, "spring", csv_file("skill_empathy\n6\n"), "--check")


def test_unknown_program(program, csv_file):
    with pytest.raises(CommandError, match=f"No program “nope”. Programs: {program.slug}"):
        run("nope", "spring", csv_file(GOOD))


def test_unreadable_file_and_bad_slug(program, tmp_path, csv_file):
    with pytest.raises(CommandError, match="Cannot read"):
        run(program.slug, "spring", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="not a valid wave slug"):
        run(program.slug, "Spring 2027", csv_file(GOOD))
