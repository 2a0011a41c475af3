"""The label map is cached in the project by what it is computed from (labels, seeds'
current labels, embedding model, settings): reused by a second visit, a second server
(a new Project object) and a run; recomputed when a label or a seed changes."""

from __future__ import annotations

import pytest

from red_app.workflows import label_map
from red_app.judges.simulated import SimulatedJudge
from red_app.workflows.label_map import current_map, map_fingerprint
from red_app.method.config import LoopConfig
from red_app.project.schema import SCHEMA_VERSION
from red_app.project.store import Project
from red_app.workflows.runner import run_project
from red_app.workflows.texts import add_label, label_text
from tests.doubles.old_schema import old_schema_file


@pytest.fixture
def computed(monkeypatch):
    """How many times a partition (UMAP + subsets) was really computed."""
    calls = []
    real = label_map.partition_labels

    def counting(*args, **kwargs):
        calls.append(kwargs.get("n"))
        return real(*args, **kwargs)

    monkeypatch.setattr(label_map, "partition_labels", counting)
    return calls


def test_the_map_is_reused_until_a_label_or_a_seed_changes(small_copy, computed):
    with Project(small_copy) as p:
        first = current_map(p)
        assert len(computed) == 1
        shown = p.label_map()
        assert set(shown.label) == set(p.labels()) and (shown.fingerprint == first).all()
        assert current_map(p) == first and len(computed) == 1  # a second visit
    with Project(small_copy) as p:  # a second server on the same file
        assert current_map(p) == first and len(computed) == 1
        # a run with the page's settings takes the stored partition
        gold = {**p.seed_labels(), **p.hidden_gold(role="pool")}
        records = list(run_project(p, SimulatedJudge(gold), LoopConfig(budget=20, batch=10, calibration_seeds=0),
                                   label_everything=False))
        assert records and len(computed) == 1
        # the judge's accepted examples are not seeds: the map stays
        assert current_map(p) == first and len(computed) == 1

        # a person moves one seed to another label: the seeds changed, the map is recomputed
        seeds = p.seed_labels()
        sid, old = next(iter(seeds.items()))
        other = next(l for l in p.labels() if l != old)
        label_text(p, sid, other, reviewer="ana")
        moved = current_map(p)
        assert moved != first and len(computed) == 2
        assert p.label_map_fingerprint() == moved
        # moved back: that map was cached, it is shown again without computing
        label_text(p, sid, old, reviewer="ana")
        assert current_map(p) == first and len(computed) == 2
        assert p.label_map_fingerprint() == first

        # other settings are another map; the shown map's settings are kept on the next visit
        five = current_map(p, n=5)
        assert five != first and len(computed) == 3 and int(p.label_map().n.iloc[0]) == 5
        assert current_map(p) == five and len(computed) == 3

        # a new label: recomputed, and the map covers it
        pool = list(p.hidden_gold(role="pool"))[:2]
        name = add_label(p, "brand new label", pool, reviewer="ana")
        newer = current_map(p)
        assert newer not in (first, five) and len(computed) == 4
        assert name in set(p.label_map().label) and len(p.label_map()) == len(p.labels())


def test_the_fingerprint_names_model_and_settings(small_copy):
    with Project(small_copy) as p:
        base = map_fingerprint(p, 10, "greedy")
        assert base == map_fingerprint(p, 10, "greedy")
        others = {map_fingerprint(p, 11, "greedy"), map_fingerprint(p, 10, "random"),
                  map_fingerprint(p, 10, "greedy", umap_dim=6), map_fingerprint(p, 10, "greedy", seed=1),
                  map_fingerprint(p, 10, "greedy", model="another-model")}
        assert base not in others and len(others) == 5


def test_the_cache_keeps_the_newest_maps_only(small_copy, computed):
    with Project(small_copy) as p:
        for n in range(2, 2 + Project.MAPS_KEPT + 2):
            current_map(p, n=n, method="random")
        kept = p.cursor().execute("SELECT n FROM label_maps ORDER BY n").fetchall()
        assert [r[0] for r in kept] == list(range(4, 2 + Project.MAPS_KEPT + 2))
        points = p.cursor().execute("SELECT count(DISTINCT fingerprint), count(*) FROM label_map_points").fetchall()
        assert points[0] == (Project.MAPS_KEPT, Project.MAPS_KEPT * len(p.labels()))


def test_a_schema_5_map_migrates_and_is_not_trusted(tmp_path):
    path = tmp_path / "old.duckdb"
    con = old_schema_file(path, 5)
    con.execute("INSERT INTO label_map VALUES ('a', 0, 0.0, 0.0, 'greedy', 10, now())")
    con.close()
    with Project(path) as p:
        assert p.get_setting("schema_version") == str(SCHEMA_VERSION)
        assert len(p.label_map()) == 1 and p.label_map_fingerprint() is None  # kept, but not trusted
        assert p.cached_label_map(map_fingerprint(p, 10, "greedy")) is None


def test_red_embed_leaves_the_map_the_subsets_page_shows_computed(tmp_path, banking_path):
    """`red init`, `red import`, `red embed` as a user runs them: the Subsets page's first
    visit then finds its map stored (no UMAP on the visit)."""
    import subprocess
    import sys
    from pathlib import Path

    red = str(Path(sys.executable).parent / "red")
    path = tmp_path / "p.duckdb"
    where = "label IN ('activate_my_card', 'age_limit', 'apple_pay_or_google_pay') AND split = 'train' AND shot10"
    pool = where.replace("AND shot10", "AND NOT shot10")
    for args in (["init", str(path)], ["import", str(path), str(banking_path), "--where", where],
                 ["import", str(path), str(banking_path), "--where", pool, "--mode", "hidden-gold"]):
        subprocess.run([red, *args], check=True, capture_output=True, text=True, timeout=300)
    out = subprocess.run([red, "embed", str(path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "label map: computed" in out.stdout
    assert "seed model: fitted" in out.stdout  # a run's first fits are in the project's fit cache
    with Project(path) as p:
        shown = p.label_map_fingerprint()
        assert shown == map_fingerprint(p, 10, "greedy", model=p.get_setting("embedding_model"))
        assert current_map(p) == shown  # the page's call: nothing left to compute
        assert set(p.label_map().label) == {"activate_my_card", "age_limit", "apple_pay_or_google_pay"}
    again = subprocess.run([red, "embed", str(path)], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "label map: computed" not in again.stdout  # nothing new, nothing computed
    assert "seed model" not in again.stdout
