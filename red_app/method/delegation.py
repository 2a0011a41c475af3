"""Judge-aware delegation: apply a judge's verdict only where it can be trusted.

A small LLM judge leans to "yes" (measured: P(valid | right) ≈ 0.97, P(valid | wrong) ≈
0.5–0.6), and the loop asks it about the cases where the classifier is least sure — so
taking its word made the labels *worse* (bench/REPORT.md). Here the judge is measured
before a run on the project's own seeds, without any gold:

- each sampled seed is proposed under its own label (a right pair) and under the label a
  cross-validated classifier likes best among the others (a plausible wrong pair);
- the judge's score on those pairs gives its likelihood ratio
  ``LR(s) = P(s | right) / P(s | wrong)`` (:class:`JudgeProfile`);
- the classifier's cross-validated probabilities on the same seeds fit a temperature,
  so its probability for a proposal is a calibrated prior ``P(right)``.

For a proposal with prior ``p`` and judge score ``s`` the probability that the label is
right is ``odds = LR(s) · p / (1 - p)`` (the two are treated as independent given the
truth). A verdict is applied only when that probability clears the precision target
(valid) or falls below ``1 - target`` (invalid); anything between goes to people. The
loop asks only about proposals whose prior is high enough that a "yes" *could* clear the
target (:meth:`Delegation.min_prior`), so the budget is spent where the judge decides.

Everything here works on arrays and a :class:`~red_app.judges.base.Judge`; nothing
knows about projects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..judges.base import Judge, Verdict
from .questions import build_request

EPS = 1e-4


def verdict_score(v: Verdict) -> float | None:
    """The judge's probability that the label is right, or None for a failed verdict.

    LLM judges that read log-probabilities report P(yes) in ``extra["p_yes"]``; the rest
    report a verdict and a confidence in it.
    """
    if v.valid is None:
        return None
    p = v.extra.get("p_yes") if v.extra else None
    if p is None:
        c = float(v.confidence) if v.confidence is not None else 1.0
        p = c if v.valid else 1.0 - c
    return float(min(max(p, 0.0), 1.0))


def roc_auc(scores, positive) -> float | None:
    """Area under the ROC curve (scikit-learn's; ties count half); None without both classes."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(positive, dtype=bool)
    if y.all() or not y.any():
        return None
    return float(roc_auc_score(y, np.asarray(scores, dtype=np.float64)))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class JudgeProfile:
    """How a judge's score separates right from wrong proposals.

    ``binary`` judges (two score values) keep the two rates, smoothed; graded judges get
    a logistic fit on the logit of their score (Platt), from which the likelihood ratio
    is the fitted odds divided by the fit's own prior odds.
    """

    binary: bool
    p_yes_right: float
    p_yes_wrong: float
    a: float = 0.0
    b: float = 0.0
    fit_odds: float = 1.0
    n_right: int = 0
    n_wrong: int = 0
    max_score: float = 1.0

    @classmethod
    def fit(cls, scores, right) -> "JudgeProfile":
        s = np.asarray(scores, dtype=np.float64)
        y = np.asarray(right, dtype=bool)
        n_r, n_w = int(y.sum()), int((~y).sum())
        if not n_r or not n_w:
            raise ValueError("a judge profile needs right and wrong pairs")
        said_yes = s >= 0.5
        p_yr = (said_yes[y].sum() + 1) / (n_r + 2)
        p_yw = (said_yes[~y].sum() + 1) / (n_w + 2)
        if len(np.unique(s)) <= 2:
            return cls(True, float(p_yr), float(p_yw), n_right=n_r, n_wrong=n_w, max_score=float(s.max()))
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1.0).fit(_logit(s)[:, None], y)
        return cls(False, float(p_yr), float(p_yw), a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]),
                   fit_odds=n_r / n_w, n_right=n_r, n_wrong=n_w, max_score=float(np.quantile(s[y], 0.9)))

    def likelihood_ratio(self, score) -> np.ndarray:
        s = np.asarray(score, dtype=np.float64)
        if self.binary:
            return np.where(s >= 0.5, self.p_yes_right / self.p_yes_wrong,
                            (1 - self.p_yes_right) / (1 - self.p_yes_wrong))
        return np.exp(self.a * _logit(s) + self.b) / self.fit_odds

    def best_yes_ratio(self) -> float:
        """The likelihood ratio of a confident "yes" (what a typical strong yes is worth)."""
        return float(self.likelihood_ratio(self.max_score if not self.binary else 1.0))

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ChoiceProfile:
    """How a judge answers *choose* questions, measured on seeds (no gold needed).

    Counts from two kinds of question: the seed's own label among the candidates
    (``present``) and left out (``absent``). From them, smoothed: ``p_hit`` = P(picks the
    right label | it is offered), ``p_none_present`` = P(answers none | it is offered),
    ``pick_absent[r]`` = P(picks the candidate at rank r | the right label is not offered)
    — a yes-leaning judge picks the first, most plausible, wrong candidate — and
    ``p_none_absent``. A pick of the candidate at rank r is worth the likelihood ratio
    ``p_hit / pick_absent[r]``; a "none" is worth ``p_none_absent / p_none_present`` for
    "the right label is not among them".
    """

    k: int
    n_present: int
    hits: int
    none_present: int
    n_absent: int
    picks_absent: tuple[int, ...]
    none_absent: int
    picks_wrong_present: tuple[int, ...] = ()  # picks of a wrong candidate, by rank, when the right one was offered

    @property
    def p_hit(self) -> float:
        return (self.hits + 1) / (self.n_present + 2)

    @property
    def p_none_present(self) -> float:
        return (self.none_present + 1) / (self.n_present + 2)

    @property
    def p_none_absent(self) -> float:
        return (self.none_absent + 1) / (self.n_absent + 2)

    def pick_absent(self, rank: int) -> float:
        c = self.picks_absent[rank] if rank < len(self.picks_absent) else 0
        return (c + 1) / (self.n_absent + 2)

    def pick_wrong_present(self, rank: int) -> float:
        c = self.picks_wrong_present[rank] if rank < len(self.picks_wrong_present) else 0
        return (c + 1) / (self.n_present + 2)

    def posterior_pick(self, rank: int, priors) -> float:
        """P(the candidate at ``rank`` is right | the judge picked it), over every hypothesis:
        the right label is that candidate, another candidate, or none of them."""
        p = np.clip(np.asarray(priors, dtype=np.float64), 0.0, 1.0)
        p_abs = max(1.0 - float(p.sum()), 0.0)
        right = p[rank] * self.p_hit
        wrong = (float(p.sum()) - p[rank]) * self.pick_wrong_present(rank) + p_abs * self.pick_absent(rank)
        return float(right / (right + wrong)) if right + wrong > 0 else 0.0

    def posterior_none(self, priors) -> float:
        """P(none of the candidates is right | the judge answered none)."""
        p_in = float(np.clip(np.asarray(priors, dtype=np.float64), 0.0, 1.0).sum())
        p_abs = max(1.0 - p_in, 0.0)
        a, b = p_abs * self.p_none_absent, min(p_in, 1.0) * self.p_none_present
        return float(a / (a + b)) if a + b > 0 else 0.0

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["picks_absent"] = list(self.picks_absent)
        d["picks_wrong_present"] = list(self.picks_wrong_present)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ChoiceProfile":
        return cls(**{**d, "picks_absent": tuple(d["picks_absent"]),
                      "picks_wrong_present": tuple(d.get("picks_wrong_present", ()))})


