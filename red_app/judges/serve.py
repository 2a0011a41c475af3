"""llama.cpp's own OpenAI-compatible HTTP server on a packaged model, through xllamacpp.

Start one on a spare machine with `red serve-judge --port 8080` and point a run at it with
`red run --judge openai --judge-url http://HOST:8080/v1`; several such servers share the
judge's requests (see ``openai_judge.OpenAIJudge``).

Measured here: destroying an ``xllamacpp.Server`` right after creating it hung, so a server is
kept for the life of the process; start at most one per (model, port) per process.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request

from ..errors import JudgeUnavailableError
from . import packaged_models

_started: dict[tuple, tuple] = {}
_lock = threading.Lock()


def _models_at(url: str, timeout: float = 2.0) -> list[str]:
    with urllib.request.urlopen(url.rstrip("/") + "/models", timeout=timeout) as resp:
        return [m["id"] for m in json.load(resp).get("data", [])]


def start_server(model: str = "smollm2-135m", port: int = 8080, threads: int | None = None, slots: int = 1,
                 host: str = "127.0.0.1", n_ctx: int | None = None, wait_s: float = 60.0):
    """Start (or return the one already started here) llama.cpp's HTTP server on ``model``.

    Parameters
    ----------
    model : a packaged model name (``packaged_models.MODELS``).
    port, host : where it listens. 127.0.0.1 keeps it on this machine; 0.0.0.0 opens it to the network.
    threads : CPU threads for generation (default 2). slots : requests served at once.
    n_ctx : context size shared by the slots (default 4096 per slot).

    Returns
    -------
    (server, url, model_id) : the server object (keep it alive), the base URL clients use
    (``http://HOST:PORT/v1``) and the model id the server reports on ``/v1/models``.
    """
    key = (model, int(port), host)
    with _lock:
        if key in _started:
            return _started[key]
        try:
            import xllamacpp as xlc
        except ImportError as exc:
            raise JudgeUnavailableError("serving a judge needs llama.cpp's Python runtime: run `make judge`") from exc
        path = str(packaged_models.model_path(model))  # clear error if not installed
        threads = int(threads or 2)
        slots = max(1, int(slots))
        p = xlc.CommonParams()
        p.model.path = path
        p.port = int(port)
        p.hostnames = [host]
        p.n_parallel = slots
        p.model_alias = {model}  # clients ask for "smollm2-135m", not a file path
        p.n_ctx = int(n_ctx or 4096 * slots)
        p.cpuparams.n_threads = threads
        p.cpuparams_batch.n_threads = threads
        p.verbosity = int(os.environ.get("RED_LLAMA_VERBOSITY", "0"))
        server = xlc.Server(p)
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{int(port)}/v1"
        deadline = time.monotonic() + wait_s
        model_id, last = None, None
        while time.monotonic() < deadline:
            try:
                ids = _models_at(url)
                if ids:
                    model_id = ids[0]
                    break
            except (OSError, urllib.error.URLError, ValueError) as exc:
                last = exc
            time.sleep(0.1)
        if model_id is None:
            raise JudgeUnavailableError(f"llama.cpp's server did not answer at {url} within {wait_s:g} s "
                                        f"(is port {port} free?): {last}")
        _started[key] = (server, url, model_id)
        return _started[key]
