"""Issue 23, rows 6, 9 and 13: what a label's name and description may be, and files with
odd headers or bytes, refused with a clear error and nothing stored — through a real DuckDB
file and the real importer."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from red_app.errors import ImportValidationError, RedError
from red_app.project.dataio import import_file
from red_app.project.names import MAX_DESCRIPTION_CHARS, checked_label, skeleton
from red_app.project.store import Project
from red_app.workflows.texts import add_label


def _csv(tmp_path, name, rows, header="text,label"):
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def proj(tmp_path):
    path = tmp_path / "p.duckdb"
    with Project(path, create=True) as p:
        import_file(p, _csv(tmp_path, "seeds.csv", ["my order is late,age_limit", "how old must I be,age_limit",
                                                     "is there a minimum age,age_limit", "late parcel,late_order"]),
                    min_examples=1)
    return path


@pytest.mark.parametrize("label, why", [
    ("age_limit\u200b", "ZERO WIDTH SPACE"),
    ("\u200b", "ZERO WIDTH SPACE"),
    ("age\u202e_limit", "RIGHT-TO-LEFT OVERRIDE"),
    ('"a\tb"', r"U\+0009 a control character"),
    ("\u0430ge_limit", "looks like the label 'age_limit'"),   # a Cyrillic а
    ("AGE-LIMIT", "looks like the label 'age_limit'"),
    ("___", "no letter or digit"),
])
def test_a_label_that_looks_like_another_or_like_nothing_is_refused(proj, tmp_path, label, why):
    bad = _csv(tmp_path, "bad.csv", [f"first text,{label}", f"second text,{label}"])
    with Project(proj) as p:
        before = (p.labels(), p.sample_count())
        with pytest.raises(ImportValidationError, match=why):
            import_file(p, bad, min_examples=1)
        assert (p.labels(), p.sample_count()) == before  # nothing stored
        # the same rule for a label made from a text (a typed name's tab is just a space there)
        if "\t" not in label:
            sid = p.samples().id.iloc[0]
            with pytest.raises(RedError):
                add_label(p, label.strip('"'), [sid], reviewer="ana")
            assert p.labels() == before[0]


def test_a_decomposed_name_is_the_composed_one(proj, tmp_path):
    with Project(proj) as p:
        import_file(p, _csv(tmp_path, "nfc.csv", ["one,cafe\u0301", "two,caf\u00e9"]), min_examples=1)
        assert "caf\u00e9" in p.labels() and "cafe\u0301" not in p.labels()
        assert sum(lab.startswith("caf") for lab in p.labels()) == 1
    assert checked_label(" caf\u00e9 ") == "caf\u00e9" and skeleton("\u0430ge limit") == skeleton("age_limit")


def test_nul_bytes_and_duplicate_headers_are_refused(proj, tmp_path):
    dup = _csv(tmp_path, "dup.csv", ["a,b,age_limit"], header="text,text,label")
    nul_id = _csv(tmp_path, "nul.csv", ["x\x00y,some text,age_limit"], header="id,text,label")
    nul_label = _csv(tmp_path, "nul2.csv", ["some text,age\x00limit"])
    pq.write_table(pa.table([pa.array(["t1"]), pa.array(["t2"]), pa.array(["age_limit"])],
                            names=["text", "text", "label"]), tmp_path / "dup.parquet")
    with Project(proj) as p:
        before = p.sample_count()
        with pytest.raises(ImportValidationError, match="more than once"):
            import_file(p, dup)
        with pytest.raises(ImportValidationError, match="more than once"):
            import_file(p, tmp_path / "dup.parquet")
        with pytest.raises(ImportValidationError, match="NUL"):
            import_file(p, nul_id, id="id", min_examples=1)
        with pytest.raises(ImportValidationError, match="NULL|control"):
            import_file(p, nul_label, min_examples=1)
        assert p.sample_count() == before


def test_a_description_is_a_sentence_not_a_book(proj):
    with Project(proj) as p:
        with pytest.raises(RedError, match="keep it to"):
            p.set_description("age_limit", "x" * (MAX_DESCRIPTION_CHARS + 1), author="ana")
        assert "age_limit" not in p.descriptions()
        p.set_description("age_limit", "The minimum age to buy or use something.", author="ana")
        assert p.descriptions()["age_limit"]["version"] == 1
