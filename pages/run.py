"""Run: choose a judge and budget, start / stop, watch each iteration live."""

import sys
from pathlib import Path

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
from red_app.method.config import LoopConfig  # noqa: E402
from red_app.method.delegation import Calibration  # noqa: E402

sidebar()
require("run", "Running the loop")
proj = project()
registry = jobs()
st.title("Run")

job = registry.get(proj)
running = job is not None and job.running

with st.form("settings"):
    st.markdown("**Judge**")
    kind = st.radio("Judge", list(JUDGE_KINDS), horizontal=True, label_visibility="collapsed",
                    help="simulated: knows the hidden gold (for trying the loop and measuring); ollama: a model "
                    "on your Ollama server; embedded: a small model that runs here, offline — a weak judge; "
                    "openai: one or several OpenAI-compatible servers (e.g. `red serve-judge` on spare machines)")
    have = packaged_models.available()
    emb_model = st.selectbox("Embedded model", have or ["(none installed: run `make judge-model`)"],
                             help="; ".join(f"{m}: {packaged_models.MODELS[m].note}" for m in packaged_models.MODELS))
    for k, mname in (("embedded", emb_model), ("ollama", proj.get_setting("ollama_model"))):
        ev = remembered(proj, k, mname)
        if ev and ev.get("accuracy") is not None:
            st.caption(f"Last measured ({k}):")
            st.text(describe_result(ev))  # plain text: model names and figures, no markup
        elif k == "embedded" and have:
            st.caption("The embedded judge is a small model and has not been measured on this project yet. "
                       "Every run measures it on seeds first and applies only the verdicts that clear the "
                       "precision target; measure it now with the button below.")
    c1, c2, c3 = st.columns(3)
    accuracy = c1.slider("Simulated judge accuracy", 0.5, 1.0, 1.0, 0.05)
    default_host, default_model = ollama_settings(proj, None, None)  # flags > $OLLAMA_HOST > project > default
    host = c2.text_input("Ollama host", value=default_host)
    model = c3.text_input("Ollama model", value=default_model)
    c1, c2 = st.columns([3, 1])
    oa_urls = c1.text_input("OpenAI-compatible server(s)", value=proj.get_setting("openai_urls") or DEFAULT_URL,
                            help="comma-separated base URLs; several servers share the requests. API key from "
                            "$OPENAI_API_KEY")
    oa_model = c2.text_input("OpenAI model", value=proj.get_setting("openai_model") or "",
                             help="empty: the first model the server lists")
    st.markdown("**Loop**")
    d = LoopConfig()
    c1, c2, c3, c4 = st.columns(4)
    budget = c1.number_input("Budget (judge calls)", 1, 1_000_000, 300)
    batch = c2.number_input("Batch per iteration", 1, 100_000, 100)
    selector = c3.selectbox("Selector", ["flat", "red"], help="flat: one model ranks uncertainty (measured best); "
                            "red: the article's subset classifiers")
    patience = c4.number_input("Stop after iterations without progress", 1, 100, d.patience or 3)
    c1, c2, c3 = st.columns(3)
    target = c1.slider("Precision target", 0.5, 0.99, d.precision_target, 0.01,
                       help="a judge's verdict is applied only where P(label right) is at least this; the rest "
                       "wait for people in Review (needs_review). A perfect simulated judge is taken at its word.")
    cal_seeds = c2.number_input("Seeds to measure the judge on (2 calls each)", 0, 1000, d.calibration_seeds,
                                help="before the run applies any verdict; 0 takes every verdict at its word")
    trust = c3.checkbox("Trust the judge even if it measures as adding nothing", value=False)
    b1, b2, b3 = st.columns(3)
    start = b1.form_submit_button("Start run", type="primary", disabled=running)
    test = b3.form_submit_button("Test connection", help="openai / ollama judge: ask the server(s) for their models")
    measure = b2.form_submit_button("Measure the judge on seeds", disabled=running,
                                    help="asks it about seeds under their own and a plausible wrong label; no gold "
                                    "needed; takes 2 judge calls per seed")



def the_judge():
    model_for = {"embedded": emb_model, "openai": oa_model.strip() or None}
    return judge_for_project(proj, kind, accuracy=accuracy, host=host, model=model_for.get(kind, model),
                             urls=oa_urls if kind == "openai" else None)


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
            st.rerun()
        except RedError as exc:
            st.error(md(exc))
