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
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ("double-judge", "double-garbage", "double-slow")


class _Handler(BaseHTTPRequestHandler):
    server: "OllamaDouble"

    def log_message(self, *args):  # quiet
        pass

    def _send(self, code: int, obj: dict) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/api/version":
            return self._send(200, {"version": "0.12.11-double"})
        if self.path == "/api/tags":
            return self._send(200, {"models": [{"name": f"{m}:latest", "model": f"{m}:latest",
                                                 "modified_at": "2026-01-01T00:00:00Z", "size": 1,
                                                 "digest": "0" * 64, "details": {}} for m in MODELS]})
        self._send(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        req = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/api/chat":
            return self._send(404, {"error": "not found"})
        model = req.get("model", "").removesuffix(":latest")
        if model not in MODELS:
            return self._send(404, {"error": f"model '{req.get('model')}' not found"})
        self.server.requests.append(req)
        if model == "double-slow":
            time.sleep(5)
        user = req["messages"][-1]["content"]
        if model == "double-garbage":
            content = "Sure! The label looks fine to me."
        else:
            m = re.search(r"<text>(.*)</text>", user)
            text = json.loads(m.group(1)) if m else ""
            examples = [json.loads(line[2:]) for line in user.splitlines() if line.startswith("- ")]
            words = set(re.findall(r"[a-z]+", text.lower()))
            shared = {w for e in examples for w in re.findall(r"[a-z]+", e.lower()) if len(w) > 3} & words
            content = json.dumps({"valid": bool(shared), "confidence": 0.9 if shared else 0.8,
                                  "rationale": f"shares {sorted(shared)[:3]}" if shared else "no overlap"})
        self._send(200, {"model": req["model"], "created_at": "2026-01-01T00:00:00Z",
                         "message": {"role": "assistant", "content": content}, "done": True})


class OllamaDouble(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request, client_address):
        pass  # the slow model's client gave up first: a broken pipe here is expected

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
