"""A label for every text: the final model's prediction, calibrated, never a decision."""

import numpy as np

from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.method.final import expected_calibration_error
from red_app.workflows.predict import predict_project
from red_app.project.store import Project
from red_app.workflows.runner import run_project


def test_every_undecided_text_gets_a_calibrated_model_label(small_copy):
    with Project(small_copy) as p:
        gold = p.hidden_gold(role="pool")
        list(run_project(p, SimulatedJudge({**p.seed_labels(), **gold}), LoopConfig(budget=150, batch=50)))
        sets = p.model_label_sets()
        assert len(sets) == 1 and sets.run_id.iloc[0] == 1  # the run labelled everything at its end
        decided = set(p.current_labels().sample_id)
        ml = p.model_labels()
        pool = set(p.samples(role="pool").id)
        assert set(ml.sample_id) == pool - decided  # exactly the texts nobody decided
        assert ml.confidence.between(0, 1).all() and ml.label.notna().all()
        assert all(len(a) == 2 for a in ml.alternatives)
        ok = np.array([gold[s] == lab for s, lab in zip(ml.sample_id, ml.label)])
        # calibrated on seeds only, checked against the hidden gold it never saw
        assert expected_calibration_error(ml.confidence.to_numpy(), ok) < 0.08
        assert abs(ml.confidence.mean() - ok.mean()) < 0.06
        assert p.status()["model_labeled"] == len(ml)
        # a second prediction is a new set; the first stays auditable
        rep = predict_project(p)
        assert rep.set_id == 2 and len(p.model_labels(1)) == len(ml)


def test_the_export_has_a_label_and_a_confidence_for_every_pool_text_in_scope(small_copy, tmp_path):
    import pandas as pd

    from red_app.project.dataio import export_labels

    with Project(small_copy) as p:
        gold = p.hidden_gold(role="pool")
        list(run_project(p, SimulatedJudge({**p.seed_labels(), **gold}), LoopConfig(budget=120, batch=40)))
        out = tmp_path / "all.parquet"
        n = export_labels(p, out)
        df = pd.read_parquet(out)
        pool = df[df.role == "pool"]
        assert n == len(df) and len(pool) == len(p.samples(role="pool"))
        # every text in scope has a label and a confidence; one out of scope has no confident label
        # (the judge's "none of these": no label at all; a model label unlike every label: no confidence)
        inside, outside = pool[~pool.out_of_scope], pool[pool.out_of_scope]
        assert inside.label.notna().all() and inside.confidence.between(0, 1).all()
        guessed = outside.origin == "model"
        assert outside.confidence[guessed].isna().all() and outside.needs_review[guessed].all()
        assert outside.label[~guessed].isna().all() and outside.origin[~guessed].isin(["judge", "human"]).all()
        assert outside.confidence[~guessed].between(0, 1).all()
        decided = set(p.current_labels().sample_id) | set(p.fits_none())
        assert set(outside.id[outside.label.isna()]) == set(p.fits_none()) and len(p.fits_none()) > 0
        # origin 'model' is exactly the texts nobody decided
        assert set(df.id[df.origin == "model"]) == set(pool.id) - decided
        assert (df.confidence[df.origin.isin(["seed", "human"])] == 1.0).all()
        model_rows = df[df.origin == "model"]
        assert model_rows.alternatives.map(len).eq(2).all()
        # filters
        m = export_labels(p, tmp_path / "sure.csv", min_confidence=0.9, origins=["model"], history=False)
        sure = pd.read_csv(tmp_path / "sure.csv")
        assert m == len(sure) == int((model_rows.confidence >= 0.9).sum())
        assert not set(sure.id) & set(outside.id)  # nothing out of scope is a sure label
        assert "decisions" not in sure.columns and set(sure.origin) <= {"model"}
        flagged = export_labels(p, tmp_path / "r.parquet", review_below=0.5, origins=["model"])
        r = pd.read_parquet(tmp_path / "r.parquet")
        # to review: below the threshold, or out of scope (unlike every label's known texts)
        assert flagged == len(model_rows)
        assert (r.needs_review == ((r.confidence < 0.5) | r.out_of_scope)).all()
        assert (r.out_of_scope == (r.p_in_scope < 0.05)).all() and r.p_in_scope.between(0, 1).all()
