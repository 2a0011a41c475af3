"""The data model in one place: the schema's migrations, the SQL that derives current
labels from the append-only annotation log, and the derived views several modules share
(the labeled rows that the export, the Texts search and the audits select from).

Each entry of :data:`MIGRATIONS` migrates the schema from version i to i+1. Append a new
entry for a change; never edit an old one (files in the wild are at every version).
"""

from __future__ import annotations

SCHEMA_VERSION = 10

ORIGINS = ("seed", "import", "judge", "human")
VERDICTS = ("valid", "invalid")
ROLES = ("seed", "pool", "holdout")

# Each entry migrates the schema from version i to i+1. Append, never edit.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)""",
        """CREATE TABLE samples (
            id TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('seed', 'pool', 'holdout')),
            gold_label TEXT,
            source TEXT,
            source_row BIGINT,
            seq BIGINT NOT NULL,
            imported_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE labels (
            name TEXT PRIMARY KEY,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE label_descriptions (
            label TEXT NOT NULL,
            version INTEGER NOT NULL,
            description TEXT NOT NULL,
            author TEXT NOT NULL,
            model TEXT,
            created_at TIMESTAMP NOT NULL,
            PRIMARY KEY (label, version))""",
        """CREATE SEQUENCE event_seq START 1""",
        """CREATE TABLE annotations (
            event_id BIGINT PRIMARY KEY DEFAULT nextval('event_seq'),
            sample_id TEXT NOT NULL,
            label TEXT NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('seed', 'import', 'judge', 'human')),
            verdict TEXT NOT NULL CHECK (verdict IN ('valid', 'invalid')),
            actor TEXT NOT NULL,
            iteration INTEGER,
            run_id INTEGER,
            model TEXT,
            confidence DOUBLE,
            verdict_id BIGINT,
            note TEXT,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE embeddings (
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            vec FLOAT[] NOT NULL,
            PRIMARY KEY (model, text_hash))""",
        """CREATE TABLE runs (
            run_id INTEGER PRIMARY KEY,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            status TEXT NOT NULL,
            termination TEXT,
            config JSON NOT NULL)""",
        """CREATE TABLE iterations (
            run_id INTEGER NOT NULL,
            iteration INTEGER NOT NULL,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP NOT NULL,
            seconds DOUBLE NOT NULL,
            pool_size BIGINT NOT NULL,
            labeled_size BIGINT NOT NULL,
            uncertain_count BIGINT NOT NULL,
            unassigned BIGINT NOT NULL,
            selected BIGINT NOT NULL,
            calls BIGINT NOT NULL,
            accepted BIGINT NOT NULL,
            rejected BIGINT NOT NULL,
            errors BIGINT NOT NULL,
            eval_accuracy DOUBLE,
            pool_accuracy DOUBLE,
            subset_stats JSON,
            PRIMARY KEY (run_id, iteration))""",
        """CREATE TABLE predictions (
            run_id INTEGER NOT NULL,
            iteration INTEGER NOT NULL,
            sample_id TEXT NOT NULL,
            label TEXT,
            score DOUBLE NOT NULL,
            uncertainty DOUBLE NOT NULL,
            alternatives TEXT[],
            PRIMARY KEY (run_id, sample_id))""",
        """CREATE TABLE label_map (
            label TEXT PRIMARY KEY,
            subset INTEGER NOT NULL,
            x DOUBLE NOT NULL,
            y DOUBLE NOT NULL,
            method TEXT NOT NULL,
            n INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE SEQUENCE verdict_seq START 1""",
        """CREATE TABLE judge_verdicts (
            verdict_id BIGINT PRIMARY KEY DEFAULT nextval('verdict_seq'),
            run_id INTEGER,
            iteration INTEGER,
            sample_id TEXT NOT NULL,
            label TEXT NOT NULL,
            valid BOOLEAN,
            confidence DOUBLE,
            rationale TEXT,
            judge_kind TEXT NOT NULL,
            model TEXT,
            prompt_hash TEXT,
            prompt TEXT,
            example_ids TEXT[],
            uncertainty DOUBLE,
            alternatives TEXT[],
            latency_ms DOUBLE,
            cached BOOLEAN NOT NULL DEFAULT FALSE,
            error TEXT,
            created_at TIMESTAMP NOT NULL)""",
    ],
    # 2: judge-aware delegation — a verdict's P(right) and whether it was applied or sent to
    # people; calibration verdicts kept apart; the run's judge measurement; held per iteration
    [
        "ALTER TABLE judge_verdicts ADD COLUMN p_right DOUBLE",
        "ALTER TABLE judge_verdicts ADD COLUMN applied BOOLEAN",
        "ALTER TABLE judge_verdicts ADD COLUMN purpose TEXT DEFAULT 'run'",
        "ALTER TABLE runs ADD COLUMN calibration JSON",
        "ALTER TABLE iterations ADD COLUMN held BIGINT DEFAULT 0",
        # a label for every text: the final model's predictions, one set per run (or `red
        # predict`), kept so earlier predictions stay auditable; never decisions
        """CREATE TABLE model_label_sets (
            set_id INTEGER PRIMARY KEY,
            run_id INTEGER,
            created_at TIMESTAMP NOT NULL,
            model TEXT NOT NULL,
            temperature DOUBLE NOT NULL,
            labeled BIGINT NOT NULL,
            predicted BIGINT NOT NULL)""",
        """CREATE TABLE model_labels (
            set_id INTEGER NOT NULL,
            sample_id TEXT NOT NULL,
            label TEXT NOT NULL,
            confidence DOUBLE NOT NULL,
            alternatives TEXT[],
            alternative_confidences DOUBLE[],
            PRIMARY KEY (set_id, sample_id))""",
        # import provenance: one row per import with the sha256 of the file's bytes and the
        # source rows taken, so the same content is recognised under any name
        """CREATE SEQUENCE import_seq START 1""",
        """CREATE TABLE imports (
            import_id BIGINT PRIMARY KEY DEFAULT nextval('import_seq'),
            source TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            mode TEXT NOT NULL,
            filter TEXT,
            source_rows BIGINT[] NOT NULL,
            rows BIGINT NOT NULL,
            imported_at TIMESTAMP NOT NULL)""",
    ],
    # 3: audit samples — a stratified random sample of current labels for people to verify;
    # `last_event` is the newest annotation when it was drawn: a human event after it on an
    # item's sample is that item's answer. The newest audit is the active one.
    [
        """CREATE TABLE audit_samples (
            audit_id INTEGER PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            n INTEGER NOT NULL,
            seed BIGINT,
            population BIGINT NOT NULL,
            last_event BIGINT NOT NULL)""",
        # weight: the stratum's population over the items drawn from it
        """CREATE TABLE audit_items (
            audit_id INTEGER NOT NULL,
            sample_id TEXT NOT NULL,
            stratum TEXT NOT NULL,
            label TEXT NOT NULL,
            origin TEXT NOT NULL,
            confidence DOUBLE NOT NULL,
            weight DOUBLE NOT NULL,
            PRIMARY KEY (audit_id, sample_id))""",
    ],
    # 4: undo — a person's decision is taken back by a revocation row (the event stays in the
    # log); every human action (one decision, an override's two events, a bulk decision's
    # many) gets an action id so an undo takes back all of its events together. A revocation's
    # `seq` comes from event_seq, so revocations and events share one order.
    [
        """CREATE SEQUENCE action_seq START 1""",
        "ALTER TABLE annotations ADD COLUMN action_id BIGINT",
        """CREATE TABLE revocations (
            event_id BIGINT PRIMARY KEY,
            seq BIGINT NOT NULL,
            actor TEXT NOT NULL,
            note TEXT,
            created_at TIMESTAMP NOT NULL)""",
    ],
    # 5: choose questions — the candidate labels a judge was offered (best first) and the one
    # it picked (NULL: "none of them"); NULL candidates for a binary question
    [
        "ALTER TABLE judge_verdicts ADD COLUMN candidates TEXT[]",
        "ALTER TABLE judge_verdicts ADD COLUMN choice TEXT",
    ],
    # 6: the label map cached by what it is computed from — a fingerprint of the labels, the
    # seeds' current labels, the embedding model and the partition's settings — so a second
    # visit, a second server or a run reuses it, and a changed label or seed recomputes it.
    # `label_map` stays the map shown (its fingerprint added); every computed map is kept in
    # `label_maps` (one row each) and `label_map_points` (one row per label), newest few only.
    [
        "ALTER TABLE label_map ADD COLUMN fingerprint TEXT",
        """CREATE TABLE label_maps (
            fingerprint TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            n INTEGER NOT NULL,
            method TEXT NOT NULL,
            umap_dim INTEGER NOT NULL,
            seed BIGINT NOT NULL,
            labels BIGINT NOT NULL,
            seconds DOUBLE,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE label_map_points (
            fingerprint TEXT NOT NULL,
            label TEXT NOT NULL,
            subset INTEGER NOT NULL,
            x DOUBLE NOT NULL,
            y DOUBLE NOT NULL,
            PRIMARY KEY (fingerprint, label))""",
    ],
    # 7: flat-model fits kept by a digest of everything they are computed from (the rows, labels,
    # weights, start and solver settings), so the same fit is never computed twice: `red embed`
    # fits the seeds' model once, and a run's first fits, a restarted run's, reuse it. Exact:
    # a stored solution is the one the fit would compute, bit for bit. Newest few only.
    [
        """CREATE TABLE fit_cache (
            key TEXT PRIMARY KEY,
            classes BLOB NOT NULL,
            coef BLOB NOT NULL,
            intercept BLOB NOT NULL,
            n_classes INTEGER NOT NULL,
            n_features INTEGER NOT NULL,
            n_iter INTEGER NOT NULL,
            seconds DOUBLE,
            created_at TIMESTAMP NOT NULL)""",
    ],
    # 8: how a run ended as a kind (finished, paused, stopped, failed: red_app.method.stopping.
    # Termination) beside its status and reason, so no page matches the reason's words; which
    # process runs a run and when it last said so (a run left 'running' by a process that is
    # gone is resumable); and claims: the proposal a person has open, so several people
    # answering one queue are never shown the same text.
    [
        """ALTER TABLE runs ADD COLUMN outcome TEXT""",
        """ALTER TABLE runs ADD COLUMN owner TEXT""",
        """ALTER TABLE runs ADD COLUMN heartbeat TIMESTAMP""",
        """CREATE TABLE claims (
            sample_id TEXT PRIMARY KEY,
            reviewer TEXT NOT NULL,
            claimed_at TIMESTAMP NOT NULL)""",
    ],
    # 8 -> 9 (issue 20): each model label's p-value of fitting the labels at all (how unlike
    # the labels' known texts its text is; red_app.method.open_world); null in older sets.
    [
        """ALTER TABLE model_labels ADD COLUMN p_in_scope DOUBLE""",
    ],
    # 9 -> 10 (issue 20): where an iteration's budget went — the answers "fits none of the
    # labels" apart from other rejections — and the texts it did not ask about because they
    # look like they fit none. A "fits none" decision itself is an event for NO_LABEL.
    [
        """ALTER TABLE iterations ADD COLUMN said_none BIGINT DEFAULT 0""",
        """ALTER TABLE iterations ADD COLUMN skipped_unlike BIGINT DEFAULT 0""",
    ],
]

