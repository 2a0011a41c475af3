"""The embedded (or an openai) judge measured on BANKING77 seeds, binary vs choose questions.

Both measurements are the ones a run makes before applying any verdict (no gold needed):
binary — each seed under its own and its most plausible wrong label; choose — each seed
with its own label among the top k candidates and without it.

    PYTHONPATH=. python bench/judge_choose_profile.py --n 20 [--k 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from red_app.workflows.bench import load_dataset, split_indices
from red_app.judges.factory import make_judge
from red_app.method.delegation import calibrate, calibrate_choice
from red_app.method.loop import LoopData, LoopState
from red_app.project.embed import set_threads


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/banking77.parquet")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    a = ap.parse_args()
    set_threads()
    meta, X = load_dataset(a.data, "bench/out/cache")
    seed_rows, _, _ = split_indices(meta, "shot10")
    names = sorted(meta["label"].unique().tolist())
    li = {n: k for k, n in enumerate(names)}
    y = np.array([li[v] for v in meta["label"].to_numpy()[seed_rows]])
    texts = meta["text"].tolist()
    data = LoopData(ids=[str(i) for i in seed_rows], texts=[texts[i] for i in seed_rows], X=X[seed_rows],
                    label_names=names)
    state = LoopState(y=y)
    judge = make_judge("embedded", model=a.model, threads=a.threads)
    out = {}
    for q in ("binary", "choose"):
        t = time.perf_counter()
        cal = (calibrate(data, state, judge, n=a.n) if q == "binary"
               else calibrate_choice(data, state, judge, n=a.n, k=a.k))
        d = cal.to_dict()
        d["seconds"] = time.perf_counter() - t
        out[q] = d
        print(f"{q}: {cal.summary()} ({d['seconds']:.0f} s)", flush=True)
        if cal.choice:
            c = cal.choice
            print(f"  choose: offered, picked the right label {c.hits}/{c.n_present}, none {c.none_present}; "
                  f"not offered, none {c.none_absent}/{c.n_absent}, picks by rank {list(c.picks_absent)}", flush=True)
    print(json.dumps(out, default=float)[:2000])


if __name__ == "__main__":
    main()
