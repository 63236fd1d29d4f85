"""Case-note encryption at rest: raw columns hold ciphertext, keys rotate, bad keys are refused."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from ccdg import crypto
from ccdg.checks import check_field_keys
from ccdg.fields import Sealed
from sessions_app.models import CaseNote
from tests.factories import PresentationFactory

ROOT = Path(__file__).resolve().parents[2]
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
NAME = "Marisol"
DIFFICULTY = "She refuses dialysis and her son asks me to lie to her about it."
RELATIONSHIP = "I have looked after her for eleven years."
WISH = "How to stay honest with both of them."
ALL_TEXT = (NAME, DIFFICULTY, RELATIONSHIP, WISH)


def make_note(**fields) -> CaseNote:
    values = {
        "patient_age": 67,
        "patient_gender": "female",
        "patient_name": NAME,
        "difficulty": DIFFICULTY,
        "relationship": RELATIONSHIP,
        "wish": WISH,
        "destroy_after": timezone.now() + timedelta(days=7),
        **fields,
    }
    return CaseNote.objects.create(presentation=PresentationFactory(), **values)


def raw_columns(note: CaseNote) -> dict[str, str | None]:
    """The encrypted columns exactly as the database holds them, bypassing the ORM."""
    names = CaseNote.ENCRYPTED_FIELDS
    table = connection.ops.quote_name(CaseNote._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(names)} FROM {table} WHERE id = %s", [note.pk])  # noqa: S608
        return dict(zip(names, cursor.fetchone(), strict=True))


def set_raw(note: CaseNote, column: str, value: str) -> None:
    table = connection.ops.quote_name(CaseNote._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, note.pk])  # noqa: S608


def revealed(note: CaseNote) -> dict[str, str]:
    note = CaseNote.objects.get(pk=note.pk)
    return {name: getattr(note, name).reveal() for name in CaseNote.ENCRYPTED_FIELDS}


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_field_keys", "--batch-size", "2", stdout=out)
    return out.getvalue()


@pytest.fixture
def key_a(settings):
    settings.FIELD_KEYS = [KEY_A]
    return settings


# --- At rest ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_raw_columns_hold_ciphertext_not_the_name_or_the_free_text(key_a):
    note = make_note()

    raw = raw_columns(note)

    stored = " ".join(raw.values())
    for text in ALL_TEXT:
        assert text not in stored
    assert NAME.lower() not in stored.lower()
    assert "dialysis" not in stored
    assert all(value.startswith("gAAAAA") for value in raw.values())  # Fernet version byte
    assert {name: crypto.decrypt(value) for name, value in raw.items()} == dict(
        zip(CaseNote.ENCRYPTED_FIELDS, ALL_TEXT, strict=True)
    )
    assert connection.vendor in ("sqlite", "postgresql")


@pytest.mark.django_db
def test_the_same_text_encrypts_differently_each_time(key_a):
    first, second = make_note(), make_note()

    assert raw_columns(first)["patient_name"] != raw_columns(second)["patient_name"]


@pytest.mark.django_db
def test_reading_a_note_gives_sealed_values_that_print_a_placeholder(key_a):
    note = CaseNote.objects.get(pk=make_note().pk)

    assert isinstance(note.difficulty, Sealed)
    assert str(note.difficulty) == repr(note.difficulty) == "[encrypted]"
    assert note.difficulty.reveal() == DIFFICULTY


def test_a_missing_key_makes_text_unreadable_not_lost(settings):
    settings.FIELD_KEYS = [KEY_A]
    token = crypto.encrypt(DIFFICULTY)
    settings.FIELD_KEYS = [KEY_B]

    with pytest.raises(crypto.Unreadable):
        crypto.decrypt(token)

    settings.FIELD_KEYS = [KEY_B, KEY_A]
    assert crypto.decrypt(token) == DIFFICULTY


# --- Rotation --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_rotation_reencrypts_every_row_so_the_old_key_can_be_removed(settings):
    settings.FIELD_KEYS = [KEY_A]
    notes = [make_note(), make_note(), make_note(wish=None)]
    before = {note.pk: raw_columns(note) for note in notes}

    settings.FIELD_KEYS = [KEY_B, KEY_A]
    output = rotate()

    assert "sessions_app.CaseNote: 3 rows; 11 values in 3 rows re-encrypted" in output
    assert "0 rows unreadable" in output
    for note in notes:
        after = raw_columns(note)
        assert all(
            after[name] != before[note.pk][name] for name in after if after[name] is not None
        )
    settings.FIELD_KEYS = [KEY_B]
    assert revealed(notes[0]) == dict(zip(CaseNote.ENCRYPTED_FIELDS, ALL_TEXT, strict=True))
    assert raw_columns(notes[2])["wish"] is None
    for text in ALL_TEXT:
        assert text not in output


@pytest.mark.django_db
def test_rotation_run_twice_changes_nothing_the_second_time(settings):
    settings.FIELD_KEYS = [KEY_A]
    note = make_note()
    settings.FIELD_KEYS = [KEY_B, KEY_A]
    rotate()
    after_first = raw_columns(note)

    output = rotate()

    assert "1 rows; 0 values in 0 rows re-encrypted; 4 values already under the newest key" in (
        output
    )
    assert raw_columns(note) == after_first


@pytest.mark.django_db
def test_rotation_reports_a_tampered_row_by_id_and_leaves_it_unchanged(settings):
    settings.FIELD_KEYS = [KEY_A]
    good, tampered = make_note(), make_note()
    token = raw_columns(tampered)["difficulty"]
    set_raw(tampered, "difficulty", token[:-6] + ("AAAAAA" if token[-6:] != "AAAAAA" else "BBBBBB"))
    tampered_before = raw_columns(tampered)
    good_before = raw_columns(good)

    settings.FIELD_KEYS = [KEY_B, KEY_A]
    with pytest.raises(CommandError) as refused:
        rotate()

    assert refused.value.returncode == 1
    assert f"sessions_app.CaseNote ids {tampered.pk}" in str(refused.value)
    # The whole row stays as it was, including its readable fields.
    assert raw_columns(tampered) == tampered_before
    assert all(raw_columns(good)[name] != good_before[name] for name in good_before)
    settings.FIELD_KEYS = [KEY_B]
    assert revealed(good)["difficulty"] == DIFFICULTY


@pytest.mark.django_db
def test_rotation_reports_a_row_written_with_a_key_no_longer_configured(settings):
    settings.FIELD_KEYS = [KEY_A]
    orphan = make_note()
    settings.FIELD_KEYS = [KEY_B]
    before = raw_columns(orphan)

    with pytest.raises(CommandError, match=f"ids {orphan.pk}"):
        rotate()

    assert raw_columns(orphan) == before
    settings.FIELD_KEYS = [KEY_B, KEY_A]
    assert revealed(orphan)["patient_name"] == NAME


# --- Configuration ---------------------------------------------------------------------------
def test_production_without_keys_refuses_to_encrypt(settings):
    settings.EMBEDDED, settings.DEBUG, settings.FIELD_KEYS = False, False, []

    with pytest.raises(ImproperlyConfigured, match="CCDG_FIELD_KEYS must be set"):
        crypto.encrypt(NAME)


def test_system_check_fails_production_without_keys(settings):
    settings.EMBEDDED, settings.DEBUG, settings.FIELD_KEYS = False, False, []

    assert [error.id for error in check_field_keys()] == ["ccdg.E001"]

    settings.FIELD_KEYS = [KEY_A]
    assert check_field_keys() == []


def test_system_check_names_a_malformed_key_by_position_not_value(settings):
    settings.FIELD_KEYS = [KEY_A, "not-a-fernet-key"]

    errors = check_field_keys()

    assert [(error.id, error.msg) for error in errors] == [
        (
            "ccdg.E002",
            "CCDG_FIELD_KEYS entry 2 is not a Fernet key (32 url-safe base64-encoded bytes).",
        )
    ]
    assert "not-a-fernet-key" not in str(errors[0])


def test_system_check_accepts_the_embedded_default_without_keys(settings):
    settings.EMBEDDED, settings.DEBUG, settings.FIELD_KEYS = True, False, []

    assert check_field_keys() == []


PROBE = """
import json, sys, warnings
warnings.simplefilter("always")
import django
django.setup()
from ccdg import crypto
token = sys.argv[1] if len(sys.argv) > 1 else crypto.encrypt("Marisol")
print(json.dumps({"token": token, "text": crypto.decrypt(token)}))
"""


def run_python(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "ccdg.settings",
        "CCDG_VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_embedded_default_generates_a_key_file_once_with_a_warning(tmp_path):
    first = run_python(tmp_path, "-c", PROBE)
    assert first.returncode == 0, first.stderr
    token = json.loads(first.stdout.splitlines()[-1])["token"]

    second = run_python(tmp_path, "-c", PROBE, token)

    key_file = tmp_path / "var" / "field_keys"
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout.splitlines()[-1]) == {"token": token, "text": "Marisol"}
    assert "CCDG_FIELD_KEYS is not set: generated a case-note key" in first.stderr
    assert "CCDG_FIELD_KEYS is not set" not in second.stderr
    assert oct(key_file.stat().st_mode & 0o777) == oct(0o600)
    Fernet(key_file.read_text().strip().encode())  # a valid key


def test_manage_py_refuses_to_start_in_production_without_keys(tmp_path):
    production = {
        "DATABASE_URL": "postgres://ccdg@127.0.0.1:5/ccdg",  # check opens no connection
        "SECRET_KEY": "x" * 50,
    }

    refused = run_python(tmp_path, "manage.py", "check", **production)
    accepted = run_python(tmp_path, "manage.py", "check", CCDG_FIELD_KEYS=KEY_A, **production)

    assert refused.returncode != 0
    assert "ccdg.E001" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert not (tmp_path / "var" / "field_keys").exists()
