"""A label for every text of a project: `red predict`, and after every run.

Samples a seed, an import, a judge or a person decided keep that decision; every other
trainable sample gets the final model's label with a calibrated confidence and its top
alternatives, stored as a new set (``origin = 'model'`` in the export: a prediction,
never a decision). The temperature is fitted on the seeds and imports only — labeled
texts drawn like the pool — never on hidden gold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .inputs import load_inputs
from ..method.config import DEFAULTS, LoopConfig
from ..method.final import predict_labels
from ..method.open_world import out_of_scope
from ..project.embed import project_model
from ..project.store import Project


@dataclass(frozen=True)
class PredictReport:
    set_id: int
    predicted: int
    labeled: int
    temperature: float
    mean_confidence: float

    def summary(self) -> str:
        return (f"model labels for {self.predicted:,} texts (set {self.set_id}; {self.labeled:,} decided labels "
                f"trained on; mean confidence {self.mean_confidence:.2f}, temperature {self.temperature:.2f})")


def predict_project(project: Project, config: LoopConfig | None = None, run_id: int | None = None,
                    retrain_encoder: bool = False, progress=None) -> PredictReport:
    """Label every undecided trainable sample with the final model; store the set.

    ``final_model="finetune"`` first fine-tunes the encoder on the current labels (or reuses
    the one trained on the same labels; ``retrain_encoder`` forces a new one), embeds every
    text with it (cached) and fits the flat model on those embeddings.
    """
    config = config or DEFAULTS
    data, state = load_inputs(project)
    origins = project.current_labels().set_index("sample_id")["origin"]
    reference = np.array([origins.get(i) in ("seed", "import") for i in data.ids], dtype=bool)
    model_name = f"{config.final_model} on {project_model(project)}"
    if config.final_model == "finetune":
        from .finetune import ensure_encoder, temperature_rows
        from ..project.embed import embed_project

        enc = ensure_encoder(project, data, state, reference, run_id=run_id, retrain=retrain_encoder,
                             progress=progress)
        embed_project(project, model=enc.embedding_key, source=str(enc.folder))
        data, state = load_inputs(project, model=enc.embedding_key)
        # the temperature from seeds the encoder saw: measured better than held-out ones (red_app.workflows.finetune)
        s = enc.record["settings"]
        reference = temperature_rows(reference, s["seed"], s.get("hold_out", 0.3))  # encoders trained before the setting held out 30%
        model_name = f"finetune on {enc.embedding_key}"
    # a text decided to fit none of the labels gets no model label (it is not undecided)
    none = state.none_mask()  # answered "fits none of the labels"
    rows = np.flatnonzero((state.y < 0) & ~none)
    ml = predict_labels(config, data, state, rows=rows,
                        reference=reference if reference.sum() >= 2 * len(data.label_names) else None)
    names = np.asarray(data.label_names, dtype=object)
    # how like the labels' known texts each text is at all (a text that fits no label gets a
    # model label too, but not a confident one: the export marks it out of scope)
    known = state.y >= 0
    p_in = out_of_scope(data.X, known, none=none).p if known.sum() >= 2 else np.ones(len(data.ids))
    tbl = pa.table({
        "sample_id": pa.array([data.ids[i] for i in ml.index], pa.string()),
        "label": pa.array(names[ml.label].tolist() if len(ml.index) else [], pa.string()),
        "confidence": pa.array(ml.confidence.astype(np.float64)),
        "alternatives": pa.array([names[r[1:]].tolist() for r in ml.top3], pa.list_(pa.string())),
        "alternative_confidences": pa.array([r[1:].tolist() for r in ml.top3_confidence], pa.list_(pa.float64())),
        "p_in_scope": pa.array(p_in[ml.index].astype(np.float64)),
    })
    labeled = int((state.y >= 0).sum())
    set_id = project.save_model_labels(run_id, model_name, ml.temperature, labeled, tbl)
    return PredictReport(set_id, len(ml.index), labeled, ml.temperature,
                         float(ml.confidence.mean()) if len(ml.index) else float("nan"))
