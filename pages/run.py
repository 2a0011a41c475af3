"""Run: choose a judge and budget, start / stop, watch each iteration live."""

import pandas as pd
import plotly.express as px
import streamlit as st

from pages import jobs, md, project, releasing, require, setting_widget, sidebar
from red_app.errors import RedError
from red_app.workflows.judge_eval import describe_result, judge_eval, remembered
from red_app.workflows.judging import (
    JUDGE_HELP,
    JudgeSettings,
    check_judge,
    default_kind,
    fix_for,
    installed_models,
    last_judge_settings,
    model_notes,
    save_judge_settings,
)
from red_app.workflows.people import answering
from red_app.workflows.runner import budget_report, calibration_summary, last_loop_settings
from red_app.workflows.settings import DEFAULTS, LoopConfig, measuring_note, setting_specs

sidebar()
require("run", "Running the loop")
proj = project()
registry = jobs()
st.title("Run")

job = registry.get(proj)
running_here = job is not None and job.running
running = running_here or proj.live_run() is not None  # here, or a `red run` in another process

# One colour per verdict, the same in every chart and metric
VERDICT_COLOURS = {"accepted": "#2e7d32", "fits no label": "#6a1b9a", "rejected": "#c62828",
                   "sent to people": "#f9a825", "errors": "#757575"}
SERIES_NAMES = {"uncertain_count": "uncertain texts", "pool_size": "unlabeled pool", "accepted": "accepted",
                "said_none": "fits no label", "rejected": "rejected", "held": "sent to people", "errors": "errors",
                "eval_accuracy": "test accuracy", "pool_accuracy": "pool accuracy (hidden gold)"}
MAIN = ("budget", "batch", "selector", "patience")   # the loop settings always shown
FIRST = {"budget": 300, "batch": 100}  # a first run's size here: a few minutes, not the CLI's 1,000 calls
JUDGE_ONLY = ("precision_target", "calibration_seeds", "trust_judge")  # only for a judge that is measured
PEOPLE_ONLY = ("refit_after",)  # only when people are the judge

# the judge last used on this project is offered first; else one that works here (a person
# where there is no hidden gold to simulate)
last = last_judge_settings(proj)
kinds = list(JUDGE_HELP)
# a widget's key is dropped when another page runs: offered again from the project's last choice
st.session_state.setdefault("judge_kind", last.kind if last else default_kind(proj))

# while a run goes, its panel comes first on the screen: the settings fold away
settings_box = st.expander("Judge and settings" + (" (a run is going)" if running else ""), expanded=not running)
kind = settings_box.radio("Judge", kinds, horizontal=True, key="judge_kind",
                          help="; ".join(f"{k}: {h}" for k, h in JUDGE_HELP.items()))
