"""Does the audit estimate tell the truth on a full benchmark project?

Builds a project from a shared benchmark file the way a user would (`red import` of the
10-shot seeds as labels, the rest of the training split as pool with hidden gold, the
test split as holdout), runs the default loop with a simulated judge, then repeats an
audit of ``--n`` texts ``--reps`` times, each on a fresh copy of the finished project.
Every audit item is answered by a *simulated auditor* that reads the hidden gold (it
stands in for a person; named as such in the decisions it records) through the same
`answer_item` path the Review page and `red audit-answer` use. Prints, per repetition,
the estimate with its 95% interval beside the true accuracy of the audited population,
and how often the interval covered the truth.

    PYTHONPATH=. .venv/bin/python bench/audit_truth.py --data ../shared/data/banking77.parquet \\
        --budget 1540 --reps 20 --n 200 --out bench/out/audit_banking77
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

AUDITOR = "simulated-auditor (reads hidden gold)"


def red(*args: str) -> None:
    cmd = [str(Path(sys.executable).with_name("red")), *args]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    print(f"  red {' '.join(args)}  ({time.perf_counter() - t:.0f} s)", flush=True)


def build(data: Path, project: Path, budget: int, profile: str, seeds: str) -> None:
    if project.exists():
        project.unlink()
    red("init", str(project))
    red("import", str(project), str(data), "--mode", "labeled", "--where", f"split = 'train' AND {seeds}")
    red("import", str(project), str(data), "--mode", "hidden-gold", "--where", f"split = 'train' AND NOT {seeds}")
    red("import", str(project), str(data), "--mode", "holdout", "--where", "split = 'test'")
    red("embed", str(project))
    red("run", str(project), "--judge", "simulated", "--judge-profile", profile, "--budget", str(budget))


def audit_once(src: Path, work: Path, n: int, seed: int) -> dict:
    from red_app.workflows.audit import answer_item, current_audit, draw_audit, quality_report
    from red_app.project.store import Project

    shutil.copyfile(src, work)
    with Project(work) as p:
        draw_audit(p, n=n, seed=seed)
        _, items = current_audit(p)
        gold = p.samples(columns="id, gold_label").set_index("id")["gold_label"]
        for sid, label in zip(items.sample_id, items.label):
            truth = gold.get(sid)
            if truth == label:
                answer_item(p, sid, "right", AUDITOR)
            else:
                answer_item(p, sid, "wrong", AUDITOR, label=truth)
        rep = quality_report(p, curve=False)
    work.unlink()
    o = rep["overall"]
    return {"seed": seed, "estimate": o["estimate"], "low": o["low"], "high": o["high"],
            "truth": rep["truth"]["overall"], "population": rep["population"],
            "judge_estimate": rep["judge_precision"]["estimate"],
            "judge_truth": rep["truth"]["per_origin"].get("judge")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--budget", type=int, required=True)
    ap.add_argument("--judge-profile", default="realistic")
    ap.add_argument("--seeds", default="shot10", help="boolean column marking the seed rows")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reuse", action="store_true", help="audit the project already built in --out")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    project = out / "project.duckdb"
    if not (a.reuse and project.exists()):
        build(Path(a.data), project, a.budget, a.judge_profile, a.seeds)
    rows = []
    for r in range(a.reps):
        row = audit_once(project, out / "audit-copy.duckdb", a.n, seed=r)
        rows.append(row)
        inside = row["low"] <= row["truth"] <= row["high"]
        print(f"  audit {r:2d}: estimate {row['estimate']:.4f} [{row['low']:.4f}, {row['high']:.4f}]"
              f"  truth {row['truth']:.4f}  {'covered' if inside else 'MISSED'}", flush=True)
    covered = sum(r["low"] <= r["truth"] <= r["high"] for r in rows)
    err = [abs(r["estimate"] - r["truth"]) for r in rows]
    width = [r["high"] - r["low"] for r in rows]
    summary = {"data": a.data, "budget": a.budget, "judge_profile": a.judge_profile, "n": a.n, "reps": a.reps,
               "population": rows[0]["population"], "truth": rows[0]["truth"], "covered": covered,
               "mean_abs_error": sum(err) / len(err), "max_abs_error": max(err),
               "mean_width": sum(width) / len(width), "rows": rows}
    (out / "audit_truth.json").write_text(json.dumps(summary, indent=2))
    print(f"{Path(a.data).stem}: {a.n} audited of {summary['population']:,} labeled pool texts, true accuracy "
          f"{summary['truth']:.4f}; interval covered the truth {covered}/{a.reps}; mean |error| "
          f"{summary['mean_abs_error']:.4f} (max {summary['max_abs_error']:.4f}); mean interval width "
          f"{summary['mean_width']:.4f}")


if __name__ == "__main__":
    main()
