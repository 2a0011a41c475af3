"""The benchmark: R.E.D. against flat baselines on the same embeddings, judge and budget.

Texts are embedded once through the product's own import and embed code into a cache
project (``--cache-dir``), then every method runs in memory on the same arrays.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..errors import RedError
from ..judges.simulated import ExpertProfile, SimulatedJudge
from ..method.classifiers import FlatClassifier, default_estimator
from ..method.config import LoopConfig
from ..method.final import expected_calibration_error, predict_labels
from ..method.loop import LoopData, LoopState, RedLoop
from ..method.model import RedModel
from ..project.dataio import import_file
from ..project.embed import DEFAULT_MODEL, cache_key, embed_project, set_threads
from ..project.store import Project
from .bench_sink import BenchSink

# The article's design, kept as a named option: subset classifiers select by entropy,
# a rejected sample waits for the next iteration, no self-training.
ARTICLE = dict(selector="red", final_model="red", uncertainty="entropy", on_reject="skip",
               self_training=None, noise="random", selection="uncertain")
# The flat baselines differ from red only in what they ask about (issue 21): the same question
# form, delegation, final model and self-training, so a difference is the selection's.
FLAT_ENTROPY = dict(selector="flat", selection="uncertain", uncertainty="entropy")
FLAT_RANDOM = dict(selector="flat", selection="random")


def load_dataset(path: str | Path, cache_dir: str | Path, model: str = DEFAULT_MODEL, progress=None):
    """(texts, labels, split, shot10 or None, X) for a benchmark Parquet file."""
    path = Path(path)
    if not path.exists():
        raise RedError(f"no dataset at {path}; the shared benchmark data lives in ../shared/data/")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir / f"{path.stem}.duckdb"
    if not cache.exists() or not _complete(cache, model):
        with Project(cache, create=True) as p:
            if not p.sample_count():
                import_file(p, path, mode="hidden-gold", max_chars=10**6)
            embed_project(p, model=model, progress=progress)
    # read-only from here, so several benchmarks can share one cache at once
    with Project(cache, read_only=True) as p:
        df = p.samples(columns="id, gold_label")
        ids, X = p.embedding_matrix(model)
    cols = pq.read_schema(path).names
    extra = ["split"] + [c for c in ("shot5", "shot10") if c in cols]
    meta = pd.read_parquet(path, columns=["text", "label", *extra])
    if ids != df["id"].tolist() or len(ids) != len(meta):
        raise RedError(f"embedding cache {cache} is out of step with {path}; delete it and run again")
    return meta, X


def _complete(cache: Path, model: str) -> bool:
    try:
        with Project(cache, read_only=True) as p:
            n = p.sample_count()
            return n > 0 and len(p.embedding_matrix(model)[0]) == n
    except RedError:
        return False


VALID_SHARE = 0.1  # a dataset without a valid split: this share of each label's train rows is held out


def held_out_valid(meta) -> np.ndarray:
    """Valid rows for a dataset that has none (O*NET): a fixed 10% of each label's train rows
    (labels with at least 10), the same draw whatever the run's seed."""
    train = np.flatnonzero((meta["split"] == "train").to_numpy())
    labels = meta["label"].to_numpy()[train]
    rng = np.random.default_rng(20261208)
    out = []
    for lab in np.unique(labels):
        rows = train[labels == lab]
        if len(rows) >= 10:
            out.extend(rng.permutation(rows)[: int(len(rows) * VALID_SHARE)].tolist())
    return np.sort(np.asarray(out, dtype=np.int64))


