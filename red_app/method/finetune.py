"""Adapting the encoder to the labels: a contrastive fine-tune of a sentence-transformers model.

SetFit's idea in a few lines: texts that share a label are pulled together, every other
label in the batch pushed away (in-batch negatives, MultipleNegativesRankingLoss's form,
made symmetric). Each batch holds one (anchor, positive) pair per label and never two
pairs of the same label, so an in-batch "negative" is always truly another label. A
classifier head (the loop's own logistic regression and temperature) is fitted afterwards
on the new embeddings; this module only trains and saves the encoder, in
sentence-transformers' own format (``model.save``: safetensors + config, no pickles).

Works on texts and label indices only (no project, no SQL). CPU only; threads are the
caller's to pin (see ``red_app.project.embed.set_threads``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class FinetuneSettings:
    """How the encoder is trained. Defaults are the measured choice (bench/REPORT.md, issue #14)."""

    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-4
    scale: float = 20.0        # cosine similarities times this are the logits (MNRL's default)
    warmup: float = 0.1        # share of the steps with a linear warm-up
    max_seq_length: int = 64   # short texts; longer ones are cut (cost grows with length)
    seed: int = 0
    hold_out: float = 0.0      # share of the seeds kept out of the fine-tune (they still train the head);
                               # 0 measured better with choose questions (bench/REPORT.md, issue #14)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.learning_rate <= 0 or self.max_seq_length < 8:
            raise ConfigError("fine-tune: epochs >= 1, batch_size >= 2, learning_rate > 0, max_seq_length >= 8")
        if not 0 <= self.hold_out < 1:
            raise ConfigError("fine-tune: hold_out is a share of the seeds, 0 (train on every seed) to below 1")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_strings(cls, items) -> "FinetuneSettings":
        """``KEY=VALUE`` strings (``red bench --finetune epochs=2``) → settings, each checked."""
        types = {f.name: f.type for f in fields(cls)}
        kw = {}
        for item in items or []:
            key, _, value = item.partition("=")
            if key not in types or not value:
                raise ConfigError(f"--finetune {item!r}: use KEY=VALUE with one of {', '.join(types)}")
            try:
                kw[key] = float(value) if types[key] == "float" else int(value)
            except ValueError:
                raise ConfigError(f"--finetune {item!r}: {key} takes a {types[key]}, not {value!r}") from None
        return cls(**kw)


@dataclass(frozen=True)
class FinetuneReport:
    folder: str
    texts: int
    labels: int
    pairs: int
    steps: int
    seconds: float
    final_loss: float


def pair_batches(y: np.ndarray, batch_size: int, epochs: int, seed: int = 0) -> list[list[tuple[int, int]]]:
    """Batches of (anchor, positive) sample positions: same label within a pair, distinct
    labels across the pairs of a batch. Every sample is an anchor once per epoch (labels
    with a single example have no positive and are skipped)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    by_label = {k: np.flatnonzero(y == k) for k in np.unique(y)}
    batches: list[list[tuple[int, int]]] = []
    for _ in range(epochs):
        pairs = []
        for rows in by_label.values():
            if len(rows) < 2:
                continue
            for a in rows:
                p = a
                while p == a:
                    p = rows[rng.integers(len(rows))]
                pairs.append((int(a), int(p)))
        pairs = [pairs[i] for i in rng.permutation(len(pairs))]
        # greedy fill: a pair waits for the next batch that lacks its label
        open_batches: list[tuple[list, set]] = []
        for a, p in pairs:
            lab = y[a]
            for b, seen in open_batches:
                if lab not in seen and len(b) < batch_size:
                    b.append((a, p))
                    seen.add(lab)
                    break
            else:
                open_batches.append(([(a, p)], {lab}))
            if len(open_batches[0][0]) >= batch_size:
                batches.append(open_batches.pop(0)[0])
        batches.extend(b for b, _ in open_batches if len(b) >= 2)
    return batches


def finetune_encoder(
    base: str,
    texts: Sequence[str],
    y: np.ndarray,
    folder: str | Path,
    settings: FinetuneSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FinetuneReport:
    """Fine-tune the sentence-transformers model at ``base`` on ``texts`` labeled ``y``
    (label indices; -1 = unlabeled, ignored) and save it to ``folder``."""
    import torch
    from sentence_transformers import SentenceTransformer

    s = settings or FinetuneSettings()
    y = np.asarray(y)
    keep = np.flatnonzero(y >= 0)
    texts = [texts[i] for i in keep]
    y = y[keep]
    batches = pair_batches(y, s.batch_size, s.epochs, s.seed)
    if not batches:
        raise ConfigError("fine-tune: no label has two labeled examples to pair; label more texts first")
    t0 = time.perf_counter()
    torch.manual_seed(s.seed)
    model = SentenceTransformer(base, device="cpu")
    model.max_seq_length = s.max_seq_length
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=s.learning_rate)
    warm = max(1, int(s.warmup * len(batches)))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: min((step + 1) / warm, max(0.0, (len(batches) - step) / max(1, len(batches) - warm))))
    loss_fn = torch.nn.CrossEntropyLoss()
    loss_v = float("nan")
    for step, batch in enumerate(batches):
        a_idx, p_idx = zip(*batch)
        feats = model.preprocess([texts[i] for i in a_idx] + [texts[i] for i in p_idx])
        emb = model(feats)["sentence_embedding"]
        emb = torch.nn.functional.normalize(emb, dim=1)
        a, p = emb[: len(batch)], emb[len(batch):]
        logits = s.scale * a @ p.T
        target = torch.arange(len(batch))
        loss = (loss_fn(logits, target) + loss_fn(logits.T, target)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        loss_v = float(loss.detach())
        if progress:
            progress(step + 1, len(batches))
    model.eval()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(str(folder))
    return FinetuneReport(str(folder), len(texts), len(np.unique(y)), sum(len(b) for b in batches), len(batches),
                          time.perf_counter() - t0, loss_v)
