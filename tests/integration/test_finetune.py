"""`--final-model finetune`: a real fine-tune of the packaged MiniLM on a tiny real slice,
offline, through `red predict` — stored in its own format beside the project, named in the
project, its embeddings cached under its own key, reused, and refused clearly when damaged."""

import json

import numpy as np
import pytest

from red_app.cli.main import main
from red_app.method.finetune import pair_batches
from red_app.project.store import Project

LABELS = 4
POOL_PER_LABEL = 12


@pytest.fixture
def tiny_project(tmp_path, banking_path):
    """4 BANKING77 intents: shot10 seeds and 12 hidden-gold pool texts each, embedded."""
    import duckdb

    from red_app.project.dataio import import_file
    from red_app.project.embed import embed_project

    labels = [r[0] for r in duckdb.sql(
        f"SELECT DISTINCT label FROM read_parquet('{banking_path}') ORDER BY label LIMIT {LABELS}").fetchall()]
    in_labels = "label IN (" + ", ".join("'" + l + "'" for l in labels) + ")"
    pool = duckdb.sql(f"""SELECT text FROM read_parquet('{banking_path}')
                          WHERE {in_labels} AND split = 'train' AND NOT shot10
                          QUALIFY row_number() OVER (PARTITION BY label ORDER BY text) <= {POOL_PER_LABEL}""").fetchall()
    texts = ", ".join("'" + t.replace("'", "''") + "'" for (t,) in pool)
    path = tmp_path / "tiny.duckdb"
    with Project(path, create=True) as p:
        import_file(p, banking_path, where=f"{in_labels} AND split = 'train' AND shot10")
        import_file(p, banking_path, where=f"{in_labels} AND split = 'train' AND text IN ({texts})", mode="hidden-gold")
        embed_project(p)
    return path


def test_pairs_share_a_label_and_a_batch_never_repeats_one():
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3])  # label 3 has no partner
    batches = pair_batches(y, batch_size=3, epochs=2, seed=1)
    anchors = [a for b in batches for a, _ in b]
    assert sorted(anchors) == sorted(list(range(9)) * 2)  # each pairable sample once per epoch
    for b in batches:
        assert all(y[a] == y[p] and a != p for a, p in b)
        assert 2 <= len({y[a] for a, _ in b}) == len(b) <= 3  # a batch of one pair has no negative
    # one dominant label cannot fill batches alone: its leftovers are dropped, never batched together
    skewed = pair_batches(np.array([0] * 8 + [1, 1]), batch_size=4, epochs=1)
    assert all(len({a for a, _ in b}) == len(b) == 2 for b in skewed)


def test_some_seeds_stay_out_of_the_fine_tune_and_the_temperature_uses_the_others():
    from red_app.workflows import finetune

    reference = np.arange(1000) < 400  # the seeds
    held = finetune.held_out_seeds(reference, seed=3, share=0.3)
    assert not (held & ~reference).any() and 0 < held.sum() < reference.sum()  # only seeds, some of them
    assert (finetune.held_out_seeds(reference, seed=3, share=0.3) == held).all()  # the same on every predict
    rows = finetune.temperature_rows(reference, seed=3, share=0.3)
    assert (rows == (reference & ~held)).all()
    # hold_out=0: every seed trains the encoder, and the temperature uses them all
    assert not finetune.held_out_seeds(reference, seed=3, share=0.0).any()
    assert (finetune.temperature_rows(reference, seed=3, share=0.0) == reference).all()
    from red_app.errors import ConfigError
    from red_app.method.finetune import FinetuneSettings

    assert FinetuneSettings().hold_out == 0.0  # every seed trains the encoder by default
    assert FinetuneSettings.from_strings(["hold_out=0.3"]).hold_out == 0.3
    with pytest.raises(ConfigError, match="hold_out"):
        FinetuneSettings(hold_out=1.0)


def test_predict_with_a_fine_tuned_encoder(tiny_project, capsys):
    path = tiny_project
    assert main(["predict", str(path), "--final-model", "finetune"]) == 0
    with Project(path, read_only=True) as p:
        (key, rec), = p.encoders().items()
        folder = path.parent / rec["folder"]
        # its own format beside the project file: safetensors + sentence-transformers config, no pickle
        assert folder.parent == path.parent / "tiny.models"
        assert (folder / "model.safetensors").is_file() and (folder / "modules.json").is_file()
        assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.bin"))
        assert rec["trained_on"] + rec["calibration_held_out"] == LABELS * 10  # seeds only: no run decided more
        # embeddings cached under the encoder's own key, for every sample, and different from MiniLM's
        key_emb = rec["embedding_key"]
        ids, X_ft = p.embedding_matrix(key_emb)
        ids0, X0 = p.embedding_matrix(p.get_setting("embedding_model"))  # the frozen encoder's key (onnx or torch)
        assert ids == ids0 and len(ids) == p.sample_count()
        assert not np.allclose(X_ft, X0, atol=1e-3)
        # the labels and confidences come from it
        sets = p.model_label_sets()
        assert sets.model.iloc[-1] == f"finetune on {key_emb}"
        ml = p.model_labels()
        assert len(ml) == LABELS * POOL_PER_LABEL and ml.confidence.between(0, 1).all()
        gold = p.hidden_gold(role="pool")
        assert np.mean([gold[s] == lab for s, lab in zip(ml.sample_id, ml.label)]) > 0.7
        n_emb = len(p.cached_hashes(key_emb))
    assert "model labels for" in capsys.readouterr().out

    # a second predict on the same labels reuses the folder and its embeddings
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert main(["predict", str(path), "--final-model", "finetune"]) == 0
    with Project(path, read_only=True) as p:
        assert list(p.encoders()) == [key]
        assert len(p.cached_hashes(key_emb)) == n_emb
        assert len(p.model_label_sets()) == 2
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp

    # damaged weights, then a missing folder: one clear line each, nothing written
    with open(folder / "model.safetensors", "r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 64)
    assert main(["predict", str(path), "--final-model", "finetune"]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and "--retrain-encoder" in err and err.count("\n") == 1
    import shutil

    shutil.rmtree(folder)
    assert main(["predict", str(path), "--final-model", "finetune"]) == 1
    err = capsys.readouterr().err
    assert "missing" in err and str(folder) in err
    with Project(path, read_only=True) as p:
        assert len(p.model_label_sets()) == 2
    # and the way out the message names works
    assert main(["predict", str(path), "--final-model", "finetune", "--retrain-encoder"]) == 0
    assert (folder / "model.safetensors").is_file()


def test_a_run_names_its_encoder_in_its_record(tiny_project):
    from red_app.judges.simulated import SimulatedJudge
    from red_app.method.config import LoopConfig
    from red_app.workflows.runner import run_project

    with Project(tiny_project) as p:
        judge = SimulatedJudge({**p.seed_labels(), **p.hidden_gold(role="pool")})
        list(run_project(p, judge, LoopConfig(budget=12, batch=12, final_model="finetune", calibration_seeds=0)))
        run = p.runs().iloc[-1]
        final = json.loads(run.config)["final_model"]
        rec = p.encoders()[final["encoder"]]
        assert final["folder"] == rec["folder"] and (tiny_project.parent / rec["folder"]).is_dir()
        # the run's decisions trained it: more than the seeds it had before
        assert rec["trained_on"] + rec["calibration_held_out"] > LABELS * 10
        assert p.model_label_sets().model.iloc[-1] == f"finetune on {rec['embedding_key']}"
