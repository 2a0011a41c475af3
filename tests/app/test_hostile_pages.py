"""Every page shows data as text (issue #9): hostile label names, descriptions, reviewer
names, ids, rationales and ?sample= never reach Markdown, HTML or a plotly label as markup."""

import json
import re
import shutil
from pathlib import Path

import pytest
from hostile import HOSTILE, SAMPLE, build_hostile
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
# What a hostile string looks like when it is live markup rather than escaped text.
# (A backslash before a character makes it plain text in Markdown.)
LIVE = re.compile(r"!\[|\]\(http|(?<!\\)\[click|(?<!\\)<(img|a |a>|b>)|(?<!\\):red\[x|(?<!\\):blue\[w")
MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "success", "warning", "error", "toast", "title",
                     "subheader", "header", "exception")


@pytest.fixture(scope="module")
def hostile_built(tmp_path_factory, banking_path):
    return build_hostile(tmp_path_factory.mktemp("hostile") / "h.duckdb", banking_path)


@pytest.fixture
def hostile(hostile_built, tmp_path, monkeypatch):
    dst = tmp_path / "h.duckdb"
    shutil.copy(hostile_built, dst)
    monkeypatch.setenv("RED_PROJECT", str(dst))
    return dst


def _live_markup(at) -> list[str]:
    found = []
    for kind in MARKDOWN_ELEMENTS:
        for el in at.get(kind):
            body = getattr(el.proto, "body", None) or getattr(el.proto, "message", "") or ""
            found += [f"{kind}: {body[:160]}"] if LIVE.search(body) else []
    for el in at.get("metric"):
        found += [f"metric: {el.label}"] if LIVE.search(el.label) else []
    for el in at.get("plotly_chart"):
        fig = json.loads(el.proto.spec)
        for trace in fig.get("data", []):
            trace.pop("hovertemplate", None)  # plotly's own <b>%{hovertext}</b>
        spec = json.dumps(fig)
        found += [f"plotly: {pat}" for pat in ("<img", "<a ", "<b>", "\\u003ca ", "\\u003cb\\u003e") if pat in spec]
    return found


@pytest.mark.parametrize("name", ["project", "subsets", "run", "review", "texts", "audit", "export"])
def test_no_page_renders_data_as_markup(hostile, name):
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    if name == "audit":
        at.number_input[0].set_value(1).run()
    assert _live_markup(at) == []
    if name == "subsets":  # the map holds the labels, escaped
        spec = at.get("plotly_chart")[0].proto.spec
        assert "&lt;img src=x onerror=alert(1)&gt;" in spec
        at.selectbox[1].set_value(HOSTILE[0]).run()
        assert _live_markup(at) == []


def test_review_link_with_a_hostile_sample_id(hostile):
    at = AppTest.from_file(str(ROOT / "pages" / "review.py"), default_timeout=120)
    at.query_params["sample"] = SAMPLE
    at.run()
    assert not at.exception
    assert _live_markup(at) == []
    at2 = AppTest.from_file(str(ROOT / "pages" / "review.py"), default_timeout=120)
    at2.query_params["sample"] = "[x](http://127.0.0.1:9/) ![y](http://127.0.0.1:9/y.png)"
    at2.run()
    assert not at2.exception and _live_markup(at2) == []
