"""TEST DOUBLE: a server that speaks Ollama's API (/api/version, /api/tags, /api/chat)
on 127.0.0.1, answering with a real model: the packaged GGUF run by llama.cpp (xllamacpp).

No Ollama server can be installed on this machine (FACTS.md). This lets the unchanged
`ollama` client and our OllamaJudge get real, model-written answers to real prompts,
including structured output (`format` = JSON schema → llama.cpp's json_schema grammar).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from red_app.judges import packaged_models
from red_app.judges.embedded import server_for


class _Handler(BaseHTTPRequestHandler):
    server: "OllamaLlamaDouble"

    def log_message(self, *args):
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
            return self._send(200, {"version": "0.12.11-llama-double"})
        if self.path == "/api/tags":
            name = self.server.model_name
            return self._send(200, {"models": [{"name": name, "model": name, "modified_at": "2026-01-01T00:00:00Z",
                                                "size": 1, "digest": "0" * 64, "details": {}}]})
        self._send(404, {"error": "not found"})

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path != "/api/chat":
            return self._send(404, {"error": "not found"})
        if req.get("model") != self.server.model_name:
            return self._send(404, {"error": f"model '{req.get('model')}' not found"})
        body = {"messages": req["messages"], "temperature": (req.get("options") or {}).get("temperature", 0.8),
                "max_tokens": 200}
        fmt = req.get("format")
        if isinstance(fmt, dict):
            body["response_format"] = {"type": "json_schema", "json_schema": {"schema": fmt}}
        elif fmt == "json":
            body["response_format"] = {"type": "json_object"}
        with self.server.lock:  # one llama.cpp slot
            resp = self.server.llama.handle_chat_completions(body)
        content = resp["choices"][0]["message"]["content"]
        self._send(200, {"model": req["model"], "created_at": "2026-01-01T00:00:00Z",
                         "message": {"role": "assistant", "content": content}, "done": True})


class OllamaLlamaDouble(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, model: str = "qwen2.5-coder-1.5b", threads: int = 2):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.model_name = f"{model}:latest"
        self.llama = server_for(str(packaged_models.model_path(model)), threads)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