# A model label whose text is less like the labels' known texts than this share of them is
# "out of scope": no confident label (the export marks it and sends it to review). The same
# level as red_app.method.open_world.DEFAULT_ALPHA (a unit test keeps them equal).
OUT_OF_SCOPE_BELOW = 0.05

# The annotation events still in force: every event but those a later undo revoked.
LIVE_EVENTS_SQL = "SELECT * FROM annotations WHERE event_id NOT IN (SELECT event_id FROM revocations)"

# Samples whose run verdict was not applied and waits for a person (no human event yet).
HELD_SAMPLES_SQL = """
SELECT DISTINCT sample_id FROM judge_verdicts
WHERE valid IS NOT NULL AND NOT coalesce(applied, TRUE) AND coalesce(purpose, 'run') = 'run'
  AND sample_id NOT IN (SELECT sample_id FROM (""" + LIVE_EVENTS_SQL + """) WHERE origin = 'human')
"""

# The label name a "fits none of the labels" decision records (issue 20): a valid event for
# it says the text fits no label at all. Never a label's name: labels are never empty.
NO_LABEL = ""

# Every sample's decision, derived from the append-only log (revoked events aside): its newest
# valid event — a label, or NO_LABEL ("fits none of the labels").
_DECISIONS_SQL = """
WITH last_per_label AS (
    SELECT sample_id, label,
           max(event_id) AS event_id,
           arg_max(verdict, event_id) AS verdict
    FROM (""" + LIVE_EVENTS_SQL + """) GROUP BY sample_id, label
)
SELECT l.sample_id, l.label, a.origin, a.actor, a.iteration, a.model, a.event_id,
       a.created_at AS decided_at
FROM (SELECT sample_id, arg_max(label, event_id) AS label, max(event_id) AS event_id
      FROM last_per_label WHERE verdict = 'valid' GROUP BY sample_id) l
JOIN annotations a ON a.event_id = l.event_id
"""

