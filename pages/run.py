"""Run: choose a judge and budget, start / stop, watch each iteration live."""

import sys
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import jobs, md, project, releasing, require, sidebar  # noqa: E402

from red_app.errors import RedError  # noqa: E402
from red_app.judge_eval import describe_result, judge_eval, remembered  # noqa: E402
from red_app.judges import packaged_models  # noqa: E402
from red_app.judges.factory import JUDGE_KINDS, judge_for_project  # noqa: E402
from red_app.judges.ollama_judge import ollama_settings  # noqa: E402
from red_app.judges.openai_judge import DEFAULT_URL  # noqa: E402
from red_app.method.config import CHOICES, DEFAULTS, LoopConfig  # noqa: E402
from red_app.method.delegation import Calibration  # noqa: E402
from red_app.runner import budget_report  # noqa: E402

sidebar()
require("run", "Running the loop")
proj = project()
registry = jobs()
st.title("Run")

job = registry.get(proj)
running = job is not None and job.running

JUDGE_HELP = {
    "simulated": "knows the hidden gold: for trying the loop and measuring it",
    "ollama": "a model on your Ollama server",
    "embedded": "a small model that runs here, offline — a weak judge",
    "openai": "one or several OpenAI-compatible servers (e.g. `red serve-judge` on spare machines)",
    "human": "the proposals go to people in Review (needs review) and the run waits for their answers",
}
# Readable names of the loop's settings with fixed choices; a setting added to CHOICES
# appears in the form by itself, under its own name until it gets one here.
SETTING_NAMES = {"selector": "Selector", "final_model": "Final model", "selection": "Selection",
                 "on_reject": "After a rejection", "uncertainty": "Uncertainty measure", "noise": "Noise class",
                 "partition_method": "Subset rule"}
SETTING_HELP = {
    "selector": "flat (default, measured best): one model over every label ranks the uncertain texts — it "
                "does not use the label subsets; red: the article's one small classifier per subset (Subsets page)",
    "final_model": "the model that labels every text after the run",
    "on_reject": "next: ask about the text's next most likely label in the same iteration; skip: leave it",
    "question": "binary: is the top label right? choose: the judge sees the top candidates (descriptions and "
                "nearest examples) and picks one or none",
}
# One colour per verdict, the same in every chart and metric
VERDICT_COLOURS = {"accepted": "#2e7d32", "rejected": "#c62828", "sent to people": "#f9a825", "errors": "#757575"}
SERIES_NAMES = {"uncertain_count": "uncertain texts", "pool_size": "unlabeled pool", "accepted": "accepted",
                "rejected": "rejected", "held": "sent to people", "errors": "errors",
                "eval_accuracy": "test accuracy", "pool_accuracy": "pool accuracy (hidden gold)"}

# while a run goes, its panel comes first on the screen: the settings fold away
settings_box = st.expander("Judge and settings" + (" (a run is going)" if running else ""), expanded=not running)
kind = settings_box.radio("Judge", list(JUDGE_KINDS), horizontal=True, key="judge_kind",
                          format_func=lambda k: k, help="; ".join(f"{k}: {h}" for k, h in JUDGE_HELP.items()))
