"""Integrity and security of import and export (issue #9), on real DuckDB files and real data."""

import hashlib
import random

import duckdb
import pytest

from red_app.errors import ImportValidationError
from red_app.project.dataio import export_labels, import_file
from red_app.project.store import Project


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _small_csv(tmp_path, name="good.csv", prefix="g"):
    rows = "".join(f"{prefix}{lab}-{k},text number {k} about {lab},lab{lab},{'train' if k < 3 else 'test'}\n"
                   for lab in range(2) for k in range(4))
    return _write(tmp_path, name, "id,text,label,split\n" + rows)


# -- 1. the row filter runs no statement of its own ----------------------------------------

def _attacks(tmp_path):
    out = tmp_path / "out"
    return [
        f"COPY (SELECT 1) TO '{out}-1.csv'",
        f"1=1; COPY (SELECT 1) TO '{out}-2.csv'",
        f"split = 'train'; COPY (SELECT * FROM _in) TO '{out}-3.csv'",
        "text IN (SELECT content FROM read_text('/etc/os-release'))",
        "text = (SELECT content FROM read_text('/etc/passwd'))",
        "read_text('/etc/passwd') IS NOT NULL",
        "getenv('HOME') <> ''",
        "current_setting('enable_external_access') = 'true'",
        "EXISTS (SELECT 1 FROM glob('/etc/*'))",
        "1=1) UNION ALL (SELECT * FROM read_csv('/etc/passwd')",
        f"1=1; ATTACH '{out}-4.duckdb' AS x",
        "1=1; INSTALL httpfs",
        "1=1; LOAD httpfs",
        "1=1; SET enable_external_access = true",
        "1=1; PRAGMA version",
        "length(text) > 0 ORDER BY 1",
        "text IN (SELECT text FROM query_table('_in'))",
        "len(read_blob('/etc/passwd')) > 0",
    ]


def test_the_row_filter_refuses_every_statement_and_writes_nothing(tmp_path):
    proj = tmp_path / "p.duckdb"
    good = _small_csv(tmp_path)
    with Project(proj, create=True) as p:
        import_file(p, good, id="id", where="split = 'train'")
    before = _digest(proj)
    bad = _small_csv(tmp_path, "other.csv", prefix="o")
    attacks = _attacks(tmp_path)
    refused = 0
    with Project(proj) as p:
        for where in attacks:
            with pytest.raises(ImportValidationError, match="is refused") as err:
                import_file(p, bad, id="id", where=where)
            assert "A filter is one boolean expression" in str(err.value)
            assert "root:" not in str(err.value) and "VERSION_ID" not in str(err.value)
            refused += 1
    assert refused == len(attacks)
    assert _digest(proj) == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["good.csv", "other.csv", "p.duckdb"]


@pytest.mark.parametrize("where, n", [
    ("split = 'train' AND label = 'lab0'", 3),
    ("label IN ('lab0', 'lab1')", 8),
    ("NOT (split = 'train')", 2),
    ("length(text) > 23", 0),
    ("text LIKE '%number 1%' OR upper(label) = 'LAB1'", 5),
])
def test_legitimate_filters_still_work(tmp_path, where, n):
    with Project(tmp_path / "p.duckdb", create=True) as p:
        if n == 0:
            with pytest.raises(ImportValidationError, match="no rows matching"):
                import_file(p, _small_csv(tmp_path), id="id", where=where, min_examples=1)
        else:
            assert import_file(p, _small_csv(tmp_path), id="id", where=where, min_examples=1).rows == n


def test_real_data_filters_with_booleans(tmp_path, banking_path):
    with Project(tmp_path / "p.duckdb", create=True) as p:
        rep = import_file(p, banking_path, where="split = 'train' AND shot10 AND label IN ('card_arrival', 'age_limit')")
        assert rep.seeds == 20
        rep = import_file(p, banking_path, where="NOT shot10 AND split = 'test' AND length(text) > 5 "
                          "AND label = 'card_arrival'", mode="holdout")
        assert rep.holdout == 40


# -- 2. exports are safe to open ---------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://127.0.0.1:9/\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1",
            "=cmd|' /C calc'!A0"]


