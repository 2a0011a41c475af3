"""TEST DOUBLE: an HTTP server that speaks a slice of Ollama's API (/api/version,
/api/tags, /api/chat) on 127.0.0.1, for testing the real `ollama` client code path.

No Ollama server can be installed on this machine (FACTS.md), so this stands at the
network boundary only. Its "model" is scripted, not an LLM: asked yes/no, it answers valid
when the proposed label's examples share a word with the text; asked to choose, it picks the
candidate whose examples share the most words with the text, or none when no candidate's
do. Models:
  double-judge    well-formed JSON verdicts
  double-garbage  answers that are not JSON
  double-slow     sleeps longer than any test timeout
Any other model name gets Ollama's 404 "model not found".
"""

from __future__ import annotations

import json
import re
import time

from .ollama_api import OllamaApiServer, choose_candidates


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _shared(text_words: set[str], examples: list[str]) -> set[str]:
    return {w for e in examples for w in _words(e) if len(w) > 3} & text_words


class OllamaDouble(OllamaApiServer):
    model_names = ("double-judge:latest", "double-garbage:latest", "double-slow:latest")

    def __init__(self):
        super().__init__()
        self.requests: list[dict] = []

    def chat(self, req: dict) -> str:
        self.requests.append(req)
        model = req["model"].removesuffix(":latest")
        if model == "double-slow":
            time.sleep(5)
        if model == "double-garbage":
            return "Sure! The label looks fine to me."
        user = req["messages"][-1]["content"]
        m = re.search(r"<text>(.*)</text>", user)
        words = _words(json.loads(m.group(1)) if m else "")
        candidates = choose_candidates(req)
        if candidates is not None:
            return self._choose(user, candidates, words)
        examples = [json.loads(line[2:]) for line in user.splitlines() if line.startswith("- ")]
        shared = _shared(words, examples)
        return json.dumps({"valid": bool(shared), "confidence": 0.9 if shared else 0.8,
                           "rationale": f"shares {sorted(shared)[:3]}" if shared else "no overlap"})

    @staticmethod
    def _choose(user: str, candidates: list[str], words: set[str]) -> str:
        """The lettered candidates' examples ("A. label — description", then "   e.g. ..." lines)."""
        examples: dict[str, list[str]] = {c: [] for c in candidates}
        current = None
        for line in user.splitlines():
            head = re.match(r"^([A-Z])\. (.*?) — ", line)
            if head and head.group(2) in examples:
                current = head.group(2)
            elif current and line.startswith("   e.g. "):
                examples[current].append(json.loads(line[len("   e.g. "):]))
        overlap = {c: len(_shared(words, ex)) for c, ex in examples.items()}
        best = max(candidates, key=lambda c: overlap[c])
        if not overlap[best]:
            return json.dumps({"choice": "none", "confidence": 0.8, "rationale": "no candidate shares a word"})
        return json.dumps({"choice": best, "confidence": 0.9, "rationale": f"shares {overlap[best]} word(s)"})
