"""The loop's settings as the doors show them: each declared once in
:class:`~red_app.method.config.LoopConfig` (default, bounds, choices, words), read here
into plain specs a page turns into widgets and the CLI into options."""

from __future__ import annotations

from dataclasses import dataclass

from ..method.config import CHOICES, DEFAULTS, LoopConfig, setting_fields  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class SettingSpec:
    """One setting for a form: ``kind`` is choice, int, float or bool."""

    name: str
    label: str
    help: str
    kind: str
    default: object
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None


def _kind(f) -> str:
    if f.metadata["choices"] is not None:
        return "choice"
    t = str(f.type)
    return "bool" if "bool" in t else "float" if "float" in t else "int"


def setting_specs(on_page: bool | None = True) -> list[SettingSpec]:
    """The settings a form offers (``on_page``: those the Run page shows by default)."""
    out = []
    for f in setting_fields(on_page):
        m = f.metadata
        high = m["high"]
        if high is not None and m["high_open"]:
            high = high - (m["step"] or 0.01)  # a widget's bound is inclusive
        out.append(SettingSpec(name=f.name, label=m["label"] or f.name.replace("_", " ").capitalize(),
                               help=m["help"], kind=_kind(f), default=getattr(DEFAULTS, f.name), low=m["low"],
                               high=high, step=m["step"], choices=m["choices"]))
    return out


def measuring_note(config: LoopConfig) -> str:
    """What measuring a judge on seeds costs a run with these settings, in words."""
    n = config.measuring_seeds()
    if config.calibration_seeds == 0 or n == 0:
        return "The judge's verdicts are taken at their word: nothing is spent measuring it."
    capped = " (at most half the budget)" if n < config.calibration_seeds else ""
    return (f"Before applying any verdict, the run measures the judge on {n} seeds{capped}: {2 * n} of the "
            f"{config.budget:,} calls, with a count shown as it goes.")
