"""The `red` console script, run as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "red"


def red(*args, check=True):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"red {' '.join(map(str, args))} failed: {proc.stderr}")
    return proc


COMMANDS = ("init", "import", "embed", "status", "export", "subsets", "run", "bench", "demo", "describe",
            "judge-eval", "audit-sample", "audit-items", "audit-answer", "quality", "texts", "label", "add-label",
            "bulk-review", "undo", "user", "predict", "app", "serve-judge")


def test_every_command_has_help(capsys):
    import pytest

    from red_app.cli.main import main

    out = red("--help").stdout  # the console script itself, once
    for cmd in COMMANDS:
        assert cmd in out
        with pytest.raises(SystemExit) as done:  # each command's help in-process: argparse exits 0
            main([cmd, "--help"])
        assert done.value.code == 0
        assert "usage: red " + cmd in capsys.readouterr().out


def test_a_cli_start_loads_no_numerical_library():
    """`red --help`, `red status`, `red audit-answer` start in well under a second because the
    CLI imports torch, scikit-learn, UMAP and pandas only in the commands that use them."""
    code = ("import sys; from red_app.cli.main import build_parser; build_parser(); "
            "heavy = [m for m in ('torch', 'sklearn', 'umap', 'scipy', 'sentence_transformers', 'pandas', "
            "'duckdb', 'numpy') if m in sys.modules]; print(','.join(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "", proc.stdout + proc.stderr


def test_errors_are_one_clear_line_and_non_zero(tmp_path):
    proc = red("status", tmp_path / "missing.duckdb", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "red init" in proc.stderr
    red("init", tmp_path / "p.duckdb")
    bad = tmp_path / "bad.csv"
    bad.write_text("words,label\nhi,a\n")
    proc = red("import", tmp_path / "p.duckdb", bad, check=False)
    assert proc.returncode == 1 and "no column 'text'" in proc.stderr and "Traceback" not in proc.stderr


def test_init_import_embed_status_export_on_the_demo_files(tmp_path):
    root = Path(__file__).resolve().parents[2]
    p = tmp_path / "demo.duckdb"
    red("init", p)
    out = red("import", p, root / "assets/demo_seeds.csv", "--id", "id").stdout
    assert "600 seed examples" in out and "30 new labels" in out
    out = red("import", p, root / "assets/demo_pool.csv", "--id", "id", "--label", "gold_intent",
              "--mode", "hidden-gold").stdout
    assert "600 into the pool" in out
    out = red("embed", p).stdout
    assert "1200 distinct texts" in out and "texts/s" in out
    assert "1200 already cached, 0 embedded" in red("embed", p).stdout  # nothing embedded twice
    status = red("status", p).stdout
    assert "seed 600, pool 600, holdout 0" in status and "labels: 30" in status
    out = red("export", p, tmp_path / "labels.csv").stdout
    assert "wrote 600 rows" in out
    import duckdb

    back = duckdb.sql(f"SELECT * FROM read_csv('{tmp_path / 'labels.csv'}')").df()
    assert len(back) == 600 and set(back.origin) == {"seed"}


def test_bad_loop_settings_are_one_clear_line(tmp_path):
    for args, message in ((("bench", "--data", "x", "--set", "noise=loud"), "noise must be one of random, hard"),
                          (("bench", "--data", "x", "--set", "budget=abc"), "budget takes a int"),
                          (("bench", "--data", "x", "--set", "nope=1"), "use KEY=VALUE with a loop setting")):
        proc = red(*args, check=False)
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_data_never_reaches_the_terminal_as_control_characters(tmp_path):
    hostile = "red\x1b[31mALERT\x1b[0m\x07\x9b2J"
    p = tmp_path / "p.duckdb"
    red("init", p)
    # a label may not hold control characters (issue 23, row 9): refused, and the message
    # quoting it shows them escaped
    bad = tmp_path / "h.csv"
    bad.write_text("text,label\n" + "".join(f"text {i},{hostile}\n" for i in range(3)), encoding="utf-8")
    err = red("import", p, bad, check=False).stderr
    assert "control character" in err and "\x1b" not in err and "\x9b" not in err and "\x07" not in err
    # a text may: shown escaped wherever it is printed
    csv = tmp_path / "t.csv"
    csv.write_text("text,label\n" + "".join(f"{hostile} {i},plain\n" for i in range(3))
                   + "".join(f"other {i},other\n" for i in range(3)), encoding="utf-8")
    red("import", p, csv)
    out = red("texts", p, "--search", "ALERT").stdout
    assert "red\\x1b[31mALERT\\x1b[0m\\x07\\x9b2J" in out
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) < 0xA0 for c in out)
    # error messages that quote data too
    twin = tmp_path / "tw.csv"
    twin.write_text("text,label\n" + "".join(f"more {i},PLAIN\n" for i in range(3)), encoding="utf-8")
    err = red("import", p, twin, check=False).stderr
    assert "differs from" in err


def test_a_corrupt_or_newer_meta_is_one_clear_line(tmp_path):
    import duckdb

    cases = {
        "abc": (["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                 "INSERT INTO meta VALUES ('schema_version', 'abc')"], "schema_version 'abc'"),
        "nokey": (["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)", "CREATE TABLE samples (id TEXT)"],
                  "has no schema_version"),
        "columns": (["CREATE TABLE meta (k TEXT)"], "meta table cannot be read"),
        "newer": (["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                   "INSERT INTO meta VALUES ('schema_version', '99')"], "newer than this red"),
    }
    for name, (sqls, message) in cases.items():
        path = tmp_path / f"{name}.duckdb"
        con = duckdb.connect(str(path))
        for sql in sqls:
            con.execute(sql)
        con.close()
        for args in (("status", path), ("import", path, tmp_path / "none.csv")):
            proc = red(*args, check=False)
            assert proc.returncode == 1, (name, proc.stderr)
            assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0, proc.stderr
            assert message in proc.stderr, (name, proc.stderr)


def test_a_failed_import_leaves_an_empty_or_fresh_file_byte_identical(tmp_path):
    import hashlib

    import duckdb

    def digest(p):
        return hashlib.sha256(p.read_bytes()).hexdigest()

    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhi,a\nthere,\u200b\n" + 'cut,"half')
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    fresh = tmp_path / "fresh.duckdb"
    red("init", fresh)
    for path in (empty, fresh):
        before = digest(path)
        for args in ((), ("--where", "text IN (SELECT 1)"), ("--where", "1=1; DROP TABLE meta")):
            proc = red("import", path, bad, *args, check=False)
            assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert digest(path) == before, path.name
    good = tmp_path / "good.csv"
    good.write_text("text,label\n" + "".join(f"text {i},a\n" for i in range(3)))
    assert "3 seed examples" in red("import", empty, good).stdout
    assert "labels: 1" in red("status", empty).stdout