settings_box.caption(md(JUDGE_HELP[kind]))
d = LoopConfig()
with settings_box.form("settings"):
    # only the chosen judge's settings (the radio above is outside the form, so it redraws them)
    accuracy, host, model, oa_urls, oa_model, emb_model, wait_min = 1.0, None, None, None, None, None, 60
    if kind == "human":
        wait_min = st.number_input("Wait for answers (minutes)", 1, 24 * 60, 60,
                                   help="the run waits this long for people to answer its proposals in Review, "
                                   "then stops; resume it to wait again")
    elif kind == "simulated":
        accuracy = st.slider("Simulated judge accuracy", 0.5, 1.0, 1.0, 0.05)
    elif kind == "ollama":
        default_host, default_model = ollama_settings(proj, None, None)  # $OLLAMA_HOST > project > default
        c1, c2 = st.columns(2)
        host = c1.text_input("Ollama host", value=default_host)
        model = c2.text_input("Ollama model", value=default_model)
    elif kind == "embedded":
        have = packaged_models.available()
        emb_model = st.selectbox("Embedded model", have or ["(none installed: run `make judge-model`)"],
                                 help="; ".join(f"{m}: {packaged_models.MODELS[m].note}" for m in packaged_models.MODELS))
    elif kind == "openai":
        c1, c2 = st.columns([3, 1])
        oa_urls = c1.text_input("OpenAI-compatible server(s)", value=proj.get_setting("openai_urls") or DEFAULT_URL,
                                help="comma-separated base URLs; several servers share the requests. API key from "
                                "$OPENAI_API_KEY")
        oa_model = c2.text_input("OpenAI model", value=proj.get_setting("openai_model") or "",
                                 help="empty: the first model the server lists")
    shown_model = {"embedded": emb_model, "ollama": model or proj.get_setting("ollama_model"),
                   "openai": (oa_model or "").strip() or None}.get(kind)
    ev = remembered(proj, kind, shown_model) if kind != "simulated" else None
    if ev and ev.get("accuracy") is not None:
        st.caption("Last measured:")
        st.text(describe_result(ev))  # plain text: model names and figures, no markup
    elif kind == "embedded":
        st.caption("The embedded judge is a small model and has not been measured on this project yet. "
                   "Every run measures it on seeds first and applies only the verdicts that clear the "
                   "precision target; measure it now with the button below.")
    st.markdown("**Loop**")
    c1, c2, c3, c4 = st.columns(4)
    budget = c1.number_input("Budget (judge calls)", 1, 1_000_000, 300)
    batch = c2.number_input("Batch per iteration", 1, 100_000, 100,
                            help="proposals per iteration; with 'After a rejection: next' a rejected text's next "
                            "label is asked too, so an iteration can make more calls than this")
    selector = c3.selectbox(SETTING_NAMES["selector"], CHOICES["selector"],
                            index=CHOICES["selector"].index(d.selector), help=SETTING_HELP["selector"])
    patience = c4.number_input("Stop after iterations without progress", 1, 100, d.patience or 3)
    c1, c2, c3 = st.columns(3)
    target = c1.slider("Precision target", 0.5, 0.99, d.precision_target, 0.01,
                       help="a judge's verdict is applied only where P(label right) is at least this; the rest "
                       "wait for people in Review (needs_review). A perfect simulated judge is taken at its word.")
    cal_seeds = c2.number_input("Seeds to measure the judge on (2 calls each)", 0, 1000, d.calibration_seeds,
                                help="before the run applies any verdict; 0 takes every verdict at its word")
    trust = c3.checkbox("Trust the judge even if it measures as adding nothing", value=False)
    chosen = {"selector": selector}
    with st.popover("More settings"):
        cols = st.columns(3)
        for k, (name, allowed) in enumerate((n, a) for n, a in CHOICES.items() if n != "selector"):
            default = getattr(d, name, allowed[0])
            chosen[name] = cols[k % 3].selectbox(SETTING_NAMES.get(name, name.replace("_", " ").capitalize()),
                                                 list(allowed), index=list(allowed).index(default)
                                                 if default in allowed else 0, help=SETTING_HELP.get(name),
                                                 key=f"setting_{name}")
        choose_k = cols[0].number_input("Candidates per choose question", 2, 26, d.choose_k,
                                        help="how many labels a choose question offers")
    b1, b2, b3 = st.columns(3)
    start = b1.form_submit_button("Start run", type="primary", disabled=running)
    measure = b2.form_submit_button("Measure this judge on seeds", disabled=running or kind == "simulated",
                                    help="asks it about seeds under their own and a plausible wrong label; no gold "
                                    "needed; takes 2 judge calls per seed (red judge-eval --from-seeds)")
    test = b3.form_submit_button("Test connection", disabled=kind not in ("ollama", "openai"),
                                 help="openai / ollama judge: ask the server(s) for their models")


def the_judge():
    return judge_for_project(proj, kind, accuracy=accuracy, host=host,
                             model={"embedded": emb_model, "openai": shown_model}.get(kind, model),
                             urls=oa_urls if kind == "openai" else None, wait=60.0 * wait_min)


def fix_for(judge_kind: str | None) -> str:
    """What to do when a judge fails, in the words of the page."""
    return {
        "ollama": "Start the Ollama server (`ollama serve`) on the host above and pull the model "
                  "(`ollama pull MODEL`); **Test connection** checks both.",
        "openai": "Start the server(s) (e.g. `red serve-judge`) and check the URLs; **Test connection** lists "
                  "their models.",
        "embedded": "Install the embedded model (`make judge-model`).",
    }.get(judge_kind or "", "Check the judge's settings above.") + " Then **Resume** the run: verdicts received so far are kept."


if test:
    try:
        judge = the_judge()
        if hasattr(judge, "check"):
            judge.check()
        stats = judge.server_stats() if hasattr(judge, "server_stats") else {}
        down = [u for u, s in stats.items() if s["set_aside"]]
        st.success(md(f"{judge.describe()}: connected" + (f"; not answering: {', '.join(down)}" if down else "")))
    except RedError as exc:
        st.error(md(exc))
        st.markdown(fix_for(kind).replace(" Then **Resume** the run: verdicts received so far are kept.", ""))

