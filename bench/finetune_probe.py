"""Fine-tune settings on a fixed labeled set, without the loop around them (issue #14).

Runs the default loop once with the perfect simulated judge (as `red bench --methods red`
does), keeps its final labeled set, fine-tunes MiniLM on it with the given settings and
reports test accuracy and the export's ECE for the linear probe on frozen and on
fine-tuned embeddings, with the fine-tune's and the embedding's time.

    flock /work/heavy.lock env PYTHONPATH=. python bench/finetune_probe.py banking77 1540 \
        --epochs 1 --batch-size 32 --lr 2e-5 --hold 0
"""

import argparse
import json
import tempfile
import time

import numpy as np

from red_app.workflows.bench import load_dataset, split_indices
from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.method.final import expected_calibration_error, predict_labels
from red_app.method.finetune import FinetuneSettings, finetune_encoder
from red_app.method.loop import LoopData, LoopState, RedLoop
from red_app.method.model import RedModel
from red_app.project.embed import encode, resolve_model_path, set_threads

ap = argparse.ArgumentParser()
ap.add_argument("dataset")
ap.add_argument("budget", type=int)
ap.add_argument("--epochs", type=int, default=1)
ap.add_argument("--batch-size", type=int, default=32)
ap.add_argument("--lr", type=float, default=2e-5)
ap.add_argument("--hold", type=float, default=0.0, help="share of seeds kept out of the fine-tune")
a = ap.parse_args()
set_threads()
meta, X = load_dataset(f"../shared/data/{a.dataset}.parquet", "bench/out/cache")
seed_rows, pool_rows, test_rows = split_indices(meta, "shot10", 0)
names = sorted(meta["label"].unique().tolist())
li = {n: k for k, n in enumerate(names)}
y_all = np.array([li[lab] for lab in meta["label"]])
tr = np.concatenate([seed_rows, pool_rows])
texts = meta["text"].tolist()
ids = [str(i) for i in tr]
data = LoopData(ids=ids, texts=[texts[i] for i in tr], X=X[tr], label_names=names, X_eval=X[test_rows],
                y_eval=y_all[test_rows])
state = LoopState(y=np.concatenate([y_all[seed_rows], np.full(len(pool_rows), -1)]))
cfg = LoopConfig(budget=a.budget, batch=200, patience=None, seed=0)
gold = {ids[k]: names[y_all[i]] for k, i in enumerate(tr)}
for rec in RedLoop(cfg, SimulatedJudge(gold, accuracy=1.0, seed=0)).run(data, state):
    pass
n_seed = len(seed_rows)
y_ft = state.y.copy()
hold = np.zeros(len(tr), bool)
if a.hold > 0:
    hold[:n_seed] = np.random.default_rng(0).random(n_seed) < a.hold
    y_ft[hold] = -1
settings = FinetuneSettings(epochs=a.epochs, batch_size=a.batch_size, learning_rate=a.lr)
with tempfile.TemporaryDirectory() as tmp:
    rep = finetune_encoder(resolve_model_path("all-MiniLM-L6-v2"), data.texts, y_ft, tmp, settings)
    t = time.perf_counter()
    E = encode(list(data.texts) + [texts[i] for i in test_rows], model=tmp)
    t_emb = time.perf_counter() - t
res = {"dataset": a.dataset, **settings.to_dict(), "hold": a.hold, "labeled": int((state.y >= 0).sum()),
       "finetune_texts": rep.texts, "finetune_s": rep.seconds, "embed_s": t_emb, "embed_texts": len(E)}
seeds = np.arange(len(tr)) < n_seed
for tag, XX, XE in (("frozen", X[tr], X[test_rows]), ("finetuned", E[: len(tr)], E[len(tr):])):
    d = LoopData(ids=ids, texts=data.texts, X=XX, label_names=names, X_eval=XE, y_eval=y_all[test_rows])
    model = RedModel.from_config(cfg, len(names), "flat").fit(d.X, state.y, state.excluded)
    res[f"{tag}_test"] = float((model.predict(XE) == y_all[test_rows]).mean())
    for ref_tag, ref in (("seeds", seeds), ("held", hold)):
        if ref.sum() < 2 * len(names):
            continue
        ml = predict_labels(cfg, d, state, reference=ref)
        ok = ml.label == y_all[tr][ml.index]
        res[f"{tag}_ece_{ref_tag}"] = expected_calibration_error(ml.confidence, ok)
print(json.dumps(res))