def test_csv_export_neutralises_formula_cells_and_parquet_keeps_the_text(tmp_path, banking_path):
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    src = duckdb.sql(f"SELECT text, label FROM read_parquet('{banking_path}') WHERE split = 'test' "
                     "ORDER BY text LIMIT 60").to_arrow_table()
    texts = src.column("text").to_pylist()
    labels = ["=1+2", "+lab", "@lab"] * 20
    for i, f in enumerate(FORMULAS):
        texts[i] = f + " " + texts[i]
    pq.write_table(pa.table({"id": [f"-{i}" for i in range(60)], "text": texts, "label": labels}),
                   tmp_path / "hostile.parquet")
    with Project(tmp_path / "p.duckdb", create=True) as p:
        import_file(p, tmp_path / "hostile.parquet", id="id", actor="=actor()")
        n = export_labels(p, tmp_path / "out.csv")
        export_labels(p, tmp_path / "out.parquet")
        export_labels(p, tmp_path / "out.jsonl")
    assert n == 60
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    formula = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert formula == [], formula[:5]
    assert sum(c.startswith("'") for c in cells) >= 60 * 3 + len(FORMULAS)
    back = duckdb.sql(f"SELECT id, text, label, actor FROM read_parquet('{tmp_path / 'out.parquet'}') ORDER BY id")
    rows = {r[0]: r[1:] for r in back.fetchall()}
    assert all(rows[f"-{i}"] == (texts[i], labels[i], "=actor()") for i in range(60))
    js = duckdb.sql(f"SELECT id, text FROM read_json('{tmp_path / 'out.jsonl'}')").fetchall()
    assert dict(js) == {f"-{i}": texts[i] for i in range(60)}


# -- 3. import refuses what it cannot trust ------------------------------------------------

def _banking_csv(tmp_path, banking_path, n=300):
    out = tmp_path / "banking.csv"
    duckdb.sql(f"""COPY (SELECT text, label FROM read_parquet('{banking_path}')
                   WHERE split = 'train' AND text LIKE '%,%' ORDER BY text LIMIT {n})
                   TO '{out}' (FORMAT csv, HEADER)""")
    return out


