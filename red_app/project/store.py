"""The project store: one DuckDB file per project.

Nothing about a sample's label is ever overwritten. Every decision — a seed label, a
judge verdict, a human review — is appended to ``annotations``; a sample's current
label is *derived* from that log (the latest ``valid`` event whose label has not been
revoked by a later ``invalid`` event for the same label). A person's undo appends a row to
``revocations`` and the event stops counting, though it stays in the log. Machine verdicts
keep their full audit record in ``judge_verdicts``; the annotation they produced points at it.

Every write goes through :meth:`Project.transaction`, so a failure leaves the file as
it was before the write began.

:class:`Project` is put together here from one part per noun, each in its own module:
``core`` (the file, transactions, schema, settings), ``samples``, ``events``, ``verdicts``,
``runs``, ``embeddings`` and ``label_maps``. The names below stay importable from here.
"""

from __future__ import annotations

from .core import CoreProject, insert_arrow, lock_holder, utcnow  # noqa: F401  (re-exported)
from .embeddings import EmbeddingsMixin
from .events import Event, EventsMixin  # noqa: F401  (re-exported)
from .label_maps import LabelMapsMixin
from .runs import ITERATION_FIGURES, RunsMixin  # noqa: F401  (re-exported)
from .samples import SamplesMixin
from .schema import (  # noqa: F401  (re-exported: the store's vocabulary)
    CURRENT_LABELS_SQL,
    EXCLUDED_PAIRS_SQL,
    HELD_SAMPLES_SQL,
    LIVE_EVENTS_SQL,
    MIGRATIONS,
    NO_LABEL,
    NO_LABEL_SQL,
    ORIGINS,
    ROLES,
    SCHEMA_VERSION,
    VERDICTS,
)
from .verdicts import PURPOSES, VerdictsMixin  # noqa: F401  (re-exported)


class Project(SamplesMixin, VerdictsMixin, EventsMixin, RunsMixin, EmbeddingsMixin, LabelMapsMixin, CoreProject):
    """A red project: one DuckDB file, its tables grouped by noun in the parts above.

    Takes :class:`~red_app.project.core.CoreProject`'s parameters: ``path``, ``create``,
    ``read_only`` and ``wait``.
    """
