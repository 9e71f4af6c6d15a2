"""How long ``import emoframe`` takes in a fresh process (issue 31: ≤ 1.2× its time before the notebook API).

Each round starts a fresh interpreter that imports emoframe and prints its own clock (so interpreter start-up
is not counted); the median of the rounds is reported, with the heavy libraries the import pulled in (none of
pandas, sklearn, matplotlib, textual, rich should be among them: they load when first used).

    python benchmarks/bench_import.py [--rounds 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = """
import time, sys
t0 = time.perf_counter()
import emoframe
t = time.perf_counter() - t0
heavy = sorted(m for m in ("pandas", "sklearn", "matplotlib", "textual", "rich", "click", "scipy") if m in sys.modules)
print(t, ",".join(heavy))
"""


def measure(rounds: int) -> tuple[float, list[float], str]:
    """(median seconds, every round's seconds, the heavy modules a plain import loaded)."""
    times, heavy = [], ""
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
        times.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else ""
    return statistics.median(times), times, heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", help="Write the figures here too.")
    args = parser.parse_args()
    median, times, heavy = measure(args.rounds)
    print(
        f"import emoframe: median {median * 1000:.0f} ms over {args.rounds} fresh processes "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); heavy modules loaded: {heavy or 'none'}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"median_s": median, "times_s": times, "heavy": heavy}, f, indent=1)


if __name__ == "__main__":
    main()
