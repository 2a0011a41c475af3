"""Each page's logic through streamlit's AppTest, on a real (demo) project."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from red_app.workflows.accounts import local_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(demo_built, tmp_path, monkeypatch):
    dst = tmp_path / "demo.duckdb"
    shutil.copy(demo_built, dst)
    monkeypatch.setenv("RED_PROJECT", str(dst))
    return dst


def page(name) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    return at


def test_project_page_shows_counts(demo):
    at = page("project").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Samples"] == "1,200" and metrics["Labels"] == "30"


def test_subsets_page_computes_and_lists_subsets(demo):
    at = page("subsets").run()
    assert not at.exception
    assert any("30 labels in" in c.value for c in at.caption)


def test_the_subsets_page_says_when_the_map_is_out_of_date_and_recomputes_it(demo, capsys):
    from red_app.cli.main import main
    from red_app.workflows.label_map import repartition
    from red_app.workflows.map_status import map_freshness
    from red_app.project.store import Project
    from red_app.workflows.texts import add_label, label_text

    with Project(demo) as p:
        repartition(p, 10, "greedy")
        fresh = map_freshness(p)
        assert not fresh.stale and "up to date" in fresh.summary()
        ids = list(p.samples(role="pool").id[:2])
        add_label(p, "gift_wrapping", ids, reviewer="ana")
        fresh = map_freshness(p)
    assert fresh.stale and fresh.new_labels == ("gift_wrapping",) and fresh.examples_added == {"human": 2}
    assert "out of date: 1 new label (gift_wrapping); 2 examples added (2 human)" in fresh.summary()
    assert main(["status", str(demo)]) == 0
    assert f"red subsets {demo}` recomputes it" in capsys.readouterr().out
    # the page shows the project as it is: a new label or seed recomputes the map on the visit
    at = page("subsets").run()
    assert not at.exception and not any("out of date" in w.value for w in at.warning)
    assert any("31 labels in" in c.value for c in at.caption)
    with Project(demo) as p:
        assert not map_freshness(p).stale and "gift_wrapping" in set(p.label_map().label)
        # decisions on pool texts move the examples without changing labels or seeds: the page
        # says so once they reach a tenth of the examples, and recomputes on request
        first = sorted(p.labels())[0]
        for sid in p.samples(role="pool").id[10:100]:
            label_text(p, sid, first, reviewer="ana")
    at = page("subsets").run()
    assert not at.exception
    assert any("out of date" in w.value and "example" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Recompute the map").click().run()
    assert not at.exception and not any("out of date" in w.value for w in at.warning)
    with Project(demo) as p:
        assert not map_freshness(p).stale
        # one more person's decision among ~700 examples moves no centroid enough to redraw the map
        label_text(p, p.samples(role="pool").id.iloc[5], "gift_wrapping", reviewer="ana")
        fresh = map_freshness(p)
        assert not fresh.stale and fresh.summary().startswith("The label map is nearly up to date: 1 example added")


def test_run_page_shows_the_finished_run(demo):
    at = page("run").run()
    assert not at.exception
    assert any("run 1" in str(p.proto.text) for p in at.get("progress")) or at.metric
    from red_app.method.config import CHOICES

    final = next(s for s in at.selectbox if s.label.startswith("Final model"))
    assert tuple(final.options) == CHOICES["final_model"] and "finetune" in final.options


def test_run_page_says_how_many_answers_a_human_judged_run_waits_for(demo):
    from red_app.judges.human import HumanJudge
    from red_app.method.config import LoopConfig
    from red_app.project.store import Project
    from red_app.workflows.runner import run_project

    with Project(demo) as p:
        list(run_project(p, HumanJudge(wait=0.1, poll=0.05), LoopConfig(budget=12, batch=12, patience=None),
                         label_everything=False))
        assert p.run_waiting(2) == 12
    at = page("run").run()
    assert not at.exception
    assert any("Waiting for 12 answers in Review" in i.value for i in at.info)
    radio = at.radio[0]
    assert "human" in radio.options
    assert any(sb.label == "Question" and list(sb.options) == ["binary", "choose"] for sb in at.selectbox)


def test_review_accept_is_recorded_with_the_reviewer(demo):
    from red_app.project.store import Project

    at = page("review").run()
    assert not at.exception
    assert at.title[0].value == "Review"
    first_text = at.text[0].value if at.text else None
    accept = next(b for b in at.button if b.label.startswith("1 · "))  # the first candidate: the proposed label
    accept.click().run()
    assert not at.exception
    with Project(demo) as p:  # same mode as the page's cached connection (one process)
        h = p.cursor().execute("SELECT actor, verdict FROM annotations WHERE origin = 'human'").fetchall()
    assert h == [(local_user(), "valid")]  # local single-user mode: the OS user
    assert first_text is not None


def test_local_mode_decides_as_the_os_user_with_no_name_field(demo):
    """#12 item 2: nothing to type, so nothing to forget between pages or on reload."""
    at = page("review").run()
    assert not at.exception
    assert not [t for t in at.text_input if "name" in t.label.lower()]
    assert at.session_state["reviewer"] == local_user()
    at.run()  # another script run of the same session
    assert at.session_state["reviewer"] == local_user()


