"""How far a judge agrees with hidden gold on real predictions: `red judge-eval`."""

from __future__ import annotations

import statistics
import time

import numpy as np

from .errors import RedError
from .inputs import load_inputs
from .judges.base import Judge
from .method.classifiers import FlatClassifier, default_estimator
from .method.config import DEFAULTS
from .method.questions import build_request
from .project.store import Project


def judge_eval(project: Project, judge: Judge, n: int = 100, seed: int = 0) -> dict:
    """Ask ``judge`` about ``n`` model predictions on pool samples with hidden gold.

    Predictions come from a flat model on the current labels, so about as many are right
    as in a real run; the judge sees exactly the request a run would send.
    """
    data, state = load_inputs(project)
    if data.gold is None:
        raise RedError("judge-eval needs samples with hidden gold: import a labeled file with --mode hidden-gold")
    cand = np.flatnonzero((data.gold >= 0) & (state.y < 0))
    if not len(cand):
        raise RedError("no unlabeled pool sample has a hidden gold label")
    rng = np.random.default_rng(seed)
    pick = rng.choice(cand, size=min(n, len(cand)), replace=False)
    lab = state.y >= 0
    model = FlatClassifier(estimator=default_estimator(), n_labels=len(data.label_names)).fit(data.X[lab], state.y[lab])
    pred = model.predict(data.X[pick])
    reqs = [build_request(data, state, int(i), int(p), c_examples=DEFAULTS.c_examples) for i, p in zip(pick, pred)]
    t0 = time.perf_counter()
    verdicts = judge.judge_many(reqs)
    wall = time.perf_counter() - t0
    truth = np.array([data.gold[i] == p for i, p in zip(pick, pred)])
    ok = np.array([v.valid is not None for v in verdicts])
    said = np.array([bool(v.valid) for v in verdicts])
    tp = int((said & truth & ok).sum())
    lat = [v.latency_ms for v in verdicts if v.valid is not None and not v.cached]
    result = {
        "judge": judge.describe(), "asked": len(reqs), "answered": int(ok.sum()), "errors": int((~ok).sum()),
        "predictions_correct": float(truth.mean()),
        "accuracy": float((said[ok] == truth[ok]).mean()) if ok.any() else None,
        "precision_valid": tp / max(int((said & ok).sum()), 1),
        "recall_valid": tp / max(int((truth & ok).sum()), 1),
        "median_latency_ms": statistics.median(lat) if lat else None,
        "seconds": wall,
        "model": judge.model,
    }
    if not project.read_only:
        # remembered, so wherever this judge is chosen its measured agreement is shown
        import json

        project.set_setting(f"judge_eval:{judge.kind}:{judge.model}", json.dumps(result))
    return result


def remembered(project: Project, kind: str, model: str | None) -> dict | None:
    import json

    raw = project.get_setting(f"judge_eval:{kind}:{model}")
    return json.loads(raw) if raw else None
