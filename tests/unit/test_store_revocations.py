"""Undo in the store: a revocation row, never a delete; a file from schema 3 migrates."""

import pytest

from red_app.errors import ProjectError
from red_app.project.store import SCHEMA_VERSION, Event, Project
from tests.doubles.old_schema import old_schema_file


def _project(path):
    p = Project(path, create=True)
    with p.transaction() as cur:
        p.add_labels(cur, ["a", "b"])
        cur.execute("""INSERT INTO samples VALUES ('s2', 'world', 'h2', 'pool', 'b', 'x', 2, 2, now())""")
    return p


def test_revoking_a_decision_derives_the_label_again_and_keeps_the_events(tmp_path):
    p = _project(tmp_path / "t.duckdb")
    p.append_events([Event("s2", "a", "judge", "valid", "simulated", iteration=1)])
    ids = p.append_events([Event("s2", "a", "human", "invalid", "ana"), Event("s2", "b", "human", "valid", "ana")])
    assert p.held_and_decided()[1] == {"s2"}
    last = p.last_action("ana")
    assert last["event_ids"] == ids and last["action_id"] is not None
    seq = p.revoke(ids, "ana")
    assert seq > max(ids)  # revocations share the events' order
    cur = p.current_labels().set_index("sample_id")
    assert cur.loc["s2", "label"] == "a" and cur.loc["s2", "origin"] == "judge"
    assert p.excluded_pairs() == set() and p.held_and_decided()[1] == set()
    assert p.human_events_since(0) == [] and p.revoked_since(0) == [(seq, "s2")]
    assert p.sample_states(["s2"])["s2"] == {"label": "a", "excluded": set(), "decided": False, "held": False, "none": False}
    hist = p.history("s2")
    assert len(hist) == 3 and list(hist.revoked_by.fillna("")) == ["", "ana", "ana"]
    assert p.last_action("ana") is None
    with pytest.raises(ProjectError, match="undone already"):
        p.revoke(ids, "ana")
    judge_event = int(hist.event_id.iloc[0])
    with pytest.raises(ProjectError, match="not a person's"):
        p.revoke([judge_event], "ana")


def test_a_schema_3_file_migrates_and_its_old_decisions_can_be_undone(tmp_path):
    path = tmp_path / "old.duckdb"
    con = old_schema_file(path, 3)
    con.execute("INSERT INTO labels VALUES ('a', now()), ('b', now())")
    con.execute("INSERT INTO samples VALUES ('s2', 'world', 'h2', 'pool', 'b', 'x', 2, 2, now())")
    con.execute("""INSERT INTO annotations (sample_id, label, origin, verdict, actor, created_at) VALUES
                   ('s2', 'b', 'human', 'valid', 'ana', TIMESTAMP '2026-01-01 09:00:00'),
                   ('s2', 'b', 'human', 'invalid', 'ana', TIMESTAMP '2026-01-01 10:00:00'),
                   ('s2', 'a', 'human', 'valid', 'ana', TIMESTAMP '2026-01-01 10:00:00')""")
    con.close()
    with Project(path) as p:
        assert p.get_setting("schema_version") == str(SCHEMA_VERSION)
        last = p.last_action("ana")  # events from before action ids: grouped by when they were recorded
        assert len(last["event_ids"]) == 2
        p.revoke(last["event_ids"], "ana")
        assert p.current_labels().label.tolist() == ["b"]  # the 09:00 decision stands
        new = p.append_events([Event("s2", "a", "human", "valid", "ben")])
        assert p.last_action("ben")["event_ids"] == new
