"""Audit: how far the judge agrees with people and with hidden gold; every decision's record."""

import html

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pages import allowed, md, project, sidebar

from red_app.workflows.audit import (
    MIN_PER_LABEL,
    best_coverage,
    coverage_line,
    draw_audit,
    estimate_text,
    quality_report,
)
from red_app.errors import RedError
from red_app.workflows.review import agreement, decision_log, decision_record

sidebar()
proj = project()
st.title("Audit")


def _pct(x) -> str:
    return "–" if x != x else f"{x:.1%}"


def estimate_table(estimates: dict, key: str, truth: dict | None) -> pd.DataFrame:
    """One row per origin (or label): the estimate and its interval as percentages, the counts,
    and "too few answers" where there are not enough of them for a figure."""
    rows = []
    for name, e in estimates.items():
        few = e["too_few"] or not e["answered"]
        rows.append({key: name,
                     "estimated accuracy": ("no answers yet" if not e["answered"] else "too few answers") if few
                     else _pct(e["estimate"]),
                     "95% interval": "–" if few else f"{_pct(e['low'])} – {_pct(e['high'])}",
                     "right": e.get("right"), "answered": e["answered"], "drawn": e.get("drawn"),
                     **({"true accuracy": _pct(truth.get(name, float("nan")))} if truth is not None else {})})
    return pd.DataFrame(rows)


def quality_section(proj) -> None:
    """The labels' accuracy estimated from the active audit sample's answers."""
    st.subheader("Quality")
    c = st.columns([1, 1, 2])
    n = c[0].number_input("Texts to draw", min_value=10, max_value=5000, value=200, step=10)
    # the role is checked again on the click, not only by the disabled button (a crafted
    # message can press a disabled widget)
    if c[1].button("Draw an audit sample", disabled=not allowed("audit_sample")) and allowed("audit_sample"):
        try:
            st.toast(md(draw_audit(proj, int(n)).summary()))
        except RedError as exc:
            st.error(md(exc))
    try:
        q = quality_report(proj)
    except RedError as exc:
        st.info(md(exc))
        return
    e, truth = q["overall"], q.get("truth")
    st.caption(f"Audit {q['audit_id']}: {q['answered']} of {q['drawn']} items answered (answer them on the "
               f"Review page, Audit sample); {q['method']}.")
    if not q["answered"]:
        return
    m = st.columns(3)
    few = e["too_few"]
    m[0].metric("Estimated accuracy", "too few answers" if few else _pct(e["estimate"]),
                help=f"from {e['answered']} answers; an estimate needs at least {q['min_answers']}")
    m[1].metric("95% interval", "–" if few else f"{_pct(e['low'])} – {_pct(e['high'])}")
    m[2].metric("True accuracy (hidden gold)", _pct(truth["overall"]) if truth else "–")
    st.markdown("**Per origin** — estimated accuracy with its 95% Wilson interval; "
                f"fewer than {q['min_answers']} answers give no estimate.")
    st.dataframe(estimate_table(q["per_origin"], "origin", truth["per_origin"] if truth else None),
                 hide_index=True, width="stretch")
    st.text(f"Judge precision measured by people: {estimate_text(q['judge_precision'])}")
    st.text(f"Labels whose text fits none of the labels ({q['fits_none']['said']} answered so): "
            f"{estimate_text(q['fits_none'])}")
    if q["per_label"]:
        st.markdown(f"**Per label** (labels with at least {MIN_PER_LABEL} answers)")
        st.dataframe(estimate_table(q["per_label"], "label", truth["per_label"] if truth else None),
                     hide_index=True, width="stretch")
    curve = pd.DataFrame(q["curve"])
    shown = curve[~curve["too_few"]]  # no point drawn from too few answers
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=shown["coverage"], y=shown["high"], mode="lines", line={"width": 0},
                             hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=shown["coverage"], y=shown["low"], mode="lines", line={"width": 0}, fill="tonexty",
                             fillcolor="rgba(192,57,43,0.15)", name="95% interval", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=shown["coverage"], y=shown["estimate"], mode="lines+markers", name="estimated accuracy",
                             customdata=shown[["threshold", "low", "high"]],
                             hovertemplate="confidence ≥ %{customdata[0]}: %{y:.1%} "
                                           "(%{customdata[1]:.1%}–%{customdata[2]:.1%})<extra></extra>"))
    if "true_accuracy" in curve:
        fig.add_trace(go.Scatter(x=curve["coverage"], y=curve["true_accuracy"], mode="lines+markers",
                                 name="true accuracy (hidden gold)", line={"dash": "dot"}))
    fig.update_layout(xaxis_title="share of texts with confidence ≥ t", yaxis_title="accuracy",
                      yaxis_tickformat=".0%", xaxis_tickformat=".0%", margin={"t": 20, "b": 10})
    st.plotly_chart(fig, width="stretch")
    best = best_coverage(q["curve"], 0.95) or best_coverage(q["curve"], 0.9)
    if best:
        st.text(coverage_line(best))
    else:
        st.caption("No confidence threshold reaches 90% by the low end of its interval yet: answer more of the audit.")


quality_section(proj)
a = agreement(proj)
c = st.columns(4)
c[0].metric("Judge verdicts reviewed by people", a["human_reviewed"])
c[1].metric("Judge–human agreement", f"{a['judge_human_agreement']:.1%}" if "judge_human_agreement" in a else "–")
c[2].metric("Judge vs hidden gold", f"{a['judge_gold_accuracy']:.1%}" if "judge_gold_accuracy" in a else "–",
            help="where the project has hidden gold labels")
c[3].metric("Precision of 'valid' (gold)", f"{a['judge_gold_precision_valid']:.1%}" if "judge_gold_accuracy" in a else "–")

if "per_label_human" in a:
    st.subheader("Agreement with people, per label")
    st.dataframe(a["per_label_human"].sort_values("agreement"), hide_index=True, width="stretch")
if "per_label_gold" in a:
    st.subheader("Judge accuracy against hidden gold, per label")
    st.dataframe(a["per_label_gold"].sort_values("accuracy"), hide_index=True, width="stretch")
ov = a["overrides"]
st.subheader("Overrides: judge's label → people's label")
if len(ov):
    # Plotly renders <a href> and <b> in axis labels: data goes in escaped.
    esc = ov.assign(human_label=ov["human_label"].map(lambda v: html.escape(str(v))),
                    judge_label=ov["judge_label"].map(lambda v: html.escape(str(v))))
    fig = px.density_heatmap(esc, x="human_label", y="judge_label", z="n", histfunc="sum", height=420)
    st.plotly_chart(fig, width="stretch")
    st.dataframe(ov, hide_index=True, width="stretch")
else:
    st.caption("no overrides yet")

st.subheader("Decisions")
st.dataframe(decision_log(proj, limit=500), hide_index=True, width="stretch")
vid = st.number_input("Show the full record of judge verdict #", min_value=0, value=0, step=1)
if vid:
    try:
        rec = decision_record(proj, int(vid))
        st.text(f"sample {rec['sample_id']} · proposed {rec['label']} · valid={rec['valid']} · "
                f"confidence {rec['confidence']:.2f} · {rec['judge_kind']} {rec['model']} · "
                f"{rec['latency_ms']:.0f} ms · prompt hash {rec['prompt_hash']}")
        st.caption("Examples shown to the judge:")
        st.text(", ".join(rec["example_ids"] if rec["example_ids"] is not None else []))
        if rec["prompt"]:
            st.code(rec["prompt"], language=None)
        st.dataframe(rec["history"], hide_index=True, width="stretch")
    except RedError as exc:
        st.error(md(exc))
