"""CLI commands of the R.E.D. engine and judges: subsets, run, bench, describe, judge-eval."""

from __future__ import annotations

import shlex
import sys

from ..errors import RedError
from ..judges.factory import JUDGE_KINDS
from ..method.config import (
    CHOICES,
    DEFAULTS,
    add_loop_arguments,
    config_from_args,
    overrides_from_strings,
)
from .common import clean, progress_bar


def _add_judge_options(p) -> None:
    """The judge's options; each left out falls back to the environment, the project's setting,
    then the default (red_app.workflows.judging.JudgeSettings), and on --resume to the run's own."""
    g = p.add_argument_group("judge")
    g.add_argument("--judge", choices=JUDGE_KINDS, default=None,
                   help="human: people answer in Review (`red review`, or the app) while the run waits; default: "
                   "simulated where the pool has hidden gold, else human; with --resume the run's own judge")
    g.add_argument("--judge-accuracy", type=float, default=None, help="simulated judge: how often it is right (1.0)")
    g.add_argument("--judge-profile", default=None, metavar="NAME|RIGHT,WRONG|FILE.json",
                   help="how the simulated judge errs: realistic (leans to yes, 0.97,0.55), embedded-1.5b (the "
                   "embedded judge as measured), RIGHT,WRONG, or a profile file (`red judge-eval --save-profile`)")
    g.add_argument("--ollama-host", default=None, help="Ollama server (default: $OLLAMA_HOST, the project's setting, or http://127.0.0.1:11434)")
    g.add_argument("--ollama-model", default=None, help="Ollama model (default: the project's setting, or qwen2.5:1.5b-instruct)")
    g.add_argument("--judge-url", dest="judge_url", action="append", default=None, metavar="URL",
                   help="openai judge: an OpenAI-compatible server, e.g. http://host:8080/v1 (repeat for several; "
                   "they share the requests; default: $RED_JUDGE_URL, the project's setting). API key from "
                   "$OPENAI_API_KEY")
    g.add_argument("--judge-model", dest="judge_model", default=None,
                   help="openai judge: the model name the servers know (default: the first one listed)")
    g.add_argument("--timeout", type=float, default=None, help="seconds per judge request (60)")
    g.add_argument("--concurrency", type=int, default=None,
                   help="judge requests in flight (default 4; openai: 2 per server)")
    g.add_argument("--threads", type=int, default=None, help="embedded judge: CPU threads")
    g.add_argument("--embedded-model", dest="embedded_model", default=None,
                   help="embedded judge: packaged model (qwen2.5-coder-1.5b, smollm2-135m)")
    g.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                   help="human judge: how long the run waits for people's answers before it pauses (resumable "
                   "with --resume); default 3600")
    g.add_argument("--poll", type=float, default=None, metavar="SECONDS",
                   help="human judge: seconds between looks at people's answers (2)")


def judge_settings(a, project=None):
    """The judge settings the flags ask for (a JudgeSettings), and which settings the flags gave."""
    from ..workflows.judging import JudgeSettings, default_kind

    kind = a.judge or (default_kind(project) if project is not None else "simulated")
    model = {"embedded": a.embedded_model, "openai": getattr(a, "judge_model", None),
             "ollama": a.ollama_model}.get(kind)
    given = {"kind": a.judge, "accuracy": a.judge_accuracy, "profile": a.judge_profile, "host": a.ollama_host,
             "model": model, "urls": getattr(a, "judge_url", None), "timeout": a.timeout,
             "concurrency": a.concurrency, "threads": a.threads, "wait": getattr(a, "wait", None),
             "poll": getattr(a, "poll", None)}
    given = {k: v for k, v in given.items() if v is not None}
    settings = JudgeSettings(**{**given, "kind": kind, "seed": getattr(a, "seed", None) or 0})
    return settings, set(given)


def build_judge(a, project):
    """The judge the CLI asked for, configured from flags, the environment and the project."""
    return judge_settings(a, project)[0].build(project)


