"""Discovery after a run (issue 20): how many unseen labels come back as a group (purity >= 0.8,
>= 50% of their pool texts) for each look-set level and smallest-group share, on draws that
choose settings (not the reported 0-2). Runs the default loop once per draw, then UMAP once per
level and HDBSCAN per share.

    python bench/discover_grid.py ../shared/data/clinc150.parquet 30 10,11
"""
import sys
import numpy as np
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parents[1]))
from red_app.workflows.bench import bench_set
from red_app.project.embed import cache_key, DEFAULT_MODEL
from red_app.method.config import LoopConfig
from red_app.method.loop import RedLoop
from red_app.judges.simulated import SimulatedJudge
from red_app.workflows.bench_open import unseen_found
from red_app.method.open_world import out_of_scope, _unit
from sklearn.cluster import HDBSCAN
import umap

data_path, unseen_n, seeds = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split(',')]
res = {}
for s in seeds:
    b = bench_set(data_path, "shot10", s, "/tmp/benchcache", cache_key(DEFAULT_MODEL, "torch"), unseen=unseen_n)
    cfg = LoopConfig(budget=1000, batch=200, patience=None, seed=s)
    state = b.start()
    loop = RedLoop(cfg, SimulatedJudge(b.gold, seed=s))
    for _ in loop.run(b.data, state):
        pass
    known = state.y >= 0
    none = np.zeros(len(known), bool); none[list(state.none)] = True
    p = out_of_scope(b.data.X, known, none=none).p
    pool_names = np.asarray([b.gold[i] for i in b.data.ids], dtype=object)
    unl = int((state.y < 0).sum())
    for alpha in (0.2, 0.35, 0.5, 0.65):
        look = np.flatnonzero((state.y < 0) & ((p < alpha) | none))
        U = _unit(b.data.X[look])
        Z = umap.UMAP(n_components=5, n_neighbors=15, min_dist=0.0, metric="cosine", random_state=s, n_jobs=1).fit_transform(U)
        truth = pool_names[look]
        for factor in (0.1, 0.15, 0.25, 0.4):
            mg = max(8, round(factor * unl / len(b.names)))
            lab = HDBSCAN(min_cluster_size=mg, min_samples=min(5, mg)).fit(Z).labels_
            groups = [np.flatnonzero(lab == c) for c in np.unique(lab) if c >= 0]
            found = unseen_found(groups, truth, b.unseen, pool_names)
            res.setdefault((alpha, factor), []).append(found)
            print(s, alpha, factor, mg, len(look), len(groups), found, flush=True)
for k, v in sorted(res.items()):
    print(k, v, np.mean(v))
