"""Embedding engines: the fast onnx copy against fp32 torch, engine choice, keys never mixed,
the Ray Data engine end to end with resume, and the messages when a package is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from red_app.errors import RedError
from red_app.project import embed as E
from red_app.project.dataio import import_file
from red_app.project.encoders import cache_key, encode_torch, onnx_encoder
from red_app.project.store import Project

ROOT = Path(__file__).resolve().parents[2]


def _texts(banking_path, n):
    import pandas as pd

    return pd.read_parquet(banking_path, columns=["text"])["text"].head(n).tolist()


def test_fast_engine_matches_fp32_on_every_real_text(banking_path):
    texts = _texts(banking_path, 400) + ["", "a", "x " * 400]  # empty, one letter, truncated
    fast = onnx_encoder().encode(texts, batch_size=32)
    ref = encode_torch(texts)
    assert fast.shape == ref.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    cos = (fast * ref).sum(1)
    assert cos.min() >= 0.9999, (cos.argmin(), cos.min())  # the README says so: measured 0.9999995
    # the length batching puts every vector back at its own text
    again = onnx_encoder().encode(texts[::-1], batch_size=7)[::-1]
    assert np.allclose(again, fast, atol=1e-4)


def _new_project(tmp_path, banking_path):
    path = tmp_path / "e.duckdb"
    labels = "('activate_my_card', 'age_limit', 'apple_pay_or_google_pay')"
    with Project(path, create=True) as p:
        import_file(p, banking_path, where=f"label IN {labels} AND split = 'train' AND shot10")
    return path


def test_a_new_project_gets_the_fast_engine_and_keeps_it(tmp_path, banking_path):
    path = _new_project(tmp_path, banking_path)
    with Project(path) as p:
        rep = E.embed_project(p)
        assert rep.model == cache_key("all-MiniLM-L6-v2", "onnx") == E.project_model(p)
        assert rep.computed == rep.total > 0
        # a later plain `red embed` keeps the project's engine: nothing to do
        assert E.embed_project(p).computed == 0
        assert E.require_embeddings(p) == rep.model


def test_switching_engines_never_mixes_two_keys_in_one_fit(tmp_path, banking_path, monkeypatch):
    path = _new_project(tmp_path, banking_path)
    onnx_key, torch_key = cache_key("all-MiniLM-L6-v2", "onnx"), cache_key("all-MiniLM-L6-v2", "torch")
    with Project(path) as p:
        E.embed_project(p)
        n = p.sample_count()
        # an interrupted switch to torch leaves the project on its old, complete key
        monkeypatch.setattr(E, "CHUNK", 10)

        def stop(done, total):
            if done >= 10:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            E.embed_project(p, engine="torch", progress=stop)
        assert 0 < len(p.cached_hashes(torch_key)) < n
        assert E.project_model(p) == onnx_key
        assert len(p.embedding_matrix(onnx_key)[0]) == n
        # finishing the switch re-embeds the rest under torch's own key, then switches
        rep = E.embed_project(p, engine="torch")
        assert rep.model == torch_key and rep.cached == 10 and rep.computed == rep.total - 10
        assert any("now uses" in note for note in rep.notes)
        assert E.project_model(p) == torch_key
        ids_t, X_t = p.embedding_matrix(torch_key)
        ids_o, X_o = p.embedding_matrix(onnx_key)
        assert ids_t == ids_o and len(ids_t) == n
        # the same texts, two engines, two sets of vectors, each read only under its key
        assert not np.array_equal(X_t, X_o)
        assert ((X_t * X_o).sum(1) >= 0.9999).all()
        assert np.allclose(X_t, encode_torch([t for t in p.samples(columns="text")["text"]]), atol=1e-5)


def test_an_old_torch_project_keeps_torch_without_an_engine(tmp_path, banking_path):
    path = _new_project(tmp_path, banking_path)
    with Project(path) as p:
        rep = E.embed_project(p, engine="torch")
        assert E.project_model(p) == "all-MiniLM-L6-v2" == rep.model
        import_file(p, banking_path, where="label = 'age_limit' AND split = 'test'", mode="holdout")
        rep2 = E.embed_project(p)
        assert rep2.model == "all-MiniLM-L6-v2" and rep2.computed > 0 and rep2.engine == "torch"


def test_an_unknown_engine_is_refused(tmp_path, banking_path):
    with Project(_new_project(tmp_path, banking_path)) as p:
        with pytest.raises(RedError, match="unknown embedding engine"):
            E.embed_project(p, engine="gpu")


# --- a package missing: the real CLI in a subprocess whose import of it fails -------------

BLOCK = """
import sys
# blocks the package: `import {mod}` raises ModuleNotFoundError and find_spec says absent,
# as if it were not installed (a blocked module, not a real uninstall)
sys.modules["{mod}"] = None
from red_app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _red_without(mod, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(BLOCK.format(mod=mod)), *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_without_onnxruntime_a_new_project_falls_back_to_torch_and_says_so(tmp_path, banking_path):
    path = _new_project(tmp_path, banking_path)
    out = _red_without("onnxruntime", "embed", str(path))
    assert out.returncode == 0, out.stderr
    assert "fast onnx engine is unavailable" in out.stderr and "onnxruntime" in out.stderr
    assert "engine torch" in out.stdout
    with Project(path, read_only=True) as p:
        assert E.project_model(p) == "all-MiniLM-L6-v2"


def test_without_onnxruntime_an_onnx_project_is_never_topped_up_with_torch(tmp_path, banking_path):
    path = _new_project(tmp_path, banking_path)
    with Project(path) as p:
        E.embed_project(p)
        import_file(p, banking_path, where="label = 'age_limit' AND split = 'test'", mode="holdout")
    out = _red_without("onnxruntime", "embed", str(path))
    assert out.returncode != 0
    assert "onnx engine, which cannot run here" in out.stderr and "--engine torch" in out.stderr
    with Project(path, read_only=True) as p:
        assert not p.cached_hashes("all-MiniLM-L6-v2")


def test_without_ray_the_ray_engine_says_how_to_get_it(tmp_path, banking_path):
    out = _red_without("ray", "embed", str(_new_project(tmp_path, banking_path)), "--engine", "ray")
    assert out.returncode != 0
    assert "red-app[ray]" in out.stderr and "ray" in out.stderr


# --- Ray --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'red-app[ray]')")
    os.environ.pop("RAY_ADDRESS", None)
    yield ray
    ray.shutdown()


def test_the_ray_engine_embeds_resumes_and_matches_the_local_engine(tmp_path, banking_path, local_ray, monkeypatch):
    path = _new_project(tmp_path, banking_path)
    key = cache_key("all-MiniLM-L6-v2", "onnx")
    with Project(path) as p:
        n = p.sample_count()
        monkeypatch.setattr(E, "CHUNK", 8)  # written to the project 8 texts at a time

        def stop(done, total):
            if done >= 8:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            E.embed_project(p, engine="ray", workers=2, progress=stop)
        kept = len(p.cached_hashes(key))
        assert 0 < kept < n
        rep = E.embed_project(p, engine="ray", workers=2)
        assert rep.cached == kept and rep.computed == n - kept and rep.engine == "ray (onnx)"
        assert any("local Ray instance with 2 actor(s)" in note for note in rep.notes)
        assert E.project_model(p) == key
        ids, X = p.embedding_matrix(key)
        texts = p.samples(columns="id, text").set_index("id").loc[ids, "text"].tolist()
    assert len(ids) == n
    local = onnx_encoder().encode(texts)
    assert np.allclose(X, local, atol=1e-4)  # the same model and normalisation as the local path
