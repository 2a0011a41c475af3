"""What a benchmark run keeps of its judge's questions: their cost (calls, prompt tokens,
seconds), and — where a simulated person has a budget — that person's answers to the
verdicts the loop held for people (issue 21, items 2 and 3)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..method.loop import FITS_NONE, BaseSink


@lru_cache(maxsize=1)
def _tokenizer():
    """The embedding model's WordPiece tokenizer (packaged, offline): prompt sizes are counted
    with it, so binary and choose questions compare on one scale."""
    from tokenizers import Tokenizer

    from ..project.embed import DEFAULT_MODEL, resolve_model_path

    tok = Tokenizer.from_file(str(Path(resolve_model_path(DEFAULT_MODEL)) / "tokenizer.json"))
    tok.no_truncation()  # the encoder's own 128-token cut would cap every prompt
    return tok


def prompt_tokens(request) -> int:
    """Tokens of the messages an LLM judge is sent for ``request`` (system and user turns)."""
    from ..judges.prompts import choose_messages, yes_no_messages

    messages = choose_messages(request) if request.is_choice else yes_no_messages(request)
    text = "\n".join(m["content"] for m in messages)
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


class BenchSink(BaseSink):
    """Counts the cost of every answered question; with ``person_budget`` > 0 a simulated
    person answers the held verdicts, oldest first, as a person working through Review would.

    The person knows the gold (``truth``: label index per loop sample, -1 for a text that fits
    none of the project's labels) and errs like one: right with probability
    ``person_accuracy``, otherwise they name the most plausible wrong candidate they were shown.
    """

    def __init__(self, truth: np.ndarray | None = None, person_budget: int = 0, person_accuracy: float = 0.95,
                 seed: int = 0, count_tokens: bool = True):
        self.truth = truth
        self.person_budget = int(person_budget)
        self.person_accuracy = float(person_accuracy)
        self.seed = seed
        self.count_tokens = count_tokens
        self.queue: list[tuple[int, tuple[int, ...]]] = []
        self.answered: set[int] = set()
        self.person_answers = 0
        self.person_right = 0
        self.tokens = 0
        self.judge_seconds = 0.0

    def _cost(self, request, verdict) -> bool:
        if verdict.valid is None and not verdict.pending:
            return False  # a failed call: not charged, not counted
        if self.count_tokens:
            self.tokens += prompt_tokens(request)
        self.judge_seconds += (verdict.latency_ms or 0.0) / 1000
        return True

    def on_calibration(self, cal) -> None:
        for request, verdict, _truth in cal.judged:  # measuring the judge on seeds costs calls too
            self._cost(request, verdict)

    def on_verdicts(self, iteration: int, judged: list) -> None:
        for j in judged:
            if not self._cost(j.request, j.verdict):
                continue
            if not j.applied and self.person_budget and j.index not in self.answered:
                self.queue.append((j.index, tuple(j.candidates) or (j.label,)))

    def _coin(self, i: int) -> float:
        h = hashlib.blake2b(f"{self.seed}|person|{i}".encode(), digest_size=8)
        return float(np.random.default_rng(int.from_bytes(h.digest(), "little")).random())

    def human_decisions(self) -> list[tuple[int, int, bool]]:
        out = []
        while self.queue and self.person_answers < self.person_budget:
            i, shown = self.queue.pop(0)
            if i in self.answered:
                continue
            truth = int(self.truth[i])
            right = FITS_NONE if truth < 0 else truth
            wrong = [lab for lab in shown if lab != truth]
            lab = right if self._coin(i) < self.person_accuracy or not wrong else wrong[0]
            self.answered.add(i)
            self.person_answers += 1
            self.person_right += lab == right
            out.append((i, lab, True))
        return out

    def figures(self, prefix: str) -> dict:
        return {f"{prefix}_prompt_tokens": self.tokens if self.count_tokens else None,
                f"{prefix}_judge_seconds": self.judge_seconds,
                f"{prefix}_person_answers": self.person_answers,
                f"{prefix}_person_right": self.person_right}
