"""Score 100,000 generated hosts in one process and print documents per second.

Run from the repository root:  .venv/bin/python bench/score.py [count] [seed]
Goal: at least 20,000 documents per second on one core. The documents are generated before
the clock starts, so only scoring is timed.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audits.checklist.items import DEFAULT_INSTITUTION
from audits.scoring.score import score
from tests.samples import random_documents


def main(count: int = 100_000, seed: int = 5) -> None:
    rng = random.Random(seed)
    # A pool of distinct hosts, reused round-robin: building 100,000 would time the generator.
    pool = [random_documents(rng) for _ in range(min(count, 5_000))]
    meetings = sum(len(docs.meetings or ()) for docs in pool) / len(pool)
    started = time.perf_counter()
    grades: dict[str | None, int] = {}
    for n in range(count):
        result = score(pool[n % len(pool)], DEFAULT_INSTITUTION)
        grades[result.grade] = grades.get(result.grade, 0) + 1
    elapsed = time.perf_counter() - started
    print(f"scored {count:,} documents ({meetings:.1f} upcoming meetings each on average)")
    print(f"in {elapsed:.2f} s: {count / elapsed:,.0f} documents per second")
    print("grades:", ", ".join(f"{g}: {n:,}" for g, n in sorted(grades.items(), key=str)))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
