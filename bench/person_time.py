"""What a person's time buys: a run with a person as the judge, on a project built as a user
builds it, answered by a *simulated person* (it reads the hidden gold no real person sees,
optionally erring) through the same answer path as the Review page and `red review`.

Methods, same person, same number of answers:
- ``red``: the default loop (choose questions, margin uncertainty, flat model, self-training),
  people as the judge, refitting once half a batch is answered;
- ``flat_entropy``: the same with entropy as the uncertainty measure;
- ``random``: the person labels random pool texts from scratch (no candidates: every label is
  searched for, so each costs ``o``, a few letters and Enter).

Reported per method and seed: test accuracy of the final model (holdout), labels gained per
100 answers, keys per answer (one key when the right label is among the candidates, else the
search's keys), and how right the exported labels at confidence >= 0.9 are (against gold).

    PYTHONPATH=. .venv/bin/python bench/person_time.py --data ../shared/data/banking77.parquet \\
        --answers 300 --batch 20 --seeds 0,1,2 --json bench/out/person_banking77.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from red_app.judges.human import HumanJudge  # noqa: E402
from red_app.method.config import LoopConfig  # noqa: E402
from red_app.project.store import Project  # noqa: E402
from red_app.workflows.people import Question, SimulatedPerson, key_cost  # noqa: E402
from red_app.workflows.predict import predict_project  # noqa: E402
from red_app.workflows.projects import embed_and_prepare, import_file  # noqa: E402
from red_app.workflows.runner import run_project  # noqa: E402
from red_app.workflows.texts import label_texts  # noqa: E402


def build(data: Path, path: Path, seeds_column: str) -> None:
    """A project as a user builds it: the seeds as labels, the rest of train as a pool with
    hidden gold, the test split as the holdout; embedded, map and seed model ready."""
    with Project(path, create=True) as p:
        import_file(p, data, where=f"split = 'train' AND {seeds_column}")
        import_file(p, data, where=f"split = 'train' AND NOT {seeds_column}", mode="hidden-gold")
        import_file(p, data, where="split = 'test'", mode="holdout")
        embed_and_prepare(p)


def test_accuracy(path: Path) -> tuple[float, float | None, int]:
    """(holdout accuracy of the final model, share right among labels at confidence >= 0.9,
    how many such labels) — the model labels every undecided text first, as a run's end does."""
    from red_app.workflows.inputs import load_inputs
    from red_app.method.model import RedModel

    with Project(path) as p:
        predict_project(p)
        data, state = load_inputs(p)
        model = RedModel.from_config(LoopConfig(), len(data.label_names)).fit(data.X, state.y, state.excluded)
        acc = float((model.predict(data.X_eval) == data.y_eval).mean())
        out = Path(tempfile.mkdtemp()) / "sure.parquet"
        from red_app.workflows.projects import export_labels

        export_labels(p, out, min_confidence=0.9, origins=["model", "judge", "human"], history=False)
        import pandas as pd

        sure = pd.read_parquet(out)
        gold = p.hidden_gold()
    pool = sure[sure.id.isin(gold)]
    right = (pool.label == pool.id.map(gold)) if len(pool) else None
    return acc, (float(right.mean()) if right is not None else None), int(len(pool))


def run_with_person(path: Path, answers: int, batch: int, seed: int, error: float, **loop) -> dict:
    """A run with people as the judge, the simulated person answering as proposals appear."""
    person = SimulatedPerson(path, error_rate=error, seed=seed, poll=0.05)
    done = threading.Event()
    records, errors = [], []

    def run():
        try:
            with Project(path) as own:
                cfg = LoopConfig(budget=answers, batch=batch, seed=seed, **loop)
                records.extend(run_project(own, HumanJudge(wait=600, poll=0.05), cfg, label_everything=False))
        except Exception as exc:  # pragma: no cover - reported
            errors.append(exc)
        finally:
            done.set()

    t = threading.Thread(target=run)
    t0 = time.perf_counter()
    t.start()
    person.answer_until_done(stop=done.is_set, idle_seconds=600)
    t.join()
    if errors:
        raise errors[0]
    return {"answers": person.answers, "keys": person.keys, "right_answers": person.right,
            "accepted": int(sum(r.accepted for r in records)), "iterations": len(records),
            "seconds": time.perf_counter() - t0}


def random_from_scratch(path: Path, answers: int, seed: int, error: float) -> dict:
    """The person labels random pool texts, every label searched for (no candidates)."""
    with Project(path) as p:
        gold = p.hidden_gold(role="pool")
        labels = p.labels()
        rng = np.random.default_rng(seed)
        ids = sorted(gold)
        pick = [ids[i] for i in rng.choice(len(ids), size=min(answers, len(ids)), replace=False)]
        rows, keys = [], 0
        for sid in pick:
            right = gold[sid]
            label = right if not (error and rng.random() < error) else labels[int(rng.integers(len(labels)))]
            keys += key_cost(Question(sid, "", (), label, 0), label, labels)
            rows.append({"sample_id": sid, "label": label})
        label_texts(p, rows, reviewer="simulated-person (reads hidden gold)")
    return {"answers": len(rows), "keys": keys, "accepted": len(rows), "iterations": 0,
            "right_answers": sum(r["label"] == gold[r["sample_id"]] for r in rows), "seconds": 0.0}


METHODS = {
    "red": lambda path, a: run_with_person(path, a.answers, a.batch, a.seed_now, a.error),
    "flat_entropy": lambda path, a: run_with_person(path, a.answers, a.batch, a.seed_now, a.error,
                                                    uncertainty="entropy"),
    "random": lambda path, a: random_from_scratch(path, a.answers, a.seed_now, a.error),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--seeds-column", default="shot10")
    ap.add_argument("--answers", type=int, default=300)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--error", type=float, default=0.0, help="the simulated person's error rate")
    ap.add_argument("--seeds", default="0,1,2", help="random states (the run's and the person's)")
    ap.add_argument("--methods", default="red,flat_entropy,random")
    ap.add_argument("--work", default="bench/out/person")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    base = work / f"{Path(a.data).stem}-base.duckdb"
    if not base.exists():
        t = time.perf_counter()
        build(Path(a.data), base, a.seeds_column)
        print(f"built {base} in {time.perf_counter() - t:.0f} s", flush=True)
    shutil.copy(base, work / "seeds-only.duckdb")
    seeds_only, sure0, n0 = test_accuracy(work / "seeds-only.duckdb")
    print(f"seeds only: test accuracy {seeds_only:.4f}; labels at confidence >= 0.9: {n0}, right {sure0}", flush=True)
    results = {"data": a.data, "answers": a.answers, "batch": a.batch, "error": a.error,
               "seeds_only_accuracy": seeds_only, "seeds_only_sure_right": sure0, "seeds_only_sure_labels": n0,
               "runs": []}
    for seed in [int(s) for s in a.seeds.split(",")]:
        a.seed_now = seed
        for method in a.methods.split(","):
            path = work / f"{method}-{seed}.duckdb"
            shutil.copy(base, path)
            figures = METHODS[method](path, a)
            acc, sure, n_sure = test_accuracy(path)
            row = {"method": method, "seed": seed, **figures, "test_accuracy": acc, "sure_right": sure,
                   "sure_labels": n_sure, "gained_per_100": 100 * figures["accepted"] / max(figures["answers"], 1),
                   "keys_per_answer": figures["keys"] / max(figures["answers"], 1)}
            results["runs"].append(row)
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
