"""Every setting of the R.E.D. loop, declared once: :class:`LoopConfig`, its choices and
defaults, and every way in — a dict (a stored run), ``KEY=VALUE`` strings (``red bench
--set``) and argparse options (``red run``). The CLI and the pages read their choices
from here, so they cannot drift from what the loop accepts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Iterable

from ..errors import ConfigError
from .classifiers import NOISE_STRATEGIES
from .subsets import PARTITION_METHODS
from .uncertainty import MEASURES

SELECTIONS = ("uncertain", "random")
ON_REJECT = ("next", "skip")
MODELS = ("flat", "red")
# binary: "is label X right?" about the top candidate; choose: "which of these k labels, or none?"
QUESTIONS = ("binary", "choose")
# the final model may also adapt the encoder to the labels first (red_app.method.finetune);
# the loop itself always ranks and evaluates with a linear probe
FINAL_MODELS = (*MODELS, "finetune")

# The allowed values of every setting that has a fixed set of them.
CHOICES: dict[str, tuple[str, ...]] = {
    "selection": SELECTIONS, "on_reject": ON_REJECT, "selector": MODELS, "final_model": FINAL_MODELS,
    "uncertainty": MEASURES, "noise": NOISE_STRATEGIES, "partition_method": PARTITION_METHODS,
    "question": QUESTIONS,
}


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
    # judge-aware delegation (red_app.method.delegation): a judge that is not taken at its
    # word is first measured on this many seeds (2 calls each, charged to the budget), and
    # its verdicts are applied only where P(label right) clears the precision target;
    # calibration_seeds=0 takes every verdict at its word (the loop before delegation)
    precision_target: float = 0.9
    calibration_seeds: int = 40
    trust_judge: bool = False
    # a judge whose calls fail this many times in a row pauses the run (resumable)
    max_failures: int = 5
    # what the judge is asked: binary (is the top label right?) or choose (which of the
    # top choose_k candidates, each with its description and nearest examples, or none?).
    # choose is the default: it beat binary on every benchmark pair (CLINC150, BANKING77,
    # O*NET; perfect and yes-leaning judges) and no injection written against yes/no moved
    # it (bench/REPORT.md); binary stays one setting away
    question: str = "choose"
    choose_k: int = 5

    def __post_init__(self) -> None:
        if self.budget < 0 or self.batch < 1:
            raise ConfigError("budget must be >= 0 and batch >= 1")
        if self.n < 1 or self.noise_ratio < 0 or self.c_examples < 0 or self.self_training_rounds < 1:
            raise ConfigError("n and self_training_rounds must be >= 1; noise_ratio and c_examples >= 0")
        if self.max_failures < 1:
            raise ConfigError("max_failures must be >= 1")
        if not 2 <= self.choose_k <= 26:
            raise ConfigError("choose_k must be between 2 and 26 (candidates are lettered A-Z)")
        if not 0.5 <= self.precision_target < 1 or self.calibration_seeds < 0:
            raise ConfigError("precision_target must be in [0.5, 1) and calibration_seeds >= 0")
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")

    def cap(self, n_labels: int) -> int:
        if self.per_label_cap is not None:
            return self.per_label_cap
        # enough room that the batch can fill, small enough that no label hogs it
        return max(2, math.ceil(3 * self.batch / max(n_labels, 1)))

    @property
    def probe_model(self) -> str:
        """The classifier fitted on embeddings: ``finetune`` fits the flat one on the fine-tuned encoder's."""
        return "flat" if self.final_model == "finetune" else self.final_model

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULTS = LoopConfig()
_TYPES = {f.name: str(f.type) for f in fields(LoopConfig)}


def config_from_dict(d: dict) -> LoopConfig:
    """A config from a stored run's dict; keys this version does not know are ignored. A run
    stored before questions could be chosen asked binary ones, and resumes asking them."""
    known = {k: v for k, v in d.items() if k in _TYPES}
    if d and "question" not in d:
        known["question"] = "binary"
    return LoopConfig(**known)