if measure and not running:
    try:
        judge = the_judge()
        with st.spinner(f"asking the judge about {max(int(cal_seeds), 10)} seeds…"):
            res = judge_eval(proj, judge, n=max(int(cal_seeds), 10), from_seeds=True)
        st.text(describe_result(res))
    except RedError as exc:
        st.error(md(exc))
if start and not running:
    try:
        if kind == "ollama":
            proj.set_setting("ollama_host", host)
            proj.set_setting("ollama_model", model)
        if kind == "openai":
            proj.set_setting("openai_urls", oa_urls)
            proj.set_setting("openai_model", oa_model)
        judge = the_judge()
        cfg = LoopConfig(budget=int(budget), batch=int(batch), selector=selector, patience=int(patience),
                         precision_target=float(target), calibration_seeds=int(cal_seeds), trust_judge=bool(trust))
        registry.start(proj, judge, cfg, started_by=st.session_state["reviewer"])
        st.rerun()
    except RedError as exc:
        st.error(md(exc))


@st.fragment(run_every=2.0)
@releasing
def live() -> None:
    job = registry.get(proj)
    if running and not (job and job.running):
        st.rerun(scope="app")  # the run ended: refresh the controls above too
    runs = proj.runs()
    if not len(runs):
        st.info("No run yet. Choose a judge and a budget, then **Start run**.")
        return
    run_ids = runs["run_id"].tolist()
    latest = run_ids[-1]
    shown = st.selectbox("Run", run_ids[::-1], index=0, key="run_shown")
    row = runs[runs.run_id == shown].iloc[0]
    is_live = job is not None and job.running and shown == latest
    calls = proj.run_calls(shown)
    cfg = proj.run_config(shown)
    budget = cfg["loop"]["budget"]
    st.progress(min(calls / max(budget, 1), 1.0), text=f"run {shown}: {calls:,} of {budget:,} judge calls — "
                f"{'running' if is_live else md(row.status)}" + (f" ({md(row.termination)})" if row.termination else ""))
    if job is not None and job.error and shown == latest:
        st.error(f"The run stopped on an error: {md(job.error)}. Verdicts received so far are saved; fix the cause "
                 "and resume.")
    it = proj.iterations(shown)
    if not len(it):
        st.caption("waiting for the first iteration…")
        return
    last = it.iloc[-1]
    cal = proj.run_calibration(shown)
    if cal:
        st.caption("The judge, measured on seeds before this run applied any verdict:")
        st.text(Calibration.from_dict(cal).summary())
    c = st.columns(6)
    c[0].metric("Iterations", len(it))
    c[1].metric("Uncertain in pool", f"{int(last.uncertain_count):,}",
                delta=int(last.uncertain_count - it.iloc[-2].uncertain_count) if len(it) > 1 else None,
                delta_color="inverse")
    c[2].metric("Accepted", int(it.accepted.sum()))
    c[3].metric("Rejected", int(it.rejected.sum()))
    c[4].metric("Sent to people", int(it.held.fillna(0).sum()),
                help="verdicts that did not clear the precision target: answer them in Review (needs_review)")
    if last.eval_accuracy == last.eval_accuracy and last.eval_accuracy is not None:
        c[5].metric("Test accuracy", f"{last.eval_accuracy:.1%}")
    long = it.melt(id_vars="iteration", value_vars=["uncertain_count", "pool_size"], var_name="series")
    st.plotly_chart(px.line(long, x="iteration", y="value", color="series", markers=True, height=300,
                            title="Uncertain samples and pool size"), width="stretch", key="c1")
    verd = it.melt(id_vars="iteration", value_vars=["accepted", "rejected", "errors"], var_name="verdict")
    st.plotly_chart(px.bar(verd, x="iteration", y="value", color="verdict", height=300,
                           title="Judge verdicts per iteration"), width="stretch", key="c2")
    acc_cols = [c for c in ("eval_accuracy", "pool_accuracy") if it[c].notna().any()]
    if acc_cols:
        acc = it.melt(id_vars="iteration", value_vars=acc_cols, var_name="measure")
        st.plotly_chart(px.line(acc, x="iteration", y="value", color="measure", markers=True, height=300,
                                title="Accuracy against hidden gold"), width="stretch", key="c3")
    st.dataframe(it.drop(columns=["subset_stats"]), hide_index=True, width="stretch")


live()
