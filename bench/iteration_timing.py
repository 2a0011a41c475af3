"""Time one full R.E.D. iteration at scale, on random unit vectors (timing only).

    .venv/bin/python bench/iteration_timing.py            # 1000 classes x 50 seeds, 100k pool
    .venv/bin/python bench/iteration_timing.py --grid     # growth with classes and pool size

One iteration = fit the selector (and the final model when self-training is on), predict
the pool, rank, select, judge a batch with the simulated expert, update the state.
"""

import argparse
import time

import numpy as np

from red_app.embed import set_threads
from red_app.judges.simulated import SimulatedJudge
from red_app.loop import LoopConfig, LoopData, LoopState, RedLoop


def one_iteration(classes: int, seeds: int, pool: int, dim: int = 384, **cfg) -> float:
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(classes, dim)).astype(np.float32)
    y_seed = np.repeat(np.arange(classes), seeds)
    y_pool = rng.integers(0, classes, pool)
    y_all = np.concatenate([y_seed, y_pool])
    X = centers[y_all] + rng.normal(scale=2.0, size=(len(y_all), dim)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    ids = [str(i) for i in range(len(X))]
    names = [f"label{k}" for k in range(classes)]
    data = LoopData(ids=ids, texts=ids, X=X, label_names=names)
    state = LoopState(y=np.concatenate([y_seed, np.full(pool, -1)]))
    gold = {ids[i]: names[y_all[i]] for i in range(len(y_seed), len(X))}
    loop = RedLoop(LoopConfig(budget=200, batch=200, patience=None, on_reject="skip", **cfg), SimulatedJudge(gold))
    loop._partition(data, state)  # UMAP + subsets once per run, timed apart
    t = time.perf_counter()
    next(loop.run(data, state))
    return time.perf_counter() - t


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", action="store_true")
    a = ap.parse_args()
    set_threads()
    if a.grid:
        for classes, pool in [(100, 10_000), (300, 10_000), (1000, 10_000), (1000, 30_000), (1000, 100_000)]:
            for sel in ("flat", "red"):
                s = one_iteration(classes, 50, pool, selector=sel, final_model=sel, self_training=None)
                print(f"classes {classes:>5}  pool {pool:>7}  selector {sel:<4}  {s:6.1f} s / iteration", flush=True)
    else:
        for sel in ("red", "flat"):
            s = one_iteration(1000, 50, 100_000, selector=sel, final_model=sel, self_training=None)
            print(f"1000 classes x 50 seeds, 100k pool, selector {sel}: {s:.1f} s / iteration", flush=True)