def split_indices(meta, seeds: str, seed: int = 0, evaluate: str = "test"):
    """Seed, pool and evaluation row indices. ``seeds`` is a column name (shot10) or a count;
    ``evaluate`` is the split measured: test (reported once, for the final settings) or valid
    (where settings are chosen; carved out of train where the dataset has none)."""
    if evaluate not in ("test", "valid"):
        raise RedError(f"--evaluate must be test or valid, not {evaluate!r}")
    train = np.flatnonzero((meta["split"] == "train").to_numpy())
    test = np.flatnonzero((meta["split"] == evaluate).to_numpy())
    if evaluate == "valid" and not len(test):
        test = held_out_valid(meta)
        train = np.setdiff1d(train, test)
    if seeds.isdigit():
        k = int(seeds)
        rng = np.random.default_rng(seed)
        labels = meta["label"].to_numpy()[train]
        chosen = []
        for lab in np.unique(labels):
            rows = train[labels == lab]
            chosen.extend(rng.permutation(rows)[:k].tolist())
        seed_rows = np.sort(np.asarray(chosen))
    else:
        if seeds not in meta.columns:
            raise RedError(f"the dataset has no column {seeds!r}; pass --seeds N to sample N per class")
        seed_rows = np.intersect1d(train, np.flatnonzero(meta[seeds].to_numpy(bool)))
    pool_rows = np.setdiff1d(train, seed_rows)
    return seed_rows, pool_rows, test


def _accuracy(model, X, y) -> float:
    return float((model.predict(X) == y).mean())


@dataclass
class BenchSet:
    """One dataset split for a benchmark: seeds then pool as the loop's data, the test set."""

    data: LoopData
    y_all: np.ndarray       # label index of every row of the dataset
    names: list[str]
    seed_rows: np.ndarray
    pool_rows: np.ndarray
    test_rows: np.ndarray
    texts: list[str]
    gold: dict              # sample id → label name (seeds and pool)
    X: np.ndarray
    unseen: list[str] = field(default_factory=list)  # labels left out of the project (open world)
    test_unseen_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_seed(self) -> int:
        return len(self.seed_rows)

    @property
    def train_rows(self) -> np.ndarray:
        return np.concatenate([self.seed_rows, self.pool_rows])

    def start(self) -> LoopState:
        """The loop's state before any judge: seeds labeled, the pool not."""
        return LoopState(y=np.concatenate([self.y_all[self.seed_rows], np.full(len(self.pool_rows), -1)]))

    def test_accuracy(self, model) -> float:
        return _accuracy(model, self.X[self.test_rows], self.y_all[self.test_rows])


def unseen_labels(names: list[str], k: int, seed: int) -> list[str]:
    """The ``k`` labels an open-world benchmark leaves out of the project, drawn by ``seed``."""
    if not 0 <= k < len(names) - 1:
        raise RedError(f"--unseen-labels must leave at least 2 of the {len(names)} labels in the project")
    return sorted(np.random.default_rng(seed).choice(names, size=k, replace=False).tolist()) if k else []


def bench_set(data_path: str, seeds: str, seed: int, cache_dir: str, model_key: str, unseen: int = 0,
              drop_unseen: bool = False, evaluate: str = "test") -> BenchSet:
    """The dataset as the benchmark's project: seeds, pool and test. With ``unseen`` labels
    (an open world), those labels are not the project's: they have no seeds, their texts stay
    in the pool (fitting none of the labels) and accuracy counts the in-scope test texts.
    ``drop_unseen`` is the closed-world reference: the same seeds, and those texts removed."""
    meta, X = load_dataset(data_path, cache_dir, model=model_key)
    seed_rows, pool_rows, test_rows = split_indices(meta, seeds, seed, evaluate)
    all_names = sorted(meta["label"].unique().tolist())
    left_out = unseen_labels(all_names, unseen, seed)
    names = [n for n in all_names if n not in set(left_out)]
    li = {n: k for k, n in enumerate(names)}
    y_all = np.array([li.get(l, -1) for l in meta["label"]], dtype=np.int64)
    if left_out:  # an unseen label's seeds are pool texts like the rest of its texts
        pool_rows = np.sort(np.concatenate([pool_rows, seed_rows[y_all[seed_rows] < 0]]))
        seed_rows = seed_rows[y_all[seed_rows] >= 0]
        if drop_unseen:
            pool_rows = pool_rows[y_all[pool_rows] >= 0]
    test_unseen = test_rows[y_all[test_rows] < 0]
    test_rows = test_rows[y_all[test_rows] >= 0]
    train_rows = np.concatenate([seed_rows, pool_rows])
    texts = meta["text"].tolist()
    ids = [str(i) for i in train_rows]
    data = LoopData(ids=ids, texts=[texts[i] for i in train_rows], X=X[train_rows], label_names=names,
                    X_eval=X[test_rows], y_eval=y_all[test_rows])
    labels = meta["label"].tolist()
    gold = {ids[k]: labels[i] for k, i in enumerate(train_rows)}  # an unseen label's name: "none" is right
    return BenchSet(data, y_all, names, seed_rows, pool_rows, test_rows, texts, gold, X, left_out, test_unseen)