def cmd_subsets(a) -> int:
    from ..workflows.label_map import compute_partition
    from ..project.store import Project
    from ..workflows.runner import load_inputs

    with Project(a.project) as p:
        data, state = load_inputs(p)
        part = compute_partition(p, data, state, a.n, a.partition_method, a.umap_dim, a.seed)
        counts = {name: int((state.y == k).sum()) for k, name in enumerate(data.label_names)}
    print(f"{len(data.label_names)} labels in {len(part.subsets)} subsets of at most {a.n} ({a.partition_method})")
    for k, members in enumerate(part.subsets):
        names = [data.label_names[m] for m in members]
        print(f"subset {k:>3}: " + ", ".join(f"{clean(n)} ({counts[n]})" for n in names))
    return 0


def _embed_first(p) -> None:
    """Embed what is not embedded yet, saying so: a run needs every text embedded."""
    from ..project.embed import embed_missing

    def notify(n: int, model: str) -> None:
        print(f"{n:,} text(s) are not embedded yet with {clean(model)}: embedding them first "
              "(as `red embed` would; --no-embed stops with an error instead)", file=sys.stderr, flush=True)

    rep = embed_missing(p, progress=progress_bar("embedding"), notify=notify)
    if rep is not None:
        print(f"embedded: {clean(rep.summary())}", file=sys.stderr, flush=True)


def cmd_run(a) -> int:
    from ..workflows.accounts import local_user
    from ..workflows.judging import settings_for_resume
    from ..workflows.projects import open_project
    from ..workflows.runner import run_project

    with open_project(a.project) as p:
        resume = cfg = None
        settings, given = judge_settings(a, p)
        if a.resume:
            resume = p.resumable_run()
            if resume is None:
                raise RedError("no interrupted run to resume; start one without --resume")
            print(f"resuming run {resume}")
            # the run's own judge, with what the flags give laid over it
            settings = settings_for_resume(p, resume, settings if given else None, given)
        else:
            cfg = config_from_args(a)
        if not a.no_embed:
            _embed_first(p)
        judge = settings.build(p)
        print(f"judge: {clean(judge.describe())}", file=sys.stderr)
        told = False
        for rec in run_project(p, judge, cfg, resume=resume, started_by=local_user(),
                               judge_settings=settings.resolved(p).to_dict()):
            if not told and rec.top_k_recall is not None:  # choose questions only
                print(_none_line(rec.top_k_recall), flush=True)
                told = True
            print(_iteration_line(rec), flush=True)
        row = p.runs().set_index("run_id").loc[resume if resume is not None else int(p.runs().run_id.max())]
        print(f"run {row.name} {row.status}: {clean(row.termination)}")
        if row.status == "interrupted":
            print(f"red: the run is interrupted and resumable: `red run {clean(a.project)} --resume`", file=sys.stderr)
            return 1
    return 0


def _none_line(recall: float) -> str:
    """What a judge's "none of these" means on this project (red_app.method.questions)."""
    from ..method.questions import NONE_MEANS_FITS_NONE

    if recall >= NONE_MEANS_FITS_NONE:
        return (f"the right label is among the candidates for {recall:.0%} of the labeled texts: a \"none of "
                "these\" says the text fits none of the labels (it leaves the pool; see `red discover`)")
    return (f"the right label is among the candidates for only {recall:.0%} of the labeled texts: a \"none "
            "of these\" rejects those candidates and the text is asked again with others")


def _iteration_line(rec) -> str:
    acc = f", test accuracy {rec.eval_accuracy:.4f}" if rec.eval_accuracy is not None else ""
    pacc = f", pool accuracy {rec.pool_accuracy:.4f}" if rec.pool_accuracy is not None else ""
    return (f"iteration {rec.iteration}: pool {rec.pool_size}, uncertain {rec.uncertain_count}, "
            f"{rec.calls} calls ({rec.total_calls} in all): +{rec.accepted} accepted, "
            f"{rec.said_none} fit no label, -{rec.rejected} rejected, {rec.errors} errors"
            f"{f', {rec.held} held for people' if rec.held else ''}"
            f"{f', {rec.skipped_unlike} not asked (unlike every label)' if rec.skipped_unlike else ''}"
            f"{acc}{pacc} [{rec.seconds:.1f} s]")


