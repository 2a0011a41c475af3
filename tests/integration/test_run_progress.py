"""A run reports its stages as it goes, tells where its budget went, and only the newest
interrupted run is resumable; imports guess the delimiter and phrase errors per front end."""

import pytest

from conftest import copy_project
from red_app.errors import ImportValidationError
from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.method.loop import STAGES
from red_app.method.stopping import Termination
from red_app.project.dataio import detect_delimiter, file_columns, import_file, preview_file
from red_app.project.store import Project
from red_app.workflows.runner import budget_report, run_project


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_project):
    return copy_project(demo_project, tmp_path_factory.mktemp("progress"), "demo.duckdb")


def _gold(p):
    return dict(p.cursor().execute("SELECT id, gold_label FROM samples WHERE role = 'pool'").fetchall())


@pytest.mark.parametrize("question", ["binary", "choose"])
def test_a_run_reports_each_stage_and_its_budget(demo, tmp_path, question):
    import shutil

    stages = []
    path = tmp_path / "d.duckdb"
    shutil.copy(demo, path)
    with Project(path) as p:
        # yes-leaning: the demo is easy enough that its gold is nearly always among the top
        # candidates, so a symmetric judge would never answer "none"
        judge = SimulatedJudge(_gold(p), p_valid_right=0.6, p_valid_wrong=0.3, seed=3)
        records = list(run_project(p, judge, LoopConfig(budget=80, batch=40, patience=None, calibration_seeds=0,
                                                        question=question, choose_k=2),
                                   progress=stages.append, label_everything=False))
        run_id = int(p.runs()["run_id"].max())
        report = budget_report(p, run_id)
    names = [s.stage for s in stages]
    assert names[0] == "loading the project"
    for stage in ("fitting", "predicting", "judging", "evaluating"):
        assert stage in names and stage in STAGES
    judging = [s for s in stages if s.stage == "judging"]
    assert judging[0].done == 0 and judging[0].total >= 40
    assert all(s.done <= s.total for s in judging)
    for it in {s.iteration for s in judging}:  # every iteration's judging ends with all sent answered
        last = [s for s in judging if s.iteration == it][-1]
        assert last.done == last.total or last.done == sum(r.calls for r in records if r.iteration == it)
    # where the budget went adds up with the iterations' own figures
    assert report["proposals"] == sum(r.calls - r.errors for r in records)
    assert report["accepted"] == sum(r.accepted for r in records)
    # a choose question's "none of these" is counted apart from other rejections (issue 20)
    assert report["rejected"] == sum(r.rejected + r.said_none for r in records)
    assert question == "choose" or sum(r.said_none for r in records) == 0  # a "no" never says "fits no label"
    assert report["measuring"] == 0 and report["budget"] == 80
    assert report["rejected"] > 0  # a 60%-accurate judge rejects (binary) or answers none (choose)
    if question == "binary":
        assert 0 < report["retries"] <= report["rejected"]  # after a rejection the next label is asked
    else:
        assert report["retries"] <= report["rejected"]  # a text asked again after a "none" that was only a rejection
    assert (report["warning"] is not None) == (report["rejected"] > 0.5 * report["proposals"])
    if report["warning"]:
        assert ("none of these" in report["warning"]) == (question == "choose")


def test_only_the_newest_interrupted_run_is_resumable(demo, tmp_path):
    import shutil

    path = tmp_path / "d.duckdb"
    shutil.copy(demo, path)
    with Project(path) as p:
        first = p.start_run({"loop": LoopConfig().to_dict(), "judge": {"kind": "simulated"}})
        p.finish_run(first, Termination.paused("waiting for 3 answers in Review"))
        assert p.resumable_run() == first
        second = p.start_run({"loop": LoopConfig().to_dict(), "judge": {"kind": "simulated"}})
        p.finish_run(second, Termination.finished("budget spent"))
        assert p.resumable_run() is None  # run `first` is history once a later run exists


def test_semicolon_file_is_read_as_columns_and_imports(tmp_path, demo):
    import shutil

    f = tmp_path / "semi.csv"
    f.write_text("message;category\n" + "".join(f"text {i}, with a comma;semi_label\n" for i in range(4)))
    assert detect_delimiter(f) == ";"
    assert file_columns(f) == ["message", "category"]
    assert preview_file(f, 2)["message"].tolist() == ["text 0, with a comma", "text 1, with a comma"]
    path = tmp_path / "d.duckdb"
    shutil.copy(demo, path)
    with Project(path) as p:
        rep = import_file(p, f, text="message", label="category")
        assert rep.seeds == 4 and "semi_label" in p.labels()
    g = tmp_path / "semi2.csv"
    g.write_text("message;category\nhello;a\nbye;b\n")
    assert file_columns(g, delimiter=",") == ["message;category"]  # a chosen delimiter is honoured


def test_import_errors_name_settings_per_front_end(tmp_path, demo):
    import shutil

    f = tmp_path / "few.csv"
    f.write_text("text,label\none,rare\ntwo,rare\n")
    path = tmp_path / "d.duckdb"
    shutil.copy(demo, path)
    with Project(path) as p:
        with pytest.raises(ImportValidationError) as exc:
            import_file(p, f, min_examples=3)
        with pytest.raises(ImportValidationError) as missing:
            import_file(p, f, text="message")
    assert "--min-examples" in str(exc.value)  # the CLI's wording
    page = exc.value.phrased({"min_examples": "Minimum examples per label"})
    assert "--" not in page and "Minimum examples per label" in page and exc.value.options == ["min_examples"]
    assert "--text COLUMN" in str(missing.value) and "--" not in missing.value.phrased({"text": "the Text column"})


def test_a_corrected_override_leaves_the_override_chart(demo, tmp_path):
    import shutil

    from red_app.workflows.review import decide, override_counts

    path = tmp_path / "d.duckdb"
    shutil.copy(demo, path)
    with Project(path) as p:
        sid = p.cursor().execute("SELECT id FROM samples WHERE role = 'pool' ORDER BY id LIMIT 1").fetchall()[0][0]
        a, b = p.labels()[:2]
        ids = decide(p, sample_id=sid, proposed=a, action="override", label=b, reviewer="ann")
        assert override_counts(p)[["judge_label", "human_label", "n"]].values.tolist() == [[a, b, 1]]
        decide(p, sample_id=sid, proposed=a, action="accept", reviewer="ann", seen_event=max(ids))
        assert len(override_counts(p)) == 0  # corrected: the chart no longer shows it