def run_bench(
    data_path: str,
    seeds: str = "shot10",
    budget: int = 3000,
    batch: int = 200,
    judge_accuracy: float = 1.0,
    cache_dir: str = "bench/out/cache",
    methods: tuple[str, ...] = ("red", "red_article", "flat_entropy", "flat_random"),
    config_overrides: dict | None = None,
    seed: int = 0,
    log=print,
    profile: ExpertProfile | None = None,
    judge=None,
    judge_sample: int = 0,
    model: str = DEFAULT_MODEL,
    finetune=None,
    engine: str = "torch",
    unseen_labels: int = 0,
    drop_unseen: bool = False,
    evaluate: str = "test",
    person_budget: int = 0,
    person_accuracy: float = 0.95,
    shared_overrides: bool = False,
) -> dict:
    """Every method on the same embeddings, budget and judge; a real ``judge`` is first measured
    on ``judge_sample`` fixed proposals against the gold. ``evaluate``: the split measured (valid
    to choose settings, test to report them); ``person_budget``: answers a simulated person
    gives to held verdicts; ``shared_overrides``: ``config_overrides`` change every method."""
    set_threads()
    t_all = time.perf_counter()
    model_key = cache_key(model, engine)  # each engine and encoder has its own key in the cache, never mixed
    b = bench_set(data_path, seeds, seed, cache_dir, model_key, unseen=unseen_labels, drop_unseen=drop_unseen,
                  evaluate=evaluate)
    if len(np.unique(b.y_all[b.seed_rows])) < len(b.names):
        # labels without any seed cannot be proposed; keep them so accuracy stays honest
        log(f"note: {len(b.names) - len(np.unique(b.y_all[b.seed_rows]))} label(s) have no seed example")
    out: dict = {
        "data": str(data_path), "seeds": seeds, "budget": budget, "batch": batch, "classes": len(b.names),
        "judge": "simulated" if judge is None else judge.describe(), "judge_accuracy": judge_accuracy,
        "profile": profile.to_dict() if profile else None, "evaluate": evaluate, "seed": seed,
        "person_budget": person_budget, "person_accuracy": person_accuracy, "seed_examples": int(b.n_seed),
        "pool": int(len(b.pool_rows)), "test": int(len(b.test_rows)), "model": model_key, "engine": engine,
        "curves": {}, "unseen_labels": len(b.unseen), "drop_unseen": drop_unseen}
    _baselines(b, out, LoopConfig(seed=seed, **(config_overrides or {})), log)
    if judge is not None and judge_sample > 0:
        out["judge_sample"] = _judge_sample(b, judge, judge_sample, log)
    presets = {"red": {}, "red_article": ARTICLE, "flat_entropy": FLAT_ENTROPY, "flat_random": FLAT_RANDOM}
    for method in methods:
        if method not in presets:
            raise RedError(f"unknown method {method!r}; use {', '.join(presets)}")
        cfg = LoopConfig(budget=budget, batch=batch, patience=None, seed=seed)
        shared = (config_overrides or {}) if method == "red" or shared_overrides else {}
        cfg = replace(cfg, **{**shared, **presets[method]})  # a baseline keeps its own selection
        the_judge = judge or SimulatedJudge(b.gold, accuracy=judge_accuracy, seed=seed, profile=profile)
        sink = BenchSink(b.y_all[b.train_rows], person_budget, person_accuracy, seed=seed)
        loop, state = _run_method(b, method, cfg, the_judge, out, log, sink)
        if method == "red":
            _export_figures(b, cfg, state, out, model, finetune, log)
    return _summary(out, methods, t_all)


