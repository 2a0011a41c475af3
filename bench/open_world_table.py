"""The open-world table of bench/REPORT.md from `red bench --unseen-labels K --json F` runs
(issue 20): one row per set, mean and range over the seeds, beside the closed-world
reference (`--drop-unseen`, the same seeds and labels without the unseen labels' texts).

    python bench/open_world_table.py --open /tmp/ow/c_s*.json --closed /tmp/ow/cc_s*.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def _fig(values, pct=True) -> str:
    v = np.array([x for x in values if x is not None], dtype=float)
    if not len(v):
        return "–"
    f = (lambda x: f"{100 * x:.1f}") if pct else (lambda x: f"{x:.1f}")
    return f"{f(v.mean())} ({f(v.min())}–{f(v.max())})" if len(v) > 1 else f(v[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--open", nargs="+", required=True)
    ap.add_argument("--closed", nargs="*", default=[])
    a = ap.parse_args(argv)
    runs = [json.loads(Path(p).read_text()) for p in a.open]
    closed = {json.loads(Path(p).read_text())["data"] + str(i): json.loads(Path(p).read_text())
              for i, p in enumerate(a.closed)}
    ow = [r["open_world"] for r in runs]
    rows = {
        "seeds (runs)": str(len(runs)),
        "unseen labels / labels": f"{runs[0]['unseen_labels']} / {runs[0]['unseen_labels'] + runs[0]['classes']}",
        "pool texts that fit no label": _fig([w["pool_no_label"] for w in ow], pct=False),
        "of them marked out of scope or needs_review, %": _fig([w["no_label_marked"] for w in ow]),
        "in-scope pool texts marked, %": _fig([w["in_scope_marked"] for w in ow]),
        "exported labels at confidence ≥ 0.9 that fit no label, %": _fig([w["sure_no_label"] for w in ow]),
        "'fits no label' on the pool: precision / recall, %":
            f"{_fig([w['pool_fits_none']['precision'] for w in ow])} / {_fig([w['pool_fits_none']['recall'] for w in ow])}",
        "'fits no label' on the test set: precision / recall, %":
            f"{_fig([w['test_fits_none']['precision'] for w in ow])} / {_fig([w['test_fits_none']['recall'] for w in ow])}",
        "expert's answers 'none': iteration 1 / later, %":
            f"{_fig([w['none_share_first_iteration'] for w in ow])} / {_fig([w['none_share_later'] for w in ow])}",
        "judge's 'none' answers that were right, %": _fig([w["said_none_right"] for w in ow]),
        "in-scope test accuracy, %": _fig([r["red_accuracy"] for r in runs]),
        "in-scope test accuracy, closed world (same seeds), %":
            _fig([c["red_accuracy"] for c in closed.values()]) if closed else "–",
        "seeds-only in-scope test accuracy, %": _fig([r["seeds_only_accuracy"] for r in runs]),
        "unseen labels found by discovery (purity ≥ 0.8, ≥ 50% of their texts)":
            _fig([w["unseen_found"] for w in ow], pct=False) + f" of {runs[0]['unseen_labels']}",
    }
    print(f"| {Path(runs[0]['data']).stem} | |\n|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
