"""The Texts page through AppTest, on the real small BANKING77 project."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from red_app.workflows.accounts import local_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def proj(small_copy, monkeypatch):
    monkeypatch.setenv("RED_PROJECT", str(small_copy))
    return small_copy


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "texts.py"), default_timeout=60)


def test_search_open_and_label_a_text(proj):
    from red_app.project.store import Project

    with Project(proj) as p:
        sid = p.samples(role="pool").id.iloc[0]
        p.cursor().execute("UPDATE samples SET text = ? WHERE id = ?", ["My **card** [x](http://e.vil) is late_50%", sid])
        target = p.labels()[3]
    at = page().run()
    assert not at.exception and at.title[0].value == "Texts"
    at.text_input[0].input("CARD** [X]").run()
    assert not at.exception
    assert any("1 texts match" in c.value for c in at.caption)
    assert list(at.dataframe[0].value.id) == [sid]
    opened = next(s for s in at.selectbox if s.label.startswith("Open a text"))
    opened.select(sid).run()
    assert not at.exception
    assert any(t.value == "My **card** [x](http://e.vil) is late_50%" for t in at.text)  # shown as plain text
    at.selectbox(key=f"texts-pick-{sid}").select(target).run()
    next(b for b in at.button if b.label == "Label it").click().run()
    assert not at.exception and not at.error
    with Project(proj) as p:
        h = p.history(sid)
    assert list(zip(h.label, h.origin, h.verdict, h.actor)) == [(target, "human", "valid", local_user())]
    # the text now shows its human label
    assert any("human" in m.value for m in at.markdown)


def test_new_label_from_a_text_and_its_refusal(proj):
    from red_app.project.store import Project

    with Project(proj) as p:
        existing = p.labels()[0]
    at = page().run()
    opened = next(s for s in at.selectbox if s.label.startswith("Open a text"))
    sid = opened.options[0]
    opened.select(sid).run()
    at.text_input(key=f"texts-new-{sid}").input(existing.upper()).run()
    next(b for b in at.button if b.label == "Create the label").click().run()
    assert any(existing.replace("_", "\\_") in e.value for e in at.error)  # names the existing label
    at.text_input(key=f"texts-new-{sid}").input("brand new").run()
    at.text_area(key=f"texts-desc-{sid}").input("A label made in the app.").run()
    more = at.multiselect(key=f"texts-more-{sid}")
    other = more.options[0]
    more.select(other).run()  # a second text of the page joins the new label
    next(b for b in at.button if b.label == "Create the label").click().run()
    assert not at.exception and not at.error
    with Project(proj) as p:
        assert "brand new" in p.labels()
        cur = p.current_labels().set_index("sample_id")
        assert cur.loc[sid, "label"] == "brand new" and cur.loc[other, "label"] == "brand new"


def test_a_row_click_opens_the_text_and_a_rejected_model_label_shows_in_its_history(proj):
    """Clicking a row of the table opens that text (st.dataframe's row selection); the label
    filter has half the page's width (the choices were cut off at 1,010 labels); a model
    label answered wrong leaves the text needing a label, the rejection in its history."""
    from red_app.workflows.predict import predict_project
    from red_app.project.store import Project
    from red_app.workflows.review import decide, model_label_queue

    with Project(proj) as p:
        predict_project(p)
        item = model_label_queue(p, 1.0, limit=1).iloc[0]
        decide(p, sample_id=item.sample_id, proposed=item.label, action="wrong", reviewer="ana",
               seen_event=int(item.last_human_event))
    at = page().run()
    assert not at.exception
    label_box = next(s for s in at.selectbox if s.label == "Label")
    column = next(c for c in at.columns if any(w is label_box for w in c.selectbox))
    siblings = [c for c in at.columns if c.proto.weight and c is not column and any(x.label == "Search the texts" for x in c.text_input)]
    assert column.weight >= 0.5 and siblings  # the filter sits beside the search, half the width
    assert not at.dataframe[0].value.empty
    next(c for c in at.checkbox if c.label == "Unlabeled").check().run()
    table = at.dataframe[0]
    ids = list(table.value.id)
    assert item.sample_id in ids
    row = ids.index(item.sample_id)
    at.session_state[table.key] = {"selection": {"rows": [row], "columns": [], "cells": []}}  # a click on the row
    at.run()
    assert not at.exception and at.session_state["texts_open"] == item.sample_id
    assert any(m.value.startswith("**Needs a label**") for m in at.markdown)
    history = next(t.value for t in at.text if "person ana:" in t.value)
    assert f"person ana: {item.label} invalid (in force)" in history
    # the id picker still opens another text while the row stays selected
    other = next(i for i in ids if i != item.sample_id) if len(ids) > 1 else None
    if other is not None:
        next(s for s in at.selectbox if s.label.startswith("Open a text")).select(other).run()
        assert at.session_state["texts_open"] == other