def _summary(out: dict, methods: tuple[str, ...], t_all: float) -> dict:
    if "red" in methods:
        out["judge_calls"] = out["red_calls"]
        out["accepted"] = out["red_accepted"]
    out["flat_entropy_accuracy"] = out.get("flat_entropy_accuracy")
    out["flat_random_accuracy"] = out.get("flat_random_accuracy")
    out["seconds"] = time.perf_counter() - t_all
    return out


def _baselines(b: BenchSet, out: dict, config: LoopConfig, log) -> None:
    """Seeds only (one flat model), seeds with the default final model's self-training, and full supervision."""
    t = time.perf_counter()
    flat = FlatClassifier(estimator=default_estimator(), n_labels=len(b.names)).fit(b.X[b.seed_rows],
                                                                                    b.y_all[b.seed_rows])
    out["seeds_only_accuracy"] = b.test_accuracy(flat)
    # the default final model (self-training on the pool) with no judge at all: what a judge must beat
    st_final = RedModel.from_config(config, len(b.names)).fit(b.data.X, b.start().y)
    out["seeds_self_training_accuracy"] = b.test_accuracy(st_final)
    out["seeds_self_training_test_correct"] = (st_final.predict(b.X[b.test_rows]) == b.y_all[b.test_rows]).tolist()
    log(f"seeds only, with the default final model's self-training: {out['seeds_self_training_accuracy']:.4f}")
    log(f"seeds only: {out['seeds_only_accuracy']:.4f} ({time.perf_counter() - t:.1f} s)")
    t = time.perf_counter()
    train_rows = b.train_rows
    train_rows = train_rows[b.y_all[train_rows] >= 0]  # an open world: the project's labels only
    full = FlatClassifier(estimator=default_estimator(), n_labels=len(b.names)).fit(b.X[train_rows],
                                                                                    b.y_all[train_rows])
    out["full_supervision_accuracy"] = b.test_accuracy(full)
    log(f"full supervision: {out['full_supervision_accuracy']:.4f} ({time.perf_counter() - t:.1f} s)")


def _judge_sample(b: BenchSet, judge, n: int, log) -> dict:
    """The judge on a fixed sample: the proposals the loop's first iteration sends, with the gold."""
    from dataclasses import replace as dc_replace

    from .judge_eval import describe_result, on_gold_sample

    t = time.perf_counter()
    sample, _ = on_gold_sample(dc_replace(b.data, gold=b.y_all[b.train_rows]), b.start(), judge, n)
    sample.update({"judge": judge.describe(), "seconds": time.perf_counter() - t})
    log(describe_result(sample))
    return sample


