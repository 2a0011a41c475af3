"""Open world, before any run (issue 20): with seeds for only some labels, how well do the
seeds alone tell the pool's texts that fit no label, and do those texts come back as groups?

    python bench/open_world.py --data ../shared/data/clinc150.parquet --unseen 30 --draws 3 \
        --split valid --cache-dir /tmp/benchcache

Per draw (the unseen labels drawn with a fixed seed): the known texts are the 10-shot seeds
of the seen labels (or ``--seeds-per-label`` drawn per label where the set has no shot10);
the pool is ``--split`` (valid to choose settings, test once) of every label. Reports the
share of in-scope pool texts flagged (the target is at most alpha), the share of no-label
texts flagged, ROC AUC of the p-value, and how many unseen labels come back as a group of
purity ≥ 0.8 holding ≥ 50% of that label's flagged-or-not pool texts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from red_app.method.open_world import DEFAULT_ALPHA, DEFAULT_K, DISCOVER_ALPHA, group_texts, min_group_for, out_of_scope  # noqa: E402
from red_app.workflows.bench import load_dataset  # noqa: E402


def one_draw(meta, X, unseen_n: int, draw: int, split: str, alpha: float, k: int, min_group: int | None,
             seeds_per_label: int, discover_alpha: float = DISCOVER_ALPHA, sure: bool = False) -> dict:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(draw)
    labels = np.array(sorted(meta.label.unique()))
    unseen = set(rng.choice(labels, size=unseen_n, replace=False))
    lab = meta.label.to_numpy()
    seen_row = ~np.isin(lab, list(unseen))
    if "shot10" in meta:
        seeds = meta.shot10.fillna(False).to_numpy(bool) & seen_row
    else:  # seeds drawn per label from train
        seeds = np.zeros(len(meta), bool)
        for name in labels:
            if name in unseen:
                continue
            rows = np.flatnonzero((lab == name) & (meta.split.to_numpy() == "train"))
            seeds[rng.choice(rows, size=min(seeds_per_label, len(rows)), replace=False)] = True
    pool = (meta.split.to_numpy() == split) & ~seeds
    use = seeds | pool
    Xu, known, lab_u = X[use], seeds[use], lab[use]
    t0 = time.perf_counter()
    oos = out_of_scope(Xu, known, alpha=alpha, k=k)
    t_score = time.perf_counter() - t0
    in_pool = ~known
    none = ~np.isin(lab_u, list(labels[~np.isin(labels, list(unseen))]))  # fits no project label
    flagged = oos.flagged
    out = {
        "draw": draw, "pool": int(in_pool.sum()), "no_label": int((none & in_pool).sum()),
        "in_scope_flagged": float(flagged[in_pool & ~none].mean()),
        "no_label_flagged": float(flagged[in_pool & none].mean()),
        "auc": float(roc_auc_score(none[in_pool], -oos.p[in_pool])),
        "score_s": t_score,
    }
    if sure:  # the export's sure labels: red's final model on the seeds, as `red predict` gives them
        from red_app.method.config import DEFAULTS
        from red_app.method.final import predict_labels
        from red_app.method.loop import LoopData, LoopState

        names = sorted(set(lab_u[known]))
        li = {n: k for k, n in enumerate(names)}
        y = np.array([li[x] if kn else -1 for x, kn in zip(lab_u, known)], dtype=np.int64)
        data = LoopData(ids=[str(i) for i in range(len(y))], texts=[""] * len(y), X=Xu, label_names=names)
        ml = predict_labels(DEFAULTS, data, LoopState(y=y))
        conf = np.full(len(y), np.nan)
        conf[ml.index] = ml.confidence
        sure_all = in_pool & (conf >= 0.9)
        sure_kept = sure_all & ~flagged  # what a `needs_review == False` filter keeps
        out.update({"sure": int(sure_all.sum()), "sure_no_label": float(none[sure_all].mean()),
                    "sure_kept": int(sure_kept.sum()), "sure_kept_no_label": float(none[sure_kept].mean())})
    # groups among the texts discovery looks at (p below its wider level)
    idx = np.flatnonzero((oos.p < discover_alpha) & in_pool)
    if min_group is None:
        min_group = min_group_for(int(in_pool.sum()), len(labels) - unseen_n)
    out["min_group"] = min_group
    t0 = time.perf_counter()
    groups = group_texts(Xu[idx], [str(t) for t in meta.text.to_numpy()[use][idx]], min_group=min_group, seed=draw)
    out["group_s"] = time.perf_counter() - t0
    found = 0
    pure = 0
    for name in unseen:
        total = int(((lab_u == name) & in_pool).sum())
        hit = False
        for g in groups:
            g_lab = lab_u[idx[g.members]]
            share = float((g_lab == name).mean())
            if share >= 0.8 and (g_lab == name).sum() >= 0.5 * total:
                hit = True
        found += hit
    for g in groups:
        g_lab = lab_u[idx[g.members]]
        vals, counts = np.unique(g_lab, return_counts=True)
        pure += counts.max() / len(g_lab) >= 0.8
    out.update({"unseen": unseen_n, "groups": len(groups), "groups_pure": int(pure), "unseen_found": found,
                "grouped_share": float(sum(len(g.members) for g in groups) / max(len(idx), 1))})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--unseen", type=int, default=30)
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--first-draw", type=int, default=0, help="draws 0-2 chose the settings; check on others")
    ap.add_argument("--split", default="valid", choices=["train", "valid", "test"])
    ap.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
    ap.add_argument("--k", type=int, default=DEFAULT_K)
    ap.add_argument("--min-group", type=int, default=None, help="default: min_group_for(pool, labels)")
    ap.add_argument("--discover-alpha", type=float, default=DISCOVER_ALPHA)
    ap.add_argument("--seeds-per-label", type=int, default=10)
    ap.add_argument("--cache-dir", default="bench/out/cache")
    ap.add_argument("--sure", action="store_true",
                    help="also: the share of no-label texts among model labels at confidence >= 0.9, with and "
                    "without the out-of-scope texts")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    meta, X = load_dataset(a.data, a.cache_dir)
    rows = [one_draw(meta, X, a.unseen, d, a.split, a.alpha, a.k, a.min_group, a.seeds_per_label,
                     a.discover_alpha, a.sure) for d in range(a.first_draw, a.first_draw + a.draws)]
    for r in rows:
        print(json.dumps(r))
    keys = ["in_scope_flagged", "no_label_flagged", "auc", "unseen_found", "groups", "groups_pure"]
    keys += ["sure", "sure_no_label", "sure_kept", "sure_kept_no_label"] if a.sure else []
    mean = {key: float(np.mean([r[key] for r in rows])) for key in keys}
    sd = {key: float(np.std([r[key] for r in rows], ddof=1)) if len(rows) > 1 else 0.0 for key in keys}
    print("mean", json.dumps(mean))
    print("sd", json.dumps(sd))
    if a.json:
        Path(a.json).write_text(json.dumps({"args": vars(a), "draws": rows, "mean": mean, "sd": sd}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
