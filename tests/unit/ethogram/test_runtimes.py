"""Inference runtimes: the same features from torch, ONNX Runtime and OpenVINO (fp32 within
float tolerance, bf16 within bf16's), graphs cached beside the checkpoint and remade when it
changes, int8 used only after its accuracy check, and refusals before any work."""

from __future__ import annotations

import contextlib
import importlib.util
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.errors import MissingDependencyError, ModelError  # noqa: E402
from behavior_soup.ethogram import quantize, runtimes  # noqa: E402
from behavior_soup.ethogram.build import untrained_models  # noqa: E402
from behavior_soup.ethogram.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from behavior_soup.ethogram.infer import extract_features  # noqa: E402
from behavior_soup.jobs import TrialContext  # noqa: E402
from behavior_soup.sample_data import BEHAVIORS  # noqa: E402

HAVE = {r: all(importlib.util.find_spec(m) for m in runtimes.RUNTIMES[r].modules) for r in runtimes.RUNTIMES}


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    import behavior_soup as bs
    from behavior_soup.sample_data import make_sample_data

    tmp = tmp_path_factory.mktemp("rt")
    sd = make_sample_data(tmp / "raw", n_animals=1, n_trials=2, n_frames=40, ephys=False)
    df = bs.create_df(tmp / "t.h5", raw_root=sd.root)
    df.behavior.add_item(sd.animals[0])
    df.behavior.load_labels(progress=False)
    fe, _ = untrained_models(tmp / "models", "fast", BEHAVIORS, size=32)
    ctxs = [TrialContext.from_row(r, df.behavior.info) for _, r in df.iterrows()]
    return {"ctx": ctxs[0], "ctxs": ctxs, "fe": fe, "tmp": tmp}


def features(trial, runtime="torch", precision="fp32"):
    return extract_features(trial["ctx"], trial["fe"], device="cpu", batch_size=8, runtime=runtime,
                            precision=precision)  # fmt: skip


def test_refusals_come_before_any_work(monkeypatch):
    with pytest.raises(ValueError, match=r"expected runtime in \['torch', 'onnxruntime', 'openvino'\], got 'tvm'"):
        runtimes.check_runtime("tvm", "fp32")
    with pytest.raises(ValueError, match="expected precision in .*'onnxruntime', got 'bf16'"):
        runtimes.check_runtime("onnxruntime", "bf16")
    with pytest.raises(ValueError, match="expected device 'cpu' for runtime 'openvino', got 'cuda:0'"):
        runtimes.check_runtime("openvino", "fp32", "cuda:0")
    monkeypatch.setattr(runtimes, "bf16_supported", lambda: False)
    with pytest.raises(ValueError, match="expected a CPU with AVX512-BF16 or AMX"):
        runtimes.check_runtime("torch", "bf16")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'behavior_soup\[openvino\]'"):
        runtimes.check_runtime("openvino", "fp32")


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_fp32_runtimes_give_torchs_features_and_cache_their_graph(trial, runtime):
    if not HAVE[runtime]:
        pytest.skip(f"{runtime} not installed")
    ref, _ = features(trial)
    got, meta = features(trial, runtime)
    for k in ("spatial", "flow", "logits"):
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-3, atol=1e-4 * np.abs(ref[k]).max(), err_msg=k)
    graph = trial["fe"].with_name(meta["runtime"]["graph"])
    assert graph.is_file() and graph.name.startswith(f"{trial['fe'].stem}.{runtime}-fp32-32x32-")
    before = graph.stat().st_mtime_ns
    features(trial, runtime)
    assert graph.stat().st_mtime_ns == before  # reused, not remade


@pytest.mark.parametrize("runtime", ["torch", "openvino"])
def test_bf16_is_close_to_fp32_where_the_cpu_has_it(trial, runtime):
    if not runtimes.bf16_supported() or not HAVE[runtime]:
        pytest.skip("no bf16 on this CPU, or runtime missing")
    ref, _ = features(trial)
    got, meta = features(trial, runtime, "bf16")
    assert meta["runtime"]["precision"] == "bf16"
    scale = np.abs(ref["logits"]).max()
    assert np.abs(got["logits"] - ref["logits"]).max() < 0.1 * scale
    assert not np.array_equal(got["logits"], ref["logits"])  # it did run in lower precision


def test_a_changed_checkpoint_gets_a_new_graph(trial, tmp_path):
    ck = load_checkpoint(trial["fe"])
    ck["model_id"] = "changed"
    other = save_checkpoint(tmp_path / "fe.pt", {k: v for k, v in ck.items() if k != "path"})
    a = runtimes.graph_path(trial["fe"], "openvino", "fp32", (32, 32))
    b = runtimes.graph_path(other, "openvino", "fp32", (32, 32))
    assert a.name.split("-")[-1] != b.name.split("-")[-1]
    assert runtimes.graph_path(trial["fe"], "openvino", "bf16", (32, 32)) == a  # bf16 compiles the fp32 graph


def test_int8_needs_labelled_validation_trials(trial):
    if not HAVE["onnxruntime"]:
        pytest.skip("onnxruntime not installed")
    with pytest.raises(ModelError, match="expected labelled validation trials .* found none of its 0"):
        features(trial, "onnxruntime", "int8")


@pytest.mark.parametrize("drop, accepted", [(0.004, True), (0.03, False)])
def test_the_int8_check_accepts_within_its_bound_and_remembers(trial, tmp_path, monkeypatch, drop, accepted):
    if not HAVE["onnxruntime"]:
        pytest.skip("onnxruntime not installed")
    ck = load_checkpoint(trial["fe"])
    ck["validated_on"] = [c.uuid for c in trial["ctxs"]]
    fe = save_checkpoint(tmp_path / "fe.pt", {k: v for k, v in ck.items() if k != "path"})
    calls = []

    def f1(ctx, run, meta, batch_size=32):
        calls.append(ctx.uuid)
        return 0.9 - drop * (len(calls) > len(trial["ctxs"]))  # fp32 first, then int8

    monkeypatch.setattr(quantize, "_f1_of", f1)
    call = lambda: extract_features(trial["ctx"], fe, device="cpu", batch_size=8, runtime="onnxruntime",  # noqa: E731
                                    precision="int8")  # fmt: skip
    if accepted:
        _, meta = call()
        check = meta["runtime"]["check"]
        assert check["accepted"] and check["drop"] == pytest.approx(drop) and len(check["trials"]) == 2
    else:
        with pytest.raises(ModelError, match="within 0.01 of fp32, got 0.8700 against 0.9000"):
            call()
    graph = runtimes.graph_path(fe, "onnxruntime", "int8", (32, 32))
    record = json.loads(quantize.check_path(graph).read_text())
    assert record["accepted"] is accepted and record["calibrated_on"] == trial["ctx"].label
    n = len(calls)
    with pytest.raises(ModelError) if not accepted else contextlib.nullcontext():
        call()
    assert len(calls) == n  # the check ran once, and a refused graph stays refused
