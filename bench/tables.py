"""The README's and bench/REPORT.md's benchmark tables, generated from bench/suite.py's JSON
(issue 21): each table sits between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`
and is replaced whole, so no figure in it can go stale.

    PYTHONPATH=. .venv/bin/python bench/tables.py [--suite bench/results/suite] [--check]

Every figure is a mean over the seed draws with a 95% t-interval; red's lead over each
baseline is the mean of the paired (same draw, same test texts) differences with its own
interval. A figure is bold only where it wins: its paired interval against every other
method (seeds only included) lies above zero.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"banking77": "BANKING77", "clinc150": "CLINC150", "onet1000": "O*NET (1,010 labels)"}
JUDGE_WORDS = {
    "perfect": "perfect",
    "sym90": "90% right",
    "sym90+person": "90% right, a person answers 10%",
    "realistic": "yes-leaning (0.97 / 0.55)",
    "realistic+person": "yes-leaning, a person answers 10%",
    "embedded-1.5b+person": "embedded 1.5B as measured, a person answers 10%",
}
METHODS = ("red", "flat_entropy", "flat_random")


def mean_ci(values) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (NaN for a single value: no interval)."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def load(suite: Path) -> dict:
    """(dataset, judge) → the cells' results, one per seed draw, ordered by seed."""
    groups = defaultdict(list)
    for path in sorted(suite.glob("*.json")):
        res = json.loads(path.read_text())
        cell = res.get("cell")
        if cell and res.get("evaluate", "test") == "test" and not cell.get("settings"):
            groups[(cell["dataset"], cell["judge"])].append(res)
        elif cell:  # settings being chosen, or a valid-split run: never reported as the defaults on test
            print(f"{path.name}: not a test run of the defaults, left out", file=sys.stderr)
    return {k: sorted(v, key=lambda r: r["cell"]["seed"]) for k, v in groups.items()}


def pct(m: float, h: float, bold: bool = False) -> str:
    text = f"{100 * m:.2f} (1 draw)" if np.isnan(h) else f"{100 * m:.2f} ± {100 * h:.2f}"
    return f"**{text}**" if bold else text


def summarise(runs: list[dict]) -> dict:
    acc = {m: [r[f"{m}_accuracy"] for r in runs] for m in METHODS}
    acc["seeds"] = [r["seeds_self_training_accuracy"] for r in runs]
    diffs = {m: np.subtract(acc["red"], acc[m]) for m in ("flat_entropy", "flat_random", "seeds")}
    eces = [r["export_model_ece"] for r in runs if r.get("export_model_ece") is not None]
    return {"acc": {m: mean_ci(v) for m, v in acc.items()}, "diff": {m: mean_ci(d) for m, d in diffs.items()},
            "winner": winner(acc), "n": len(runs), "ece": mean_ci(eces) if eces else None,
            "applied": float(np.mean([r["red_applied"] for r in runs])),
            "precision": float(np.mean([r["red_label_precision"] or 0 for r in runs])),
            "held": float(np.mean([r["red_held"] for r in runs])),  # held at the end: nobody answered them
            "person": float(np.mean([r.get("red_person_answers", 0) for r in runs])),
            "tokens": {m: float(np.mean([r.get(f"{m}_prompt_tokens") or 0 for r in runs])) for m in METHODS},
            "budget": runs[0]["budget"], "seeds": [r["cell"]["seed"] for r in runs]}


def winner(acc: dict) -> str | None:
    """The method whose paired interval against every other method lies above zero, if any
    (seeds only included): only its figure is bold."""
    for m in acc:
        lows = [np.subtract(*mean_ci(np.subtract(acc[m], acc[o]))) for o in acc if o != m]
        if len(acc[m]) > 1 and min(lows) > 0:
            return m
    return None


def headline(groups: dict) -> str:
    lines = ["| dataset, budget | judge | red | flat + entropy | flat + random | seeds only | red − flat + entropy "
             "| red − flat + random | model-label ECE |", "|---|---|---|---|---|---|---|---|---|"]
    for (ds, judge), runs in _ordered(groups):
        s = summarise(runs)
        a, d = s["acc"], s["diff"]
        cells = " | ".join(pct(*a[m], bold=s["winner"] == m) for m in ("red", "flat_entropy", "flat_random", "seeds"))
        ece = "–" if s["ece"] is None else f"{s['ece'][0]:.3f}"
        lines.append(f"| {NAMES.get(ds, ds)}, {s['budget']:,} | {JUDGE_WORDS.get(judge, judge)} | {cells} | "
                     f"{_signed(*d['flat_entropy'])} | {_signed(*d['flat_random'])} | {ece} |")
    return "\n".join(lines)