def parse_setting(item: str) -> tuple[str, object]:
    """``"KEY=VALUE"`` → (key, typed value); a clear ConfigError for anything else."""
    key, _, value = item.partition("=")
    if key not in _TYPES or not value:
        raise ConfigError(f"--set {item!r}: use KEY=VALUE with a loop setting ({', '.join(sorted(_TYPES))})")
    t = _TYPES[key]
    try:
        typed = (None if value.lower() == "none" else float(value) if "float" in t
                 else int(value) if "int" in t else value.lower() == "true" if "bool" in t else value)
    except ValueError:
        raise ConfigError(f"--set {item!r}: {key} takes a {t.split(' |')[0]}, not {value!r}") from None
    return key, typed


def overrides_from_strings(items: Iterable[str] | None) -> dict:
    """``KEY=VALUE`` strings → a dict of settings, each checked by building a config."""
    out = dict(parse_setting(i) for i in items or [])
    LoopConfig(**out)  # check every setting before any data is read
    return out


def add_loop_arguments(p) -> None:
    """The loop's settings as argparse options, with the choices and defaults above."""
    d = DEFAULTS
    g = p.add_argument_group("loop settings (defaults are the benchmark's winners)")
    g.add_argument("--budget", type=int, default=d.budget, help="judge calls in all")
    g.add_argument("--batch", type=int, default=d.batch, help="proposals per iteration (top-k)")
    g.add_argument("--per-label-cap", type=int, default=None, help="most proposals per predicted label per iteration")
    g.add_argument("--uncertainty", choices=CHOICES["uncertainty"], default=d.uncertainty)
    g.add_argument("--selector", choices=CHOICES["selector"], default=d.selector,
                   help="model that ranks uncertainty: red = subset classifiers (the article), flat = one model")
    g.add_argument("--final-model", choices=CHOICES["final_model"], default=d.final_model,
                   help="model behind the final labels and exported confidences: flat = one logistic regression, "
                   "red = subset classifiers, finetune = fine-tune the encoder on the labels first (minutes; "
                   "see README)")
    g.add_argument("--n", type=int, default=d.n, help="labels per subset")
    g.add_argument("--noise-ratio", type=float, default=d.noise_ratio)
    g.add_argument("--noise", choices=CHOICES["noise"], default=d.noise)
    g.add_argument("--partition", dest="partition_method", choices=CHOICES["partition_method"],
                   default=d.partition_method)
    g.add_argument("--on-reject", choices=CHOICES["on_reject"], default=d.on_reject,
                   help="next: ask about the sample's next candidate label in the same iteration")
    g.add_argument("--self-training", type=float, default=d.self_training,
                   help="confidence above which pool predictions inform the final model (never stored as labels); <0 disables")
    g.add_argument("--c", dest="c_examples", type=int, default=d.c_examples, help="nearest known-good examples shown to the judge")
    g.add_argument("--patience", type=int, default=d.patience, help="iterations without fewer uncertain samples before stopping")
    g.add_argument("--precision-target", type=float, default=d.precision_target,
                   help="apply a judge's verdict only where P(label right) is at least this; the rest go to people")
    g.add_argument("--calibration-seeds", type=int, default=d.calibration_seeds,
                   help="seeds the judge is measured on before the run (2 calls each, from the budget); "
                   "0 takes every verdict at its word")
    g.add_argument("--trust-judge", action="store_true", default=None,
                   help="apply the judge's verdicts even where it measured as adding nothing to the classifier")
    g.add_argument("--question", choices=CHOICES["question"], default=d.question,
                   help="binary: ask whether the top label is right; choose: show the top --choose-k labels "
                   "and let the judge pick one or none")
    g.add_argument("--choose-k", type=int, default=d.choose_k, help="candidates per choose question")
    g.add_argument("--seed", type=int, default=d.seed)


def config_from_args(ns) -> LoopConfig:
    """The config an argparse namespace (from :func:`add_loop_arguments`) asks for."""
    kw = {k: v for k, v in vars(ns).items() if k in _TYPES and v is not None}
    if kw.get("self_training") is not None and kw["self_training"] < 0:
        kw["self_training"] = None
    return LoopConfig(**kw)