def _person_budget(text: str, budget: int) -> int:
    """``--person-budget``: a count of answers, or a share of the judge's budget (``10%``)."""
    try:
        n = round(float(text[:-1]) / 100 * budget) if text.endswith("%") else int(text)
    except ValueError:
        raise RedError(f"--person-budget: {text!r} is neither a count (e.g. 100) nor a share (e.g. 10%)") from None
    if n < 0:
        raise RedError("--person-budget cannot be negative")
    return n


def cmd_bench(a) -> int:
    from ..workflows.bench import run_bench, save_json, write_report
    from ..method.finetune import FinetuneSettings

    methods = tuple(m.strip() for m in a.methods.split(",") if m.strip())
    overrides = overrides_from_strings(a.set)
    if a.final_model:
        overrides["final_model"] = a.final_model
    from ..workflows.judging import JudgeSettings

    settings = JudgeSettings(kind=a.judge, accuracy=a.judge_accuracy, profile=a.judge_profile, host=a.ollama_host,
                             model={"embedded": a.embedded_model, "openai": a.judge_model}.get(a.judge, a.ollama_model),
                             urls=a.judge_url, timeout=a.timeout, threads=a.threads)
    profile = settings.expert_profile()
    judge = None
    if a.judge != "simulated":  # a real judge: no project, so no verdict cache; measured on --n proposals first
        judge = settings.build(None)
        judge.check()
        print(f"judge: {clean(judge.describe())}", file=sys.stderr)
    result = run_bench(a.data, seeds=a.seeds, budget=a.budget, batch=a.batch, judge_accuracy=a.judge_accuracy,
                       profile=profile, judge=judge, judge_sample=a.n, evaluate=a.evaluate,
                       person_budget=_person_budget(a.person_budget, a.budget), person_accuracy=a.person_accuracy,
                       cache_dir=a.cache_dir, methods=methods, seed=a.seed, config_overrides=overrides,
                       model=a.embedding_model, finetune=FinetuneSettings.from_strings(a.finetune),
                       engine=a.engine, unseen_labels=a.unseen_labels, drop_unseen=a.drop_unseen,
                       log=lambda m: print(m, file=sys.stderr, flush=True))
    command = "red " + " ".join(shlex.quote(x) for x in sys.argv[1:]) if sys.argv[1:2] == ["bench"] else None
    result["command"] = command
    if a.json:
        save_json(result, a.json)
    report = a.report or (a.json.rsplit(".", 1)[0] + ".md" if a.json else "bench/out/report.md")
    write_report(result, report, command)
    keys = ["red_accuracy", "red_article_accuracy", "flat_entropy_accuracy", "flat_random_accuracy",
            "seeds_only_accuracy", "seeds_self_training_accuracy", "red_label_precision", "red_applied", "red_held", "export_accuracy",
            "export_model_accuracy", "export_model_ece", "finetune_accuracy", "finetune_seconds",
            "finetune_export_model_accuracy", "finetune_export_model_ece", "full_supervision_accuracy", "judge_calls", "accepted", "seconds"]
    for k in keys:
        if result.get(k) is not None:
            v = result[k]
            print(f"{k}: {v:.4f}" if isinstance(v, float) and k.endswith(("accuracy", "precision", "ece")) else f"{k}: {v:.0f}" if isinstance(v, float) else f"{k}: {v}")
    js = result.get("judge_sample")
    if js:
        from ..workflows.judge_eval import describe_result

        print("judge on the fixed sample: " + clean(describe_result(js)).replace("\n", "; "))
    print(f"report: {report}" + (f"; json: {a.json}" if a.json else ""))
    return 0


