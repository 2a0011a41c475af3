"""`red discover` (issue 20): the demo with the seeds of three labels withheld, so their texts
sit in the pool fitting none of the project's labels. Real MiniLM embeddings, a real DuckDB
file, UMAP and scikit-learn's HDBSCAN."""

import pandas as pd
from conftest import OPEN_POOL_HIDDEN as HIDDEN

from red_app.cli.main import main
from red_app.project.store import Project
from red_app.workflows.discover import discover


def _purity(p, group):
    gold = p.hidden_gold(role="pool")
    labels = pd.Series([gold[s] for s in group.sample_ids])
    top = labels.value_counts()
    return top.index[0], top.iloc[0] / len(labels), int(top.iloc[0])


def test_the_labels_nobody_seeded_come_back_as_groups_and_the_same_twice(open_pool):
    with Project(open_pool, read_only=True) as p:
        found = discover(p)
        again = discover(p)
        assert [g.sample_ids for g in found.groups] == [g.sample_ids for g in again.groups]
        assert found.groups and found.unlabeled == 600
        came_back = set()
        for g in found.groups:
            label, purity, n = _purity(p, g)
            if label in HIDDEN and purity >= 0.8 and n >= 8:  # 8 of a label's 20 pool texts at least
                came_back.add(label)
        assert len(came_back) >= 2, [(_purity(p, g), g.words) for g in found.groups]
        # the groups that came back are named by their own words, and the least like any label come first
        best = next(g for g in found.groups if _purity(p, g)[0] in came_back)
        assert best.words and best.typical == [p.texts([s])[s] for s in best.sample_ids[:len(best.typical)]]
        assert [g.p_mean for g in found.groups] == sorted(g.p_mean for g in found.groups)


def test_a_group_becomes_a_label_from_the_command_line(open_pool, tmp_path, capsys):
    import shutil

    path = tmp_path / "p.duckdb"
    shutil.copy(open_pool, path)
    with Project(path) as p:
        found = discover(p)
        pick = next(g for g in found.groups if _purity(p, g)[0] in HIDDEN and _purity(p, g)[1] >= 0.8)
    assert main(["discover", str(path), "--show", "3"]) == 0
    out = capsys.readouterr().out
    assert "of at least" in out and "--make-label N --name NAME" in out
    assert main(["discover", str(path), "--make-label", str(pick.number), "--name", "new_from_pool",
                 "--take", "6", "--reviewer", "ana"]) == 0
    assert "6 text(s) are its first examples" in capsys.readouterr().out
    with Project(path) as p:
        assert "new_from_pool" in p.labels()
        rows = p.cursor().execute(
            "SELECT sample_id, actor FROM annotations WHERE label = 'new_from_pool' AND verdict = 'valid'").fetchall()
    assert sorted(r[0] for r in rows) == sorted(pick.sample_ids[:6]) and {r[1] for r in rows} == {"ana"}
    # refusals: one clear line each, nothing recorded
    assert main(["discover", str(path), "--make-label", "999", "--name", "x"]) == 1
    assert "no group 999" in capsys.readouterr().err
    assert main(["discover", str(path), "--make-label", "1"]) == 1
    assert "go together" in capsys.readouterr().err
    assert main(["discover", str(path), "--alpha", "2"]) == 1
    assert "between 0 and 1" in capsys.readouterr().err


def test_the_export_marks_texts_unlike_every_label_out_of_scope(open_pool, tmp_path):
    import shutil

    from red_app.project.dataio import export_labels
    from red_app.workflows.predict import predict_project

    path = tmp_path / "p.duckdb"
    shutil.copy(open_pool, path)
    out = tmp_path / "labels.parquet"
    with Project(path) as p:
        predict_project(p)
        export_labels(p, out)
        gold = p.hidden_gold(role="pool")
    df = pd.read_parquet(out)
    assert {"out_of_scope", "p_in_scope"} <= set(df.columns)
    model = df[df.origin == "model"]
    hidden = model.id.map(gold).isin(HIDDEN)
    print("out of scope: hidden", model[hidden].out_of_scope.mean(), "others", model[~hidden].out_of_scope.mean())
    # the texts of the labels nobody seeded are marked far more often than the rest, which
    # are marked at about the level (5%) by construction
    assert model[hidden].out_of_scope.mean() >= 0.3
    assert model[~hidden].out_of_scope.mean() <= 0.1
    assert model[model.out_of_scope].needs_review.all()  # no confident label for them
    seeds = df[df.origin == "seed"]
    assert not seeds.out_of_scope.any() and seeds.p_in_scope.isna().all()
