import pytest

from red_app.errors import ProjectError, UnknownLabelError
from red_app.project.store import SCHEMA_VERSION, Event, Project


def _project(tmp_path):
    p = Project(tmp_path / "t.duckdb", create=True)
    with p.transaction() as cur:
        p.add_labels(cur, ["a", "b"])
        cur.execute(
            """INSERT INTO samples VALUES
               ('s1', 'hello', 'h1', 'seed', NULL, 'x', 1, 1, now()),
               ('s2', 'world', 'h2', 'pool', 'b', 'x', 2, 2, now())"""
        )
    return p


def test_new_project_has_current_schema_version(tmp_path):
    with Project(tmp_path / "n.duckdb", create=True) as p:
        assert p.get_setting("schema_version") == str(SCHEMA_VERSION)
    with Project(tmp_path / "n.duckdb") as p:  # reopening migrates nothing
        assert p.get_setting("schema_version") == str(SCHEMA_VERSION)


def test_missing_project_is_a_clear_error(tmp_path):
    with pytest.raises(ProjectError, match="red init"):
        Project(tmp_path / "nope.duckdb")


def test_current_label_is_derived_from_the_log_and_nothing_is_overwritten(tmp_path):
    p = _project(tmp_path)
    p.append_events([Event("s2", "a", "judge", "valid", "simulated", iteration=1)])
    assert dict(zip(p.current_labels().sample_id, p.current_labels().label)) == {"s2": "a"}
    # a human overrides: the judge's label is revoked, the human's applies
    p.append_events([Event("s2", "a", "human", "invalid", "ana"), Event("s2", "b", "human", "valid", "ana")])
    cur = p.current_labels().set_index("sample_id")
    assert cur.loc["s2", "label"] == "b" and cur.loc["s2", "origin"] == "human" and cur.loc["s2", "actor"] == "ana"
    assert ("s2", "a") in p.excluded_pairs()
    assert len(p.history("s2")) == 3  # every decision is still there


def test_events_with_unknown_label_or_sample_write_nothing(tmp_path):
    p = _project(tmp_path)
    with pytest.raises(UnknownLabelError):
        p.append_events([Event("s2", "a", "human", "valid", "ana"), Event("s2", "zzz", "human", "valid", "ana")])
    with pytest.raises(ProjectError):
        p.append_events([Event("nope", "a", "human", "valid", "ana")])
    assert len(p.history("s2")) == 0


def test_event_rejects_bad_origin_and_verdict():
    with pytest.raises(ValueError):
        Event("s", "a", "robot", "valid", "x")
    with pytest.raises(ValueError):
        Event("s", "a", "human", "maybe", "x")


def test_transaction_rolls_back_on_error(tmp_path):
    p = _project(tmp_path)
    with pytest.raises(RuntimeError):
        with p.transaction() as cur:
            p.add_labels(cur, ["c"])
            raise RuntimeError("boom")
    assert p.labels() == ["a", "b"]


def test_descriptions_are_versioned(tmp_path):
    p = _project(tmp_path)
    assert p.set_description("a", "first", author="llm", model="m") == 1
    assert p.set_description("a", "edited by a person", author="ana") == 2
    d = p.descriptions()["a"]
    assert d["description"] == "edited by a person" and d["version"] == 2 and d["author"] == "ana"
    with pytest.raises(UnknownLabelError):
        p.set_description("nope", "x", author="ana")


def test_a_non_red_duckdb_file_is_refused(tmp_path):
    import duckdb

    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).execute("CREATE TABLE t (x INT)").close()
    with pytest.raises(ProjectError, match="not a red project"):
        Project(path)


def test_releasing_a_connection_another_thread_is_using_keeps_it_instead_of_failing(tmp_path):
    """The app releases its project at the end of every page or fragment run; a fragment
    stopped by a rerun released it while the page's main run was reading (DuckDB refused
    the close with "connection is busy")."""
    import threading
    import time

    p = Project(tmp_path / "p.duckdb", create=True)
    con = p.con
    started, result = threading.Event(), []

    def long_read():  # ~3 s on a busy 2-core machine
        started.set()
        try:
            result.append(con.execute("SELECT sum(i) FROM range(1000000000) t(i)").fetchall()[0][0])
        except Exception as exc:  # closed before it began: the busy case was not reached
            result.append(exc)

    t = threading.Thread(target=long_read)
    t.start()
    started.wait()
    time.sleep(0.5)  # the query is running
    p.release()  # before: ResourceInUseException
    t.join()
    assert result == [1000000000 * 999999999 // 2], result  # the reader finished on the kept connection
    assert p.labels() == []  # and the project is usable
    p.close()


def test_embeddings_read_back_with_their_tiny_components_as_zero(tmp_path):
    """MiniLM leaves components near 1e-38 (float32 subnormal territory): read as 0, the rest exact."""
    import numpy as np

    p = _project(tmp_path)
    vecs = np.array([[0.6, 3.9e-38, 0.8], [1e-13, -1e-30, 1.0]], dtype=np.float32)
    p.put_embeddings("m", ["h1", "h2"], vecs)
    ids, X = p.embedding_matrix("m")
    assert ids == ["s1", "s2"]
    np.testing.assert_array_equal(X, np.array([[0.6, 0, 0.8], [0, 0, 1.0]], dtype=np.float32))
    p.close()


def test_a_cached_choose_answer_comes_back_with_the_label_chosen(tmp_path):
    from red_app.judges.base import cached_verdict

    with _project(tmp_path) as p:
        p.record_verdicts(None, None, [
            {"sample_id": "s2", "label": "b", "valid": True, "confidence": 0.8, "judge_kind": "llm", "model": "m",
             "prompt_hash": "pick", "candidates": ["a", "b"], "choice": "b"},
            {"sample_id": "s2", "label": "a", "valid": False, "confidence": 0.7, "judge_kind": "llm", "model": "m",
             "prompt_hash": "none", "candidates": ["a", "b"], "choice": None}])
        picked = cached_verdict(p, "pick", "m")
        assert picked.cached and picked.valid and picked.choice == "b"
        none = cached_verdict(p, "none", "m")
        assert not none.valid and none.choice is None
        assert cached_verdict(p, "pick", "another model") is None