def _run_method(b: BenchSet, method: str, cfg: LoopConfig, judge, out: dict, log,
                sink: BenchSink | None = None) -> tuple[RedLoop, LoopState]:
    """One method's run: its learning curve, accuracy, calls and the labels it applied."""
    state = b.start()
    loop = RedLoop(cfg, judge, sink=sink)
    t = time.perf_counter()
    curve = [{"calls": 0, "accuracy": out["seeds_only_accuracy"]}]
    for rec in loop.run(b.data, state):
        curve.append({"calls": rec.total_calls, "accuracy": rec.eval_accuracy, "accepted": rec.accepted,
                      "rejected": rec.rejected, "said_none": rec.said_none, "held": rec.held,
                      "skipped_unlike": rec.skipped_unlike, "seconds": rec.seconds})
        log(f"{method}: iteration {rec.iteration}: {rec.total_calls} calls, accuracy "
            f"{rec.eval_accuracy:.4f}, +{rec.accepted} / none {rec.said_none} / -{rec.rejected} "
            f"({rec.seconds:.1f} s)")
    out["curves"][method] = curve
    # with no iteration, the curve's only point: the seeds-only figure (see the note in the issue-22 closing note)
    out[f"{method}_accuracy"] = curve[-1]["accuracy"]
    out[f"{method}_seconds"] = time.perf_counter() - t
    out[f"{method}_calls"] = int(state.calls)
    out[f"{method}_accepted"] = int(sum(p.get("accepted", 0) for p in curve))
    out[f"{method}_config"] = cfg.to_dict()
    # labels the judge accepted that are wrong (non-zero only with an imperfect judge)
    got = state.y[np.arange(b.n_seed, len(b.train_rows))]
    mask = got >= 0
    out[f"{method}_label_precision"] = float((got[mask] == b.y_all[b.pool_rows][mask]).mean()) if mask.any() else None
    out[f"{method}_applied"] = int(mask.sum())
    out[f"{method}_held"] = int(len(state.held))
    if sink is not None:
        out.update(sink.figures(method))
    if loop.calibration_ is not None:
        out[f"{method}_calibration"] = loop.calibration_.to_dict()
        log(f"{method}: {loop.calibration_.summary()}")
    if out[f"{method}_accuracy"] is None:  # no iteration ran (nothing the judge could settle): the seeds' model
        out[f"{method}_accuracy"] = b.test_accuracy(loop.fit_model(cfg.probe_model, b.data, state))
    final = loop.fit_model(cfg.probe_model, b.data, state)
    out[f"{method}_test_correct"] = (final.predict(b.X[b.test_rows]) == b.y_all[b.test_rows]).tolist()
    return loop, state


def _export_figures(b: BenchSet, cfg: LoopConfig, state: LoopState, out: dict, model: str, finetune, log) -> None:
    """The exported dataset: decided labels, and the final model's calibrated labels for the rest."""
    train_rows = b.train_rows
    ref = np.zeros(len(train_rows), dtype=bool)
    ref[:b.n_seed] = True  # temperature from seed folds only, as `red predict` does
    ml = predict_labels(cfg, b.data, state, reference=ref)
    truth = b.y_all[train_rows]
    ok = ml.label == truth[ml.index]
    pool_mask = np.zeros(len(train_rows), dtype=bool)
    pool_mask[b.n_seed:] = True
    decided = np.flatnonzero(pool_mask & (state.y >= 0))
    model_pool = pool_mask[ml.index]
    out["export_model_labels"] = int(model_pool.sum())
    out["export_model_accuracy"] = float(ok[model_pool].mean()) if model_pool.any() else None
    out["export_model_ece"] = (expected_calibration_error(ml.confidence[model_pool], ok[model_pool])
                               if model_pool.any() else None)
    out["export_accuracy"] = float((np.concatenate([state.y[decided] == truth[decided], ok[model_pool]])).mean())
    out["export_temperature"] = ml.temperature
    log(f"export: every pool text labeled, accuracy {out['export_accuracy']:.4f} against hidden gold; "
        f"model labels {out['export_model_labels']} at accuracy {out['export_model_accuracy']:.4f}, "
        f"ECE {out['export_model_ece']:.4f} (temperature {ml.temperature:.2f})")
    if b.unseen and not bool((b.y_all[b.pool_rows] >= 0).all()):
        from .bench_open import open_world_figures

        open_world_figures(b, state, ml, out, log, seed=cfg.seed)
    if cfg.final_model == "finetune":
        test_texts = [b.texts[i] for i in b.test_rows]
        out.update(finetune_step(cfg, b.data, state, test_texts, b.y_all[b.test_rows], ref, truth, b.n_seed,
                                 base=model, settings=finetune, log=log))


