"""The R.E.D. loop: fit → predict the pool → pick the uncertain → ask the judge → repeat.

The loop works on arrays (:class:`LoopData`, :class:`LoopState`) and reports through a
``sink`` after every judged chunk and every finished iteration, so the same code runs
the benchmark in memory and a project run persisted in DuckDB (``red_app.runner``).
``run()`` yields one :class:`IterationRecord` per iteration.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from .classifiers import NOISE_STRATEGIES, default_estimator, make_model
from .errors import ConfigError, JudgeUnavailableError, PoolExhaustedError
from .judges.base import Example, Judge, JudgeRequest, Verdict
from .subsets import PARTITION_METHODS, LabelPartition, label_centroids, partition_labels
from .uncertainty import MEASURES, select_top_k, uncertainty

SELECTIONS = ("uncertain", "random")
ON_REJECT = ("next", "skip")
JUDGE_CHUNK = 32  # verdicts are persisted after each chunk: a kill loses at most this many


@dataclass(frozen=True)
class LoopConfig:
    """Settings of one run. Defaults are the measured winners (see bench/REPORT.md)."""

    budget: int = 1000
    batch: int = 200
    per_label_cap: int | None = None
    uncertainty: str = "margin"
    selection: str = "uncertain"
    selector: str = "flat"
    final_model: str = "flat"
    n: int = 10
    noise_ratio: float = 2.0
    noise: str = "hard"
    partition_method: str = "greedy"
    umap_dim: int = 5
    C: float = 10.0
    on_reject: str = "next"
    self_training: float | None = 0.3
    self_training_rounds: int = 1
    warm_start: bool = True
    self_training_weight: float = 1.0
    c_examples: int = 5
    patience: int | None = 3
    max_iterations: int = 1000
    uncertain_threshold: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.budget < 0 or self.batch < 1:
            raise ConfigError("budget must be >= 0 and batch >= 1")
        if self.n < 1 or self.noise_ratio < 0 or self.c_examples < 0 or self.self_training_rounds < 1:
            raise ConfigError("n and self_training_rounds must be >= 1; noise_ratio and c_examples >= 0")
        choices = {"selection": SELECTIONS, "on_reject": ON_REJECT, "selector": ("red", "flat"),
                   "final_model": ("red", "flat"), "uncertainty": MEASURES, "noise": NOISE_STRATEGIES,
                   "partition_method": PARTITION_METHODS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")

    def cap(self, n_labels: int) -> int:
        if self.per_label_cap is not None:
            return self.per_label_cap
        # enough room that the batch can fill, small enough that no label hogs it
        return max(2, math.ceil(3 * self.batch / max(n_labels, 1)))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LoopData:
    """What the loop reads: every trainable sample (seeds and pool), never the holdout."""

    ids: list[str]
    texts: Sequence[str]
    X: np.ndarray
    label_names: list[str]
    descriptions: dict[str, str] = field(default_factory=dict)
    X_eval: np.ndarray | None = None
    y_eval: np.ndarray | None = None
    gold: np.ndarray | None = None  # label index per sample, -1 where unknown


@dataclass
class LoopState:
    """What the loop changes. ``y[i] = -1`` means unlabeled."""

    y: np.ndarray
    excluded: set[tuple[int, int]] = field(default_factory=set)
    calls: int = 0
    iteration: int = 0


@dataclass(frozen=True)
class IterationRecord:
    iteration: int
    pool_size: int
    labeled_size: int
    uncertain_count: int
    unassigned: int
    selected: int
    calls: int
    accepted: int
    rejected: int
    errors: int
    total_calls: int
    seconds: float
    eval_accuracy: float | None = None
    pool_accuracy: float | None = None
    subset_stats: list[dict] = field(default_factory=list)
    termination: str | None = None


@dataclass(frozen=True)
class Judged:
    """One judged proposal, as handed to the sink."""

    index: int
    label: int
    request: JudgeRequest
    verdict: Verdict
    uncertainty: float
    alternatives: tuple[str, ...]


class Sink(Protocol):
    def on_verdicts(self, iteration: int, judged: list[Judged]) -> None: ...

    def on_iteration(self, record: IterationRecord, predictions: dict) -> None: ...


def _mask_excluded(S: np.ndarray, rows: np.ndarray, excluded: set[tuple[int, int]]) -> None:
    """Zero the scores of (sample, label) pairs a judge or person rejected."""
    if not excluded:
        return
    pos = {int(g): k for k, g in enumerate(rows)}
    for i, lab in excluded:
        k = pos.get(i)
        if k is not None:
            S[k, lab] = 0.0


class RedLoop:
    """Recursive expert delegation over a :class:`LoopData` with a :class:`Judge`."""

    def __init__(self, config: LoopConfig, judge: Judge, sink: Sink | None = None,
                 partition: LabelPartition | None = None):
        self.config = config
        self.judge = judge
        self.sink = sink
        self.partition = partition
        self.termination_condition_: str | None = None

    # -- models --------------------------------------------------------------------

    def _partition(self, data: LoopData, state: LoopState) -> LabelPartition:
        if self.partition is None:
            lab = state.y >= 0
            cent = label_centroids(data.X[lab], state.y[lab], len(data.label_names))
            c = self.config
            self.partition = partition_labels(cent, n=c.n, method=c.partition_method,
                                              umap_dim=c.umap_dim, random_state=c.seed)
        return self.partition

    def _estimator(self, kind: str):
        """The base estimator; the flat model's is kept across fits when warm-starting.

        Every label has seeds, so the classes never change and the previous solution is a
        valid start: lbfgs then needs far fewer iterations (bench/REPORT.md, timing).
        """
        c = self.config
        if kind == "flat" and c.warm_start:
            if getattr(self, "_warm", None) is None:
                self._warm = default_estimator(c.C).set_params(warm_start=True)
            return self._warm
        return default_estimator(c.C)

    @staticmethod
    def _centroid_start(est, data: LoopData, state: LoopState, scale: float = 10.0) -> None:
        """Start the first flat fit from scaled label centroids instead of zeros.

        Same optimum (the loss is convex), fewer lbfgs steps for the cold first fit: on
        1000 random classes 39 s → 12 s; CLINC150 accuracy unchanged (bench/REPORT.md).
        """
        lab = state.y >= 0
        n_labels = len(data.label_names)
        if len(np.unique(state.y[lab])) != n_labels:
            return
        cent = label_centroids(data.X[lab], state.y[lab], n_labels).astype(np.float64)
        est.coef_ = scale * cent
        est.intercept_ = np.zeros(n_labels)
        est.classes_ = np.arange(n_labels)

    def _fit(self, kind: str, data: LoopData, state: LoopState):
        c = self.config
        lab = state.y >= 0
        est = self._estimator(kind)
        if est.warm_start and not hasattr(est, "coef_"):
            self._centroid_start(est, data, state)
        model = make_model(
            kind, n=c.n, noise_ratio=c.noise_ratio, noise=c.noise, estimator=est,
            partition=self.partition, n_labels=len(data.label_names), random_state=c.seed,
        )
        negatives = None
        if state.excluded and kind == "red":
            pairs = np.array(sorted(state.excluded), dtype=np.int64)
            negatives = (data.X[pairs[:, 0]], pairs[:, 1])
        model.fit(data.X[lab], state.y[lab], negatives=negatives)
        if kind == "flat" and c.self_training is not None and (~lab).any():
            # Self-training: confident predictions on the unlabeled pool inform the model
            # (never stored as labels). Measured +1 point on CLINC150 seeds (bench/REPORT.md).
            rest = np.flatnonzero(~lab)
            for _ in range(c.self_training_rounds):
                S, _ = model.scores(data.X[rest])
                _mask_excluded(S, rest, state.excluded)
                conf = S.max(axis=1)
                keep = conf >= c.self_training
                if not keep.any():
                    break
                X2 = np.concatenate([data.X[lab], data.X[rest[keep]]])
                y2 = np.concatenate([state.y[lab], S[keep].argmax(axis=1)])
                w2 = np.concatenate([np.ones(int(lab.sum())), np.full(int(keep.sum()), c.self_training_weight)])
                model = make_model(kind, estimator=self._estimator(kind), n_labels=len(data.label_names))
                model.fit(X2, y2, sample_weight=w2)
        return model

    # -- one iteration ---------------------------------------------------------------

    def _request(self, data: LoopData, state: LoopState, i: int, lab: int, alts: tuple[str, ...]) -> JudgeRequest:
        name = data.label_names[lab]
        members = np.flatnonzero(state.y == lab)
        examples: tuple[Example, ...] = ()
        if len(members) and self.config.c_examples > 0:
            sims = data.X[members] @ data.X[i]
            top = members[np.argsort(-sims, kind="stable")[: self.config.c_examples]]
            examples = tuple(Example(data.ids[j], data.texts[j]) for j in top)
        return JudgeRequest(
            sample_id=data.ids[i], text=data.texts[i], label=name,
            description=data.descriptions.get(name), examples=examples, alternatives=alts,
        )

    def run(self, data: LoopData, state: LoopState,
            should_stop: Callable[[], bool] | None = None) -> Iterator[IterationRecord]:
        """Iterate until the budget is spent or the pool saturates; yields each iteration."""
        c = self.config
        n_labels = len(data.label_names)
        rng = np.random.default_rng(c.seed + state.iteration)
        self._partition(data, state)
        best_uncertain = math.inf
        stale = 0
        final = None
        while True:
            t0 = time.perf_counter()
            termination = None
            pool = np.flatnonzero(state.y < 0)
            if state.calls >= c.budget:
                self.termination_condition_ = "budget spent"
                return
            if len(pool) == 0:
                self.termination_condition_ = "pool exhausted"
                return
            if should_stop and should_stop():
                self.termination_condition_ = "stopped by user"
                return
            state.iteration += 1
            selector = final if (final is not None and c.selector == c.final_model) else self._fit(c.selector, data, state)
            S, assigned = selector.scores(data.X[pool])
            _mask_excluded(S, pool, state.excluded)
            order = np.argsort(-S, axis=1)[:, :3]
            pred = order[:, 0]
            u = uncertainty(S, c.uncertainty, target=c.self_training or 0.3)
            tot = S.sum(axis=1)
            top = np.divide(S[np.arange(len(pool)), pred], tot, out=np.zeros(len(pool), np.float32), where=tot > 0)
            uncertain_mask = (top < c.uncertain_threshold) | ~assigned
            k = min(c.batch, c.budget - state.calls, len(pool))
            if c.selection == "random":
                chosen = rng.choice(len(pool), size=k, replace=False)
            else:
                chosen = select_top_k(u, pred, k, c.cap(n_labels))
            accepted = rejected = errors = 0
            judged_all: list[Judged] = []
            per_subset = {s: {"selected": 0, "accepted": 0, "rejected": 0} for s in range(len(self.partition.subsets))}

            def alts_of(kpos: int) -> tuple[str, ...]:
                return tuple(data.label_names[j] for j in order[kpos] if S[kpos, j] > 0)

            proposals = [(int(kp), int(pred[kp]), 0) for kp in chosen]
            while proposals and state.calls < c.budget:
                room = c.budget - state.calls
                proposals, later = proposals[:room], proposals[room:]
                retry: list[tuple[int, int, int]] = []
                for start in range(0, len(proposals), JUDGE_CHUNK):
                    if should_stop and should_stop():
                        termination = "stopped by user"
                        break
                    chunk = proposals[start : start + JUDGE_CHUNK]
                    reqs = [self._request(data, state, int(pool[kp]), lab, alts_of(kp)) for kp, lab, _ in chunk]
                    try:
                        verdicts = self.judge.judge_many(reqs)
                    except JudgeUnavailableError as exc:
                        termination = f"judge unavailable: {exc}"
                        break
                    judged = []
                    for (kp, lab, rank), req, v in zip(chunk, reqs, verdicts):
                        i = int(pool[kp])
                        sub = int(self.partition.subset_of[lab])
                        state.calls += 1
                        if v.valid is None:
                            errors += 1
                        elif v.valid:
                            state.y[i] = lab
                            accepted += 1
                            per_subset[sub]["accepted"] += 1
                        else:
                            state.excluded.add((i, lab))
                            rejected += 1
                            per_subset[sub]["rejected"] += 1
                            if c.on_reject == "next" and rank + 1 < order.shape[1]:
                                nxt = int(order[kp, rank + 1])
                                if S[kp, nxt] > 0 and (i, nxt) not in state.excluded:
                                    retry.append((kp, nxt, rank + 1))
                        per_subset[sub]["selected"] += 1
                        judged.append(Judged(i, lab, req, v, float(u[kp]), alts_of(kp)))
                    judged_all.extend(judged)
                    if self.sink:
                        self.sink.on_verdicts(state.iteration, judged)
                if termination:
                    break
                proposals = retry + later
            lab_mask = state.y >= 0
            final = None
            eval_acc = pool_acc = None
            if data.X_eval is not None or data.gold is not None:
                final = self._fit(c.final_model, data, state)
            if data.X_eval is not None and len(data.X_eval):
                eval_acc = float((final.predict(data.X_eval) == data.y_eval).mean())
            if data.gold is not None:
                known = data.gold >= 0
                if known.any():
                    labels_now = state.y.copy()
                    rest = known & ~lab_mask
                    if rest.any():
                        labels_now[rest] = final.predict(data.X[rest])
                    pool_acc = float((labels_now[known] == data.gold[known]).mean())
            stats = []
            for s, members in enumerate(self.partition.subsets):
                st = per_subset[s]
                stats.append({"subset": s, "labels": len(members),
                              "labeled": int(np.isin(state.y, members).sum()), **st})
            uncertain_count = int(uncertain_mask.sum())
            if c.patience is not None:
                if uncertain_count < best_uncertain:
                    best_uncertain, stale = uncertain_count, 0
                else:
                    stale += 1
            if termination is None:
                if c.patience is not None and stale >= c.patience:
                    termination = f"saturated: uncertain count has not fallen for {stale} iterations"
                elif c.patience is not None and accepted == 0 and not errors and len(chosen):
                    termination = "saturated: no new validated samples"
                elif state.iteration >= c.max_iterations:
                    termination = "max iterations reached"
                elif state.calls >= c.budget:
                    termination = "budget spent"
                elif int((state.y < 0).sum()) == 0:
                    termination = "pool exhausted"
            record = IterationRecord(
                iteration=state.iteration, pool_size=int(len(pool)), labeled_size=int(lab_mask.sum()),
                uncertain_count=uncertain_count, unassigned=int((~assigned).sum()),
                selected=int(len(chosen)), calls=len(judged_all), accepted=accepted, rejected=rejected,
                errors=errors, total_calls=state.calls, seconds=time.perf_counter() - t0,
                eval_accuracy=eval_acc, pool_accuracy=pool_acc, subset_stats=stats, termination=termination,
            )
            if self.sink:
                predictions = {
                    "index": pool, "label": pred, "score": top, "uncertainty": u,
                    "alternatives": [alts_of(kp) for kp in range(len(pool))] if len(pool) <= 200_000 else None,
                }
                self.sink.on_iteration(record, predictions)
            yield record
            if termination:
                self.termination_condition_ = termination
                return


def require_pool(state: LoopState) -> None:
    if not (state.y < 0).any():
        raise PoolExhaustedError("every sample already has a label: import more texts to label")
