"""The survey_codebook command."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from surveys import services
from surveys.models import Instrument

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("survey_codebook", *args, stdout=out)
    return out.getvalue()


def test_codebook_json():
    entries = json.loads(run("ccdg-participant", "--json"))
    assert len(entries) == 23
    assert entries[0]["code"] == "gender"
    assert set(entries[0]) == {"code", "section", "text", "type", "required", "values", "positive"}
    by_code = {e["code"]: e for e in entries}
    assert by_code["gender"]["values"][0] == {"value": "female", "label": "Female"}
    assert by_code["gender"]["section"] == "Demographics"
    empathy = by_code["skill_empathy"]
    assert empathy["type"] == "agreement5"
    assert empathy["positive"] == ["4", "5"]
    assert [v["value"] for v in empathy["values"]] == ["1", "2", "3", "4", "5"]
    assert by_code["challenge_isolation"]["positive"] == ["3", "4"]
    assert by_code["addressed_isolation"]["positive"] == ["1"]
    assert by_code["open_other"]["values"] == []
    assert by_code["group"]["values"] == []


def test_codebook_text_and_version():
    draft = services.instrument_new_version(
        instrument=Instrument.objects.get(slug="ccdg-participant", version=1)
    )
    services.question_update(question=draft.questions.get(code="open_other"), text="Anything else?")
    text = run("ccdg-participant", "--version", "2")
    assert "version 2" in text
    assert "open_other [free_text]: Anything else?" in text
    assert "    4 = Agree *" in text
    assert "Anything else?" not in run("ccdg-participant", "--version", "1")


def test_codebook_unknown_slug_or_version():
    with pytest.raises(CommandError, match="No survey instrument “nope”"):
        run("nope")
    with pytest.raises(CommandError, match="version 9"):
        run("ccdg-participant", "--version", "9")