resumable = proj.resumable_run()
c1, c2 = st.columns(2)
if running:
    if c1.button("Stop after the current chunk", shortcut="Escape"):
        job.stop()
        st.toast("stopping: verdicts already received are kept")
elif resumable is not None:
    if c1.button(f"Resume interrupted run {resumable}"):
        try:
            judge = the_judge()
            registry.start(proj, judge, None, resume=True)
            st.session_state.pop("run_shown", None)
            st.rerun()
        except RedError as exc:
            st.error(md(exc))
            st.markdown(fix_for(kind))
if measure and not running:
    try:
        judge = the_judge()
        with st.spinner(f"asking the judge about {max(int(cal_seeds), 10)} seeds…"):
            res = judge_eval(proj, judge, n=max(int(cal_seeds), 10), from_seeds=True,
                             question=chosen.get("question", DEFAULTS.question), choose_k=int(choose_k))
        st.text(describe_result(res))
    except RedError as exc:
        st.error(md(exc))
        st.markdown(fix_for(kind).replace(" Then **Resume** the run: verdicts received so far are kept.", ""))
if start and not running:
    try:
        if kind == "ollama":
            proj.set_setting("ollama_host", host)
            proj.set_setting("ollama_model", model)
        if kind == "openai":
            proj.set_setting("openai_urls", oa_urls)
            proj.set_setting("openai_model", oa_model)
        judge = the_judge()
        cfg = LoopConfig(**{**chosen, "budget": int(budget), "batch": int(batch), "patience": int(patience),
                            "precision_target": float(target), "calibration_seeds": int(cal_seeds),
                            "trust_judge": bool(trust), "choose_k": int(choose_k)})
        registry.start(proj, judge, cfg, started_by=st.session_state["reviewer"])
        st.session_state.pop("run_shown", None)  # the new run takes the panel
        st.rerun()
    except RedError as exc:
        st.error(md(exc))
        st.markdown(fix_for(kind).replace(" Then **Resume** the run: verdicts received so far are kept.", ""))