def detail(groups: dict) -> str:
    lines = ["| dataset | judge | draws | red: labels applied (right) | held, unanswered | person answers "
             "| prompt tokens per run: red / entropy / random |", "|---|---|---|---|---|---|---|"]
    for (ds, judge), runs in _ordered(groups):
        s = summarise(runs)
        t = s["tokens"]
        lines.append(f"| {NAMES.get(ds, ds)} | {JUDGE_WORDS.get(judge, judge)} | {s['n']} (seeds "
                     f"{', '.join(map(str, s['seeds']))}) | {s['applied']:.0f} ({s['precision']:.1%}) | "
                     f"{s['held']:.0f} | {s['person']:.0f} | {t['red']:,.0f} / {t['flat_entropy']:,.0f} / "
                     f"{t['flat_random']:,.0f} |")
    return "\n".join(lines)


def valid_grid(root: Path) -> str:
    """How the defaults were chosen: red alone on the valid splits, per setting, judge and dataset."""
    groups = defaultdict(list)
    for path in sorted(root.glob("*/*.json")):
        res = json.loads(path.read_text())
        cell = res["cell"]
        groups[(cell["dataset"], cell["judge"], " ".join(cell["settings"]))].append(res)
    lines = ["| dataset | judge | settings | draws | valid accuracy | export accuracy | applied (right) "
             "| held | model-label ECE |", "|---|---|---|---|---|---|---|---|---|"]
    for (ds, judge, settings), runs in sorted(groups.items()):
        acc = mean_ci([r["red_accuracy"] for r in runs])
        lines.append(f"| {NAMES.get(ds, ds)} | {JUDGE_WORDS.get(judge, judge)} | `{settings}` | {len(runs)} | "
                     f"{pct(*acc)} | {100 * np.mean([r['export_accuracy'] for r in runs]):.2f} | "
                     f"{np.mean([r['red_applied'] for r in runs]):.0f} "
                     f"({np.mean([r['red_label_precision'] for r in runs]):.1%}) | "
                     f"{np.mean([r['red_held'] for r in runs]):.0f} | "
                     f"{np.mean([r['export_model_ece'] for r in runs]):.3f} |")
    return "\n".join(lines)


def _signed(m: float, h: float) -> str:
    if np.isnan(h):
        return f"{100 * m:+.2f} (1 draw)"
    return f"{100 * m:+.2f} [{100 * (m - h):+.2f}, {100 * (m + h):+.2f}]"


def _ordered(groups: dict):
    order = {j: k for k, j in enumerate(JUDGE_WORDS)}
    ds_order = {d: k for k, d in enumerate(NAMES)}
    return sorted(groups.items(), key=lambda kv: (ds_order.get(kv[0][0], 99), order.get(kv[0][1], 99)))


def replace_block(path: Path, name: str, body: str, check: bool) -> bool:
    """Put ``body`` between the file's markers for ``name``; True if the file changed (or would)."""
    text = path.read_text()
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no {start} … {end} markers")
    new = pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)
    if new != text and not check:
        path.write_text(new)
    return new != text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default=str(ROOT / "bench" / "results" / "suite"))
    ap.add_argument("--valid", default=str(ROOT / "bench" / "results" / "valid"),
                    help="the valid-split runs the defaults were chosen on (one folder per setting)")
    ap.add_argument("--check", action="store_true", help="exit 1 if a table is not what the JSON gives")
    a = ap.parse_args()
    groups = load(Path(a.suite))
    if not groups:
        print(f"no suite results in {a.suite}: run bench/suite.py first", file=sys.stderr)
        return 1
    changed = [replace_block(ROOT / "README.md", "headline", headline(groups), a.check),
               replace_block(ROOT / "bench" / "REPORT.md", "suite", headline(groups) + "\n\n" + detail(groups),
                             a.check)]
    if Path(a.valid).is_dir():
        changed.append(replace_block(ROOT / "bench" / "REPORT.md", "valid", valid_grid(Path(a.valid)), a.check))
    print("tables " + ("differ from the JSON" if any(changed) and a.check else "up to date" if not any(changed)
                       else "regenerated"))
    return 1 if a.check and any(changed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