def finetune_step(cfg: LoopConfig, data: LoopData, state: LoopState, test_texts: list[str], y_test: np.ndarray,
                  reference: np.ndarray, truth: np.ndarray, n_seed: int, settings=None, base: str = DEFAULT_MODEL,
                  log=print) -> dict:
    """The fine-tuned final model after a run, timed as `red predict --final-model finetune` works:
    fine-tune on the labeled set (some seeds held out), embed every text, fit the head and its
    temperature, label the pool. Test accuracy and the export's figures, beside the probe's."""
    import tempfile

    from .finetune import held_out_seeds, temperature_rows
    from ..method.finetune import FinetuneSettings, finetune_encoder
    from ..project.embed import encode, load_model, resolve_model_path

    settings = settings or FinetuneSettings()
    held = held_out_seeds(reference, settings.seed, settings.hold_out)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        rep = finetune_encoder(resolve_model_path(base), data.texts, np.where(held, -1, state.y), tmp, settings)
        t_train = time.perf_counter() - t0
        E = encode(list(data.texts) + list(test_texts), model=tmp)
        load_model.cache_clear()
    t_embed = time.perf_counter() - t0 - t_train
    ft = replace(data, X=E[: len(data.texts)], X_eval=E[len(data.texts):], y_eval=y_test)
    final = RedModel.from_config(cfg, len(ft.label_names)).fit(ft.X, state.y, state.excluded)
    ml = predict_labels(cfg, ft, state, reference=temperature_rows(reference, settings.seed, settings.hold_out))
    t_all = time.perf_counter() - t0
    pool = np.arange(len(data.texts)) >= n_seed
    ok = ml.label == truth[ml.index]
    model_pool = pool[ml.index]
    decided = np.flatnonzero(pool & (state.y >= 0))
    out = {
        "finetune_accuracy": _accuracy(final, ft.X_eval, y_test),
        "finetune_test_correct": (final.predict(ft.X_eval) == y_test).tolist(),
        "finetune_settings": settings.to_dict(), "finetune_trained_on": rep.texts, "finetune_steps": rep.steps,
        "finetune_calibration_held_out": int(held.sum()),
        "finetune_train_seconds": t_train, "finetune_embed_seconds": t_embed,
        "finetune_embedded_texts": len(E), "finetune_seconds": t_all,
        "finetune_export_model_accuracy": float(ok[model_pool].mean()) if model_pool.any() else None,
        "finetune_export_model_ece": (expected_calibration_error(ml.confidence[model_pool], ok[model_pool])
                                      if model_pool.any() else None),
        "finetune_export_accuracy": float(np.concatenate([state.y[decided] == truth[decided], ok[model_pool]]).mean()),
        "finetune_export_temperature": ml.temperature,
    }
    log(f"finetune: test accuracy {out['finetune_accuracy']:.4f} (linear probe on the same labels: see red); "
        f"step {t_all:.0f} s (fine-tune {t_train:.0f} s on {rep.texts} texts, embedding {len(E)} texts "
        f"{t_embed:.0f} s)" + (f"; export model labels {out['finetune_export_model_accuracy']:.4f}, "
                               f"ECE {out['finetune_export_model_ece']:.4f} (temperature {ml.temperature:.2f})"
                               if model_pool.any() else ""))
    # the temperature fitted on the held-out seeds instead: what the hold-out was meant for
    if held.sum() < 2 * len(data.label_names):
        return out
    unseen = predict_labels(cfg, ft, state, reference=held)
    ok_unseen = unseen.label == truth[unseen.index]
    out["finetune_held_out_seeds_ece"] = (expected_calibration_error(unseen.confidence[pool[unseen.index]],
                                                                     ok_unseen[pool[unseen.index]])
                                          if model_pool.any() else None)
    out["finetune_held_out_seeds_temperature"] = unseen.temperature
    return out