def cmd_judge_eval(a) -> int:
    import json

    from ..workflows.judge_eval import describe_result, judge_eval
    from ..project.store import Project

    a.judge = a.judge or "simulated"  # measuring a person is not what judge-eval is for
    if a.save_profile and not a.from_seeds:  # before any question is asked
        raise RedError("--save-profile needs --from-seeds (a profile is fitted on the seeds' own labels)")
    with Project(a.project) as p:
        judge = build_judge(a, p)
        res = judge_eval(p, judge, n=a.n, seed=a.seed, from_seeds=a.from_seeds, question=a.question,
                         choose_k=a.choose_k)
    if a.save_profile:
        _save_profile(res, a.save_profile)
    if a.json:
        print(json.dumps(res, indent=2))
        return 0
    print(clean(describe_result(res)))
    if a.save_profile:
        print(f"profile written to {clean(a.save_profile)}: `red bench --judge-profile {clean(a.save_profile)}` "
              "simulates a judge that errs as this one did")
    return 0


def _save_profile(res: dict, path: str) -> None:
    import json
    from pathlib import Path

    if not res.get("profile"):
        raise RedError(res.get("profile_missing") or "--save-profile needs --from-seeds (the seeds' own labels)")
    try:
        Path(path).write_text(json.dumps(res["profile"], indent=2) + "\n")
    except OSError as exc:
        raise RedError(f"cannot write the profile to {path}: {exc.strerror or exc}") from None


def cmd_describe(a) -> int:
    from ..workflows.describe import describe_labels, writer_for
    from ..project.store import Project

    with Project(a.project) as p:
        write, model = writer_for(a.judge, host=a.ollama_host, model=a.ollama_model if a.judge == "ollama" else a.model,
                                  threads=a.threads, project=p, urls=a.judge_url)
        labels = [x.strip() for x in a.labels.split(",")] if a.labels else None
        done = describe_labels(p, write, model, labels=labels, force=a.force, progress=progress_bar("describing"))
    for label, text in done.items():
        print(f"{clean(label)}: {clean(text)}")
    print(f"wrote {len(done)} description(s) with {clean(model)}")
    return 0


