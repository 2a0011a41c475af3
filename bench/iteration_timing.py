"""Time one full R.E.D. iteration at scale, on random unit vectors (timing only).

    .venv/bin/python bench/iteration_timing.py            # 1000 classes x 50 seeds, 100k pool
    .venv/bin/python bench/iteration_timing.py --grid     # growth with classes and pool size

One iteration = fit the selector, predict the pool, rank, select, judge a batch of 200
with the simulated expert, update the state. The flat model warm-starts from the previous
iteration's solution, so its first iteration is slower than the rest: both are printed.
"""

import argparse
import time

import numpy as np

from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.method.loop import LoopData, LoopState, RedLoop
from red_app.project.embed import set_threads


def iterations(classes: int, seeds: int, pool: int, dim: int = 384, n_iter: int = 3, **cfg) -> list[float]:
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
    loop = RedLoop(LoopConfig(budget=200 * n_iter, batch=200, patience=None, on_reject="skip", **cfg),
                   SimulatedJudge(gold))
    loop.label_partition(data, state)  # UMAP + subsets once per run, timed apart
    out = []
    t = time.perf_counter()
    for _ in loop.run(data, state):
        out.append(time.perf_counter() - t)
        t = time.perf_counter()
    return out


def show(label: str, times: list[float]) -> None:
    rest = times[1:]
    print(f"{label}: first {times[0]:.1f} s, then {sum(rest) / len(rest):.1f} s / iteration "
          f"({', '.join(f'{x:.1f}' for x in times)})", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", action="store_true")
    a = ap.parse_args()
    set_threads()
    if a.grid:
        for classes, pool in [(100, 10_000), (300, 10_000), (1000, 10_000), (1000, 30_000), (1000, 100_000)]:
            for sel in ("flat", "red"):
                show(f"classes {classes:>5}  pool {pool:>7}  selector {sel:<4}",
                     iterations(classes, 50, pool, selector=sel, final_model=sel, self_training=None))
    else:
        for sel in ("red", "flat"):
            show(f"1000 classes x 50 seeds, 100k pool, selector {sel}",
                 iterations(1000, 50, 100_000, selector=sel, final_model=sel, self_training=None))
