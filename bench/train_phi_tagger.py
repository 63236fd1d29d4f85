"""Train the identifier guard's sequence tagger (ccdg/phi_tagger.py) on the development part.

    .venv/bin/python bench/train_phi_tagger.py [--folds K] [--c1 0.05] [--c2 0.01]

Without ``--folds`` it trains on every note of ``ccdg/phi_data/eval_dev.jsonl`` (and the shipped
regression set, ``eval_set.jsonl``) and writes ``ccdg/phi_data/phi_tagger.crf``. The test part
is never read. With ``--folds K`` it writes nothing: it splits the development part by block
into K folds, trains on K-1 and scores the held-out fold, and prints the tagger's span recall
and precision alone, so settings are chosen without touching the test part.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pycrfsuite  # noqa: E402

from ccdg import phi, phi_tagger  # noqa: E402

DATA = ROOT / "ccdg" / "phi_data"


def load(name: str) -> list[dict]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def block(note: dict) -> str:
    return note["id"].rsplit("-n", 1)[0]


def train(notes: list[dict], path: Path, c1: float, c2: float, iterations: int) -> None:
    trainer = pycrfsuite.Trainer(verbose=False)
    for note in notes:
        spans = phi_tagger.tokens(note["text"])
        if spans:
            trainer.append(
                phi_tagger.features(note["text"], spans, phi.tagger_lexicon),
                phi_tagger.labels(spans, note["spans"]),
            )
    trainer.set_params(
        {
            "c1": c1,
            "c2": c2,
            "max_iterations": iterations,
            "feature.possible_transitions": True,
        }
    )
    trainer.train(str(path))


def score(notes: list[dict], threshold: float, with_rules: bool = False) -> dict[str, float]:
    gold = found = right = caught = clean = flagged = 0
    for note in notes:
        spans = phi_tagger.find(note["text"], phi.tagger_lexicon, threshold)
        if with_rules:
            rules = [(f.category, f.start, f.end, 1.0) for f in phi.scan(note["text"])]
            spans = rules + [
                t for t in spans if not any(t[1] < r[2] and r[1] < t[2] for r in rules)
            ]
        if not note["spans"]:
            clean += 1
            flagged += bool(spans)
        gold += len(note["spans"])
        found += len(spans)
        for mark in note["spans"]:
            caught += any(
                c == mark["category"] and s < mark["end"] and mark["start"] < e
                for c, s, e, _ in spans
            )
        for c, s, e, _ in spans:
            right += any(
                c == m["category"] and s < m["end"] and m["start"] < e for m in note["spans"]
            )
    return {
        "recall": caught / max(gold, 1),
        "precision": right / max(found, 1),
        "clean_flagged": flagged / max(clean, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=0)
    parser.add_argument("--c1", type=float, default=0.05)
    parser.add_argument("--c2", type=float, default=0.01)
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--no-shipped", action="store_true", help="train on the dev part only")
    args = parser.parse_args()
    dev = load("eval_dev.jsonl")
    extra = [] if args.no_shipped else load("eval_set.jsonl")
    if not args.folds:
        train(dev + extra, phi_tagger.MODEL, args.c1, args.c2, args.iterations)
        print(
            f"wrote {phi_tagger.MODEL.relative_to(ROOT)} ({phi_tagger.MODEL.stat().st_size} bytes)"
        )
        return 0
    blocks = sorted({block(n) for n in dev})
    fold_of = {b: i % args.folds for i, b in enumerate(blocks)}
    with tempfile.TemporaryDirectory() as tmp:
        for fold in range(args.folds):
            path = Path(tmp) / f"fold{fold}.crf"
            held = [n for n in dev if fold_of[block(n)] == fold]
            train(
                [n for n in dev if fold_of[block(n)] != fold] + extra,
                path,
                args.c1,
                args.c2,
                args.iterations,
            )
            phi_tagger.MODEL = path
            phi_tagger._tagger.cache_clear()
            print(fold, "rules", score(held, 2.0, True))
            for threshold in (0.5, 0.7, 0.9):
                for with_rules in (False, True):
                    figures = score(held, threshold, with_rules)
                    print(fold, threshold, with_rules, {k: round(v, 3) for k, v in figures.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