def test_a_csv_cut_inside_a_row_or_a_quoted_field_is_refused(tmp_path, banking_path):
    full = _banking_csv(tmp_path, banking_path)
    data = full.read_bytes()
    assert data.count(b'"') > 200  # texts with commas are quoted
    quoted = [i for i in range(1, len(data)) if data[:i].count(b'"') % 2 == 1]
    rng = random.Random(9)
    # cut points inside the label, the last field: the reader sees a shorter, valid-looking label
    in_label = []
    start = data.index(b"\n") + 1
    while start < len(data):
        end = data.index(b"\n", start)
        comma = data.rindex(b",", start, end)
        in_label += range(comma + 2, end)
        start = end + 1
    cuts = sorted(rng.sample([i for i in quoted if i > len(data) // 10], 20) + rng.sample(in_label, 20))
    proj = tmp_path / "p.duckdb"
    with Project(proj, create=True):
        pass
    before = _digest(proj)
    accepted = []
    with Project(proj) as p:
        for k, cut in enumerate(cuts):
            part = _write(tmp_path, f"cut{k}.csv", data[:cut])
            try:
                import_file(p, part, min_examples=1)
                accepted.append(cut)
            except ImportValidationError as exc:
                assert "truncated" in str(exc) or "cut off" in str(exc), str(exc)
    assert accepted == [], f"{len(accepted)} of {len(cuts)} cut points accepted"
    assert _digest(proj) == before
    # a file cut exactly at a row boundary is a complete, shorter file
    boundary = data.index(b"\n", len(data) // 2) + 1
    with Project(proj) as p:
        assert import_file(p, _write(tmp_path, "half.csv", data[:boundary]), min_examples=1).rows > 100


CASE_FILE = "text,label\n" + "".join(f"about cards {i},Card_Arrival\n" for i in range(3)) + \
    "".join(f"about limits {i},age_limit\n" for i in range(3)) + "".join(f"more cards {i},CARD_ARRIVAL\n" for i in range(3))


def test_labels_that_differ_only_by_case_are_refused_naming_both(tmp_path):
    proj = tmp_path / "p.duckdb"
    with Project(proj, create=True):
        pass
    before = _digest(proj)
    with Project(proj) as p, pytest.raises(ImportValidationError) as err:
        import_file(p, _write(tmp_path, "c.csv", CASE_FILE))
    assert "'CARD_ARRIVAL' (row 7)" in str(err.value) and "'Card_Arrival' (row 1)" in str(err.value)
    assert "--merge-case" in str(err.value)
    assert _digest(proj) == before
    with Project(proj) as p:
        import_file(p, _write(tmp_path, "c.csv", CASE_FILE), merge_case=True)
        assert p.labels() == ["Card_Arrival", "age_limit"]
        assert p.status()["per_label"].set_index("label").loc["Card_Arrival", "seed"] == 6
        # against the project's labels too, surrounding tabs included
        other = "text,label\n" + "".join(f"new text {i},\tcard_arrival\t\n" for i in range(3))
        with pytest.raises(ImportValidationError, match="'Card_Arrival' \\(the project's label\\)"):
            import_file(p, _write(tmp_path, "d.csv", other))
        import_file(p, _write(tmp_path, "d.csv", other), merge_case=True)
        assert p.labels() == ["Card_Arrival", "age_limit"]


@pytest.mark.parametrize("blank", ["\u200b", "\u200c\u200d", "\u2060 ", "\ufeff", " \u200b\t\u200b ", "\u00a0\u200b"])
def test_texts_of_invisible_characters_only_are_blank(tmp_path, blank):
    rows = "".join(f"real text {i},a\n" for i in range(3)) + f'"{blank}",a\n'
    with Project(tmp_path / "p.duckdb", create=True) as p:
        with pytest.raises(ImportValidationError, match="empty or blank text .*row 4"):
            import_file(p, _write(tmp_path, "z.csv", "text,label\n" + rows))
        assert p.sample_count() == 0


def test_the_same_content_is_recognised_under_any_name(tmp_path):
    proj = tmp_path / "p.duckdb"
    good = _small_csv(tmp_path)
    with Project(proj, create=True) as p:
        import_file(p, good, where="split = 'train'")
    before = _digest(proj)
    copy = _write(tmp_path, "renamed.csv", good.read_bytes())
    with Project(proj) as p:
        with pytest.raises(ImportValidationError, match="already in the project: imported as 'good.csv'.*import #1"):
            import_file(p, copy)
    assert _digest(proj) == before
    with Project(proj) as p:
        # the rows the first import left out may still come, under any name
        assert import_file(p, copy, where="split = 'test'", mode="holdout").holdout == 2
        # same name, new content: accepted, with ids of its own
        changed = _small_csv(tmp_path, "x.csv", prefix="x").read_bytes().replace(b"text number", b"new text")
        rep = import_file(p, _write(tmp_path, "good.csv", changed), where="split = 'train'")
        assert rep.rows == 6
        ids = p.samples(columns="id")["id"].tolist()
        assert len(ids) == len(set(ids)) == 14 and sum(i.startswith("good.csv@") for i in ids) == 6
        assert [i["source"] for i in p.imports()] == ["good.csv", "renamed.csv", "good.csv"]


def test_upload_names_are_never_used_as_paths(tmp_path):
    from red_app.project.dataio import save_upload

    data = _small_csv(tmp_path).read_bytes()
    for name in ("../../x.csv", "..\\..\\x.csv", "/etc/cron.d/x.csv", "a/../../../x.csv"):
        out = save_upload(data, name)
        assert out.name == "upload.csv" and out.parent.name.startswith("red-upload-")
        assert out.read_bytes() == data
    with pytest.raises(ImportValidationError, match="cannot import a .sh"):
        save_upload(b"echo", "../../x.sh")
    with Project(tmp_path / "p.duckdb", create=True) as p:
        rep = import_file(p, save_upload(data, "../../x.csv"), source_name="../../x.csv")
        assert "from x.csv" in rep.summary() or "../../x.csv" in rep.path
        assert p.sources() == {"../../x.csv"}


def test_a_locked_project_names_the_process_that_holds_it(small_copy):
    """A process that keeps the file open (here one that holds it on purpose; runs let go of it
    between steps) makes others wait $RED_LOCK_WAIT seconds, then refuse with one line that
    says which process holds it."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    red = Path(sys.executable).parent / "red"
    env = dict(os.environ, HF_HUB_OFFLINE="1", RED_LOCK_WAIT="1")
    hold = ("import sys, time; from red_app.project.store import Project; p = Project(sys.argv[1]); "
            "p.status(); print('held', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", hold, str(small_copy)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        r = subprocess.run([str(red), "status", str(small_copy)], capture_output=True, text=True, timeout=120, env=env)
        waited = time.monotonic() - t0
        assert r.returncode == 1 and f"process {proc.pid}" in r.stderr and "Traceback" not in r.stderr
        assert r.stderr.strip().count("\n") == 0 and waited >= 1.0  # it waited before refusing
    finally:
        proc.kill()
        proc.wait(timeout=30)
    with Project(small_copy, read_only=True) as p:  # free again once the holder is gone
        assert p.status()["samples"] > 0
