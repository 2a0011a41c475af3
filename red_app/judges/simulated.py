"""The simulated expert: knows the hidden gold label, errs at a set rate (seeded).

For tests and benchmarks only — it needs ``gold`` (sample id → label), which a real
project has only for samples imported with ``--mode hidden-gold``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, fields
from typing import Mapping

import numpy as np

from .base import BaseJudge, JudgeRequest, Verdict

# What the embedded Qwen2.5-Coder-1.5B judge did in the loop (bench/REPORT.md, "The embedded judge"): it
# says "valid" to nearly every right label and to about half of the wrong ones.
REALISTIC = (0.97, 0.55)


def _zipf(k: int = 5) -> tuple[float, ...]:
    """Plausibility by the classifier's rank: a wrong label the classifier ranks higher is the
    likelier wrong pick (a person or a model confuses what looks alike), but not the only one."""
    return tuple(1.0 / (r + 1) for r in range(k))


@dataclass(frozen=True)
class ExpertProfile:
    """How a simulated expert errs, for both question forms.

    Binary: ``p_valid_right`` = P(says valid | the label is right), ``p_valid_wrong`` = P(says
    valid | it is wrong); ``accuracy`` a symmetric judge's rate of right answers.
    Choose (``candidates`` best first, as the classifier ranks them):

    - ``hit[r]``: P(picks the right label | it is offered at position r) — a position-biased
      judge finds it more often at A than at E (the last value repeats for later positions);
    - ``none_present`` / ``none_absent``: P("none" | the right label is / is not offered);
    - ``wrong[r]``: the weight of position r among the wrong picks — position bias times
      plausibility; a wrong pick is drawn over the wrong candidates by these weights, so it
      falls on any of them, likelier where the classifier ranked it higher (never only the first).
    """

    name: str
    hit: tuple[float, ...]
    none_present: float
    none_absent: float
    wrong: tuple[float, ...] = _zipf()
    p_valid_right: float | None = None
    p_valid_wrong: float | None = None
    accuracy: float = 1.0
    source: str = ""

    def __post_init__(self):
        probs = (*self.hit, self.none_present, self.none_absent, self.accuracy,
                 *(x for x in (self.p_valid_right, self.p_valid_wrong) if x is not None))
        if not self.hit or not all(0.0 <= float(x) <= 1.0 for x in probs):
            raise ValueError("every rate of an expert profile must be between 0 and 1")
        if not self.wrong or min(self.wrong) < 0 or sum(self.wrong) <= 0:
            raise ValueError("an expert profile's wrong-pick weights must be ≥ 0 and not all zero")

    @property
    def biased(self) -> bool:
        return self.p_valid_right is not None

    @property
    def perfect(self) -> bool:
        return (not self.biased and self.accuracy == 1.0 and min(self.hit) == 1.0
                and self.none_absent == 1.0 and self.none_present == 0.0)

    @classmethod
    def symmetric(cls, accuracy: float = 1.0) -> "ExpertProfile":
        """Right with probability ``accuracy`` in either form: a choose answer finds an offered
        right label, or says "none" when it is not offered, with that probability."""
        return cls(f"symmetric {accuracy:g}", hit=(accuracy,), none_present=0.0, none_absent=accuracy,
                   accuracy=accuracy)

    @classmethod
    def yes_leaning(cls, right: float, wrong: float) -> "ExpertProfile":
        """A judge that leans to "yes": (P(valid | right), P(valid | wrong)); in choose form it
        finds an offered right label with probability ``right``, otherwise names a wrong one
        with probability ``wrong``, and names a wrong one for ``wrong`` of the texts whose label
        is not offered."""
        return cls(f"P(valid|right)={right:g}, P(valid|wrong)={wrong:g}", hit=(right,),
                   none_present=(1 - right) * (1 - wrong), none_absent=1 - wrong,
                   p_valid_right=right, p_valid_wrong=wrong)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hit"], d["wrong"] = list(self.hit), list(self.wrong)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ExpertProfile":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown keys {', '.join(unknown)}; a profile has {', '.join(sorted(known))}")
        kw = dict(d)
        for key in ("hit", "wrong"):
            if key in kw:
                kw[key] = tuple(float(x) for x in kw[key])
        try:
            return cls(**kw)
        except TypeError as exc:
            raise ValueError(f"an expert profile needs name, hit, none_present and none_absent ({exc})") from None


# The embedded Qwen2.5-Coder-1.5B judge as measured on 40 BANKING77 seeds (bench/REPORT.md, "The embedded
# judge asked choose questions"): it found an offered right label 26 times in 40, never answered "none",
# and picked by letter position — A 21 times, D 16, C 2, E 1 of 40 when the right label was missing.
EMBEDDED_15B = ExpertProfile("embedded Qwen2.5-Coder-1.5B, measured", hit=(26 / 40,), none_present=0.0,
                             none_absent=0.0, wrong=(22.0, 1.0, 3.0, 17.0, 2.0), p_valid_right=REALISTIC[0],
                             p_valid_wrong=REALISTIC[1], source="bench/REPORT.md, session 4")
PROFILES = {"realistic": ExpertProfile.yes_leaning(*REALISTIC), "embedded-1.5b": EMBEDDED_15B}


def parse_profile(text: str) -> ExpertProfile:
    """``realistic``, ``embedded-1.5b``, ``RIGHT,WRONG`` (a yes-leaning judge) or a JSON file
    (:meth:`ExpertProfile.to_dict`'s form, e.g. written by `red judge-eval --save-profile`)."""
    if text in PROFILES:
        return PROFILES[text]
    if text.endswith(".json"):
        from pathlib import Path

        path = Path(text)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read the profile file {text}: {exc.strerror or exc}") from None
        if len(raw) > 1_000_000:
            raise ValueError(f"the profile file {text} is over 1 MB; a profile is a few lines of JSON")
        try:
            d = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"the profile file {text} is not JSON") from None
        if not isinstance(d, dict):
            raise ValueError(f"the profile file {text} must hold one JSON object")
        return ExpertProfile.from_dict(d)
    try:
        right, wrong = (float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"judge profile {text!r}: use realistic, embedded-1.5b, two numbers (e.g. 0.97,0.55) "
                         "or a .json file") from None
    return ExpertProfile.yes_leaning(right, wrong)


