"""Reads a g2g run's TensorBoard event files with TensorBoard's own reader and prints what it finds.

    pip install tensorboard
    python3 docs/python/tensorboard_check.py runs/e1

Prints every scalar tag with its number of points and its first and last (step, value), then
checks that the per-epoch test accuracy equals the run's metrics.csv.
"""
import csv
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(run: Path) -> int:
    acc = EventAccumulator(str(run), size_guidance={"scalars": 0})  # 0: keep every point
    acc.Reload()
    tags = acc.Tags()["scalars"]
    if not tags:
        print(f"no scalars in {run}")
        return 1
    for tag in sorted(tags):
        ev = acc.Scalars(tag)
        print(f"{tag:28s} {len(ev):5d} points  first ({ev[0].step}, {ev[0].value:.6g})  last ({ev[-1].step}, {ev[-1].value:.6g})")
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    tb = [e.value for e in acc.Scalars("epoch/test_accuracy")] if "epoch/test_accuracy" in tags else None
    if tb is None:
        print("no epoch/test_accuracy tag")
        return 1
    want = [float(r["test_acc"]) for r in rows]
    ok = len(tb) == len(want) and all(abs(a - b) < 1e-6 for a, b in zip(tb, want))
    print(f"epoch/test_accuracy {tb} {'==' if ok else '!='} metrics.csv test_acc {want}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