# Both kinds of decision: a label, or NO_LABEL.
DECISIONS_SQL = _DECISIONS_SQL
# The current label of every sample that has one (a text decided to fit no label has none).
CURRENT_LABELS_SQL = _DECISIONS_SQL + "WHERE l.label <> " + repr(NO_LABEL) + "\n"
# The samples decided to fit none of the labels, by whom.
NO_LABEL_SQL = _DECISIONS_SQL + "WHERE l.label = " + repr(NO_LABEL) + "\n"

# (sample, label) pairs whose latest verdict is 'invalid': never proposed again.
EXCLUDED_PAIRS_SQL = """
SELECT sample_id, label FROM (
    SELECT sample_id, label, arg_max(verdict, event_id) AS verdict
    FROM (""" + LIVE_EVENTS_SQL + """) GROUP BY sample_id, label) WHERE verdict = 'invalid'
"""

# Every non-holdout sample with its label, confidence, origin and needs_review: the export's
# rows (red_app/project/dataio.py), shared with the Texts search (texts.py) and the audits'
# labeled pool (audits.py), which select from `rows`. Its placeholders: {decisions},
# {as_list} and {review_below}. A text decided to fit no label (NO_LABEL) has no label, is
# out of scope, and needs no review; a model label on a text unlike every label's known texts
# (p_in_scope below OUT_OF_SCOPE_BELOW) is out of scope too and needs review (the export
# writes it with no confidence: it is a guess).
# A model label that a person (or an applied judge verdict) rejected after the prediction is
# no label at all: the text shows as unlabeled and needing review until someone labels it
# or the next prediction proposes another label.
LABEL_ROWS_SQL = """
WITH cur AS (""" + DECISIONS_SQL + """),
ml AS (SELECT m.*, x.sample_id IS NOT NULL AS rejected
       FROM model_labels m
       LEFT JOIN (""" + EXCLUDED_PAIRS_SQL + """) x ON x.sample_id = m.sample_id AND x.label = m.label
       WHERE m.set_id = (SELECT max(set_id) FROM model_label_sets)),
held AS (""" + HELD_SAMPLES_SQL + """),
hist AS (
    SELECT e.sample_id,
           list({{'event_id': e.event_id, 'label': e.label, 'origin': e.origin, 'verdict': e.verdict,
                  'actor': e.actor, 'iteration': e.iteration, 'model': e.model,
                  'at': strftime(e.created_at, '%Y-%m-%dT%H:%M:%S'),
                  'revoked_by': r.actor,
                  'revoked_at': strftime(r.created_at, '%Y-%m-%dT%H:%M:%S')}} ORDER BY e.event_id) AS decisions,
           arg_max(e.verdict, e.event_id) FILTER (WHERE r.event_id IS NULL) AS last_verdict,
           arg_max(e.origin, e.event_id) FILTER (WHERE r.event_id IS NULL) AS last_origin,
           arg_max(e.actor, e.event_id) FILTER (WHERE r.event_id IS NULL) AS last_actor,
           max(e.created_at) FILTER (WHERE r.event_id IS NULL) AS last_decided_at
    FROM annotations e LEFT JOIN revocations r ON r.event_id = e.event_id GROUP BY e.sample_id
),
rows AS (
    SELECT s.id, s.text,
           CASE WHEN cur.label = '' THEN NULL
                ELSE coalesce(cur.label, CASE WHEN NOT ml.rejected THEN ml.label END) END AS label,
           -- "fits no label" decided by a judge: P(none of its candidates is right)
           CASE WHEN cur.label = """ + repr(NO_LABEL) + """ AND cur.origin = 'judge' THEN 1.0 - coalesce(v.p_right, 0.0)
                WHEN cur.label IS NOT NULL THEN
                    CASE WHEN cur.origin = 'judge' THEN coalesce(v.p_right, a.confidence, 1.0) ELSE 1.0 END
                WHEN NOT ml.rejected THEN ml.confidence END AS confidence,
           CASE WHEN cur.label IS NOT NULL THEN cur.origin WHEN NOT ml.rejected THEN 'model' END AS origin,
           -- false, never null, where no threshold is set (a filter `needs_review == False` keeps the row)
           coalesce(held.sample_id IS NOT NULL
                    OR (cur.label IS NULL AND (ml.rejected OR ml.confidence < {review_below}
                                               OR ml.p_in_scope < """ + repr(OUT_OF_SCOPE_BELOW) + """)), FALSE)
             AS needs_review,
           -- a text unlike every label's known texts: its model label is a guess (issue 20)
           coalesce(cur.label = """ + repr(NO_LABEL) + """
                    OR (cur.label IS NULL AND ml.p_in_scope < """ + repr(OUT_OF_SCOPE_BELOW) + """), FALSE) AS out_of_scope,
           coalesce(cur.label = """ + repr(NO_LABEL) + """, FALSE) AS fits_none,
           CASE WHEN cur.label IS NULL THEN ml.p_in_scope END AS p_in_scope,
           CASE WHEN cur.label IS NULL THEN {as_list}(ml.alternatives) END AS alternatives,
           CASE WHEN cur.label IS NULL THEN {as_list}(ml.alternative_confidences) END AS alternative_confidences,
           cur.actor, cur.iteration, cur.decided_at, h.last_verdict, h.last_origin, h.last_actor,
           h.last_decided_at, {decisions} AS decisions, s.role, s.source, s.source_row, s.seq
    FROM samples s
    LEFT JOIN cur ON cur.sample_id = s.id
    LEFT JOIN annotations a ON a.event_id = cur.event_id
    LEFT JOIN judge_verdicts v ON v.verdict_id = a.verdict_id
    LEFT JOIN ml ON ml.sample_id = s.id
    LEFT JOIN held ON held.sample_id = s.id
    LEFT JOIN hist h ON h.sample_id = s.id
    WHERE s.role <> 'holdout'
)
"""

# The export: the rows above, filtered by {where}, with the decision history unless {drop} drops it.
EXPORT_SQL = LABEL_ROWS_SQL + """SELECT * EXCLUDE (seq{drop}) FROM rows WHERE {where} ORDER BY seq
"""

# The origins a row can show: the decided labels' and "model" (the newest model label).
EXPORT_ORIGINS = ORIGINS + ("model",)
