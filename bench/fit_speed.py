"""One flat-model fit on a project's seeds, as a run's first fit does (for farm-bench pairs).

    farm-bench -n 3 --warmup 0 --timeout 900 -- env PYTHONPATH=. python bench/fit_speed.py P.duckdb \
        --vs "env PYTHONPATH=/tmp/before python bench/fit_speed.py P.duckdb"

Loads the project's inputs, fits the loop's selector on the labeled samples from the scaled
label centroids (no self-training, no fit cache) with BLAS on one thread, and prints the
seconds of the fit and its lbfgs iterations. Run it against two checkouts of red to compare
their fits side by side (the project is only read).
"""

from __future__ import annotations

import sys
import time

from red_app.workflows.inputs import load_inputs
from red_app.method.config import LoopConfig
from red_app.method.model import RedModel
from red_app.project.embed import set_threads
from red_app.project.store import Project

if __name__ == "__main__":
    set_threads(1, torch=False)
    with Project(sys.argv[1], read_only=True) as p:
        data, state = load_inputs(p)
    t0 = time.perf_counter()
    model = RedModel.from_config(LoopConfig(self_training=None), len(data.label_names), "flat").fit(data.X, state.y)
    print(f"fit: {time.perf_counter() - t0:.1f} s, {int(model.classifier_.estimator_.n_iter_[0])} lbfgs iterations, "
          f"{len(data.label_names)} labels, {int((state.y >= 0).sum())} rows")
