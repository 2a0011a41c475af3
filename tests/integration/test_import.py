"""Import of the real benchmark files, and every bad input (the project must not change)."""

import hashlib
import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from red_app.errors import ImportValidationError
from red_app.project.dataio import export_labels, import_file
from red_app.project.store import Project


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clinc150_imports_with_seeds_pool_and_holdout(tmp_path, clinc_path):
    with Project(tmp_path / "c.duckdb", create=True) as p:
        a = import_file(p, clinc_path, where="split = 'train' AND shot10")
        b = import_file(p, clinc_path, where="split = 'train' AND NOT shot10", mode="hidden-gold")
        c = import_file(p, clinc_path, where="split = 'test'", mode="holdout")
        st = p.status()
        assert (a.seeds, b.pool, c.holdout) == (1500, 13500, 4500)
        assert st["labels"] == 150 and st["roles"] == {"seed": 1500, "pool": 13500, "holdout": 4500}
        assert st["labeled_by_origin"]["seed"] == 1500 and st["events"] == 1500
        assert (st["per_label"]["seed"] == 10).all()
        # gold is held apart: it never becomes an annotation
        gold = p.cursor().execute("SELECT count(*) FROM samples WHERE gold_label IS NOT NULL").fetchall()[0][0]
        assert gold == 18000


def test_banking77_imports_and_exports_round_trip(tmp_path, banking_path):
    with Project(tmp_path / "b.duckdb", create=True) as p:
        rep = import_file(p, banking_path, where="split = 'train'")
        assert rep.seeds == 8622 and rep.new_labels == 77
        for fmt in ("csv", "parquet", "jsonl"):
            out = tmp_path / f"export.{fmt}"
            n = export_labels(p, out)
            assert n == 8622
            reader = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}[fmt]
            back = duckdb.sql(f"SELECT id, text, label, origin FROM {reader}('{out}')").df()
            src = duckdb.sql(
                f"SELECT text, label FROM read_parquet('{banking_path}') WHERE split = 'train'").df()
            assert sorted(zip(back.text, back.label)) == sorted(zip(src.text, src.label))
            assert set(back.origin) == {"seed"}


