"""TEST DOUBLE: an Ollama-API server on 127.0.0.1 that fails in one chosen way (issue #9
item 7). No Ollama server can be installed here (FACTS.md); this stands at the network
boundary only and produces each fault for real on the wire: a status code, a body that is
not JSON, a socket closed mid-request, a reply that never comes.

Modes (the 13 of the issue, the closed port being no server at all):
  tags_500, tags_404, tags_no_model, tags_hang, tags_not_json — /api/tags fails;
  chat_drop (connection closed without a reply), chat_garbage_body (200, body not JSON),
  chat_garbage_content (a reply whose content is not JSON), chat_500, chat_hang,
  chat_valid_yes ({"valid": "yes"}; asked to choose, a choice that is no candidate),
  chat_every_other (a 500 for every second request), chat_trickle (a 200 whose body comes one
  byte every 0.2 s: no single read ever times out).
Otherwise chat answers well-formed verdicts: yes/no, or asked to choose, the first candidate
(none for every third request).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

from .loopback import LoopbackServer
from .ollama_api import choose_candidates

MODEL = "double-judge:latest"
HANG_S = 30.0  # longer than any timeout a test sets; a test's timeout ends it first


class _Handler(BaseHTTPRequestHandler):
    server: "OllamaFaults"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _raw(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, obj) -> None:
        self._raw(code, json.dumps(obj).encode())

    def _hang(self) -> None:
        end = time.time() + HANG_S
        while time.time() < end and not self.server.closing.is_set():
            time.sleep(0.05)
        self.close_connection = True

    def _trickle(self) -> None:
        body = json.dumps({"model": MODEL, "message": {"role": "assistant", "content": "{}"}, "done": True,
                           "padding": " " * 200}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(len(body)):
            if self.server.closing.is_set():
                break
            try:
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
            except OSError:  # the client gave up (its deadline): as it should
                break
            time.sleep(0.2)
        self.close_connection = True

    def do_GET(self):
        mode = self.server.mode
        if self.path == "/api/version":
            return self._json(200, {"version": "0.12.11-test-double"})
        if self.path != "/api/tags":
            return self._json(404, {"error": "not found"})
        if mode == "tags_500":
            return self._json(500, {"error": "internal server error"})
        if mode == "tags_404":
            return self._json(404, {"error": "404 page not found"})
        if mode == "tags_hang":
            return self._hang()
        if mode == "tags_not_json":
            return self._raw(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
        names = ["other-model:latest"] if mode == "tags_no_model" else [MODEL]
        self._json(200, {"models": [{"name": n, "model": n, "modified_at": "2026-01-01T00:00:00Z", "size": 1,
                                     "digest": "0" * 64, "details": {}} for n in names]})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = self.server.mode
        with self.server.lock:
            self.server.chats += 1
            n = self.server.chats
        if mode == "chat_drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "chat_garbage_body":
            return self._raw(200, b"\x00\xffnot json at all{{{", "application/json")
        if mode == "chat_500" or (mode == "chat_every_other" and n % 2 == 0):
            return self._json(500, {"error": "model runner crashed"})
        if mode == "chat_hang":
            return self._hang()
        if mode == "chat_trickle":
            return self._trickle()
        req = json.loads(body or b"{}")
        candidates = choose_candidates(req)
        if mode == "chat_garbage_content":
            content = "Sure! The label looks fine to me."
        elif mode == "chat_valid_yes":
            content = json.dumps({"valid": "yes", "confidence": 0.9, "rationale": "ok"} if candidates is None
                                 else {"choice": "yes", "confidence": 0.9, "rationale": "ok"})
        elif candidates is not None:
            content = json.dumps({"choice": candidates[0] if n % 3 else "none", "confidence": 0.9,
                                  "rationale": "scripted"})
        else:
            content = json.dumps({"valid": n % 3 != 0, "confidence": 0.9, "rationale": "scripted"})
        self._json(200, {"model": req.get("model", MODEL), "created_at": "2026-01-01T00:00:00Z",
                         "message": {"role": "assistant", "content": content}, "done": True})


class OllamaFaults(LoopbackServer):
    def __init__(self, mode: str):
        super().__init__(_Handler)
        self.mode = mode
        self.chats = 0
        self.lock = threading.Lock()
