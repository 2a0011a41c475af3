"""What the two Ollama-API test doubles share: the HTTP plumbing, /api/version, /api/tags.

A double subclasses :class:`OllamaApiServer`, lists its ``model_names`` and implements
``chat(request) -> (status, body)`` for POST /api/chat. :func:`choose_candidates` tells a
choose question (its JSON schema's ``choice`` enum) from a yes/no one.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from .loopback import LoopbackServer


def choose_candidates(req: dict) -> list[str] | None:
    """The candidate labels of a choose question (the enum of its schema's ``choice``, without
    "none"); None for a yes/no question."""
    fmt = req.get("format")
    props = fmt.get("properties", {}) if isinstance(fmt, dict) else {}
    if "choice" not in props:
        return None
    return [c for c in props["choice"].get("enum", []) if c != "none"]


class _Handler(BaseHTTPRequestHandler):
    server: "OllamaApiServer"

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
            return self._send(200, {"version": "0.12.11-test-double"})
        if self.path == "/api/tags":
            return self._send(200, {"models": [{"name": n, "model": n, "modified_at": "2026-01-01T00:00:00Z",
                                                "size": 1, "digest": "0" * 64, "details": {}}
                                               for n in self.server.model_names]})
        self._send(404, {"error": "not found"})

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path != "/api/chat":
            return self._send(404, {"error": "not found"})
        name = req.get("model", "")
        if ":" not in name:
            name += ":latest"  # as Ollama does: a bare name means its latest tag
        if name not in self.server.model_names:
            return self._send(404, {"error": f"model '{req.get('model')}' not found"})
        req["model"] = name
        content = self.server.chat(req)
        self._send(200, {"model": req["model"], "created_at": "2026-01-01T00:00:00Z",
                         "message": {"role": "assistant", "content": content}, "done": True})


class OllamaApiServer(LoopbackServer):
    model_names: tuple[str, ...] = ()

    def __init__(self):
        super().__init__(_Handler)

    def chat(self, request: dict) -> str:  # pragma: no cover - abstract
        raise NotImplementedError