def _csv(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _seed_rows(n_labels=2, per=3, prefix="new"):
    return "".join(f"{prefix}{l}-{k},text number {k} about {l},lab{l}\n" for l in range(n_labels) for k in range(per))


GOOD = ("id,text,label\n" + _seed_rows(prefix="good")).encode()

BAD_INPUTS = {
    "missing column": (b"id,body,label\n1,hello,a\n", dict(), "no column 'text'"),
    "empty text": (("id,text,label\n" + _seed_rows() + "x1,,lab0\n").encode(), dict(), "empty or blank text"),
    "whitespace text": (("id,text,label\n" + _seed_rows() + "x1,   ,lab0\n").encode(), dict(), "row 7"),
    "invalid utf-8": (("id,text,label\n" + _seed_rows()).encode() + b"x1,caf\xe9 latte,lab0\n", dict(), "UTF-8"),
    "duplicate ids": (("id,text,label\n" + _seed_rows() + "new0-1,again,lab0\n").encode(), dict(), "appears twice"),
    "too few examples": (("id,text,label\n" + _seed_rows() + "x1,lonely text,rare\n").encode(), dict(), "fewer than 3"),
    "1 MB text": (("id,text,label\n" + _seed_rows() + "x1," + "a" * 1_000_000 + ",lab0\n").encode(), dict(), "1,000,000 characters"),
    "truncated csv": (("id,text,label\n" + _seed_rows() + 'x1,"an unfinished quote').encode(), dict(), "truncated"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_a_clear_error_and_leaves_the_project_unchanged(tmp_path, case):
    content, kwargs, message = BAD_INPUTS[case]
    proj = tmp_path / "p.duckdb"
    with Project(proj, create=True) as p:
        import_file(p, _csv(tmp_path, "good.csv", GOOD), id="id")
    before = _digest(proj)
    bad = _csv(tmp_path, "bad.csv", content)
    with Project(proj) as p:
        with pytest.raises(ImportValidationError, match=message):
            import_file(p, bad, id="id", **kwargs)
    assert _digest(proj) == before


def test_ids_already_in_the_project_are_refused(tmp_path):
    proj = tmp_path / "p.duckdb"
    good = _csv(tmp_path, "good.csv", GOOD)
    with Project(proj, create=True) as p:
        import_file(p, good, id="id")
    before = _digest(proj)
    with Project(proj) as p, pytest.raises(ImportValidationError, match="already in the project"):
        import_file(p, good, id="id")
    assert _digest(proj) == before


def test_truncated_parquet_and_jsonl_are_refused(tmp_path):
    proj = tmp_path / "p.duckdb"
    with Project(proj, create=True) as p:
        import_file(p, _csv(tmp_path, "good.csv", GOOD), id="id")
    before = _digest(proj)
    tbl = pa.table({"text": [f"text {i}" for i in range(300)], "label": ["a", "b", "c"] * 100})
    pq.write_table(tbl, tmp_path / "full.parquet")
    data = (tmp_path / "full.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    lines = "".join(json.dumps({"text": f"t{i}", "label": "a"}) + "\n" for i in range(10))
    (tmp_path / "cut.jsonl").write_text(lines + '{"text": "half a rec')
    with Project(proj) as p:
        for name in ("cut.parquet", "cut.jsonl"):
            with pytest.raises(ImportValidationError, match="cannot read"):
                import_file(p, tmp_path / name)
    assert _digest(proj) == before


def test_a_column_that_is_not_all_strings_is_refused_and_nothing_is_stored(tmp_path):
    """Issue 23 row 2: 29 string texts and one 42 in JSONL were all stored as JSON literals."""
    proj = tmp_path / "p.duckdb"
    with Project(proj, create=True) as p:
        import_file(p, _csv(tmp_path, "good.csv", GOOD), id="id")
    before = _digest(proj)
    rows = [{"text": f"café {i} \"quoted\"", "label": "a"} for i in range(29)] + [{"text": 42, "label": "a"}]
    (tmp_path / "mixed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.table({"text": [b"\xff raw", b"bytes"], "label": ["a", "b"]}), tmp_path / "blob.parquet")
    pq.write_table(pa.table({"text": [["a", "list"], ["b"]], "label": ["a", "b"]}), tmp_path / "list.parquet")
    (tmp_path / "numlabel.jsonl").write_text("".join(json.dumps({"text": f"t{i}", "label": i}) + "\n" for i in range(4)))
    with Project(proj) as p:
        for name, words in (("mixed.jsonl", "values of different kinds"), ("blob.parquet", "bytes, not text"),
                            ("list.parquet", "values, not text"), ("numlabel.jsonl", "the label")):
            with pytest.raises(ImportValidationError, match=words):
                import_file(p, tmp_path / name)
    assert _digest(proj) == before  # nothing stored
    # all strings: stored as the strings they are, with no quotes added
    (tmp_path / "fine.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:29]))
    (tmp_path / "ids.jsonl").write_text("".join(json.dumps({"id": i, "text": f"numbered {i}"}) + "\n" for i in range(3)))
    with Project(proj) as p:
        import_file(p, tmp_path / "fine.jsonl")
        import_file(p, tmp_path / "ids.jsonl", id="id", label=None)  # whole-number ids are fine
        texts = set(p.samples(columns="id, text")["text"])
    assert 'café 3 "quoted"' in texts and "numbered 2" in texts


def test_tsv_jsonl_and_unlabeled_rows(tmp_path):
    tsv = tmp_path / "d.tsv"
    tsv.write_text("text\tlabel\n" + "".join(f"hello {i}\t{'ab'[i % 2]}\n" for i in range(6)) + "no label here\t\n")
    js = tmp_path / "d.jsonl"
    js.write_text("".join(json.dumps({"body": f"pool text {i}"}) + "\n" for i in range(4)))
    with Project(tmp_path / "p.duckdb", create=True) as p:
        r1 = import_file(p, tsv)
        r2 = import_file(p, js, text="body", label=None)
        assert (r1.seeds, r1.pool, r2.pool) == (6, 1, 4)
        assert p.status()["pool_unlabeled"] == 5
