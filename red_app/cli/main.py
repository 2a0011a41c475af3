"""The `red` command line. Every command has --help; errors exit 1 with one clear line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..errors import RedError
from ..method.config import CHOICES, DEFAULTS
from . import audit, discover, engine, review, texts, users
from .common import clean, progress_bar, reviewer

# -- commands -------------------------------------------------------------------------


def cmd_init(a) -> int:
    from ..project.store import Project

    path = Path(a.project)
    if path.exists():
        raise RedError(f"{path} already exists; pick another name or open it with `red status {path}`")
    with Project(path, create=True):
        pass
    print(f"created project {clean(path)}")
    return 0


def cmd_import(a) -> int:
    from ..project.dataio import import_file
    from ..project.store import Project

    with Project(a.project) as p:
        rep = import_file(
            p, a.file, text=a.text, label=None if a.no_label else a.label, id=a.id, fmt=a.format,
            mode=a.mode, where=a.where, max_chars=a.max_chars, min_examples=a.min_examples,
            merge_case=a.merge_case, delimiter=a.delimiter,
        )
    print(clean(rep.summary()))
    for w in rep.warnings:
        print(f"warning: {clean(w)}", file=sys.stderr)
    return 0


def cmd_embed(a) -> int:
    from ..workflows.projects import embed_and_prepare, open_project

    with open_project(a.project) as p:
        done = embed_and_prepare(p, model=a.model, batch_size=a.batch_size, engine=a.engine, workers=a.workers,
                                 progress=progress_bar("embedding"))
    for note in done.notes:
        print(f"note: {clean(note)}", file=sys.stderr)
    for line in done.lines():
        print(clean(line), flush=True)
    return 0


def cmd_status(a) -> int:
    from ..project.store import Project

    from ..workflows.map_status import map_freshness

    with Project(a.project, read_only=True) as p:
        st = p.status()
        iters = p.iterations()
        fresh = map_freshness(p)
    per_label = st.pop("per_label")
    if a.json:
        st["per_label"] = per_label.to_dict(orient="records")
        st["label_map_stale"] = None if fresh is None else fresh.stale
        print(json.dumps(st, indent=2, default=str))
        return 0
    print(f"project {clean(st['path'])}")
    print(f"samples: {st['samples']}  (" + ", ".join(f"{k} {v}" for k, v in st["roles"].items()) + ")")
    print(f"labels: {st['labels']}   annotation events: {st['events']}   runs: {st['runs']}")
    print("labeled by origin: " + ", ".join(f"{k} {v}" for k, v in st["labeled_by_origin"].items()))
    print(f"pool still undecided: {st['pool_unlabeled']} ({st['model_labeled']} of them labeled by the model: "
          "`red predict` refreshes)")
    if fresh is not None and fresh.stale:
        print(f"{clean(fresh.summary())} `red subsets {clean(a.project)}` recomputes it.")
    if len(iters):
        last = iters.iloc[-1]
        print(
            f"last iteration: run {last.run_id} #{last.iteration}: {last.uncertain_count} uncertain, "
            f"{last.accepted} accepted, {last.rejected} rejected"
        )
    if len(per_label):
        print("\nper label (labeled = seed + judge + human):")
        limit = None if a.all_labels else 25
        shown = per_label if limit is None else per_label.head(limit)
        for r in shown.itertuples():
            print(f"  {clean(r.label):<40} {r.labeled:>6}  seed {r.seed:>5}  judge {r.judge:>5}  human {r.human:>5}")
        if limit is not None and len(per_label) > limit:
            print(f"  … {len(per_label) - limit} more (--all-labels)")
    return 0


def cmd_export(a) -> int:
    from ..project.dataio import export_labels
    from ..project.store import Project

    with Project(a.project, read_only=True) as p:
        origins = [o.strip() for o in a.origin.split(",") if o.strip()] if a.origin else None
        n = export_labels(p, a.out, fmt=a.format, include_unlabeled=a.include_unlabeled,
                          min_confidence=a.min_confidence, origins=origins, history=not a.no_history,
                          review_below=a.review_below, none_label=a.none_label)
    print(f"wrote {n} rows to {clean(a.out)}")
    return 0


def cmd_predict(a) -> int:
    from dataclasses import replace

    from ..workflows.predict import predict_project
    from ..project.store import Project

    config = replace(DEFAULTS, final_model=a.final_model)
    with Project(a.project) as p:
        rep = predict_project(p, config, retrain_encoder=a.retrain_encoder,
                              progress=progress_bar("fine-tune steps") if a.final_model == "finetune" else None)
    print(rep.summary())
    return 0


def cmd_demo(a) -> int:
    from ..workflows.demo import build_demo

    path = build_demo(a.project, progress=progress_bar("embedding"))
    print(f"demo project ready: {clean(path)}")
    return 0


# -- parser ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="red",
        description="R.E.D. — Recursive Expert Delegation: label texts into many classes with "
        "subset classifiers and LLM judges. A project is one DuckDB file.",
    )
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("init", help="create an empty project file", description="Create an empty project file.")
    p.add_argument("project", help="path of the new project file (e.g. p.duckdb)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "import", help="import texts (CSV, TSV, JSONL, Parquet)",
        description="Import texts from a CSV, TSV, JSONL or Parquet file. All or nothing: a file "
        "that fails a check leaves the project unchanged.",
    )
    p.add_argument("project")
    p.add_argument("file")
    p.add_argument("--text", default="text", help="column holding the text (default: text)")
    p.add_argument("--label", default="label", help="column holding the label (default: label)")
    p.add_argument("--no-label", action="store_true", help="the file has no label column: everything joins the pool")
    p.add_argument("--id", default=None, help="column holding a unique id (default: FILE-STEM:ROW)")
    p.add_argument("--format", choices=["csv", "tsv", "jsonl", "parquet"], help="override the format guessed from the extension")
    p.add_argument(
        "--mode", choices=["labeled", "hidden-gold", "holdout"], default="labeled",
        help="labeled: labeled rows are seeds, others join the pool; hidden-gold: all rows join "
        "the pool, labels kept apart for evaluation; holdout: a test set, never trained on",
    )
    p.add_argument("--where", help="row filter: one boolean expression over the file's columns, e.g. \"split = 'train' AND shot10\" (comparisons, AND/OR/NOT, IN, LIKE, a few string functions; no subqueries or statements)")
    p.add_argument("--merge-case", action="store_true",
                   help="map labels that differ only by case or surrounding spaces onto the project's or the "
                   "first-seen spelling (default: refuse the file, naming both spellings)")
    p.add_argument("--delimiter", choices=[",", ";", "\t", "|"],
                   help="CSV/TSV field separator (default: guessed from the file's first lines)")
    p.add_argument("--max-chars", type=int, default=50_000, help="longest text accepted (default 50000)")
    p.add_argument("--min-examples", type=int, default=3, help="fewest examples a label may have (default 3)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "embed", help="embed every text (cached, resumable)",
        description="Embed every sample text not yet embedded; results are cached in the project by "
        "(model, text hash), so an interrupted run resumes where it stopped.",
    )
    p.add_argument("project")
    p.add_argument("--model", help="sentence-transformers name or path (default: the project's, else all-MiniLM-L6-v2, offline)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--engine", choices=["onnx", "torch", "ray"], default=None,
                   help="onnx: the fast quantized copy of the model on ONNX Runtime (default for a new project); "
                   "torch: plain sentence-transformers fp32; ray: the project's engine on a Ray Data actor pool "
                   "(RAY_ADDRESS for a cluster; pip install 'red-app[ray]'). Default: the engine the project's "
                   "embeddings already come from. Choosing onnx or torch on a project embedded with the other "
                   "re-embeds every text under that engine's own key, then switches the project to it")
    p.add_argument("--workers", type=int, default=None, help="ray: actors (default: one per CPU)")
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("status", help="counts per role, origin and label", description="Show what the project holds.")
    p.add_argument("project")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--all-labels", action="store_true", help="list every label, not the first 25")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "export", help="export the labeled dataset (CSV, Parquet, JSONL)",
        description="Write one row per text: id, text, label, confidence, origin (seed, import, judge, human, "
        "or model for the final model's prediction), needs_review, alternatives, who decided, and the full "
        "decision history. CSV cells that a spreadsheet would run as formulas are neutralised.",
    )
    p.add_argument("project")
    p.add_argument("out", help="output file: .csv, .parquet or .jsonl")
    p.add_argument("--format", choices=["csv", "parquet", "jsonl"])
    p.add_argument("--include-unlabeled", action="store_true",
                   help="also write texts with no label at all (before any run or `red predict`)")
    p.add_argument("--min-confidence", type=float, default=None,
                   help="only labels at least this confident (decided labels count as 1, judge labels as P(right))")
    p.add_argument("--origin", default=None, help="only these origins, e.g. human,judge or model")
    p.add_argument("--review-below", type=float, default=None,
                   help="mark model labels less confident than this as needs_review")
    p.add_argument("--no-history", action="store_true", help="leave out the decision history column")
    p.add_argument("--none-label", default=None, metavar="NAME",
                   help="the label written for texts decided to fit none of the labels (default: empty; "
                   "out_of_scope is true either way), e.g. other")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("predict", help="label every undecided text with the final model",
                       description="Label every text that no seed, import, judge or person decided with the final "
                       "model: label, calibrated confidence, top alternatives. Stored as a new set (earlier sets "
                       "stay); runs do this at their end too. Exported with origin 'model'.")
    p.add_argument("project")
    p.add_argument("--final-model", choices=CHOICES["final_model"], default=DEFAULTS.final_model,
                   help="flat: logistic regression on the embeddings; red: subset classifiers; finetune: first "
                   "fine-tune the encoder on the current labels (minutes; stored in <project>.models/, reused "
                   "while the labels stay the same)")
    p.add_argument("--retrain-encoder", action="store_true",
                   help="finetune: train a new encoder even where one was trained on the same labels")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("demo", help="create the bundled demo project",
                       description="Create (or finish creating) the demo project: 30 customer-support intents.")
    p.add_argument("project", nargs="?", default=".red/demo.duckdb")
    p.set_defaults(func=cmd_demo)

    engine.register(sub)
    audit.register(sub)
    texts.register(sub)
    discover.register(sub)
    review.register(sub)
    users.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    if hasattr(args, "reviewer"):  # the person, as the app names them in local mode unless --reviewer says
        args.reviewer = reviewer(args)
    try:
        return args.func(args)
    except RedError as exc:
        print(f"red: error: {clean(exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `red status p | head`
        return 0
    except KeyboardInterrupt:
        print("red: interrupted; everything finished before the interruption is saved", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