settings_box.caption(md(JUDGE_HELP[kind]))
remembered_settings = last if last and last.kind == kind else JudgeSettings(kind=kind).resolved(proj)
specs = {s.name: s for s in setting_specs()}
# the last run's settings, else a first run's (people answer a batch of 20 before the loop refits)
start_from = {**FIRST, **({"batch": 20} if kind == "human" else {}), **last_loop_settings(proj)}
with settings_box.form("settings"):
    # only the chosen judge's settings (the radio above is outside the form, so it redraws them)
    r = remembered_settings
    judge_kw: dict = {}
    if kind == "human":
        judge_kw["wait"] = 60.0 * st.number_input(
            "Wait for answers (minutes)", 1, 24 * 60, int((r.wait or 3600) // 60),
            help="the run waits this long for people to answer its proposals in Review, then stops; resume it to "
            "wait again")
    elif kind == "simulated":
        judge_kw["accuracy"] = st.slider("Simulated judge accuracy", 0.5, 1.0, float(r.accuracy), 0.05)
    elif kind == "ollama":
        c1, c2 = st.columns(2)
        judge_kw["host"] = c1.text_input("Ollama host", value=r.host or "")
        judge_kw["model"] = c2.text_input("Ollama model", value=r.model or "")
    elif kind == "embedded":
        have = installed_models()
        judge_kw["model"] = st.selectbox("Embedded model", have or ["(none installed: run `make judge-model`)"],
                                         help="; ".join(f"{m}: {n}" for m, n in model_notes().items()))
    elif kind == "openai":
        c1, c2 = st.columns([3, 1])
        judge_kw["urls"] = c1.text_input("OpenAI-compatible server(s)", value=",".join(r.urls or ()),
                                         help="comma-separated base URLs; several servers share the requests. API "
                                         "key from $OPENAI_API_KEY")
        judge_kw["model"] = c2.text_input("OpenAI model", value=r.model or "",
                                          help="empty: the first model the server lists").strip() or None
    ev = remembered(proj, kind, judge_kw.get("model") or r.model) if kind not in ("simulated", "human") else None
    if ev and ev.get("accuracy") is not None:
        st.caption("Last measured:")
        st.text(describe_result(ev))  # plain text: model names and figures, no markup
    elif kind == "embedded":
        st.caption("The embedded judge is a small model and has not been measured on this project yet. "
                   "Every run measures it on seeds first and applies only the verdicts that clear the "
                   "precision target; measure it now with the button below.")
    st.markdown("**Loop**")
    chosen = {}
    for col, name in zip(st.columns(len(MAIN)), MAIN):
        chosen[name] = setting_widget(col, specs[name], value=start_from.get(name))
    if kind == "human":
        chosen["refit_after"] = setting_widget(st, specs["refit_after"], value=start_from.get("refit_after"))
    # a person is taken at their word: nothing to measure (a form's slider reruns nothing, so the
    # simulated judge keeps these whatever its accuracy; at 1.0 the run takes it at its word)
    measured = kind != "human"
    if measured:
        for col, name in zip(st.columns(len(JUDGE_ONLY)), JUDGE_ONLY):
            chosen[name] = setting_widget(col, specs[name], value=start_from.get(name))
        st.caption(measuring_note(LoopConfig(budget=int(chosen["budget"]),
                                             calibration_seeds=int(chosen["calibration_seeds"]))))
    with st.popover("More settings"):
        cols = st.columns(3)
        rest = [s for n, s in specs.items() if n not in MAIN + JUDGE_ONLY + PEOPLE_ONLY]
        for k, spec in enumerate(rest):
            chosen[spec.name] = setting_widget(cols[k % 3], spec, key=f"setting_{spec.name}",
                                               value=start_from.get(spec.name))
    b1, b2, b3 = st.columns(3)
    start = b1.form_submit_button("Start run", type="primary", disabled=running)
    measure = b2.form_submit_button("Measure this judge on seeds", disabled=running or not measured,
                                    help="asks it about seeds under their own and a plausible wrong label; no gold "
                                    "needed; takes 2 judge calls per seed (red judge-eval --from-seeds)")
    test = b3.form_submit_button("Test connection", disabled=kind not in ("ollama", "openai"),
                                 help="openai / ollama judge: ask the server(s) for their models")


def the_settings() -> JudgeSettings:
    return JudgeSettings(kind=kind, **{k: v for k, v in judge_kw.items() if v not in ("", None)})


def show_failure(exc: RedError, resume_hint: bool = False) -> None:
    st.error(md(exc))
    st.text(fix_for(kind) + (" Then Resume the run: verdicts received so far are kept." if resume_hint else ""))


if test:
    try:
        st.success(md(check_judge(the_settings().build(proj))))
    except RedError as exc:
        show_failure(exc)

resumable = proj.resumable_run()
c1, c2 = st.columns(2)
if running_here:
    if c1.button("Stop after the current chunk", shortcut="Escape"):
        job.stop()
        st.toast("stopping: verdicts already received are kept")
elif running:
    c1.caption("A run is going in another process: stop it there (Ctrl-C in its terminal).")
elif resumable is not None:
    if c1.button(f"Resume interrupted run {resumable}"):
        try:
            registry.resume(proj, resumable)  # with the judge the run started with
            st.session_state.pop("run_shown", None)
            st.rerun()
        except RedError as exc:
            show_failure(exc, resume_hint=True)
if measure and not running:
    try:
        n = max(int(chosen.get("calibration_seeds", DEFAULTS.calibration_seeds)), 10)
        with st.spinner(f"asking the judge about {n} seeds ({2 * n} calls)…"):
            res = judge_eval(proj, the_settings().build(proj), n=n, from_seeds=True,
                             question=chosen.get("question", DEFAULTS.question),
                             choose_k=int(chosen.get("choose_k", DEFAULTS.choose_k)))
        st.text(describe_result(res))
    except RedError as exc:
        show_failure(exc)
if start and not running:
    try:
        settings = the_settings()
        save_judge_settings(proj, settings)  # remembered for the next visit, and for admins' servers
        cfg = LoopConfig(**chosen)
        registry.start(proj, settings, cfg, started_by=st.session_state["reviewer"])
        st.session_state.pop("run_shown", None)  # the new run takes the panel
        st.rerun()
    except RedError as exc:
        show_failure(exc)


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

    it = it.assign(held=it.held.fillna(0), said_none=it.said_none.fillna(0))
    long = it.melt(id_vars="iteration", value_vars=["uncertain_count", "pool_size"], var_name="series")
    long["series"] = long["series"].map(SERIES_NAMES)
    st.plotly_chart(tidy(px.line(long, x="iteration", y="value", color="series", markers=True, height=300,
                                 title="Uncertain texts and unlabeled pool"), "texts"), width="stretch", key="c1")
    verd = it.melt(id_vars="iteration", value_vars=["accepted", "said_none", "rejected", "held", "errors"],
                   var_name="verdict")
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


def people_section(run_id: int, budget: int) -> None:
    """A run with people as the judge: its proposals and what people made of them."""
    a = proj.run_answers(run_id)
    st.markdown("**Where the budget went**")
    c = st.columns(5)
    c[0].metric("Proposals to people", f"{a['proposals']:,} of {budget:,}")
    c[1].metric("Answered", f"{a['answered']:,}")
    c[2].metric("Labeled", f"{a['labeled']:,}", help="answers that gave the text a label")
    c[3].metric("Fits no label", f"{a['fits_none']:,}",
                help="answers that the text fits none of the project's labels (x): Discover groups them")
    c[4].metric("None of these", f"{a['none']:,}", help="answers that said no label offered is right")


def budget_section(run_id: int) -> None:
    cfg = proj.run_config(run_id)
    if (cfg.get("judge") or {}).get("kind") == "human":
        people_section(run_id, int(cfg["loop"]["budget"]))
        return
    b = budget_report(proj, run_id)
    st.markdown("**Where the budget went**")
    c = st.columns(3) + st.columns(3)
    c[0].metric("Judge calls", f"{b['measuring'] + b['proposals']:,} of {b['budget']:,}")
    c[1].metric("Measuring the judge", f"{b['measuring']:,}", help="seeds asked about before any verdict applies")
    c[2].metric("Sent to people", f"{b['to_people']:,}",
                help="verdicts that did not clear the precision target: answer them in Review (needs_review)")
    c[3].metric("Accepted", f"{b['accepted']:,}")
    if b["question"] == "choose":
        c[4].metric("None of these", f"{b['rejected']:,}",
                    help="the judge said no candidate offered is right; each of them is excluded for that text")
        c[5].metric("…of them: fits no label", f"{b['fits_none']:,}",
                    help="where the right label is nearly always among the candidates (measured on the labeled "
                         "texts), \"none\" says the text fits none of the labels: it leaves the pool with no label "
                         "(Discover groups such texts; Review can still give one). Elsewhere it is asked again "
                         "with other candidates")
        st.caption(f"Not asked in the newest iteration: {b['not_asked']:,} texts unlike every label (less like the "
                   "labels' known texts, and more like those that fit no label, than nearly every known text; the "
                   "setting 'Skip texts unlike every label').")
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
    global proj
    proj = project()  # a fragment rerun has its own (released after it), not the page run's
    job = registry.get(proj)
    if (running_here and not (job and job.running)) or (running and not running_here and proj.live_run() is None):
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
    here = job is not None and job.running and shown == latest
    is_live = here or proj.live_run() == shown  # in this app, or a `red run` in another process
    calls = proj.run_calls(shown)
    cfg = proj.run_config(shown)
    budget = cfg["loop"]["budget"]
    termination = row.termination if pd.notna(row.termination) and row.termination else None
    state = "running" if is_live else str(row.status)
    st.progress(min(calls / max(budget, 1), 1.0), text=md(f"run {shown}: {calls:,} of {budget:,} judge calls — "
                                                          f"{state}" + (f" ({termination})" if termination and not is_live else "")))
    if is_live and status:
        st.text(stage_line(status))
    ended = proj.run_termination(shown)
    if job is not None and job.error and shown == latest and not is_live:
        st.error(f"The run stopped on an error: {md(job.error)}")
        st.text(fix_for(cfg.get("judge", {}).get("kind")))
    elif ended is not None and ended.kind == "failed":
        st.error(f"The run stopped because the judge failed: {md(termination)}")
        st.text(fix_for(cfg.get("judge", {}).get("kind")) + " Then Resume the run: verdicts received so far are kept.")
    waiting = proj.run_waiting(shown) if is_live or state == "interrupted" else 0
    if waiting:
        who = answering(proj)
        st.info(f"Waiting for {waiting:,} answers in Review: the run refits and proposes more as people answer"
                + (f" · answering now: {md(', '.join(who))}" if who else " · nobody has one open right now") + ".")
    elif is_live and not here:
        st.info(f"Run {shown} is going in another process ({md(proj.run_owner(shown) or 'unknown')}); it is "
                "shown here as it goes.")
    cal = calibration_summary(proj, shown)
    if cal:
        st.caption("The judge, measured on seeds before this run applied any verdict:")
        st.text(cal)
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
