"""TEST DOUBLE: a server that speaks Ollama's API (/api/version, /api/tags, /api/chat)
on 127.0.0.1, answering with a real model: the packaged GGUF run by llama.cpp (xllamacpp).

No Ollama server can be installed on this machine (FACTS.md). This lets the unchanged
`ollama` client and our OllamaJudge get real, model-written answers to real prompts,
including structured output (`format` = JSON schema → llama.cpp's json_schema grammar).
"""

from __future__ import annotations

import threading

from red_app.judges import packaged_models
from red_app.judges.embedded import server_for

from .ollama_api import OllamaApiServer


class OllamaLlamaDouble(OllamaApiServer):
    def __init__(self, model: str = "qwen2.5-coder-1.5b", threads: int = 2):
        super().__init__()
        self.model_names = (f"{model}:latest",)
        self.llama = server_for(str(packaged_models.model_path(model)), threads)
        self.lock = threading.Lock()

    def chat(self, req: dict) -> str:
        body = {"messages": req["messages"], "temperature": (req.get("options") or {}).get("temperature", 0.8),
                "max_tokens": 200}
        fmt = req.get("format")
        if isinstance(fmt, dict):
            body["response_format"] = {"type": "json_schema", "json_schema": {"schema": fmt}}
        elif fmt == "json":
            body["response_format"] = {"type": "json_object"}
        with self.lock:  # one llama.cpp slot
            resp = self.llama.handle_chat_completions(body)
        return resp["choices"][0]["message"]["content"]