def weigh_by_applied(uncertainty: np.ndarray, applied: np.ndarray | None) -> np.ndarray:
    """Uncertainty (higher: less certain, any sign) times the chance the answer is applied
    (None: unweighted), shifted to start at 0 first, so a measure with negative scores (band)
    ranks the same way."""
    u = np.asarray(uncertainty, dtype=np.float64)
    return u if applied is None or not len(u) else (u - u.min()) * applied


def posterior(lr, prior) -> np.ndarray:
    """P(right | judge, classifier) from the judge's likelihood ratio and the prior."""
    p = np.clip(np.asarray(prior, dtype=np.float64), EPS, 1 - EPS)
    odds = np.asarray(lr, dtype=np.float64) * p / (1 - p)
    return odds / (1 + odds)


def fit_temperature(P: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the log-loss of ``P ** (1/T)`` (renormalised) on ``y``."""
    from scipy.optimize import minimize_scalar

    logP = np.log(np.clip(P, 1e-12, 1.0))

    def nll(log_t: float) -> float:
        z = logP / np.exp(log_t)
        z -= z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        return float(-(z[np.arange(len(y)), y] - lse).mean())

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


def temper(S: np.ndarray, temperature: float) -> np.ndarray:
    """Scores → calibrated probabilities (rows sum to 1; zero scores stay zero)."""
    logS = np.log(np.clip(S, 1e-12, 1.0)) / temperature
    logS -= logS.max(axis=1, keepdims=True)
    P = np.exp(logS) * (S > 0)
    tot = P.sum(axis=1, keepdims=True)
    return np.divide(P, tot, out=np.zeros_like(P), where=tot > 0)


@dataclass
class Calibration:
    """What measuring a judge on seeds gave: its profile, the classifier's temperature, and
    the figures people need to decide whether to trust it."""

    profile: JudgeProfile | None
    temperature: float
    pairs: int
    answered: int
    judge_auc: float | None
    classifier_auc: float | None
    combined_auc: float | None
    agreement: float | None
    wrong_caught: float | None
    right_rejected: float | None
    median_latency_ms: float | None
    informative: bool
    reason: str
    judged: list = field(default_factory=list, repr=False)  # (request, verdict, right) for the audit
    choice: ChoiceProfile | None = None  # set when the judge was measured on choose questions

    def summary(self) -> str:
        f = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
        pct = lambda v: "–" if v is None else f"{v:.0%}"  # noqa: E731
        return (f"judge measured on {self.answered} of {self.pairs} seed pairs: AUC {f(self.judge_auc)} "
                f"(classifier {f(self.classifier_auc)}, both {f(self.combined_auc)}), agreement "
                f"{pct(self.agreement)}, wrong caught {pct(self.wrong_caught)}, right rejected "
                f"{pct(self.right_rejected)}. {self.reason}")

    def as_result(self, question: str, choose_k: int | None) -> dict:
        """The figures `red judge-eval --from-seeds` reports for this measurement."""
        return {"mode": "seeds", "asked": self.pairs, "answered": self.answered, "errors": self.pairs - self.answered,
                "auc": self.judge_auc, "classifier_auc": self.classifier_auc, "combined_auc": self.combined_auc,
                "accuracy": self.agreement, "wrong_caught": self.wrong_caught, "right_rejected": self.right_rejected,
                "informative": self.informative, "summary": self.summary(),
                "median_latency_ms": self.median_latency_ms, "question": question,
                "choose_k": choose_k if question == "choose" else None}

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("judged", "profile", "choice")}
        d["profile"] = self.profile.to_dict() if self.profile else None
        d["choice"] = self.choice.to_dict() if self.choice else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Calibration":
        """Back from :meth:`to_dict` (a resumed run keeps the measurement it started with)."""
        d = dict(d)
        prof = d.pop("profile", None)
        choice = d.pop("choice", None)
        return cls(JudgeProfile(**prof) if prof else None, choice=ChoiceProfile.from_dict(choice) if choice else None,
                   **d)


def _cv_scores(X: np.ndarray, y: np.ndarray, n_labels: int, folds: int, seed: int) -> np.ndarray:
    """Cross-validated flat-model scores for every labelled row (each row's own fold left out)."""
    from .classifiers import FlatClassifier, default_estimator

    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for lab in np.unique(y):  # stratified: each label's rows spread over the folds
        idx = np.flatnonzero(y == lab)
        fold_of[idx] = rng.permutation(len(idx)) % folds
    S = np.zeros((len(y), n_labels), dtype=np.float64)
    for f in range(folds):
        test = fold_of == f
        model = FlatClassifier(estimator=default_estimator(), n_labels=n_labels).fit(X[~test], y[~test])
        S[test] = model.scores(X[test])[0]
    return S


NO_ROOM = "the budget leaves no room to measure the judge: its verdicts go to people"
TOO_FEW = "too few answers to measure the judge: its verdicts go to people"
UNMEASURED = dict(judge_auc=None, combined_auc=None, agreement=None, wrong_caught=None, right_rejected=None,
                  informative=False)


@dataclass(frozen=True)
class _SeedSample:
    """Seeds drawn to measure a judge on, with the classifier's cross-validated view of them."""

    index: np.ndarray        # sample index of every labeled sample
    y: np.ndarray            # their labels
    P: np.ndarray            # tempered cross-validated probabilities, one row per labeled sample
    temperature: float
    pick: np.ndarray         # rows of ``index`` drawn


def _seed_sample(data, state, n: int, folds: int, seed: int) -> _SeedSample:
    index = np.flatnonzero(state.y >= 0)
    y = state.y[index]
    S_cv = _cv_scores(data.X[index], y, len(data.label_names), folds, seed)
    temperature = fit_temperature(S_cv, y)
    pick = np.random.default_rng(seed).choice(len(index), size=min(n, len(index)), replace=False)
    return _SeedSample(index, y, temper(S_cv, temperature), temperature, pick)


def _answered(reqs, verdicts, truth, temperature: float) -> dict:
    """What every measurement records: the pairs asked and answered, latency, the audit rows."""
    lat = [v.latency_ms for v in verdicts if v.valid is not None and not v.cached]
    return dict(temperature=temperature, pairs=len(reqs), answered=sum(v.valid is not None for v in verdicts),
                median_latency_ms=float(np.median(lat)) if lat else None, judged=list(zip(reqs, verdicts, truth)))


def ask_in_chunks(judge: Judge, reqs: list, progress=None, chunk: int = 8) -> list:
    """The judge's verdicts on ``reqs`` in order, asked a few at a time so ``progress(done,
    total)`` can tell a person how far measuring a slow judge has come."""
    out: list = []
    for start in range(0, len(reqs), chunk if progress else max(len(reqs), 1)):
        out.extend(judge.judge_many(reqs[start : start + (chunk if progress else len(reqs))]))
        if progress:
            progress(len(out), len(reqs))
    return out


def calibrate(data, state, judge: Judge, n: int = 40, seed: int = 0, c_examples: int = 5,
              folds: int = 3, min_gain: float = 0.0, min_auc: float = 0.6, progress=None) -> Calibration:
    """Measure ``judge`` on ``n`` seeds, each under its own and its most plausible wrong label.

    Costs ``2 n`` judge calls. The judge is *informative* when it separates right from wrong
    pairs at all (AUC ≥ ``min_auc``) and combining it with the classifier ranks the pairs at
    least as well as the classifier alone (AUC gain ≥ ``min_gain``); otherwise no verdict of
    it is applied unless people choose to trust it.
    """
    if n < 2:
        return Calibration(None, temperature=1.0, pairs=0, answered=0, classifier_auc=None,
                           median_latency_ms=None, reason=NO_ROOM, **UNMEASURED)
    seeds = _seed_sample(data, state, n, folds, seed)
    reqs, right, prior = [], [], []
    for k in seeds.pick:
        i, own = int(seeds.index[k]), int(seeds.y[k])
        others = seeds.P[k].copy()
        others[own] = -1
        for lab, is_right in ((own, True), (int(others.argmax()), False)):
            reqs.append(build_request(data, state, i, lab, c_examples=c_examples))
            right.append(is_right)
            prior.append(seeds.P[k, lab])
    verdicts = ask_in_chunks(judge, reqs, progress)
    right_a, prior_a = np.array(right), np.array(prior)
    base = {**_answered(reqs, verdicts, right, seeds.temperature), "classifier_auc": roc_auc(prior_a, right_a)}
    scores = [verdict_score(v) for v in verdicts]
    ok = np.array([x is not None for x in scores])
    if ok.sum() < 4 or len(set(right_a[ok])) < 2:
        return Calibration(None, reason=TOO_FEW, **UNMEASURED, **base)
    s_ok = np.array([x for x in scores if x is not None])
    return _binary_calibration(s_ok, right_a[ok], prior_a[ok], base, min_gain, min_auc)


def _binary_calibration(s_ok, r_ok, prior_ok, base: dict, min_gain: float, min_auc: float) -> Calibration:
    """The judge's profile and figures from its answered yes/no pairs."""
    profile = JudgeProfile.fit(s_ok, r_ok)
    said = s_ok >= 0.5
    combined = posterior(profile.likelihood_ratio(s_ok), prior_ok)
    judge_auc, comb_auc = roc_auc(s_ok, r_ok), roc_auc(combined, r_ok)
    gain = (comb_auc or 0) - (roc_auc(prior_ok, r_ok) or 0)
    informative = gain >= min_gain and (judge_auc or 0) >= min_auc
    if informative:
        reason = (f"It separates right from wrong labels (AUC {judge_auc:.2f}; with the classifier "
                  f"{gain:+.2f}): its verdicts are applied where P(right) clears the precision target, "
                  "the rest go to people.")
    else:
        reason = (f"It is no better than the classifier here (AUC {judge_auc:.2f}, {gain:+.2f} when combined): "
                  "its verdicts go to people unless you choose to trust it.")
    return Calibration(profile, judge_auc=judge_auc, combined_auc=comb_auc,
                       agreement=float((said == r_ok).mean()), wrong_caught=float((~said[~r_ok]).mean()),
                       right_rejected=float((~said[r_ok]).mean()), informative=informative, reason=reason, **base)


def _choose_candidates(P_row: np.ndarray, own: int, k: int, present: bool) -> list[int]:
    """The ``k`` labels a cross-validated classifier likes best for a seed, best first: with
    the seed's own label kept in (``present``; it replaces the k-th when it is not in the top
    k) or left out."""
    order = [int(j) for j in np.argsort(-P_row, kind="stable")]
    if present:
        top = order[:k]
        if own not in top:
            top[-1] = own
        return top
    return [j for j in order if j != own][:k]


def calibrate_choice(data, state, judge: Judge, n: int = 40, k: int = 5, seed: int = 0,
                     folds: int = 3, min_auc: float = 0.6, progress=None) -> Calibration:
    """Measure ``judge`` on ``n`` seeds with *choose* questions: each seed once with its own
    label among the classifier's top ``k`` candidates and once without it (``2 n`` calls).

    The judge is informative when "it picked the right label" (offered) against "it picked
    some label" (not offered) separates the two at AUC ≥ ``min_auc``.
    """
    from .questions import build_choose_request

    k = min(k, len(data.label_names) - 1)
    if n < 2 or k < 1:
        return Calibration(None, temperature=1.0, pairs=0, answered=0, classifier_auc=None,
                           median_latency_ms=None, reason=NO_ROOM, **UNMEASURED)
    seeds = _seed_sample(data, state, n, folds, seed)
    reqs, present, owns = [], [], []
    for kk in seeds.pick:
        i, own = int(seeds.index[kk]), int(seeds.y[kk])
        for is_present in (True, False):
            reqs.append(build_choose_request(data, state, i, _choose_candidates(seeds.P[kk], own, k, is_present)))
            present.append(is_present)
            owns.append(data.label_names[own])
    verdicts = ask_in_chunks(judge, reqs, progress)
    base = {**_answered(reqs, verdicts, present, seeds.temperature), "classifier_auc": None}
    answered = [(r, v, p, o) for r, v, p, o in zip(reqs, verdicts, present, owns) if v.valid is not None]
    prof, hit_score, was_present = _choice_profile(answered, k)
    if prof.n_present < 2 or prof.n_absent < 2:
        return Calibration(None, reason=TOO_FEW, **UNMEASURED, **base)
    judge_auc = roc_auc(hit_score, was_present)
    informative = (judge_auc or 0) >= min_auc
    right_found = prof.hits / prof.n_present
    wrong_named = 1 - prof.none_absent / prof.n_absent
    if informative:
        reason = (f"Offered the right label among {k}, it picked it {right_found:.0%} of the time; not offered, it "
                  f"named a wrong one {wrong_named:.0%} of the time: a pick is applied where P(right) clears the "
                  "precision target, the rest go to people.")
    else:
        reason = (f"It picks as often when the right label is missing ({wrong_named:.0%}) as it finds it when "
                  f"offered ({right_found:.0%}): its answers go to people unless you choose to trust it.")
    return Calibration(None, judge_auc=judge_auc, combined_auc=None,
                       agreement=float(np.mean([s == p for s, p in zip(hit_score, was_present)])),
                       wrong_caught=prof.none_absent / prof.n_absent, right_rejected=1 - right_found,
                       informative=informative, reason=reason, choice=prof, **base)


def _choice_profile(answered, k: int) -> tuple["ChoiceProfile", list[float], list[bool]]:
    """A choose judge's habits from its answers (request, verdict, own label offered, own label):
    the profile, and per answer whether it hit (offered) or picked anything (not offered)."""
    n_present = hits = none_present = n_absent = none_absent = 0
    picks_absent, picks_wrong_present = [0] * k, [0] * k
    hit_score, was_present = [], []
    for req, v, is_present, own in answered:
        labels = req.candidate_labels()
        if is_present:
            n_present += 1
            hits += v.choice == own
            none_present += v.choice is None
            if v.choice is not None and v.choice != own and v.choice in labels:
                picks_wrong_present[labels.index(v.choice)] += 1
            hit_score.append(float(v.choice == own))
        else:
            n_absent += 1
            if v.choice is None:
                none_absent += 1
            elif v.choice in labels:
                picks_absent[labels.index(v.choice)] += 1
            hit_score.append(float(v.choice is not None))
        was_present.append(is_present)
    prof = ChoiceProfile(k=k, n_present=n_present, hits=hits, none_present=none_present, n_absent=n_absent,
                         picks_absent=tuple(picks_absent), none_absent=none_absent,
                         picks_wrong_present=tuple(picks_wrong_present))
    return prof, hit_score, was_present


class Delegation:
    """Decides, per verdict, whether it is applied or goes to people.

    ``calibration`` None means a judge taken at its word (the simulated perfect judge of
    the benchmark, or a person): every verdict is applied, nothing is held.
    """

    def __init__(self, calibration: Calibration | None, target: float = 0.9, trust: bool = False):
        self.calibration = calibration
        self.target = target
        self.trust = trust

    @property
    def active(self) -> bool:
        return self.calibration is not None

    @property
    def applies(self) -> bool:
        """Whether any verdict may be applied at all."""
        c = self.calibration
        return c is None or ((c.profile is not None or c.choice is not None) and (c.informative or self.trust))

    def choice_eligible(self, priors: np.ndarray) -> np.ndarray:
        """Rows of candidate priors (n, k) where a pick of some candidate could clear the target."""
        c = self.calibration
        n = len(priors)
        if c is None:
            return np.ones(n, dtype=bool)
        if not self.applies or c.choice is None:
            return np.zeros(n, dtype=bool)
        ok = np.zeros(n, dtype=bool)
        for right, pick in self._picks(priors):
            ok |= right >= self.target * pick + 1e-12
        return ok

    def _picks(self, priors: np.ndarray):
        """Per candidate rank: (P(the judge picks it and it is right), P(the judge picks it)),
        one value per row of candidate priors, from the choice profile measured on seeds."""
        c = self.calibration.choice
        P = np.clip(priors, 0.0, 1.0)
        tot = P.sum(axis=1)
        p_abs = np.maximum(1.0 - tot, 0.0)
        for r in range(P.shape[1]):
            right = P[:, r] * c.p_hit
            yield right, right + (tot - P[:, r]) * c.pick_wrong_present(r) + p_abs * c.pick_absent(r)

    def choice_applied(self, priors: np.ndarray) -> np.ndarray:
        """P(the answer to a choose question is applied), per row of candidate priors (n, k):
        the chance of each pick whose posterior clears the target, and of a "none" that does.
        1 for a judge taken at its word; 0 where nothing of it may be applied."""
        c = self.calibration
        n = len(priors)
        if c is None:
            return np.ones(n)
        if not self.applies or c.choice is None:
            return np.zeros(n)
        applied, every = np.zeros(n), np.zeros(n)
        for right, pick in self._picks(priors):
            applied += np.where(right >= self.target * pick + 1e-12, pick, 0.0)
            every += pick
        tot = np.clip(priors, 0.0, 1.0).sum(axis=1)
        p_abs = np.maximum(1.0 - tot, 0.0)
        none_right = p_abs * c.choice.p_none_absent
        none = none_right + tot * c.choice.p_none_present
        applied += np.where(none_right >= self.target * none + 1e-12, none, 0.0)
        # each answer's rate is smoothed on its own, so the answers' chances need not sum to one:
        # divided by their sum, a row's figure is a probability and rows compare fairly
        every += none
        return np.divide(applied, every, out=np.zeros(n), where=every > 0)

    def binary_applied(self, prior: np.ndarray) -> np.ndarray:
        """P(a yes/no answer about a label with this prior is applied)."""
        c = self.calibration
        if c is None:
            return np.ones(len(prior))
        if not self.applies:
            return np.zeros(len(prior))
        p = np.clip(np.asarray(prior, dtype=np.float64), EPS, 1 - EPS)
        yr, yw = c.profile.p_yes_right, c.profile.p_yes_wrong
        yes, no = p * yr + (1 - p) * yw, p * (1 - yr) + (1 - p) * (1 - yw)
        return (np.where(p * yr >= self.target * yes, yes, 0.0)
                + np.where((1 - p) * (1 - yw) >= self.target * no, no, 0.0))

    def decide_choice(self, verdict: Verdict, labels, priors) -> tuple[str, float | None]:
        """("valid" | "invalid" | "review" | "error", P(right)) for one choose answer.

        valid: the picked candidate is applied; invalid: "none", applied as a rejection of
        every candidate; P(right) is the picked label's (for "none": that one of them is right).
        """
        if verdict.pending:
            return "review", None
        if verdict.valid is None:
            return "error", None
        labels = list(labels)
        if verdict.choice is not None and verdict.choice not in labels:
            return "error", None
        c = self.calibration
        if c is None:
            return ("valid", 1.0) if verdict.choice is not None else ("invalid", 0.0)
        if c.choice is None:
            return "review", None
        priors = np.asarray(priors, dtype=np.float64)
        if verdict.choice is not None:
            p = c.choice.posterior_pick(labels.index(verdict.choice), priors)
            return ("valid" if self.applies and p >= self.target else "review"), p
        p_absent = c.choice.posterior_none(priors)
        return ("invalid" if self.applies and p_absent >= self.target else "review"), 1.0 - p_absent

    def min_prior(self) -> float:
        """The lowest prior at which a confident "yes" still clears the target."""
        if self.calibration is None:
            return 0.0
        if not self.applies:
            return 1.0
        lr = max(self.calibration.profile.best_yes_ratio(), 1e-9)
        odds = self.target / (1 - self.target) / lr
        return float(odds / (1 + odds))

    def decide(self, verdict: Verdict, prior: float) -> tuple[str, float | None]:
        """("valid" | "invalid" | "review" | "error", P(right)) for one verdict."""
        if verdict.pending:  # handed to people: nothing to apply until they answer
            return "review", None
        s = verdict_score(verdict)
        if s is None:
            return "error", None
        if self.calibration is None:
            return ("valid" if verdict.valid else "invalid"), (1.0 if verdict.valid else 0.0)
        if self.calibration.profile is None:
            return "review", None
        p = float(posterior(self.calibration.profile.likelihood_ratio(s), prior))
        if not self.applies:
            return "review", p
        # applied only in the direction the judge answered: a "yes" is never recorded as a "no"
        if s >= 0.5 and p >= self.target:
            return "valid", p
        if s < 0.5 and p <= 1 - self.target:
            return "invalid", p
        return "review", p