def paired_bootstrap(a_correct, b_correct, n: int = 2000, seed: int = 0) -> dict:
    """Accuracy of A minus B on the same test texts, with a 95% paired bootstrap interval."""
    a = np.asarray(a_correct, dtype=np.float64)
    b = np.asarray(b_correct, dtype=np.float64)
    d = a - b
    rng = np.random.default_rng(seed)
    means = np.array([d[rng.integers(0, len(d), len(d))].mean() for _ in range(n)])
    return {"diff": float(d.mean()), "low": float(np.quantile(means, 0.025)),
            "high": float(np.quantile(means, 0.975)), "p_below_zero": float((means < 0).mean())}


def _interp(curve: list[dict], calls: int) -> float | None:
    """Accuracy of a curve at the last point with at most ``calls`` calls."""
    best = None
    for p in curve:
        if p["calls"] <= calls and p["accuracy"] is not None:
            best = p["accuracy"]
    return best


def write_report(result: dict, md_path: str | Path, command: str | None = None) -> Path:
    """Markdown report with a table and an accuracy-versus-calls plot (plotly HTML + PNG-free)."""
    import plotly.graph_objects as go

    md_path = Path(md_path)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    fig = go.Figure()
    for method, curve in result["curves"].items():
        fig.add_trace(go.Scatter(x=[p["calls"] for p in curve], y=[p["accuracy"] for p in curve],
                                 mode="lines+markers", name=method))
    for key, dash in (("seeds_only_accuracy", "dot"), ("full_supervision_accuracy", "dash")):
        fig.add_hline(y=result[key], line_dash=dash, annotation_text=key.replace("_accuracy", ""))
    fig.update_layout(title=f"Test accuracy vs judge calls — {Path(result['data']).name}",
                      xaxis_title="judge calls", yaxis_title="test accuracy", template="plotly_white")
    html = md_path.with_suffix(".html")
    fig.write_html(html, include_plotlyjs="directory")
    methods = list(result["curves"])
    lines = [f"# Benchmark: {Path(result['data']).name}", ""]
    if command:
        lines += ["Reproduce:", "", "```", command, "```", ""]
    lines += [
        f"{result['classes']} classes; {result['seed_examples']} seed examples ({result['seeds']}), "
        f"pool {result['pool']}, test {result['test']}; budget {result['budget']} calls in batches of "
        f"{result['batch']}; judge: {judge_words(result)}; embeddings "
        f"{result['model']}. Total {result['seconds']:.0f} s.", "",
        "| method | test accuracy | calls | accepted | accepted labels correct | seconds |",
        "|---|---|---|---|---|---|",
        f"| seeds only | {result['seeds_only_accuracy']:.4f} | 0 | 0 | – | – |",
        f"| seeds only, default final model (self-training) | {result['seeds_self_training_accuracy']:.4f} "
        "| 0 | 0 | – | – |",
        f"| full supervision | {result['full_supervision_accuracy']:.4f} | – | – | – | – |",
    ]
    for m in methods:
        prec = result.get(f"{m}_label_precision")
        lines.append(
            f"| {m} | {result[f'{m}_accuracy']:.4f} | {result[f'{m}_calls']} | {result[f'{m}_accepted']} | "
            f"{'–' if prec is None else f'{prec:.4f}'} | {result[f'{m}_seconds']:.0f} |"
        )
    if result.get("finetune_accuracy") is not None:
        bs = paired_bootstrap(result["finetune_test_correct"], result["red_test_correct"])
        lines += ["", f"Final model `finetune` (encoder fine-tuned on the run's {result['finetune_trained_on']} labeled "
                  f"texts, {result['finetune_calibration_held_out']} seeds held out of it): test accuracy "
                  f"**{result['finetune_accuracy']:.4f}** against the linear probe's {result['red_accuracy']:.4f} on "
                  f"the same labels ({bs['diff'] * 100:+.2f} points, paired bootstrap 95% interval "
                  f"[{bs['low'] * 100:+.2f}, {bs['high'] * 100:+.2f}]). The step took "
                  f"{result['finetune_seconds']:.0f} s: fine-tune {result['finetune_train_seconds']:.0f} s, "
                  f"embedding {result['finetune_embedded_texts']} texts {result['finetune_embed_seconds']:.0f} s, "
                  f"head, temperature and labels the rest. Exported with it: accuracy "
                  f"{result['finetune_export_accuracy']:.4f}; model labels at "
                  f"{result['finetune_export_model_accuracy']:.4f}, ECE {result['finetune_export_model_ece']:.4f} "
                  f"(temperature {result['finetune_export_temperature']:.2f}, fitted on seeds the encoder saw"
                  + (f"; fitted on the held-out seeds it would be {result['finetune_held_out_seeds_temperature']:.2f}, "
                     f"ECE {result['finetune_held_out_seeds_ece']:.4f}" if "finetune_held_out_seeds_ece" in result else "")
                  + ")."]
    if result.get("export_accuracy") is not None:
        lines += ["", f"Exported dataset (every pool text labeled: decisions, and the final model's calibrated labels "
                  f"for the rest): accuracy {result['export_accuracy']:.4f} against hidden gold; "
                  f"{result['export_model_labels']} model labels at {result['export_model_accuracy']:.4f}, expected "
                  f"calibration error {result['export_model_ece']:.4f} (10 bins; temperature "
                  f"{result['export_temperature']:.2f} from seed folds)."]
    js = result.get("judge_sample")
    if js:
        pct = lambda v: "–" if v is None else f"{v:.1%}"  # noqa: E731
        f2 = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        lines += ["", f"The judge on a fixed sample of {js['asked']} proposals (what the first iteration sends; "
                  f"{js['answered']} answered): ROC AUC {f2(js.get('auc'))} (classifier {f2(js.get('classifier_auc'))}); "
                  f"agreement with gold {pct(js.get('accuracy'))} against a base rate of "
                  f"{pct(js.get('predictions_correct'))} right proposals; wrong caught {pct(js.get('wrong_caught'))}, "
                  f"right rejected {pct(js.get('right_rejected'))}; precision of its 'valid' "
                  f"{pct(js.get('precision_valid'))}."]
    for m in methods:
        if f"{m}_test_correct" in result:
            bs = paired_bootstrap(result[f"{m}_test_correct"], result["seeds_self_training_test_correct"])
            lines += ["", f"{m} minus seeds only (default final model), paired bootstrap over the test texts: "
                      f"{bs['diff'] * 100:+.2f} points, 95% interval [{bs['low'] * 100:+.2f}, {bs['high'] * 100:+.2f}]; "
                      f"labels applied {result.get(f'{m}_applied')}, sent to people {result.get(f'{m}_held')}."]
        cal = result.get(f"{m}_calibration")
        if cal:
            f = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
            lines += ["", f"{m}: judge measured on {cal['answered']} seed pairs: AUC {f(cal['judge_auc'])}, "
                      f"classifier {f(cal['classifier_auc'])}, both {f(cal['combined_auc'])}; agreement "
                      f"{f(cal['agreement'])}, wrong caught {f(cal['wrong_caught'])}, right rejected "
                      f"{f(cal['right_rejected'])}. {cal['reason']}"]
    grid = sorted({p["calls"] for m in methods for p in result["curves"][m]})
    lines += ["", f"Accuracy versus calls (plot: [{html.name}]({html.name})):", "",
              "| calls | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for c in grid:
        row = []
        for m in methods:
            a = _interp(result["curves"][m], c)
            row.append("–" if a is None else f"{a:.4f}")
        lines.append(f"| {c} | " + " | ".join(row) + " |")
    md_path.write_text("\n".join(lines) + "\n")
    return md_path


def judge_words(result: dict) -> str:
    if result.get("profile"):
        return f"simulated, {result['profile']['name']}"
    if result.get("judge", "simulated") != "simulated":
        return result["judge"]
    return f"simulated with accuracy {result['judge_accuracy']}"


def save_json(result: dict, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result, indent=2, default=float))