def _seconds(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


def stage_line(status: dict) -> str:
    """'iteration 2 · judging 64 of 100 · about 30 s left' (plain text)."""
    parts = [f"iteration {status['iteration']}"] if status["iteration"] else []
    if status["total"]:
        parts.append(f"{status['stage']} {status['done']:,} of {status['total']:,}")
    else:
        parts.append(f"{status['stage']} ({_seconds(status['seconds'])})")
    if status["eta"] is not None:
        parts.append(f"about {_seconds(status['eta'])} left")
    return " · ".join(parts)


def charts(it: pd.DataFrame) -> None:
    def tidy(fig, y_title):
        fig.update_xaxes(tickmode="linear", dtick=1, tick0=1, title="iteration")  # whole iterations only
        fig.update_yaxes(title=y_title)
        fig.update_layout(legend_title_text=None, margin=dict(t=40, b=10))
        return fig

    it = it.assign(held=it.held.fillna(0))
    long = it.melt(id_vars="iteration", value_vars=["uncertain_count", "pool_size"], var_name="series")
    long["series"] = long["series"].map(SERIES_NAMES)
    st.plotly_chart(tidy(px.line(long, x="iteration", y="value", color="series", markers=True, height=300,
                                 title="Uncertain texts and unlabeled pool"), "texts"), width="stretch", key="c1")
    verd = it.melt(id_vars="iteration", value_vars=["accepted", "rejected", "held", "errors"], var_name="verdict")
    verd["verdict"] = verd["verdict"].map(SERIES_NAMES)
    st.plotly_chart(tidy(px.bar(verd, x="iteration", y="value", color="verdict", height=300,
                                color_discrete_map=VERDICT_COLOURS, title="Judge verdicts per iteration",
                                category_orders={"verdict": list(VERDICT_COLOURS)}), "verdicts"),
                    width="stretch", key="c2")
    acc_cols = [c for c in ("eval_accuracy", "pool_accuracy") if it[c].notna().any()]
    if acc_cols:
        acc = it.melt(id_vars="iteration", value_vars=acc_cols, var_name="measure")
        acc["measure"] = acc["measure"].map(SERIES_NAMES)
        fig = tidy(px.line(acc, x="iteration", y="value", color="measure", markers=True, height=300,
                           title="Accuracy against hidden gold"), "accuracy")
        fig.update_yaxes(tickformat=".1%", range=[0, 1.02] if len(it) == 1 else None)  # one point: no -50% axis
        st.plotly_chart(fig, width="stretch", key="c3")


def budget_section(run_id: int) -> None:
    b = budget_report(proj, run_id)
    st.markdown("**Where the budget went**")
    c = st.columns(3) + st.columns(3)
    c[0].metric("Judge calls", f"{b['measuring'] + b['proposals']:,} of {b['budget']:,}")
    c[1].metric("Measuring the judge", f"{b['measuring']:,}", help="seeds asked about before any verdict applies")
    c[2].metric("Sent to people", f"{b['to_people']:,}",
                help="verdicts that did not clear the precision target: answer them in Review (needs_review)")
    c[3].metric("Accepted", f"{b['accepted']:,}")
    if b["question"] == "choose":
        c[4].metric("Rejected (none of these)", f"{b['rejected']:,}",
                    help="the judge said no candidate offered is right; each of them is excluded for that text")
        c[5].metric("Asked again after none", f"{b['retries']:,}",
                    help="texts asked again in this run, offered candidates not rejected before")
    else:
        c[4].metric("Rejected", f"{b['rejected']:,}")
        c[5].metric("Retries after a rejection", f"{b['retries']:,}",
                    help="a rejected text's next most likely label, asked in the same run (After a rejection: next)")
    if b["failed"]:
        st.caption(f"{b['failed']:,} calls failed and were not charged to the budget.")
    if b["warning"]:
        st.warning(b["warning"])


@st.fragment(run_every=2.0)
@releasing
def live() -> None:
    job = registry.get(proj)
    if running and not (job and job.running):
        st.rerun(scope="app")  # the run ended: refresh the controls above too
    runs = proj.runs()
    status = job.status() if job is not None else None
    newest = int(runs["run_id"].max()) if len(runs) else 0
    if job is not None and job.running and job.resume is None and newest <= job.first_run_after:
        # the new run is loading the project / grouping labels: it has no row yet
        st.progress(0.0, text="new run: starting")
        st.info("Starting: " + (stage_line(status) if status else "loading the project") + "…")
        return
    if not len(runs):
        st.info("No run yet. Choose a judge and a budget, then **Start run**.")
        return
    run_ids = runs["run_id"].tolist()
    latest = run_ids[-1]
    if st.session_state.get("run_latest_seen") != latest:
        st.session_state["run_shown"] = latest  # a newer run (from any tab) takes the panel
        st.session_state["run_latest_seen"] = latest
    shown = st.selectbox("Run", run_ids[::-1], key="run_shown")
    row = runs[runs.run_id == shown].iloc[0]
    is_live = job is not None and job.running and shown == latest
    calls = proj.run_calls(shown)
    cfg = proj.run_config(shown)
    budget = cfg["loop"]["budget"]
    termination = row.termination if pd.notna(row.termination) and row.termination else None
    state = "running" if is_live else str(row.status)
    st.progress(min(calls / max(budget, 1), 1.0), text=md(f"run {shown}: {calls:,} of {budget:,} judge calls — "
                                                          f"{state}" + (f" ({termination})" if termination and not is_live else "")))
    if is_live and status:
        st.text(stage_line(status))
    failed = termination is not None and termination.startswith(("judge unavailable", "judge failing"))
    if job is not None and job.error and shown == latest and not is_live:
        st.error(f"The run stopped on an error: {md(job.error)}")
        st.markdown(fix_for(cfg.get("judge", {}).get("kind")))
    elif failed:
        st.error(f"The run stopped because the judge failed: {md(termination)}")
        st.markdown(fix_for(cfg.get("judge", {}).get("kind")))
    waiting = proj.run_waiting(shown)
    if waiting:
        st.info(f"Waiting for {waiting:,} answers in Review (needs review): the run goes on as people answer.")
    cal = proj.run_calibration(shown)
    if cal:
        st.caption("The judge, measured on seeds before this run applied any verdict:")
        st.text(Calibration.from_dict(cal).summary())
    budget_section(shown)
    it = proj.iterations(shown)
    if not len(it):
        if is_live:
            st.caption("the first iteration is under way")
        return
    last = it.iloc[-1]
    c = st.columns(4)
    c[0].metric("Iterations", len(it))
    c[1].metric("Uncertain in pool", f"{int(last.uncertain_count):,}",
                delta=int(last.uncertain_count - it.iloc[-2].uncertain_count) if len(it) > 1 else None,
                delta_color="inverse")
    c[2].metric("Labeled texts", f"{int(last.labeled_size):,}")
    if pd.notna(last.eval_accuracy):
        c[3].metric("Test accuracy", f"{last.eval_accuracy:.1%}")
    charts(it)
    with st.expander("Every iteration's figures"):
        st.dataframe(it.drop(columns=["subset_stats"]).rename(columns=SERIES_NAMES), hide_index=True, width="stretch")


live()
