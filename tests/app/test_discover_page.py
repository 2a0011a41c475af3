"""The Discover page through AppTest (issue 20), on the demo with three labels' seeds
withheld: find the groups, make one a label."""

from pathlib import Path

import pytest
from conftest import OPEN_POOL_HIDDEN, copy_project
from streamlit.testing.v1 import AppTest

from red_app.project.store import Project
from red_app.workflows.accounts import local_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def proj(open_pool, tmp_path, monkeypatch):
    path = copy_project(open_pool, tmp_path)
    monkeypatch.setenv("RED_PROJECT", str(path))
    return path


def test_find_the_groups_and_make_one_a_label(proj):
    at = AppTest.from_file(str(ROOT / "pages" / "discover.py"), default_timeout=120).run()
    assert not at.exception and at.title[0].value == "Discover"
    next(b for b in at.button if b.label == "Find groups").click().run()
    assert not at.exception and not at.error
    assert any("of at least" in c.value and "hold" in c.value for c in at.caption)
    assert at.expander  # one per group
    # the first group whose texts are mostly one withheld label becomes that label
    with Project(proj) as p:
        gold = p.hidden_gold(role="pool")
    found = at.session_state["discover_found"][1]
    g = next(g for g in found.groups
             if max(sum(gold[s] == h for s in g.sample_ids) for h in OPEN_POOL_HIDDEN) >= 0.8 * g.size)
    at.text_input(key=f"discover-name-{g.number}").input("found_in_the_pool")
    at.number_input(key=f"discover-take-{g.number}").set_value(5)
    form_buttons = [b for b in at.button if b.label == "Make it a label"]
    form_buttons[found.groups.index(g)].click().run()
    assert not at.exception and not at.error
    assert any("new label" in s.value and "with 5 example" in s.value for s in at.success)
    with Project(proj) as p:
        assert "found_in_the_pool" in p.labels()
        rows = p.cursor().execute("SELECT sample_id, actor FROM annotations WHERE label = 'found_in_the_pool' "
                                  "AND origin = 'human' AND verdict = 'valid'").fetchall()
    assert sorted(r[0] for r in rows) == sorted(g.sample_ids[:5]) and {r[1] for r in rows} == {local_user()}
    # an empty name is refused beside the groups, nothing recorded
    next(b for b in at.button if b.label == "Find groups").click().run()
    first = at.session_state["discover_found"][1].groups[0]
    [b for b in at.button if b.label == "Make it a label"][0].click().run()
    assert at.error and not at.exception
    with Project(proj) as p:
        assert len(p.labels()) == 28 and first.size >= 2
