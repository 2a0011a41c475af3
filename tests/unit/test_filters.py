"""Structured filters become one checked expression; values are always quoted by the library."""

import pyarrow as pa
import pytest

from red_app.errors import ImportValidationError
from red_app.project.filters import Condition, apply_filter, build_filter, check_filter

COLS = ["text", "label", "split", "shot10", "n"]
TABLE = pa.table({"text": ["a'b", "x", "y; DROP"], "label": ["p", "q", "p"], "split": ["train", "test", "train"],
                  "shot10": [True, False, True], "n": ["1", "5", "10"]})


def _rows(conds):
    expr = build_filter(conds, COLS)
    return apply_filter(TABLE, expr, select="text").column("text").to_pylist()


def test_values_are_quoted_so_hostile_values_are_just_values():
    assert _rows([Condition("text", "equals", "a'b")]) == ["a'b"]
    assert _rows([Condition("text", "equals", "x' OR 1=1 --")]) == []
    assert _rows([Condition("text", "equals", "y; DROP")]) == ["y; DROP"]
    assert _rows([Condition("label", "is one of", "q, p'); COPY (SELECT 1) TO '/tmp/z.csv' --")]) == ["x"]


def test_operators_combine_with_and():
    assert _rows([Condition("split", "equals", "train"), Condition("shot10", "is true")]) == ["a'b", "y; DROP"]
    assert _rows([Condition("shot10", "is false")]) == ["x"]
    assert _rows([Condition("n", "greater than", "2")]) == ["x", "y; DROP"]
    assert _rows([Condition("text", "contains", ";")]) == ["y; DROP"]
    assert build_filter([], COLS) is None


def test_unknown_columns_and_operators_are_refused():
    with pytest.raises(ImportValidationError, match="no column"):
        build_filter([Condition("secret", "equals", "1")], COLS)
    with pytest.raises(ImportValidationError, match="unknown filter operator"):
        build_filter([Condition("text", "; DROP", "1")], COLS)


def test_check_filter_returns_duckdbs_rendering_not_the_typed_text():
    assert check_filter("split='train'  AND   shot10 -- comment") == "((split = 'train') AND shot10)"
    with pytest.raises(ImportValidationError, match="getenv"):
        check_filter("getenv('HOME') <> ''")


def test_a_filter_nested_hundreds_deep_is_refused_in_one_line():
    """Issue 23 row 11: 350 nested abs( ended in a RecursionError traceback."""
    deep = "abs(" * 350 + "x" + ")" * 350 + " > 0"
    with pytest.raises(ImportValidationError, match="nested too deeply"):
        check_filter(deep)
    assert check_filter("abs(abs(x)) > 0") == "(abs(abs(x)) > 0)"


def test_a_filter_that_could_grow_a_text_without_bound_is_refused():
    """Issue 23 row 12: seven nested replace() on a 12-row file used 3.5 GB."""
    grow = "text"
    for _ in range(7):
        grow = f"replace({grow},'a','aaaaaaaaa')"
    with pytest.raises(ImportValidationError, match="nests replace"):
        check_filter(f"length({grow}) > 0")
    # replace() side by side, or over other functions, stays allowed
    assert "replace" in check_filter("replace(lower(text), 'a', 'b') = 'x' AND replace(text, 'c', 'd') <> ''")
    # one replace() that puts a text into itself grows it with its own length
    with pytest.raises(ImportValidationError, match="use constants"):
        check_filter("length(replace(text, 'a', text)) > 0")
