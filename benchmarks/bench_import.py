"""How long ``import emoframe`` takes in a fresh process (issue 31: ≤ 1.2× its time before the notebook API).

Each round starts a fresh interpreter that imports emoframe and prints its own clock (so interpreter start-up
is not counted); the median of the rounds is reported, with the heavy libraries the import pulled in (none of
pandas, sklearn, matplotlib, textual, rich should be among them: they load when first used).

    python benchmarks/bench_import.py [--rounds 15] [--json out.json]
    python benchmarks/bench_import.py --baseline /tmp/emoframe-before   # a checkout of the code before, alternately

With ``--baseline`` each round imports this tree's emoframe and the baseline's in turn (so the machine's load
weighs on both), and the ratio of the medians is printed: ``git archive BASE emoframe | tar -x -C DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """
import time, sys
t0 = time.perf_counter()
import emoframe
t = time.perf_counter() - t0
heavy = sorted(m for m in ("pandas", "sklearn", "matplotlib", "textual", "rich", "click", "scipy") if m in sys.modules)
print(t, emoframe.__file__, ",".join(heavy) or "-")
"""


def once(tree: Path | None) -> tuple[float, str]:
    """Seconds of one fresh import (of ``tree``'s emoframe first on the path, when given) and the heavy modules."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")])
    out = subprocess.run(  # from a neutral folder: `python -c` puts the current folder first on the path
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env, cwd=tempfile.gettempdir()
    ).stdout.split()
    if tree is not None and not out[1].startswith(str(tree)):
        raise SystemExit(f"imported {out[1]}, not the emoframe of {tree}")
    return float(out[0]), "" if out[2] == "-" else out[2]


def measure(rounds: int, baseline: Path | None = None) -> dict[str, tuple[float, list[float], str]]:
    """Per side ('now', and 'baseline' when given): (median seconds, every round's seconds, heavy modules)."""
    here = Path(__file__).resolve().parents[1]
    sides = {"now": here, **({"baseline": baseline} if baseline else {})}
    times: dict[str, list[float]] = {side: [] for side in sides}
    heavy: dict[str, str] = {}
    for r in range(rounds):
        for side in sides if r % 2 == 0 else reversed(list(sides)):
            t, heavy[side] = once(sides[side])
            times[side].append(t)
    return {side: (statistics.median(times[side]), times[side], heavy[side]) for side in sides}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", help="Write the figures here too.")
    parser.add_argument("--baseline", type=Path, help="A folder holding the emoframe package to compare with.")
    args = parser.parse_args()
    figures = measure(args.rounds, args.baseline)
    for side, (median, times, heavy) in figures.items():
        print(
            f"import emoframe ({side}): median {median * 1000:.0f} ms over {args.rounds} fresh processes "
            f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); heavy modules loaded: {heavy or 'none'}"
        )
    if "baseline" in figures:
        print(f"ratio now / baseline: {figures['now'][0] / figures['baseline'][0]:.3f}×")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({side: {"median_s": m, "times_s": t, "heavy": h} for side, (m, t, h) in figures.items()}, f)


if __name__ == "__main__":
    main()
