"""python manage.py phi_eval [--part shipped|dev|test|all | --file PATH] [--json]: measure the
identifier guard.

Runs ccdg.phi.scan on every note of a labelled set (JSON Lines; the shipped regression set by
default, or the development and test parts of the hand-written set, ``--part``) and prints, per
category and overall:

- recall: the share of gold spans that a finding of the same category overlaps;
- precision: the share of findings that overlap a gold span of the same category;
- category-agnostic recall: the share of gold spans that any finding overlaps;
- the share of clean notes (no gold span) with at least one finding, and those findings;
- per note: the share of identifying notes the guard refuses (any finding) and of those whose
  every gold span a finding overlaps; per ``kind`` (when the notes carry one), the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ccdg.phi import CATEGORIES, scan

DATA = Path(__file__).resolve().parents[2] / "phi_data"
DEFAULT_SET = DATA / "eval_set.jsonl"
# The shipped regression set (generated), and the hand-written set's two parts: the guard is
# tuned on the development part and only measured on the test part.
PARTS = {"shipped": DEFAULT_SET, "dev": DATA / "eval_dev.jsonl", "test": DATA / "eval_test.jsonl"}


def load(path: Path) -> list[dict[str, Any]]:
    notes = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                note = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CommandError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(note.get("text"), str) or not isinstance(note.get("spans"), list):
                raise CommandError(f"{path}:{number}: want 'text' and 'spans'")
            notes.append(note)
    return notes


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def evaluate(notes: list[dict[str, Any]]) -> dict[str, Any]:
    """Score ``scan`` on labelled notes; return the figures as a dict."""
    gold_total = dict.fromkeys(CATEGORIES, 0)
    gold_found = dict.fromkeys(CATEGORIES, 0)
    gold_any = 0
    found_total = dict.fromkeys(CATEGORIES, 0)
    found_right = dict.fromkeys(CATEGORIES, 0)
    found_any_gold = 0
    clean_notes = clean_flagged = 0
    misses: list[dict[str, Any]] = []
    false_alarms: list[dict[str, Any]] = []
    identifying = refused = fully_caught = 0
    kinds: dict[str, dict[str, int]] = {}
    for note in notes:
        text, gold = note["text"], note["spans"]
        findings = scan(text)
        kind = kinds.setdefault(note.get("kind") or "-", {"notes": 0, "right": 0})
        kind["notes"] += 1
        if not gold:
            clean_notes += 1
            clean_flagged += bool(findings)
            kind["right"] += not findings
        else:
            identifying += 1
            refused += bool(findings)
            caught = all(
                any(f.start < s["end"] and s["start"] < f.end for f in findings) for s in gold
            )
            fully_caught += caught
            kind["right"] += caught

        def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
            return a_start < b_end and b_start < a_end

        for span in gold:
            category = span["category"]
            # A category the guard does not know (yet) is measured too: it finds none of it.
            for counts in (gold_total, gold_found, found_total, found_right):
                counts.setdefault(category, 0)
            gold_total[category] += 1
            same = any(
                f.category == category and overlaps(f.start, f.end, span["start"], span["end"])
                for f in findings
            )
            anything = any(overlaps(f.start, f.end, span["start"], span["end"]) for f in findings)
            gold_found[category] += same
            gold_any += anything
            if not same:
                misses.append(
                    {
                        "id": note.get("id"),
                        "category": category,
                        "text": text[span["start"] : span["end"]],
                        "found_as": [
                            f.category
                            for f in findings
                            if overlaps(f.start, f.end, span["start"], span["end"])
                        ],
                    }
                )
        for finding in findings:
            found_total[finding.category] += 1
            right = any(
                s["category"] == finding.category
                and overlaps(finding.start, finding.end, s["start"], s["end"])
                for s in gold
            )
            found_right[finding.category] += right
            found_any_gold += any(
                overlaps(finding.start, finding.end, s["start"], s["end"]) for s in gold
            )
            if not right:
                false_alarms.append(
                    {
                        "id": note.get("id"),
                        "category": finding.category,
                        "text": finding.text,
                        "clean": not gold,
                    }
                )
    per_category = {
        category: {
            "gold": gold_total[category],
            "found": found_total[category],
            "recall": _ratio(gold_found[category], gold_total[category]),
            "precision": _ratio(found_right[category], found_total[category]),
        }
        for category in gold_total
    }
    all_gold, all_found = sum(gold_total.values()), sum(found_total.values())
    return {
        "notes": len(notes),
        "clean_notes": clean_notes,
        "per_category": per_category,
        "overall": {
            "gold": all_gold,
            "found": all_found,
            "recall": _ratio(sum(gold_found.values()), all_gold),
            "precision": _ratio(sum(found_right.values()), all_found),
            "recall_any_category": _ratio(gold_any, all_gold),
            "precision_any_category": _ratio(found_any_gold, all_found),
        },
        "clean_flagged": clean_flagged,
        "clean_flagged_share": _ratio(clean_flagged, clean_notes),
        # Identifying notes the guard refuses, and those with every gold span found.
        "identifying_notes": identifying,
        "identifying_refused": _ratio(refused, identifying),
        "identifying_fully_caught": _ratio(fully_caught, identifying),
        # Per kind: identifying notes fully caught, clean notes let through.
        "per_kind": {
            name: {"notes": row["notes"], "right": _ratio(row["right"], row["notes"])}
            for name, row in sorted(kinds.items())
        },
        "misses": misses,
        "false_alarms": false_alarms,
    }


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


class Command(BaseCommand):
    help = "Measure the identifier guard on a labelled set: recall and precision per category."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=None, help="a JSON Lines set")
        parser.add_argument(
            "--part",
            choices=[*PARTS, "all"],
            default="shipped",
            help="a shipped set: the regression set, the hand-written set's development or "
            "test part, or all of them (default: shipped)",
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument(
            "--show-errors", action="store_true", help="list missed spans and false alarms"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"] is not None:
            paths = [options["file"]]
        elif options["part"] == "all":
            paths = [path for path in PARTS.values() if path.is_file()]
        else:
            paths = [PARTS[options["part"]]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
        results = {path.name: evaluate(load(path)) for path in paths}
        if options["json"]:
            if not options["show_errors"]:
                for name, result in results.items():
                    results[name] = {
                        k: v for k, v in result.items() if k not in ("misses", "false_alarms")
                    }
            only = len(results) == 1
            self.stdout.write(
                json.dumps(next(iter(results.values())) if only else results, indent=2,
                           ensure_ascii=False)
            )  # fmt: skip
            return
        for number, (name, result) in enumerate(results.items()):
            if number:
                self.stdout.write("")
            self._table(name, result, show_errors=options["show_errors"])

    def _table(self, name: str, result: dict[str, Any], *, show_errors: bool) -> None:
        out = self.stdout.write
        out(f"{name}: {result['notes']} notes, {result['clean_notes']} clean")
        out(f"{'category':<15}{'gold':>6}{'found':>7}{'recall':>8}{'precision':>11}")
        for category, row in result["per_category"].items():
            out(
                f"{category:<15}{row['gold']:>6}{row['found']:>7}  {_fmt(row['recall'])}"
                f"     {_fmt(row['precision'])}"
            )
        overall = result["overall"]
        out(
            f"{'overall':<15}{overall['gold']:>6}{overall['found']:>7}  "
            f"{_fmt(overall['recall'])}     {_fmt(overall['precision'])}"
        )
        out(
            f"any category: recall {_fmt(overall['recall_any_category']).strip()}, "
            f"precision {_fmt(overall['precision_any_category']).strip()}"
        )
        out(
            f"identifying notes: {result['identifying_notes']}, refused "
            f"{_fmt(result['identifying_refused']).strip()}, every identifier found "
            f"{_fmt(result['identifying_fully_caught']).strip()}"
        )
        out(
            f"clean notes flagged: {result['clean_flagged']}/{result['clean_notes']} "
            f"({_fmt(result['clean_flagged_share']).strip()})"
        )
        if len(result["per_kind"]) > 1:
            out("per kind (identifying: every identifier found; clean: let through):")
            for kind, row in result["per_kind"].items():
                out(f"  {kind:<34}{row['notes']:>5}  {_fmt(row['right'])}")
        clean_alarms = [a for a in result["false_alarms"] if a.get("clean")]
        if clean_alarms:
            out("false alarms on clean notes:")
            for alarm in clean_alarms:
                out(f"  [{alarm['category']}] {alarm['text']!r} ({alarm['id']})")
        if show_errors:
            out("\nmissed:")
            for miss in result["misses"]:
                out(
                    f"  [{miss['category']}] {miss['text']!r} "
                    f"found as {miss['found_as']} ({miss['id']})"
                )
            out("\nfalse alarms:")
            for alarm in result["false_alarms"]:
                out(f"  [{alarm['category']}] {alarm['text']!r} ({alarm['id']})")
