"""The embedded judge: a small instruct model run here by llama.cpp (xllamacpp), no server.

Tiny models are weak judges, so this one does not trust a sampled answer: it asks for a
one-token yes/no after a few worked examples, reads P(yes) and P(no) from the top
log-probabilities, and reports P(yes) / (P(yes) + P(no)) as its confidence. Its
agreement with gold is measured by `red judge-eval --judge embedded` — show that figure
to anyone who relies on it.
"""

from __future__ import annotations

import os
import threading
import time

from ..errors import JudgeUnavailableError
from . import packaged_models
from .base import BaseJudge, JudgeRequest, Verdict, cached_verdict
from .prompts import CHOOSE_SYSTEM, choice_from_probabilities, choice_probabilities, choose_messages, prompt_hash
from .prompts import YES_NO_SYSTEM as SYSTEM
from .prompts import yes_no_messages, yes_probability

messages_for = yes_no_messages  # kept: tests and doubles import it from here

_servers: dict[tuple, object] = {}
_servers_lock = threading.Lock()


def server_for(path: str, threads: int, n_ctx: int = 4096):
    """One llama.cpp server per (model, threads) per process, kept for its lifetime.

    Destroying an xllamacpp.Server right after creating it hung (measured here), so none is freed.
    """
    key = (path, threads, n_ctx)
    with _servers_lock:
        if key not in _servers:
            try:
                import xllamacpp as xlc
            except ImportError as exc:
                raise JudgeUnavailableError(
                    "the embedded judge needs llama.cpp's Python runtime: run `make judge`") from exc
            p = xlc.CommonParams()
            p.model.path = path
            p.n_ctx = n_ctx
            p.n_parallel = 1
            p.cpuparams.n_threads = threads
            p.cpuparams_batch.n_threads = threads
            # llama.cpp's server logs every request to stderr; quiet unless asked for
            p.verbosity = int(os.environ.get("RED_LLAMA_VERBOSITY", "0"))
            _servers[key] = xlc.Server(p)
        return _servers[key]


class EmbeddedJudge(BaseJudge):
    """Judge with a packaged GGUF model through llama.cpp, offline.

    Parameters
    ----------
    model : name of a packaged model (see ``red_app.judges.packaged_models.MODELS``);
        default: the strongest one installed.
    threads : CPU threads for llama.cpp (measured here: under load 1 beat 2). Default 2.
    threshold : P(yes) above which the verdict is *valid*.
    cache : a Project whose judge_verdicts serve as the verdict cache (optional).
    """

    kind = "embedded"
    concurrency = 1  # one llama.cpp slot: requests are serial, grouped prefixes stay cached

    def __init__(self, model: str | None = None, threads: int | None = None, threshold: float = 0.5,
                 cache=None):
        have = packaged_models.available()
        if model is None:
            model = next((m for m in packaged_models.MODELS if m in have), packaged_models.DEFAULT)
        self.spec = packaged_models.MODELS.get(model)
        self.path = str(packaged_models.model_path(model))  # clear error if not installed
        self.model = model
        self.threads = int(threads or 2)
        self.threshold = threshold
        self.cache = cache
        self.server = server_for(self.path, self.threads)

    def describe(self) -> str:
        note = f" — {self.spec.note}" if self.spec and self.spec.note else ""
        return f"embedded judge ({self.spec.title if self.spec else self.model}){note}"

    def complete(self, messages: list[dict], max_tokens: int = 120) -> str:
        """Free text from the model for ``messages`` (temperature 0), e.g. a label description."""
        resp = self.server.handle_chat_completions({"messages": messages, "max_tokens": max_tokens, "temperature": 0})
        try:
            return resp["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise JudgeUnavailableError(f"llama.cpp returned no text: {str(resp)[:200]}") from exc

    def _top_logprobs(self, msgs: list[dict]):
        resp = None
        req = {"messages": msgs, "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 20}
        try:
            resp = self.server.handle_chat_completions(req)
            return resp["choices"][0]["logprobs"]["content"][0]["top_logprobs"], None
        except (KeyError, IndexError, TypeError) as exc:
            return None, f"llama.cpp gave no log-probabilities ({type(exc).__name__}: {str(resp)[:200]})"

    def _choose(self, request: JudgeRequest) -> Verdict:
        """A choose question: one token, the probability of each candidate letter and of none."""
        msgs = choose_messages(request)
        prompt = msgs[-1]["content"]
        phash = prompt_hash(self.model, CHOOSE_SYSTEM, prompt)
        hit = cached_verdict(self.cache, phash, self.model, prompt)
        if hit is not None:
            return hit
        t0 = time.perf_counter()
        top, error = self._top_logprobs(msgs)
        ms = (time.perf_counter() - t0) * 1000
        try:
            if error:
                raise ValueError(error)
            choice, conf, extra = choice_from_probabilities(request, *choice_probabilities(top, len(request.candidates)))
        except ValueError as exc:
            return Verdict(valid=None, confidence=0.0, model=self.model, prompt_hash=phash, prompt=prompt,
                           latency_ms=ms, error=str(exc))
        return Verdict(valid=choice is not None, confidence=conf, choice=choice, model=self.model, latency_ms=ms,
                       rationale=f"P({choice or 'none'}) = {conf:.3f}", prompt_hash=phash, prompt=prompt, extra=extra)

    def judge(self, request: JudgeRequest) -> Verdict:
        if request.is_choice:
            return self._choose(request)
        msgs = messages_for(request)
        prompt = msgs[-1]["content"]
        phash = prompt_hash(self.model, SYSTEM, prompt)
        hit = cached_verdict(self.cache, phash, self.model, prompt)
        if hit is not None:
            return hit
        t0 = time.perf_counter()
        req = {"messages": msgs, "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 20}
        try:
            resp = self.server.handle_chat_completions(req)
            top = resp["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        except (KeyError, IndexError, TypeError) as exc:
            return Verdict(valid=None, confidence=0.0, model=self.model, prompt_hash=phash, prompt=prompt,
                           latency_ms=(time.perf_counter() - t0) * 1000,
                           error=f"llama.cpp gave no log-probabilities ({type(exc).__name__}: {str(resp)[:200]})")
        ms = (time.perf_counter() - t0) * 1000
        try:
            p_yes, p_no = yes_probability(top)
        except ValueError as exc:  # an impossible log-probability: a failed call, never charged
            return Verdict(valid=None, confidence=0.0, model=self.model, prompt_hash=phash, prompt=prompt,
                           latency_ms=ms, error=str(exc))
        if p_yes + p_no < 1e-6:
            return Verdict(valid=None, confidence=0.0, model=self.model, prompt_hash=phash, prompt=prompt,
                           latency_ms=ms, error="the model answered neither yes nor no")
        conf = p_yes / (p_yes + p_no)
        return Verdict(valid=conf >= self.threshold, confidence=conf if conf >= self.threshold else 1 - conf,
                       rationale=f"P(yes) = {conf:.3f} (mass on yes/no {p_yes + p_no:.2f})",
                       model=self.model, latency_ms=ms, prompt_hash=phash, prompt=prompt,
                       extra={"p_yes": conf})
