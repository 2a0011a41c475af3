"""Time the Texts search (red texts / the Texts page) on 100k texts.

    PYTHONPATH=. .venv/bin/python bench/texts_search.py [--samples 100000] [--repeat 7]

Builds a project of CLINC150's 22,500 texts replicated with a numeric suffix up to
``--samples`` texts (shot10 seeds labeled, the rest a hidden-gold pool), and gives every
pool text a model label with a made-up confidence (``model_labels``, as `red predict`
writes them), so the search joins what it joins in real use. Search needs no embeddings.
Prints the median time of ``search_texts`` (one page of 100) and ``count_texts`` for a
few queries, alone and with filters, warm.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from red_app.project.dataio import import_file
from red_app.project.store import Project
from red_app.workflows.texts import count_texts, search_texts

CLINC = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150.parquet"


def build(path: Path, n: int) -> None:
    src = duckdb.sql(f"SELECT text, label, shot10 FROM read_parquet('{CLINC}') ORDER BY split, text").to_arrow_table()
    reps = -(-n // src.num_rows)
    texts, labels, seed = [], [], []
    for r in range(reps):
        texts += [t if r == 0 else f"{t} ({r})" for t in src.column("text").to_pylist()]
        labels += src.column("label").to_pylist()
        seed += [bool(s) and r == 0 for s in src.column("shot10").to_pylist()]
    tbl = pa.table({"text": texts[:n], "label": labels[:n], "seed": seed[:n]})
    tmp = Path(tempfile.mkdtemp(prefix="red-bench-"))
    pq.write_table(tbl.filter(pa.array(seed[:n])), tmp / "seeds.parquet")
    pq.write_table(tbl.filter(pa.array([not s for s in seed[:n]])), tmp / "pool.parquet")
    with Project(path, create=True) as p:
        import_file(p, tmp / "seeds.parquet")
        import_file(p, tmp / "pool.parquet", mode="hidden-gold")
        pool = p.samples(role="pool", columns="id, gold_label")
        rng = np.random.default_rng(0)
        names = p.labels()
        wrong = rng.random(len(pool)) < 0.15
        guess = [names[rng.integers(len(names))] if w else g for w, g in zip(wrong, pool.gold_label)]
        conf = np.clip(rng.beta(5, 1.5, len(pool)), 0, 1)
        p.save_model_labels(None, "bench", 1.0, 0, pa.table({
            "sample_id": pa.array(pool.id.tolist(), pa.string()),
            "label": pa.array(guess, pa.string()),
            "confidence": pa.array(conf, pa.float64()),
            "alternatives": pa.array([[names[0], names[1]]] * len(pool), pa.list_(pa.string())),
            "alternative_confidences": pa.array([[0.1, 0.05]] * len(pool), pa.list_(pa.float64())),
        }))


def median_s(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    path = Path(tempfile.mkdtemp(prefix="red-bench-")) / "texts.duckdb"
    t = time.perf_counter()
    build(path, a.samples)
    print(f"built {a.samples:,} texts in {time.perf_counter() - t:.1f} s")
    with Project(path, read_only=True) as p:
        label = p.labels()[0]
        cases = [
            ("no filter", {}),
            ("search 'card'", {"query": "card"}),
            ("search 'transfer money'", {"query": "transfer money"}),
            ("search '100%' (literal, no match)", {"query": "100%"}),
            ("search 'card' + origin model + confidence 0.5-0.9", {"query": "card", "origin": ["model"],
                                                                 "band": (0.5, 0.9)}),
            (f"label {label!r} + not waiting for review", {"label": label, "needs_review": False}),
            ("search 'the' sorted by id", {"query": "the", "sort": "id"}),
        ]
        print(f"{'case':<52} {'matches':>8} {'page of 100':>12} {'count':>8}")
        worst = 0.0
        for name, kw in cases:
            sort = kw.pop("sort", "confidence")
            s = median_s(lambda: search_texts(p, **kw, sort=sort, limit=100), a.repeat)
            c = median_s(lambda: count_texts(p, **kw), a.repeat)
            worst = max(worst, s, c)
            print(f"{name:<52} {count_texts(p, **kw):>8,} {s:>10.3f} s {c:>6.3f} s")
        print(f"slowest median: {worst:.3f} s (target ≤ 0.5 s)")


if __name__ == "__main__":
    main()
