"""TEST DOUBLE: an HTTP server that speaks a slice of Ollama's API (/api/version,
/api/tags, /api/chat) on 127.0.0.1, for testing the real `ollama` client code path.

No Ollama server can be installed on this machine (FACTS.md), so this stands at the
network boundary only. Its "model" is scripted, not an LLM: it answers valid when the
proposed label's examples share a word with the text. Models:
  double-judge    well-formed JSON verdicts
  double-garbage  answers that are not JSON
  double-slow     sleeps longer than any test timeout
Any other model name gets Ollama's 404 "model not found".
"""

from __future__ import annotations

import json
import re
import time

from .ollama_api import OllamaApiServer


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
        text = json.loads(m.group(1)) if m else ""
        examples = [json.loads(line[2:]) for line in user.splitlines() if line.startswith("- ")]
        words = set(re.findall(r"[a-z]+", text.lower()))
        shared = {w for e in examples for w in re.findall(r"[a-z]+", e.lower()) if len(w) > 3} & words
        return json.dumps({"valid": bool(shared), "confidence": 0.9 if shared else 0.8,
                           "rationale": f"shares {sorted(shared)[:3]}" if shared else "no overlap"})
