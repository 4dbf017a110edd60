"""The full replay of the policy period: wall time and peak memory, PDFs included.

Goal: under 60 s and under 500 MB on the project's 2-core machine.
Run: .venv/bin/python benchmarks/bench_replay.py [--from 2018-05-30] [--to 2021-01-31] [--seed 1]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.replay import SimulationRequest, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="start", default="2018-05-30")
    parser.add_argument("--to", dest="end", default="2021-01-31")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        req = SimulationRequest(date.fromisoformat(args.start), date.fromisoformat(args.end),
                                args.seed, Path(tmp) / "out")
        t0 = time.perf_counter()
        summary = simulate(req)
        wall = time.perf_counter() - t0
        pdfs = len(list(req.out.rglob("*.pdf")))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"replay {args.start} .. {args.end}, seed {args.seed}")
    print(f"days: {(req.end - req.start).days + 1}, notices: {summary['notices']}, "
          f"bulletins: {summary['bulletins']}, PDFs written: {pdfs}, emails: {summary['emails']}")
    print(f"wall time: {wall:.1f} s (goal < 60 s)")
    print(f"peak memory (max RSS): {peak_mb:.0f} MB (goal < 500 MB)")


if __name__ == "__main__":
    main()
