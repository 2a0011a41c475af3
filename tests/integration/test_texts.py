"""Texts: search and filter every text, label one directly, create a label from texts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from red_app.errors import RedError
from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.project.store import Project
from red_app.workflows.runner import run_project
from red_app.workflows.texts import add_label, count_texts, label_text, search_texts, text_details

ROOT = Path(__file__).resolve().parents[2]


def _pool_ids(p, n):
    return list(p.samples(role="pool").id[:n])


def test_search_is_case_insensitive_and_takes_percent_and_underscore_literally(small_copy):
    with Project(small_copy) as p:
        sid, other = _pool_ids(p, 2)
        # one text with the characters LIKE reads as wildcards, one they would wrongly match
        p.cursor().execute("UPDATE samples SET text = 'Refund 100% of MY_card please' WHERE id = ?", [sid])
        p.cursor().execute("UPDATE samples SET text = 'Refund 1000 of myXcard please' WHERE id = ?", [other])
        assert list(search_texts(p, query="my_CARD", limit=50).id) == [sid]
        assert list(search_texts(p, query="100%").id) == [sid]
        assert count_texts(p, query="  my_card ") == 1 and count_texts(p, query="%") == 1
        assert count_texts(p, query="myxcard") == 1 and count_texts(p, query="\\") == 0
        card = search_texts(p, query="CARD", limit=10_000)
        assert len(card) == count_texts(p, query="card") > 10
        assert card.text.str.lower().str.contains("card", regex=False).all()
        assert list(card.columns[:6]) == ["id", "text", "label", "confidence", "origin", "needs_review"]
        # holdout texts are never listed
        assert not set(card.id) & set(p.samples(role="holdout").id)


def test_filters_combine_and_pages_follow_each_other(small_copy):
    with Project(small_copy) as p:
        total = count_texts(p)
        assert total == len(p.samples(role="seed")) + len(p.samples(role="pool"))
        unl = count_texts(p, unlabeled=True)
        assert unl == len(p.samples(role="pool"))  # no run yet: the pool has no label
        seeds = search_texts(p, origin="seed", limit=10_000)
        assert len(seeds) == len(p.samples(role="seed")) and (seeds.confidence == 1.0).all()
        lab = seeds.label.iloc[0]
        both = search_texts(p, origin=["seed"], label=lab, band=(0.9, 1.0), needs_review=False, limit=10_000)
        assert len(both) == int((seeds.label == lab).sum()) and set(both.label) == {lab}
        assert count_texts(p, origin="seed", label=lab, unlabeled=True) == 0
        assert count_texts(p, band=(0.0, 0.5)) == 0
        first = search_texts(p, sort="id", limit=20)
        second = search_texts(p, sort="id", limit=20, offset=20)
        everything = search_texts(p, sort="id", limit=40)
        assert list(first.id) + list(second.id) == list(everything.id)
        assert list(everything.id) == sorted(everything.id)
        with pytest.raises(RedError, match="unknown origin"):
            search_texts(p, origin="robot")
        with pytest.raises(RedError, match="unknown sort"):
            search_texts(p, sort="text; DROP TABLE samples")


def test_labeling_a_text_is_a_human_event_and_its_current_label(small_copy):
    with Project(small_copy) as p:
        labels = p.labels()
        sid = _pool_ids(p, 1)[0]
        label_text(p, sid, labels[0], reviewer="ana")
        d = text_details(p, sid)
        assert (d["label"], d["origin"], d["confidence"]) == (labels[0], "human", 1.0)
        # relabeling overrides: the old label is invalid, the new one valid, both by people
        label_text(p, sid, labels[1], reviewer="ben", seen_event=d["last_human_event"])
        h = p.history(sid)
        assert list(zip(h.label, h.verdict, h.origin, h.actor)) == [
            (labels[0], "valid", "human", "ana"), (labels[0], "invalid", "human", "ben"),
            (labels[1], "valid", "human", "ben")]
        assert text_details(p, sid)["label"] == labels[1]
        # someone who opened it before ben's decision gets a conflict, not a silent overwrite
        with pytest.raises(RedError, match="already decided"):
            label_text(p, sid, labels[2], reviewer="cy", seen_event=d["last_human_event"])
        with pytest.raises(RedError, match="enter your name"):
            label_text(p, sid, labels[2], reviewer=" ")
        with pytest.raises(RedError, match="unknown label"):
            label_text(p, sid, "no_such_label", reviewer="ana")
        with pytest.raises(RedError, match="held out"):
            label_text(p, p.samples(role="holdout").id.iloc[0], labels[0], reviewer="ana")
        with pytest.raises(RedError, match="no text with id"):
            label_text(p, "nope", labels[0], reviewer="ana")


def test_labels_from_a_file_are_one_action_all_or_none(small_copy, tmp_path):
    from red_app.cli.main import main

    with Project(small_copy) as p:
        labels = p.labels()
        ids = _pool_ids(p, 4)
        before = p.last_human_event()
    rows = [f"{sid},{labels[k % 2]}" for k, sid in enumerate(ids)]
    bad = tmp_path / "bad.csv"
    bad.write_text("sample_id,label\n" + "\n".join(rows + [f"{ids[0]},no_such_label"]) + "\n")
    assert main(["label", str(small_copy), "--file", str(bad), "--reviewer", "ana"]) == 1  # a twice-named text
    bad.write_text("sample_id,label\n" + "\n".join(rows[:3] + [f"{ids[3]},no_such_label"]) + "\n")
    assert main(["label", str(small_copy), "--file", str(bad), "--reviewer", "ana"]) == 1  # an unknown label
    with Project(small_copy) as p:
        assert p.last_human_event() == before  # nothing of either file was recorded
    good = tmp_path / "labels.csv"
    good.write_text("sample_id,label\n" + "\n".join(rows) + "\n")
    assert main(["label", str(small_copy), "--file", str(good), "--reviewer", "ana"]) == 0
    with Project(small_copy) as p:
        assert [text_details(p, sid)["label"] for sid in ids] == [labels[k % 2] for k in range(4)]
        assert {text_details(p, sid)["origin"] for sid in ids} == {"human"}
    assert main(["undo", str(small_copy), "--reviewer", "ana"]) == 0  # one undo takes the whole file back
    with Project(small_copy) as p:
        assert {text_details(p, sid)["origin"] for sid in ids} != {"human"}


def test_a_new_label_from_two_texts_trains_in_the_next_run(small_copy):
    with Project(small_copy) as p:
        gold = p.hidden_gold(role="pool")
        seeds = p.seed_labels()
        old = p.labels()
        # two pool texts of one real intent become a new label; gold follows, so the
        # perfect judge agrees with it
        victim = old[-1]
        two = [s for s, g in gold.items() if g == victim][:2]
        name = add_label(p, "  my  new label ", two, reviewer="ana", description="Texts like these two.")
        assert name == "my new label" and name in p.labels()
        assert p.descriptions()[name]["description"] == "Texts like these two."
        cur = p.current_labels().set_index("sample_id")
        assert all(cur.loc[s, "label"] == name and cur.loc[s, "origin"] == "human" for s in two)
        assert count_texts(p, label=name) == 2
        # refusals, each naming the reason
        for bad, msg in [("", "empty"), ("My New_Label", "'my new label'"), (old[0].upper(), repr(old[0])),
                         ("a\x1bb", "control")]:
            with pytest.raises(RedError, match=msg):
                add_label(p, bad, two, reviewer="ana")
        with pytest.raises(RedError, match="no text with id 'ghost'"):
            add_label(p, "fresh", [two[0], "ghost"], reviewer="ana")
        with pytest.raises(RedError, match="at least one text"):
            add_label(p, "fresh", [], reviewer="ana")
        assert "fresh" not in p.labels()
        # the run: the new label is a class the model trains on and proposes
        judge_gold = {**seeds, **gold}
        judge_gold.update({s: name for s, g in gold.items() if g == victim})
        records = list(run_project(p, SimulatedJudge(judge_gold), LoopConfig(budget=60, batch=30, calibration_seeds=0)))
        assert records
        run_id = int(p.runs().run_id.max())
        predicted = {r[0] for r in p.cursor().execute(
            "SELECT DISTINCT label FROM predictions WHERE run_id = ?", [run_id]).fetchall()}
        model = set(p.model_labels().label)
        assert name in predicted | model
        assert name in set(p.label_map().label)


def test_a_label_with_one_example_is_enough_for_a_run(small_copy):
    with Project(small_copy) as p:
        sid = _pool_ids(p, 1)[0]
        add_label(p, "solo", [sid], reviewer="ana")
        gold = {**p.seed_labels(), **p.hidden_gold(role="pool")}
        assert list(run_project(p, SimulatedJudge(gold), LoopConfig(budget=30, batch=30, calibration_seeds=0)))
        assert p.runs().status.iloc[-1] == "finished"


def _red(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([str(Path(sys.executable).parent / "red"), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_the_cli_searches_labels_and_adds_labels(small_copy):
    with Project(small_copy) as p:
        sid = _pool_ids(p, 1)[0]
        p.cursor().execute("UPDATE samples SET text = ? WHERE id = ?", ["Where is my blue card?\x1b[31m now", sid])
        label = p.labels()[0]
    r = _red("texts", str(small_copy), "--search", "WHERE IS MY BLUE CARD", "--unlabeled")
    assert r.returncode == 0, r.stderr
    assert sid in r.stdout and "\\x1b[31m" in r.stdout and "\x1b" not in r.stdout
    r = _red("label", str(small_copy), sid, label, "--reviewer", "ana")
    assert r.returncode == 0, r.stderr
    r = _red("texts", str(small_copy), "--search", "where is my blue card", "--origin", "human", "--json")
    rows = json.loads(r.stdout)
    assert r.returncode == 0 and [(x["id"], x["label"], x["origin"]) for x in rows["texts"]] == [(sid, label, "human")]
    assert rows["count"] == 1
    r = _red("add-label", str(small_copy), "lost cards", "--text", sid, "--reviewer", "ana",
             "--description", "A card that went missing.")
    assert r.returncode == 0, r.stderr
    r = _red("add-label", str(small_copy), "Lost_Cards", "--text", sid, "--reviewer", "ana")
    assert r.returncode != 0 and "'lost cards'" in r.stderr
    r = _red("texts", str(small_copy), "--label", "lost cards", "--min-confidence", "0.5", "--max-confidence", "1")
    assert r.returncode == 0 and sid in r.stdout
