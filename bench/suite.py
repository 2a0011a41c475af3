"""The benchmark protocol (issue 21): every dataset × judge × person budget × seed draw, each
a `red bench` run of red and the two flat baselines (same judge, budget, question form,
delegation and final model), one JSON per cell under bench/results/suite/ (kept in the
repository, without the per-text lists; the logs go to bench/out/suite-logs/).
`bench/tables.py` turns them into the README's and bench/REPORT.md's tables.

    PYTHONPATH=. .venv/bin/python bench/suite.py            # everything (hours on 2 cores)
    PYTHONPATH=. .venv/bin/python bench/suite.py --quick    # BANKING77, 3 seeds, perfect and 90% judges
    PYTHONPATH=. .venv/bin/python bench/suite.py --evaluate valid --set precision_target=0.8 --out DIR

Seeds are drawn per class (10 each) with the cell's seed, which also sets every random state
(UMAP, folds, the simulated experts' coins): three draws, not three reruns of one draw.
Settings are chosen with ``--evaluate valid``; the default cells measure test. A cell whose
JSON exists is skipped (``--force`` reruns it), so an interrupted suite goes on where it stopped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from red_app.method.config import overrides_from_strings  # noqa: E402
from red_app.judges.simulated import parse_profile  # noqa: E402
from red_app.workflows.bench import run_bench, save_json  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
# dataset → (judge-call budget, proposals per iteration): 20 calls per label for the intent
# sets, 10 for O*NET's 1,010 labels, asked 1,000 at a time (50 iterations of 200 took 25 min per method)
DATASETS = {"banking77": (1540, 200), "clinc150": (3000, 200), "onet1000": (10000, 1000)}
# O*NET's cells: the perfect and the 90%-right judge (each cell runs three methods for ~20 min)
ONET_JUDGES = ("perfect", "sym90")
# (name, simulated judge, person budget as a share of the judge's)
JUDGES = [
    ("perfect", dict(judge_accuracy=1.0), 0.0),
    ("sym90", dict(judge_accuracy=0.9), 0.0),
    ("sym90+person", dict(judge_accuracy=0.9), 0.1),
    ("realistic", dict(profile="realistic"), 0.0),
    ("realistic+person", dict(profile="realistic"), 0.1),
    ("embedded-1.5b+person", dict(profile="embedded-1.5b"), 0.1),
]
QUICK = dict(datasets=["banking77"], judges=["perfect", "sym90", "sym90+person"])
METHODS = ("red", "flat_random", "flat_entropy")


def cells(datasets, judges, seeds):
    for ds in datasets:
        for name, judge, person in JUDGES:
            if name in judges and (ds != "onet1000" or name in ONET_JUDGES):
                for seed in seeds:
                    yield ds, name, judge, person, seed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="BANKING77 with the perfect and the 90%% judge")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--judges", default=",".join(j[0] for j in JUDGES))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--evaluate", choices=("test", "valid"), default="test")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE", help="a loop setting for every method")
    ap.add_argument("--out", default=None, help="where the cells' JSON go (default bench/results/suite for test; "
                    "a run on valid or with --set must name its own folder)")
    ap.add_argument("--cache-dir", default=str(ROOT / "bench" / "out" / "cache"))
    ap.add_argument("--methods", default=",".join(METHODS), help="red and the baselines it is compared with")
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
    datasets = QUICK["datasets"] if a.quick else a.datasets.split(",")
    judges = QUICK["judges"] if a.quick else a.judges.split(",")
    seeds = [int(s) for s in a.seeds.split(",")]
    overrides = overrides_from_strings(a.set)
    if a.out is None and (a.evaluate != "test" or a.set):
        ap.error("--evaluate valid and --set runs choose settings: give them their own --out folder")
    out, logs = Path(a.out or ROOT / "bench" / "results" / "suite"), ROOT / "bench" / "out" / "suite-logs"
    out.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    for ds, name, judge, person, seed in cells(datasets, judges, seeds):
        path = out / f"{ds}_{name}_s{seed}.json"
        if path.exists() and not a.force:
            continue
        budget, batch = DATASETS[ds]
        t = time.perf_counter()
        kw = dict(judge)
        profile = parse_profile(kw.pop("profile")) if "profile" in kw else None
        with open(logs / f"{path.stem}.log", "w") as log:
            res = run_bench(str(DATA / f"{ds}.parquet"), seeds="10", budget=budget, batch=batch, seed=seed,
                            methods=tuple(a.methods.split(",")), cache_dir=a.cache_dir, evaluate=a.evaluate,
                            profile=profile, person_budget=round(person * budget), config_overrides=overrides,
                            shared_overrides=True, log=lambda m: print(m, file=log, flush=True), **kw)
        res.update({"cell": {"dataset": ds, "judge": name, "person_share": person, "seed": seed,
                             "settings": a.set or []}})
        save_json({k: v for k, v in res.items() if not k.endswith("_test_correct")}, path)
        figures = ", ".join(f"{m} {res[f'{m}_accuracy']:.4f}" for m in a.methods.split(","))
        print(f"{path.name}: {figures} ({time.perf_counter() - t:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
