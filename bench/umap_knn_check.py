"""Check that red's UMAP (precomputed small-data neighbours) gives the same maps as plain UMAP.

    python bench/umap_knn_check.py bench/out/onet_timing/onet1000.duckdb   # built by bench/onet_timing.py

Prints, for the project's label centroids and samples of them (and random vectors),
whether the coordinates (dimensions 2 and 5) and the greedy subsets are identical, with
both timings (UMAP warmed first).
"""
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import umap

from red_app.workflows.inputs import load_inputs
from red_app.method import subsets as S
from red_app.method.subsets import greedy_dissimilar, label_centroids
from red_app.project.store import Project

S.warm_umap(background=False)
work = Path(tempfile.mkdtemp()) / "copy.duckdb"  # a copy: opening may upgrade the schema
shutil.copyfile(sys.argv[1], work)
with Project(work) as p:
    data, state = load_inputs(p)
lab = state.y >= 0
cent = label_centroids(data.X[lab], state.y[lab], len(data.label_names))
def old(c, k_comp, rs=0):
    n = len(c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return umap.UMAP(n_components=k_comp, metric="cosine", n_neighbors=min(15, n - 1), min_dist=0.1,
                         random_state=rs, init="random" if n < 2 * k_comp + 4 else "spectral").fit_transform(c).astype(np.float32)
rng = np.random.default_rng(1)
cases = {"onet1010": cent, "onet150": cent[rng.choice(len(cent), 150, replace=False)],
         "onet77": cent[rng.choice(len(cent), 77, replace=False)], "onet30": cent[:30],
         "rand300": rng.normal(size=(300, 384)).astype(np.float32)}
cases["rand300"] /= np.linalg.norm(cases["rand300"], axis=1, keepdims=True)
for name, c in cases.items():
    for k in (2, 5):
        t = time.perf_counter(); a = old(c, k); t1 = time.perf_counter(); b = S.reduce(c, k); t2 = time.perf_counter()
        same = np.array_equal(a, b)
        print(f"{name:9} dim {k}: identical={same} max|diff|={np.abs(a-b).max():.2g} old {t1-t:.2f} s new {t2-t1:.2f} s", flush=True)
        if k == 5:
            print("   greedy subsets identical:", greedy_dissimilar(a, 10) == greedy_dissimilar(b, 10))
