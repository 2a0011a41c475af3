"""Fast (onnx) against plain (torch fp32, one thread) embeddings, side by side in one run.

    flock /work/heavy.lock python bench/embed_speed.py [--n 5000] [--rounds 2]

Prints texts/s of both paths (model already loaded; tokenization included), their
ratio, and the cosine of every fast vector to its fp32 vector over ``--n`` CLINC150
texts (a fixed random sample). The rounds interleave the two paths so a burst of other
work on the machine hits both; each path's best round is reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from red_app.project.encoders import OnnxEncoder, encode_torch, load_model, onnx_path, set_threads  # noqa: E402

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "clinc150.parquet"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--sessions", type=int, default=None, help="onnx sessions (default: one per core)")
    a = ap.parse_args()
    texts = pd.read_parquet(a.data, columns=["text"])["text"].tolist()
    rng = np.random.default_rng(0)
    texts = [texts[i] for i in rng.choice(len(texts), size=min(a.n, len(texts)), replace=False)]
    set_threads(1)
    t = time.perf_counter()
    onnx_path()  # exported once per machine; a fresh machine pays it here
    print(f"onnx model ready in {time.perf_counter() - t:.1f} s (cached: {onnx_path()})")
    load_model()
    fast = OnnxEncoder(sessions=a.sessions)
    one = OnnxEncoder(sessions=1)
    encode_torch(texts[:128]), fast.encode(texts[:128]), one.encode(texts[:128])  # warm
    rates = {"plain torch fp32, 1 thread": [], f"fast onnx, {len(fast.sessions)} session(s)": [],
             "fast onnx, 1 session": []}
    ref = out = None
    for _ in range(a.rounds):
        for name, fn in zip(rates, (encode_torch, fast.encode, one.encode)):
            t = time.perf_counter()
            v = fn(texts)
            rates[name].append(len(texts) / (time.perf_counter() - t))
            if name.startswith("plain"):
                ref = v
            elif out is None:
                out = v
    best = {k: max(v) for k, v in rates.items()}
    names = list(rates)
    cos = (ref * out).sum(1)
    print(f"{len(texts)} CLINC150 texts, {a.rounds} interleaved round(s), best of each:")
    for k in names:
        print(f"  {k:32s} {best[k]:7.0f} texts/s   (rounds: {', '.join(f'{r:.0f}' for r in rates[k])})")
    print(f"ratio fast/plain: {best[names[1]] / best[names[0]]:.2f}x"
          f"   (1 session: {best[names[2]] / best[names[0]]:.2f}x)")
    print(f"cosine fast vs fp32: min {cos.min():.4f}, mean {cos.mean():.5f}, "
          f"texts below 0.99: {(cos < 0.99).sum()} of {len(cos)}")


if __name__ == "__main__":
    main()
