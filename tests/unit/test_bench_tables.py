"""bench/tables.py: the README's and REPORT's benchmark tables come from the suite's JSON,
with intervals over seed draws, and a figure is bold only where it wins (issue 21)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tables():
    spec = importlib.util.spec_from_file_location("bench_tables", ROOT / "bench" / "tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cell(path: Path, ds: str, judge: str, seed: int, red: float, entropy: float, random: float) -> None:
    res = {"cell": {"dataset": ds, "judge": judge, "person_share": 0.0, "seed": seed, "settings": []},
           "budget": 1540, "red_accuracy": red, "flat_entropy_accuracy": entropy, "flat_random_accuracy": random,
           "seeds_self_training_accuracy": 0.80, "export_model_ece": 0.02, "red_applied": 900,
           "red_label_precision": 0.95, "red_held": 10, "red_person_answers": 0}
    (path / f"{ds}_{judge}_s{seed}.json").write_text(json.dumps(res))


def test_red_is_bold_only_where_its_paired_interval_is_above_zero(tables, tmp_path):
    for s, (r, e, x) in enumerate([(0.91, 0.89, 0.88), (0.92, 0.90, 0.89), (0.915, 0.895, 0.885)]):
        _cell(tmp_path, "banking77", "perfect", s, r, e, x)  # red ahead by 2 points on every draw
    for s, (r, e, x) in enumerate([(0.90, 0.91, 0.88), (0.91, 0.90, 0.89), (0.905, 0.905, 0.885)]):
        _cell(tmp_path, "banking77", "sym90", s, r, e, x)  # red and entropy trade places: no winner
    for s, (r, e, x) in enumerate([(0.90, 0.93, 0.88), (0.91, 0.935, 0.89), (0.905, 0.94, 0.885)]):
        _cell(tmp_path, "banking77", "realistic", s, r, e, x)  # a baseline wins: it is the bold one
    for s, (r, e, x) in enumerate([(0.90, 0.88, 0.87), (0.92, 0.93, 0.89), (0.94, 0.91, 0.90)]):
        _cell(tmp_path, "clinc150", "sym90", s, r, e, x)  # red ahead on average, its interval crosses 0
    (tmp_path / "clinc150_sym90_s9.json").write_text(json.dumps(
        {**json.loads((tmp_path / "clinc150_sym90_s0.json").read_text()), "evaluate": "valid"}))  # never reported
    text = tables.headline(tables.load(tmp_path))
    rows = {line.split(" | ")[1]: line for line in text.splitlines()[2:]}
    assert rows["perfect"].count("**") == 2 and "**91.50 ± " in rows["perfect"]
    assert "**" not in rows["90% right"]
    assert "**93.50 ± " in rows["yes-leaning (0.97 / 0.55)"] and rows["yes-leaning (0.97 / 0.55)"].count("**") == 2
    clinc = next(line for line in text.splitlines() if line.startswith("| CLINC150"))
    assert "**" not in clinc and "+1.33 [-3.84" in clinc  # a lead of 1.3 points on average is not a win here
    assert len(tables.load(tmp_path)[("clinc150", "sym90")]) == 3  # the valid-split run is left out
    assert "+2.00 [+2.00, +2.00]" in rows["perfect"]  # red − flat + entropy, the same lead on each draw
    m1, h1 = tables.mean_ci([1.0])
    assert m1 == 1.0 and h1 != h1  # one draw: no interval (NaN), shown as "(1 draw)"
    assert tables.pct(m1, h1) == "100.00 (1 draw)"
    m, h = tables.mean_ci([0.0, 1.0, 2.0])
    assert m == 1.0 and h == pytest.approx(4.303 * 1.0 / 3 ** 0.5, rel=1e-3)  # t(0.975, 2) · s / √n


def test_a_table_is_replaced_between_its_markers_and_check_reports_a_stale_one(tables, tmp_path):
    doc = tmp_path / "README.md"
    doc.write_text("before\n<!-- bench:headline:start -->\nold figures\n<!-- bench:headline:end -->\nafter\n")
    assert tables.replace_block(doc, "headline", "| new |", check=True)  # stale, left as it is
    assert "old figures" in doc.read_text()
    assert tables.replace_block(doc, "headline", "| new |", check=False)
    assert doc.read_text() == "before\n<!-- bench:headline:start -->\n| new |\n<!-- bench:headline:end -->\nafter\n"
    assert not tables.replace_block(doc, "headline", "| new |", check=True)  # up to date
    with pytest.raises(SystemExit, match="no <!-- bench:other:start -->"):
        tables.replace_block(doc, "other", "x", check=False)


def test_the_committed_tables_are_what_the_committed_json_gives(tables):
    """No figure can go stale: the README's and REPORT's generated blocks equal what
    bench/tables.py makes of bench/results/ (rerun it after any cell)."""
    suite = ROOT / "bench" / "results" / "suite"
    groups = tables.load(suite)
    assert groups, "bench/results/suite/ holds the suite's JSON"
    assert not tables.replace_block(ROOT / "README.md", "headline", tables.headline(groups), check=True)
    body = tables.headline(groups) + "\n\n" + tables.detail(groups)
    assert not tables.replace_block(ROOT / "bench" / "REPORT.md", "suite", body, check=True)
    valid = tables.valid_grid(ROOT / "bench" / "results" / "valid")
    assert not tables.replace_block(ROOT / "bench" / "REPORT.md", "valid", valid, check=True)
