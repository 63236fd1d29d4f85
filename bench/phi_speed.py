"""How fast the identifier guard checks a note: median and 95th percentile for 2,000 characters.

    .venv/bin/python bench/phi_speed.py [--notes 200] [--chars 2000] [--repeat 5]

Each note is built from the shipped evaluation sets' notes (identifying and clean, shuffled with
a fixed seed) joined until it reaches ``--chars`` characters, so every note carries the
identifiers and traps of real ones. Every note is scanned ``--repeat`` times on one core (this
process); a note's time is its best run (the rest is the machine's noise), and the figures are
over the notes. The target (issue 17): under 20 ms at the median, so a form can check the text
as the person types.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ccdg import phi  # noqa: E402  (pure Python: no Django setup needed)

DATA = ROOT / "ccdg" / "phi_data"
TARGET_MS = 20.0


def texts() -> list[str]:
    found = []
    for name in ("eval_set.jsonl", "eval_dev.jsonl"):  # never the test part
        path = DATA / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    found.append(json.loads(line)["text"])
    return found


def notes(count: int, chars: int, seed: int = 20261207) -> list[str]:
    pool = texts()
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < chars:
            parts.append(rng.choice(pool))
        out.append(" ".join(parts)[:chars])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--chars", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sample = notes(args.notes, args.chars)
    phi.scan(sample[0])  # load the word lists and compile the patterns once
    times = []
    for text in sample:
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            phi.scan(text)
            best = min(best, time.perf_counter() - start)
        times.append(best * 1000)
    times.sort()
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    print(f"identifier guard: {len(times)} notes of {args.chars} characters, best of {args.repeat}")
    print(f"median {median:.2f} ms, p95 {p95:.2f} ms, max {times[-1]:.2f} ms")
    print(f"target: median under {TARGET_MS:.0f} ms: {'met' if median < TARGET_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
