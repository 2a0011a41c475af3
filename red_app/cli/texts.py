"""`red texts`, `red label`, `red add-label`: find texts, label one, create a label from texts."""

from __future__ import annotations

import json
import math

from .common import add_reviewer, clean, read_rows, short

ORIGINS = ("seed", "import", "judge", "human", "model")


def _conf(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _show(project, sample_id: str) -> int:
    """One text with its label and every word said on it (what the Texts page shows)."""
    from ..workflows.texts import text_details

    item = text_details(project, sample_id)
    print(f"id: {clean(item['id'])}")
    print(f"text: {clean(item['text'])}")
    if item["label"] is None:
        print("label: (none)" + ("  — needs a label" if item["needs_review"] else ""))
    else:
        print(f"label: {clean(item['label'])}  origin {clean(item['origin'])}  confidence {_conf(item['confidence'])}"
              + ("  — needs review" if item["needs_review"] else ""))
    words = item["history"]
    print("history:" if len(words) else "history: none")
    for w in words.itertuples(index=False):
        print(f"  {w.said_at:%Y-%m-%d %H:%M:%S}  {clean(w.kind):<6} {clean(w.who)}: {clean(w.label)} "
              f"{clean(w.said)} ({clean(w.status)})")
    return 0


def cmd_texts(a) -> int:
    from ..project.store import Project
    from ..workflows.texts import count_texts, search_texts

    if a.id is not None:
        with Project(a.project, read_only=True) as p:
            return _show(p, a.id)

    band = None
    if a.min_confidence is not None or a.max_confidence is not None:
        band = (a.min_confidence if a.min_confidence is not None else 0.0,
                a.max_confidence if a.max_confidence is not None else 1.0)
    filters = dict(query=a.search, label=a.label, origin=a.origin or None, band=band,
                   needs_review=True if a.needs_review else None, unlabeled=a.unlabeled)
    with Project(a.project, read_only=True) as p:
        df = search_texts(p, **filters, sort=a.sort, limit=a.limit, offset=a.offset)
        n = count_texts(p, **filters)
    if a.json:
        rows = [{"id": r.id, "text": r.text, "label": r.label,
                 "confidence": None if r.confidence is None or math.isnan(r.confidence) else float(r.confidence),
                 "origin": r.origin, "needs_review": bool(r.needs_review)}
                for r in df.itertuples(index=False)]
        print(json.dumps({"count": n, "offset": a.offset, "texts": rows}, indent=2, ensure_ascii=False))
        return 0
    print(f"{n:,} text(s) match; showing {len(df)} from {a.offset + 1 if len(df) else 0}")
    # ids in full: they are what `red label` takes
    ids = [clean(i) for i in df["id"]]
    labels = [clean("(none)" if x is None else x) for x in df["label"]]
    wi, wl = max([2, *map(len, ids)]), min(max([5, *map(len, labels)]), 40)
    if len(df):
        print(f"{'id':<{wi}}  {'label':<{wl}}  {'conf':>5}  {'origin':<7} {'rev':<3} text")
    for i, lab, r in zip(ids, labels, df.itertuples(index=False)):
        print(f"{i:<{wi}}  {short(lab, wl):<{wl}}  {_conf(r.confidence):>5}  "
              f"{clean(r.origin or '–'):<7} {'yes' if r.needs_review else '':<3} {short(r.text, 80)}")
    return 0


def cmd_label(a) -> int:
    from ..errors import RedError
    from ..project.store import Project
    from ..workflows.texts import label_text, label_texts

    if a.file:
        if a.sample_id or a.label:
            raise RedError("give either --file or SAMPLE_ID LABEL, not both")
        rows = read_rows(a.file, ("sample_id", "label"))
        with Project(a.project) as p:
            n = label_texts(p, rows, reviewer=a.reviewer)
        print(f"labeled {n} text(s) from {clean(a.file)} as one action (`red undo` takes them back)")
        return 0
    if not a.sample_id or not a.label:
        raise RedError("give SAMPLE_ID and LABEL (or --file with columns sample_id,label)")
    with Project(a.project) as p:
        label_text(p, a.sample_id, a.label, reviewer=a.reviewer)
    print(f"labeled {clean(a.sample_id)} as {clean(a.label)} (by {clean(a.reviewer)})")
    return 0


def cmd_add_label(a) -> int:
    from ..project.store import Project
    from ..workflows.texts import add_label

    with Project(a.project) as p:
        name = add_label(p, a.name, a.text, reviewer=a.reviewer, description=a.description)
    print(f"new label {clean(name)} with {len(set(a.text))} example(s); the next run trains on it")
    return 0


def register(sub) -> None:
    p = sub.add_parser("texts", help="search and filter the texts with their current labels",
                       description="List texts (holdout aside) with their current label, confidence, origin "
                       "and whether they need review. --search is a case-insensitive substring (%% and _ match "
                       "themselves); every filter combines with the others.")
    p.add_argument("project")
    p.add_argument("--id", default=None, metavar="SAMPLE_ID",
                   help="show this one text: its label and every judge verdict and decision on it")
    p.add_argument("--search", default=None, help="text contains this (case-insensitive)")
    p.add_argument("--label", default=None, help="current label")
    p.add_argument("--origin", action="append", choices=ORIGINS, help="label origin (repeat for several)")
    p.add_argument("--min-confidence", type=float, default=None)
    p.add_argument("--max-confidence", type=float, default=None)
    p.add_argument("--needs-review", action="store_true", help="only texts waiting for a person")
    p.add_argument("--unlabeled", action="store_true", help="only texts with no label at all")
    p.add_argument("--sort", choices=("confidence", "id"), default="confidence",
                   help="confidence: least confident first (default); id")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true", help="machine-readable output (with the full texts)")
    p.set_defaults(func=cmd_texts)

    p = sub.add_parser("label", help="label one text directly (a human decision)",
                       description="Give a text a label as a person's decision: a valid event for LABEL and, "
                       "if the text had another label, an invalid one for it (like a review's override).")
    p.add_argument("project")
    p.add_argument("sample_id", nargs="?")
    p.add_argument("label", nargs="?")
    p.add_argument("--file", default=None, metavar="CSV",
                   help="label many texts at once: a CSV (or .tsv) with the columns sample_id,label; every row is "
                   "checked first, then all are recorded as one action (all or none)")
    add_reviewer(p)
    p.set_defaults(func=cmd_label)

    p = sub.add_parser("add-label", help="create a new label from one or more texts",
                       description="Create the label NAME with the given texts as its first examples (human "
                       "decisions). One example is enough; the next run trains on it.")
    p.add_argument("project")
    p.add_argument("name")
    p.add_argument("--text", action="append", required=True, metavar="SAMPLE_ID",
                   help="id of a text that is an example (repeat for several)")
    add_reviewer(p)
    p.add_argument("--description", default=None, help="what the label means (optional)")
    p.set_defaults(func=cmd_add_label)

