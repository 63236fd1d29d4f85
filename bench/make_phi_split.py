"""Build the identifier guard's development and test parts from hand-written notes.

    .venv/bin/python bench/make_phi_split.py [--notes DIR] [--out DIR] [--check]

The notes live in bench/phi_notes/*.txt, one note a line, with the identifiers marked inline:

    @kind name-lowercase
    pt [[name:nguyen van an]] came in on [[date:the second of may]], lives in [[place:Dorchester]].

    another block of the same kind ...

- ``@kind LABEL`` names the kind of every note that follows (clean kinds start with ``clean-``);
- ``[[category:text]]`` marks one identifier: the category is a key of ccdg.phi.CATEGORIES or
  ``place`` (a town, city or neighbourhood where the patient lives or comes from);
- a line without markup is a clean note, and must sit under a ``clean-`` kind (and the reverse),
  so a forgotten bracket cannot turn an identifying note into a "clean" one;
- lines starting with ``#`` are comments; a blank line ends a block.

Blocks go whole to one part, so notes written as variations of each other (one block) never
straddle the split. In file order, each block goes to the part that holds fewer notes of its kind
so far (on a tie: fewer notes of its class, identifying or clean; then development), which keeps
both parts about the same size in every kind. The output is deterministic: the same sources give
the same files.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NOTES = ROOT / "bench" / "phi_notes"
DEFAULT_OUT = ROOT / "ccdg" / "phi_data"
PARTS = ("dev", "test")

CATEGORIES = (
    "name",
    "date",
    "phone",
    "email",
    "url",
    "ip",
    "ssn",
    "record_number",
    "address",
    "zip",
    "age_over_89",
    "device_id",
    "facility",
    "place",
)

MARK = re.compile(r"\[\[([a-z_0-9]+):([^\[\]]+)\]\]")


def _file_order(path: Path) -> list[object]:
    """Files in natural order ("round9" before "round10"), so that a new round's file comes
    after the others and leaves every earlier block in the part it was in."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


class SourceError(ValueError):
    pass


def parse_line(line: str, where: str) -> tuple[str, list[dict]]:
    """Strip the markup from one line; return the text and its spans."""
    text_parts: list[str] = []
    spans: list[dict] = []
    position = 0
    length = 0
    for match in MARK.finditer(line):
        before = line[position : match.start()]
        text_parts.append(before)
        length += len(before)
        category, value = match.group(1), match.group(2)
        if category not in CATEGORIES:
            raise SourceError(f"{where}: unknown category {category!r}")
        if value != value.strip():
            raise SourceError(f"{where}: spaces around the marked text {value!r}")
        spans.append({"category": category, "start": length, "end": length + len(value)})
        text_parts.append(value)
        length += len(value)
        position = match.end()
    text_parts.append(line[position:])
    text = "".join(text_parts)
    if "[[" in text or "]]" in text:
        raise SourceError(f"{where}: unbalanced markup")
    return text, spans


def read_blocks(path: Path) -> list[tuple[str, list[tuple[str, list[dict]]]]]:
    """The blocks of one source file as (kind, [(text, spans), ...])."""
    blocks: list[tuple[str, list[tuple[str, list[dict]]]]] = []
    kind = ""
    current: list[tuple[str, list[dict]]] = []

    def close() -> None:
        nonlocal current
        if current:
            blocks.append((kind, current))
        current = []

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{number}"
        line = raw.strip()
        if not line:
            close()
            continue
        if line.startswith("#"):
            continue
        if line.startswith("@kind "):
            close()
            kind = line.removeprefix("@kind ").strip()
            continue
        if not kind:
            raise SourceError(f"{where}: note before any @kind line")
        text, spans = parse_line(line, where)
        if kind.startswith("clean-") == bool(spans):
            raise SourceError(f"{where}: kind {kind!r} does not match the markup")
        current.append((text, spans))
    close()
    return blocks


def build(notes_dir: Path) -> dict[str, list[dict]]:
    """All notes, assigned to the parts."""
    parts: dict[str, list[dict]] = {part: [] for part in PARTS}
    per_kind: Counter[tuple[str, str]] = Counter()
    per_class: Counter[tuple[str, bool]] = Counter()
    seen_texts: set[str] = set()
    for path in sorted(notes_dir.glob("*.txt"), key=_file_order):
        for block_number, (kind, notes) in enumerate(read_blocks(path), 1):
            clean = kind.startswith("clean-")
            part = min(PARTS, key=lambda p: (per_kind[p, kind], per_class[p, clean]))
            per_kind[part, kind] += len(notes)
            per_class[part, clean] += len(notes)
            for note_number, (text, spans) in enumerate(notes, 1):
                if text in seen_texts:
                    raise SourceError(f"{path.name}: note written twice: {text[:60]!r}")
                seen_texts.add(text)
                parts[part].append(
                    {
                        "id": f"{path.stem}-b{block_number:02d}-n{note_number:02d}",
                        "clean": not spans,
                        "text": text,
                        "spans": spans,
                        "kind": kind,
                    }
                )
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--check", action="store_true", help="fail if the written files are not up to date"
    )
    args = parser.parse_args(argv)
    try:
        parts = build(args.notes)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stale = []
    for part, notes in parts.items():
        path = args.out / f"eval_{part}.jsonl"
        content = "".join(json.dumps(note, ensure_ascii=False) + "\n" for note in notes)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != content:
                stale.append(path.name)
            continue
        path.write_text(content, encoding="utf-8")
        identifying = sum(not note["clean"] for note in notes)
        print(
            f"{path}: {len(notes)} notes, {identifying} identifying, "
            f"{len(notes) - identifying} clean"
        )
    if stale:
        print(f"out of date: {', '.join(stale)} (run bench/make_phi_split.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
