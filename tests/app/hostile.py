"""A real project whose every data field is hostile markup (issue #9), for page tests."""

from pathlib import Path

import duckdb

OUTSIDE = "http://127.0.0.1:9"
HOSTILE = [
    f"![x]({OUTSIDE}/img.png)",
    f"[click]({OUTSIDE}/)",
    "<img src=x onerror=alert(1)>",
    f'<a href="{OUTSIDE}/">a</a>',
    "<b>bold</b>",
    ":red[x]",
]
REVIEWER = f"[rev]({OUTSIDE}/r) ![r]({OUTSIDE}/r.png) <img src=x onerror=alert(2)>"
RATIONALE = f"![why]({OUTSIDE}/why.png) <a href=\"{OUTSIDE}/w\">w</a> :blue[w]"
DESCRIPTION = f"![d]({OUTSIDE}/d.png) [d]({OUTSIDE}/d) <b>d</b> <img src=x onerror=alert(3)>"
SAMPLE = f"s-![p]({OUTSIDE}/sid.png)"


def build_hostile(path: Path, banking_path: Path) -> Path:
    """Seeds, pool with hidden gold, descriptions, judge verdicts, a human review and a
    run, every name, id, description, reviewer and rationale hostile; embedded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from red_app.judges.base import JudgeRequest, Verdict
    from red_app.judges.simulated import SimulatedJudge
    from red_app.method.loop import Judged
    from red_app.project.dataio import import_file
    from red_app.project.embed import embed_project
    from red_app.project.store import Project
    from red_app.workflows.review import decide
    from red_app.method.stopping import Termination
    from red_app.workflows.runner import ProjectSink, load_inputs

    src = duckdb.sql(f"""SELECT text, label FROM read_parquet('{banking_path}') WHERE split = 'train'
                         AND label IN ('card_arrival', 'age_limit', 'atm_support', 'cash_withdrawal_charge',
                                       'exchange_rate', 'lost_or_stolen_card') ORDER BY label, text""").fetchall()
    names = sorted({lab for _, lab in src})
    to_hostile = dict(zip(names, HOSTILE))
    per: dict[str, list[str]] = {}
    for text, lab in src:
        per.setdefault(lab, []).append(text)
    seeds, pool = [], []
    for lab, texts in per.items():
        seeds += [(f"{to_hostile[lab]}-seed-{k}", t, to_hostile[lab]) for k, t in enumerate(texts[:4])]
        pool += [(f"{to_hostile[lab]}-pool-{k}", t, to_hostile[lab]) for k, t in enumerate(texts[4:8])]
    pool[0] = (SAMPLE, pool[0][1], pool[0][2])
    d = path.parent
    for name, rows in (("seeds.parquet", seeds), ("pool.parquet", pool)):
        pq.write_table(pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows],
                                 "label": [r[2] for r in rows]}), d / name)
    with Project(path, create=True) as p:
        import_file(p, d / "seeds.parquet", id="id", actor=REVIEWER)
        import_file(p, d / "pool.parquet", id="id", mode="hidden-gold")
        embed_project(p)
        for lab in HOSTILE:
            p.set_description(lab, DESCRIPTION + " " + lab, author=REVIEWER, model=REVIEWER)
        data, _ = load_inputs(p)
        gold = p.hidden_gold()
        run_id = p.start_run({"loop": {"budget": 10}})
        sink = ProjectSink(p, run_id=run_id, data=data, judge=SimulatedJudge(gold))
        judged = []
        for i, (sid, text, lab) in enumerate(pool[:8]):
            wrong = HOSTILE[(HOSTILE.index(lab) + 1) % len(HOSTILE)]
            req = JudgeRequest(sample_id=sid, text=text, label=lab if i % 2 else wrong)
            judged.append(Judged(i, i, req, Verdict(valid=bool(i % 2), confidence=0.7, rationale=RATIONALE),
                                 0.5, (wrong, lab)))
        sink.on_verdicts(1, judged)
        # pool[5] is proposed under its own label (HOSTILE[1]); a person overrides it
        decide(p, sample_id=pool[5][0], proposed=pool[5][2], action="override", reviewer=REVIEWER,
               label=HOSTILE[3])
        p.finish_run(run_id, Termination.paused(RATIONALE))
    return path
