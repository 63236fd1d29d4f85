"""phi_eval on the hand-written set's parts: note-level figures, kinds and the false alarms."""

import io
import json

from django.core.management import call_command

from ccdg.management.commands import phi_eval


def write(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


ROWS = [
    # Both identifiers found: refused and fully caught.
    {"id": "a", "clean": False, "kind": "date-slash", "text": "Mrs. Alvarez was seen 3/14.",
     "spans": [{"category": "name", "start": 0, "end": 12},
               {"category": "date", "start": 22, "end": 26}]},
    # The name is found, the (unknown, lower-case) town is not: refused, not fully caught.
    {"id": "b", "clean": False, "kind": "place-from",
     "text": "Mrs. Alvarez is from zzyzxville.",
     "spans": [{"category": "name", "start": 0, "end": 12},
               {"category": "place", "start": 21, "end": 31}]},
    {"id": "c", "clean": True, "kind": "clean-vitals", "text": "Maria, 67F, BP 150/90.",
     "spans": []},
    {"id": "d", "clean": True, "kind": "clean-vitals", "text": "Call 617-555-0134.", "spans": []},
]  # fmt: skip


def test_note_level_figures_and_kinds(tmp_path):
    path = tmp_path / "set.jsonl"
    write(path, ROWS)
    result = phi_eval.evaluate(phi_eval.load(path))
    assert result["identifying_notes"] == 2
    assert result["identifying_refused"] == 1.0
    assert result["identifying_fully_caught"] == 0.5
    assert result["per_kind"]["date-slash"] == {"notes": 1, "right": 1.0}
    assert result["per_kind"]["place-from"] == {"notes": 1, "right": 0.0}
    # clean notes: one let through, one flagged (the phone number)
    assert result["per_kind"]["clean-vitals"] == {"notes": 2, "right": 0.5}


def test_the_table_lists_the_false_alarms_on_clean_notes(tmp_path):
    path = tmp_path / "set.jsonl"
    write(path, ROWS)
    out = io.StringIO()
    call_command("phi_eval", "--file", str(path), stdout=out)
    text = out.getvalue()
    assert "false alarms on clean notes:" in text
    assert "[phone] '617-555-0134' (d)" in text
    assert "identifying notes: 2, refused 1.000, every identifier found 0.500" in text
    assert "place-from" in text


def test_the_parts_are_the_shipped_files():
    out = io.StringIO()
    call_command("phi_eval", "--part", "shipped", "--json", stdout=out)
    assert json.loads(out.getvalue())["notes"] == len(phi_eval.load(phi_eval.DEFAULT_SET))
    assert set(phi_eval.PARTS) == {"shipped", "dev", "test"}
    assert phi_eval.PARTS["dev"].name == "eval_dev.jsonl"
    assert phi_eval.PARTS["test"].name == "eval_test.jsonl"


def test_a_category_the_guard_does_not_know_is_measured_as_missed(tmp_path):
    path = tmp_path / "set.jsonl"
    text = "She keeps her horse Thunderbolt at the farm."
    write(path, [{"id": "x", "clean": False, "text": text,
                  "spans": [{"category": "pet_name", "start": 20, "end": 31}]}])  # fmt: skip
    result = phi_eval.evaluate(phi_eval.load(path))
    assert result["per_category"]["pet_name"] == {
        "gold": 1, "found": 0, "recall": 0.0, "precision": None
    }  # fmt: skip
    assert result["overall"]["recall"] == 0.0