class SimulatedJudge(BaseJudge):
    """A judge that knows the hidden gold and errs as its :class:`ExpertProfile` says; each
    question's coins are fixed by ``seed``, so re-asking gives the same answer.

    ``accuracy`` (symmetric) or ``p_valid_right`` / ``p_valid_wrong`` (a yes-leaning judge)
    build the profile when none is given. Only the perfect judge is ``trusted``: the loop
    takes its word without measuring it first.
    """

    kind = "simulated"

    def __init__(self, gold: Mapping[str, str], accuracy: float = 1.0, seed: int = 0,
                 latency_ms: float | None = None, p_valid_right: float | None = None,
                 p_valid_wrong: float | None = None, profile: ExpertProfile | None = None):
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError("judge accuracy must be between 0 and 1")
        if profile is None and (p_valid_right is not None or p_valid_wrong is not None):
            profile = ExpertProfile.yes_leaning(1.0 if p_valid_right is None else p_valid_right,
                                                0.0 if p_valid_wrong is None else p_valid_wrong)
        self.profile = profile or ExpertProfile.symmetric(accuracy)
        self.gold = gold
        self.accuracy = self.profile.accuracy
        self.seed = seed
        self.p_valid_right, self.p_valid_wrong = self.profile.p_valid_right, self.profile.p_valid_wrong
        self.trusted = self.profile.perfect
        self.model = f"simulated({self.profile.name})"
        # an artificial delay per verdict (RED_SLOW_JUDGE_MS), so demos and the
        # kill-and-resume test can watch a run that takes as long as a real judge
        self.latency_ms = float(os.environ.get("RED_SLOW_JUDGE_MS", 0) if latency_ms is None else latency_ms)

    def _coins(self, key: str, n: int = 1) -> np.ndarray:
        h = hashlib.blake2b(f"{self.seed}|{key}".encode(), digest_size=8)
        return np.random.default_rng(int.from_bytes(h.digest(), "little")).random(n)

    def _choose(self, request: JudgeRequest, truth: str) -> Verdict:
        labels = request.candidate_labels()
        prof = self.profile
        coin, draw = self._coins(f"{request.sample_id}|choose|{'|'.join(labels)}", 2)
        wrong = [r for r, lab in enumerate(labels) if lab != truth]
        if truth in labels:
            g = labels.index(truth)
            hit = prof.hit[min(g, len(prof.hit) - 1)]
            none = min(prof.none_present, 1.0 - hit)
            pick = truth if coin < hit else (None if coin < hit + none or not wrong else "wrong")
        else:
            pick = None if coin < prof.none_absent or not wrong else "wrong"
        if pick == "wrong":  # a wrong candidate, drawn by position bias × plausibility
            w = np.array([prof.wrong[min(r, len(prof.wrong) - 1)] for r in wrong], dtype=np.float64)
            if w.sum() <= 0:  # the profile never errs at these positions: any wrong candidate alike
                w = np.ones(len(wrong))
            pick = labels[wrong[int(np.searchsorted(np.cumsum(w) / w.sum(), draw, side="right").clip(0, len(w) - 1))]]
        honest = pick == (truth if truth in labels else None)
        why = "agrees with the hidden gold" if honest else "deliberately wrong"
        return Verdict(valid=pick is not None, confidence=1.0, model=self.model, rationale=f"simulated: {why}",
                       latency_ms=self.latency_ms, choice=pick)

    def judge(self, request: JudgeRequest) -> Verdict:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        truth = self.gold.get(request.sample_id)
        if truth is None:
            return Verdict(
                valid=None, confidence=0.0, model=self.model,
                error=f"sample {request.sample_id!r} has no hidden gold label; the simulated "
                "judge only works on samples imported with --mode hidden-gold",
            )
        if request.is_choice:
            return self._choose(request, truth)
        correct = truth == request.label
        coin = self._coins(f"{request.sample_id}|{request.label}")[0]
        if self.profile.biased:
            valid = coin < (self.p_valid_right if correct else self.p_valid_wrong)
        else:
            valid = correct if coin < self.accuracy else not correct
        # Reviewers read the rationale beside the verdict: it must not tell them the gold label,
        # nor whether this answer is one of the deliberate errors (that would give gold away).
        why = ("a simulated judge answers from the hidden gold" if self.trusted else
               f"a simulated judge that errs on purpose ({self.model}); this answer may be wrong")
        return Verdict(valid=valid, confidence=1.0, model=self.model, rationale=why, latency_ms=self.latency_ms)
