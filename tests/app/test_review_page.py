"""The Review page through AppTest on the demo: actions named by what they say about the
label, the judge's verdict and every earlier word shown, undo, bulk with a confirmation,
filters by what the judge said, and the model-label queue."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from red_app.workflows.accounts import local_user
from red_app.project.store import Project

ROOT = Path(__file__).resolve().parents[2]

ME = local_user()  # local single-user mode: decisions are recorded as the OS user


@pytest.fixture
def demo(demo_built, tmp_path, monkeypatch):
    dst = tmp_path / "demo.duckdb"
    shutil.copy(demo_built, dst)
    monkeypatch.setenv("RED_PROJECT", str(dst))
    return dst


def review() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "review.py"), default_timeout=60).run()


def _button(at, label):
    """A button by its label, or a candidate by its key ("1": the first candidate)."""
    return next(b for b in at.button if b.label == label or (label.isdigit() and b.label.startswith(label + " · ")))


def _human(path):
    with Project(path) as p:  # same mode as the page's cached connection (one process)
        return p.cursor().execute(
            """SELECT a.sample_id, a.label, a.verdict, a.actor, r.actor FROM annotations a
               LEFT JOIN revocations r USING (event_id) WHERE a.origin = 'human' ORDER BY a.event_id""").fetchall()


def _mode(at, name):
    at.radio[0].set_value(name).run()  # the page's only radio at the top: what to review


def test_a_picked_candidate_is_recorded_and_undo_takes_it_back(demo):
    at = review()
    assert not at.exception
    at.selectbox(key="f_status").set_value("pending").run()
    at.selectbox(key="f_said").set_value("invalid").run()
    # the question the loop asked: its candidates with their keys, and what the judge answered
    keys = [b.label.split(" · ")[0] for b in at.button if b.label[:1].isdigit()]
    assert keys and keys[0] == "1"
    assert any(c.value.startswith("The judge answered: none of these") for c in at.caption)
    _button(at, "2").click().run()
    assert not at.exception
    rows = _human(demo)
    # the second candidate is right: the proposed (first) label is wrong, the picked one right
    assert [r[2] for r in rows] == ["invalid", "valid"] and {r[3] for r in rows} == {ME}
    _button(at, "u · Undo my last").click().run()
    assert not at.exception
    assert [r[4] for r in _human(demo)] == [ME, ME]  # kept, and revoked by the tester


def test_none_of_these_rejects_every_candidate(demo):
    at = review()
    at.selectbox(key="f_status").set_value("pending").run()
    shown = [b.label for b in at.button if b.label[:1].isdigit() and not b.label.startswith("0 ")]
    _button(at, "0 · None of these").click().run()
    assert not at.exception
    rows = _human(demo)
    assert len(rows) == len(shown) and {r[2] for r in rows} == {"invalid"}


def test_another_label_is_recorded_from_the_search(demo):
    at = review()
    at.selectbox(key="f_status").set_value("pending").run()
    search = next(s for s in at.selectbox if s.label.startswith("Search every label"))
    assert search.value is None  # never pre-filled
    choice = search.options[0]
    search.set_value(choice).run()
    assert not at.exception
    rows = _human(demo)
    assert [r[2] for r in rows] == ["invalid", "valid"] and rows[1][1] == choice


def test_bulk_counts_asks_and_records_one_event_per_verdict(demo):
    with Project(demo) as p:
        from red_app.workflows.review import review_queue
        q = review_queue(p, verdict="valid", status="pending", limit=500)
    label = q.label.value_counts().index[0]
    n = int((q.label == label).sum())
    at = review()
    at.selectbox(key="f_status").set_value("pending").run()
    at.selectbox(key="f_said").set_value("valid").run()
    at.selectbox(key="f_label").set_value(label).run()
    ask = _button(at, f"Decide {n:,}…")
    ask.click().run()
    assert not at.exception and _human(demo) == []  # nothing before the confirmation
    assert any(f"Record {n:,} decisions" in w.value for w in at.warning)
    _button(at, "Confirm").click().run()
    assert not at.exception
    rows = _human(demo)
    assert len(rows) == n and {r[1] for r in rows} == {label} and {r[2] for r in rows} == {"valid"}
    _button(at, "u · Undo my last").click().run()
    assert all(r[4] == ME for r in _human(demo))


def test_model_labels_below_a_threshold_are_answered_the_same_way(demo):
    at = review()
    _mode(at, "Model labels")
    assert not at.exception
    assert any(c.value.startswith("The model's label") for c in at.caption)
    _button(at, "1").click().run()  # the model's label is right
    assert not at.exception
    rows = _human(demo)
    assert len(rows) == 1 and rows[0][2] == "valid"


def test_the_audit_uses_the_same_picker_and_undo(demo):
    from red_app.workflows.audit import current_audit, draw_audit

    with Project(demo) as p:
        draw_audit(p, 20, seed=2)
        _, items = current_audit(p)
    at = review()
    _mode(at, "Audit sample")
    assert not at.exception
    first, label = items.sample_id.iloc[0], items.label.iloc[0]
    assert any(t.value == items.text.iloc[0] for t in at.text)
    _button(at, "1").click().run()  # key 1: the label under audit is right
    assert not at.exception
    rows = _human(demo)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [(first, label, "valid", None)]
    assert any("1 of 20 answered" in str(p.proto.text) for p in at.get("progress"))
    # skip an item the model offers no alternative for, and an audit of a judge's "fits no label"
    # (a label given to it replaces that answer, there is no label to mark wrong)
    while not any(b.label.startswith("2 · ") for b in at.button) or any(
            b.label == "1 · fits none of the labels" for b in at.button):
        _button(at, "s · Skip").click().run()
    _button(at, "2").click().run()  # key 2 on the next item: wrong, and the second label is right
    assert [r[2] for r in _human(demo)][1:] == ["invalid", "valid"]
    _button(at, "u · Undo my last").click().run()
    _button(at, "u · Undo my last").click().run()
    assert not at.exception
    assert [r[4] for r in _human(demo)] == [ME, ME, ME]  # every answer revoked, not deleted
    assert any("0 of 20 answered" in str(p.proto.text) for p in at.get("progress"))


def test_the_mode_is_kept_when_the_person_comes_back(demo):
    at = review()
    _mode(at, "Model labels")
    kept = at.session_state["review_mode_kept"]
    assert kept == "Model labels"
    # another page's run drops the values of widgets it does not draw; the plain key stays
    again = AppTest.from_file(str(ROOT / "pages" / "review.py"), default_timeout=60)
    again.session_state["review_mode_kept"] = kept
    again.run()
    assert not again.exception and again.radio[0].value == "Model labels"
