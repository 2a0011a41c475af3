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
    return next(b for b in at.button if b.label == label)


def _human(path):
    with Project(path) as p:  # same mode as the page's cached connection (one process)
        return p.cursor().execute(
            """SELECT a.sample_id, a.label, a.verdict, a.actor, r.actor FROM annotations a
               LEFT JOIN revocations r USING (event_id) WHERE a.origin = 'human' ORDER BY a.event_id""").fetchall()


def test_right_on_an_invalid_verdict_says_the_label_is_right_and_undo_takes_it_back(demo):
    at = review()
    assert not at.exception
    at.selectbox(key="f_said").set_value("invalid").run()
    # what the judge said is spelled out for the item, apart from the person's action
    said = [m.value for m in at.markdown if "Judge (" in m.value]
    assert said and "invalid" in said[0] and "thinks" in said[0]
    _button(at, "Right").click().run()
    assert not at.exception
    rows = _human(demo)
    assert len(rows) == 1 and rows[0][2:4] == ("valid", ME)  # Right = the proposed label is right
    _button(at, "Undo my last decision").click().run()
    assert not at.exception
    rows = _human(demo)
    assert len(rows) == 1 and rows[0][4] == ME  # kept, and revoked by the tester
    # the undone text is shown again with both words in its history
    shown = " ".join(t.value for t in at.text)
    assert f"person {ME}:" in shown and f"undone by {ME}" in shown and "judge  simulated" in shown


def test_another_label_is_recorded_from_the_picker_and_rejected_labels_are_not_offered_first(demo):
    at = review()
    item_pick = next(s for s in at.selectbox if s.label.startswith("Another label"))
    assert item_pick.value is None  # never pre-filled
    choice = item_pick.options[0]
    item_pick.set_value(choice.replace("  (rejected before)", "")).run()
    assert not at.exception
    rows = _human(demo)
    assert [r[2] for r in rows] == ["invalid", "valid"] and rows[1][1] == choice


def test_filters_by_what_the_judge_said(demo):
    at = review()
    for said in ("valid", "invalid"):
        at.selectbox(key="f_said").set_value(said).run()
        assert not at.exception
        assert any(f"said: :{'green' if said == 'valid' else 'red'}[{said}]" in m.value for m in at.markdown)


def test_bulk_counts_asks_and_records_one_event_per_verdict(demo):
    with Project(demo) as p:
        from red_app.workflows.review import review_queue
        q = review_queue(p, verdict="valid", status="pending", limit=500)
    label = q.label.value_counts().index[0]
    n = int((q.label == label).sum())
    at = review()
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
    _button(at, "Undo my last decision").click().run()
    assert all(r[4] == ME for r in _human(demo))


def test_model_labels_below_a_threshold_can_be_confirmed(demo):
    at = review()
    at.radio(key="review_mode").set_value("Model labels").run()
    assert not at.exception
    assert any("model labels below 0.6" in c.value for c in at.caption)
    _button(at, "Wrong").click().run()
    assert not at.exception
    rows = _human(demo)
    assert len(rows) == 1 and rows[0][2] == "invalid"


def test_audit_sample_mode_has_undo_and_the_nearest_examples(demo):
    from red_app.workflows.audit import current_audit, draw_audit

    with Project(demo) as p:
        draw_audit(p, 20, seed=2)
        _, items = current_audit(p)
    at = review()
    at.radio(key="review_mode").set_value("Audit sample").run()
    assert not at.exception
    first = items.sample_id.iloc[0]
    label = items.label.iloc[0]
    assert any(m.value.startswith("#### Nearest examples of") for m in at.markdown)
    assert any(t.value == items.text.iloc[0] for t in at.text)
    _button(at, "Right").click().run()
    assert not at.exception
    rows = _human(demo)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [(first, label, "valid", None)]
    assert any("1 of 20 answered" in str(p.proto.text) for p in at.get("progress"))
    undo = _button(at, "Undo my last decision")
    assert undo.proto.shortcut == "u"
    undo.click().run()
    assert not at.exception
    assert [r[4] for r in _human(demo)] == [ME]  # the answer is revoked, not deleted
    assert any("0 of 20 answered" in str(p.proto.text) for p in at.get("progress"))
    assert any(t.value == items.text.iloc[0] for t in at.text)  # the undone item is shown again