def test_audit_and_export_pages(demo):
    at = page("audit").run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Judge vs hidden gold" in labels
    at = page("export").run()
    assert not at.exception
    next(b for b in at.button if b.label == "Prepare export").click().run()
    assert any("rows ready" in s.value for s in at.success)


def test_export_uses_the_settings_changed_in_the_same_run_as_the_click(demo, tmp_path):
    """A slider moved and Export clicked at once (one script run, as a quick person's click
    lands): the file follows the new setting — the widgets are one form with the button."""
    import pandas as pd

    from red_app.project.dataio import export_labels
    from red_app.project.store import Project

    at = page("export").run()
    assert len(at.get("form")) == 1
    next(s for s in at.slider if s.label == "Minimum confidence").set_value(0.9)
    next(r for r in at.radio if r.label == "Format").set_value("parquet")
    next(b for b in at.button if b.label == "Prepare export").click().run()  # one run for all three
    assert not at.exception and any("rows ready" in s.value for s in at.success)
    got = pd.read_parquet(at.session_state["export_files"][str(demo)])
    with Project(demo) as p:
        n = export_labels(p, tmp_path / "all.parquet")
        want = export_labels(p, tmp_path / "want.parquet", min_confidence=0.9)
    assert len(got) == want < n and (got.confidence >= 0.9).all()


def test_project_page_imports_with_structured_filters_not_sql(demo, tmp_path):
    csv = tmp_path / "more.csv"
    csv.write_text("text,label,split\n" + "".join(
        f"new text {i},new_label,{'train' if i < 4 else 'test'}\n" for i in range(6)))
    at = page("project").run()
    assert not any("SQL" in t.label for t in at.text_input)  # no free SQL box any more
    at.radio[0].set_value("Path on the server").run()
    [t for t in at.text_input if t.label == "Path"][0].set_value(str(csv)).run()
    [n for n in at.number_input if n.label.startswith("Row filter")][0].set_value(2).run()
    at.selectbox(key="fcol-0").set_value("split")
    at.selectbox(key="fop-0").set_value("equals")
    at.text_input(key="fval-0").set_value("train")
    at.selectbox(key="fcol-1").set_value("text")
    at.selectbox(key="fop-1").set_value("is not")
    at.text_input(key="fval-1").set_value("x'); COPY (SELECT 1) TO '/tmp/red-x.csv'; --")
    at.button[-1].click().run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert any("imported 4 rows from more.csv" in t for t in texts), texts
    assert not Path("/tmp/red-x.csv").exists()


def test_audit_sample_is_answered_on_review_and_measured_on_audit(demo):
    from red_app.workflows.audit import current_audit
    from red_app.project.store import Project

    at = page("audit").run()
    next(b for b in at.button if b.label == "Draw an audit sample").click().run()
    assert not at.exception
    at = page("review").run()
    at.radio[0].set_value("Audit sample").run()
    assert not at.exception and at.text  # the text, shown as text
    next(b for b in at.button if b.label.startswith("1 · ")).click().run()
    assert not at.exception
    with Project(demo) as p:
        _, items = current_audit(p)
        assert int(items.answered.sum()) == 1
        h = p.cursor().execute("SELECT actor, verdict FROM annotations WHERE origin = 'human'").fetchall()
    assert h == [(local_user(), "valid")]  # local single-user mode: the OS user
    at = page("audit").run()
    assert not at.exception
    assert "Estimated accuracy" in [m.label for m in at.metric]