def cmd_serve_judge(a) -> int:
    import signal
    import time

    from ..judges.serve import start_server

    server, url, model_id = start_server(a.model, a.port, threads=a.threads, slots=a.slots, host=a.host)
    print(f"serving {clean(model_id)} at {clean(url)} ({a.slots} slot(s), {a.threads or 2} thread(s))")
    print(f"use it: red run PROJECT --judge openai --judge-url {clean(url)} --judge-model {clean(model_id)}", flush=True)
    if a.host == "0.0.0.0":
        print("listening on every interface: replace 127.0.0.1 with this machine's address", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C and `kill` end it with a line; set here because llama.cpp may install its own
    # handlers, and a shell's `&` starts Python with SIGINT ignored
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopped serving the judge")
    return 0


def register(sub) -> None:
    p = sub.add_parser("subsets", help="split labels into subsets of dissimilar labels",
                       description="Compute label centroids, reduce them with UMAP and split the labels into "
                       "subsets of at most n mutually dissimilar labels; stores the map in the project.")
    p.add_argument("project")
    p.add_argument("--n", type=int, default=DEFAULTS.n)
    p.add_argument("--partition", dest="partition_method", choices=CHOICES["partition_method"], default=DEFAULTS.partition_method)
    p.add_argument("--umap-dim", type=int, default=DEFAULTS.umap_dim)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_subsets)

    p = sub.add_parser("run", help="run R.E.D. iterations with a judge",
                       description="Run the R.E.D. loop: fit, predict the pool, send the most uncertain "
                       "predictions to a judge, add what it validates, repeat until the budget is spent or "
                       "the pool saturates. Every verdict is committed as it arrives; --resume continues an "
                       "interrupted run.")
    p.add_argument("project")
    p.add_argument("--resume", action="store_true", help="continue the latest interrupted run with its own settings")
    p.add_argument("--no-embed", action="store_true",
                   help="do not embed texts that are not embedded yet (by default the run embeds them first, "
                   "as `red embed` would); stop with an error instead")
    add_loop_arguments(p)
    _add_judge_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("serve-judge", help="serve a packaged judge model over the OpenAI API (llama.cpp)",
                       description="Start llama.cpp's own OpenAI-compatible server on a packaged model, for `red run "
                       "--judge openai --judge-url URL` on this or other machines (repeat --judge-url to share "
                       "the requests between several). Serves until Ctrl-C.")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--model", default="smollm2-135m", choices=["smollm2-135m", "qwen2.5-coder-1.5b"],
                   help="packaged model (qwen2.5-coder-1.5b is the good judge; smollm2-135m tries the plumbing)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default 2)")
    p.add_argument("--slots", type=int, default=1, help="requests served at once")
    p.add_argument("--host", default="127.0.0.1", help="127.0.0.1: this machine only; 0.0.0.0: the network")
    p.set_defaults(func=cmd_serve_judge)

    p = sub.add_parser("bench", help="benchmark R.E.D. against baselines",
                       description="Run R.E.D. and the baselines (flat + entropy, flat + random, seeds only, full "
                       "supervision) on a dataset with a simulated judge; writes JSON and a Markdown report.")
    p.add_argument("--data", required=True, help="Parquet with text, label, split (and shot10) columns")
    p.add_argument("--seeds", default="shot10", help="a boolean column marking seed rows, or N per class")
    p.add_argument("--budget", type=int, default=3000)
    p.add_argument("--batch", type=int, default=DEFAULTS.batch, help="proposals per iteration")
    p.add_argument("--judge", choices=["simulated", "embedded", "ollama", "openai"], default="simulated",
                   help="simulated: knows the gold; embedded / ollama / openai: a real LLM judge, measured on --n "
                   "fixed proposals against the gold, then end to end against seeds-only at the same budget (slow)")
    p.add_argument("--n", type=int, default=100,
                   help="real judges: the fixed sample of proposals the judge is measured on first (0: skip)")
    p.add_argument("--judge-url", dest="judge_url", action="append", default=None, metavar="URL",
                   help="openai judge: an OpenAI-compatible server (repeat for several)")
    p.add_argument("--judge-model", dest="judge_model", default=None,
                   help="openai judge: the model the servers know (default: the first one listed)")
    p.add_argument("--ollama-host", default=None, help="ollama judge: the server (default: $OLLAMA_HOST or local)")
    p.add_argument("--ollama-model", default=None, help="ollama judge: the model")
    p.add_argument("--timeout", type=float, default=60.0, help="real judges: seconds per request")
    p.add_argument("--embedded-model", default=None, help="embedded judge: packaged model")
    p.add_argument("--threads", type=int, default=None, help="embedded judge: CPU threads")
    p.add_argument("--judge-accuracy", type=float, default=1.0)
    p.add_argument("--judge-profile", default=None, metavar="NAME|RIGHT,WRONG|FILE.json",
                   help="how the simulated judge errs: realistic (a yes-leaning judge, 0.97,0.55), embedded-1.5b "
                   "(the embedded judge as measured: picks by letter, never 'none'), RIGHT,WRONG (P(valid | right),"
                   "P(valid | wrong)) or a profile file (`red judge-eval --save-profile`)")
    p.add_argument("--evaluate", choices=("test", "valid"), default="test",
                   help="the split measured: valid to choose settings, test to report the chosen ones (a dataset "
                   "without a valid split holds out 10%% of each label's train rows)")
    p.add_argument("--person-budget", default="0", metavar="N|P%",
                   help="a simulated person answers this many held verdicts (or this share of --budget, e.g. 10%%), "
                   "oldest first; 0: held verdicts stay unanswered")
    p.add_argument("--person-accuracy", type=float, default=0.95,
                   help="how often the simulated person is right (else they name the most plausible wrong candidate)")
    p.add_argument("--methods", default="red,red_article,flat_entropy,flat_random")
    p.add_argument("--unseen-labels", dest="unseen_labels", type=int, default=0, metavar="K",
                   help="an open world: K labels (drawn by --seed) are left out of the project — no seeds, their "
                   "texts stay in the pool and the test set — and the report adds how the texts that fit no "
                   "label came out")
    p.add_argument("--drop-unseen", dest="drop_unseen", action="store_true",
                   help="with --unseen-labels: the closed-world reference — the same seeds and labels, the unseen "
                   "labels' texts removed from the pool")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--report", help="Markdown report path (default: next to --json)")
    p.add_argument("--cache-dir", default="bench/out/cache", help="where embeddings are cached")
    p.add_argument("--finetune", action="append", metavar="KEY=VALUE",
                   help="with --final-model finetune: a fine-tune setting, e.g. --finetune epochs=2")
    p.add_argument("--embedding-model", default="all-MiniLM-L6-v2",
                   help="frozen encoder: the default or a sentence-transformers model folder (embeddings cached "
                   "per model in --cache-dir)")
    p.add_argument("--engine", choices=["torch", "onnx"], default="torch",
                   help="embedding engine (default torch, comparable with earlier reports; each engine's "
                   "vectors are cached under their own key)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="change a loop setting of the 'red' method, e.g. --set uncertainty=band --set on_reject=skip")
    p.add_argument("--final-model", choices=CHOICES["final_model"], default=None,
                   help="final model of the 'red' method; finetune also reports the fine-tuned encoder's accuracy "
                   "and the step's time beside the linear probe's")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("describe", help="write label descriptions with an LLM",
                       description="Write a one- or two-sentence description of each label from its examples, with an "
                       "Ollama model, the embedded model or an OpenAI-compatible server. Stored versioned; edit them on the Subsets page.")
    p.add_argument("project")
    p.add_argument("--with", dest="judge", choices=["ollama", "embedded", "openai"], default="embedded")
    p.add_argument("--model", default=None, help="embedded: packaged model name; openai: the server's model "
                   "(default: the first one it lists)")
    p.add_argument("--judge-url", dest="judge_url", action="append", default=None, metavar="URL",
                   help="openai: an OpenAI-compatible server, e.g. http://host:8080/v1 (repeatable)")
    p.add_argument("--ollama-host", default=None)
    p.add_argument("--ollama-model", default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--labels", help="comma-separated labels (default: all without a description)")
    p.add_argument("--force", action="store_true", help="write a new version even where one exists")
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("judge-eval", help="measure a judge on seeds (no gold) or against hidden gold",
                       description="With --from-seeds: ask the judge about N seeds under their own and their most "
                       "plausible wrong label (no gold needed; what a run does before applying any verdict) and "
                       "report ROC AUC, agreement, wrong caught, right rejected and latency. Without it: ask about "
                       "the N proposals a run's first iteration would send, on pool samples with hidden gold. "
                       "Every verdict is stored with its audit record; the figures are shown on the Run page.")
    p.add_argument("project")
    p.add_argument("--n", type=int, default=100, help="proposals (hidden gold) or seeds (--from-seeds; 2 calls each)")
    p.add_argument("--from-seeds", action="store_true", help="measure on the project's seeds, no gold needed")
    p.add_argument("--question", choices=CHOICES["question"], default=DEFAULTS.question,
                   help="with --from-seeds: the question a run would ask (default %(default)s)")
    p.add_argument("--choose-k", type=int, default=DEFAULTS.choose_k, help="candidates per choose question")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.add_argument("--save-profile", metavar="FILE.json", default=None,
                   help="with --from-seeds: write how this judge erred (a simulated expert's profile) for "
                   "`red bench --judge-profile FILE.json`")
    _add_judge_options(p)
    p.set_defaults(func=cmd_judge_eval)

