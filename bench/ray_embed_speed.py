"""Ray Data engine throughput, 1 against 2 actors, beside the local engines, in one run.

    flock /work/heavy.lock python bench/ray_embed_speed.py [--n 4000]

Each run embeds ``--n`` CLINC150 texts into a fresh project with ``red embed``'s own
code (``embed_project``), so the figures include the project writes; the Ray figures
include starting the actors (each loads the model) but not starting Ray itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from red_app.project.dataio import import_file  # noqa: E402
from red_app.project.embed import embed_project  # noqa: E402
from red_app.project.encoders import load_model, onnx_encoder  # noqa: E402
from red_app.project.store import Project  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "clinc150.parquet"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "texts.parquet"
    df = pd.read_parquet(DATA, columns=["text", "label"]).sample(a.n, random_state=0)
    df.to_parquet(src)
    import ray

    t = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    print(f"ray.init: {time.perf_counter() - t:.1f} s")
    load_model(), onnx_encoder()
    runs = [("local torch", "torch", None), ("local onnx", "onnx", None),
            ("ray, 1 actor", "ray", 1), ("ray, 2 actors", "ray", 2)]
    for name, engine, workers in runs:
        path = tmp / f"{engine}{workers}.duckdb"
        with Project(path, create=True) as p:
            import_file(p, src, mode="hidden-gold", max_chars=10**6)
            rep = embed_project(p, engine=engine, workers=workers)
        print(f"  {name:14s} {rep.computed} texts in {rep.seconds:5.1f} s = {rep.texts_per_second:5.0f} texts/s"
              f"  ({rep.model})")
    ray.shutdown()


if __name__ == "__main__":
    main()
