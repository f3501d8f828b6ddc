"""Compiling a feature extractor for a runtime (see :mod:`.runtimes`): export to ONNX, the
runtime's own graph, int8 quantization, and the callable that runs a batch.

Graphs are written to a temporary name and moved into place (OpenVINO's weights file first,
its ``.xml`` last), so a crash never leaves a half-written graph where a complete one is
expected; a cached graph is reused across processes.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .._torch import torch as _torch
from .runtime_backends import OUTPUTS, temp_beside
from .runtimes import RUNTIMES, Runner, graph_path

__all__ = ["clear_model_caches", "compile_feature_extractor", "export_onnx", "run_batches"]

log = logging.getLogger(__name__)

_RUNNERS: OrderedDict[tuple, Runner] = OrderedDict()
_RUNNERS_KEPT = 4  # compiled graphs hold their weights: keep the last few only


def _outputs_module(net: Any) -> Any:
    torch = _torch()

    class Outputs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: Any) -> tuple[Any, Any, Any]:
            o = self.net(x)
            return o["spatial"], o["flow"], o["logits"]

    return Outputs().eval()


def export_onnx(net: Any, path: Path, input_shape: tuple[int, int, int]) -> Path:
    """Export a feature extractor to ONNX with a free batch dimension.

    Parameters
    ----------
    net
        The feature extractor, on the CPU.
    path
        The ``.onnx`` file to write (atomically).
    input_shape
        ``(3 * L, H, W)`` of one clip.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    torch = _torch()
    module = _outputs_module(net.cpu().float())
    x = torch.zeros(2, *input_shape)
    tmp = temp_beside(path)
    kw = {"input_names": ["clip"], "output_names": list(OUTPUTS)}
    with warnings.catch_warnings():
        # the exporter's deprecation notes, and trace notes on shapes (fixed per graph)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        try:
            torch.onnx.export(module, (x,), str(tmp), dynamo=False, opset_version=17,
                              dynamic_axes={"clip": {0: "n"}, **{k: {0: "n"} for k in OUTPUTS}}, **kw)  # fmt: skip
        except (TypeError, RuntimeError, NotImplementedError) as exc:  # a torch without the TorchScript exporter
            log.info("TorchScript ONNX export unavailable (%s); using torch.export", exc)
            batch = torch.export.Dim("n", min=1, max=4096)
            torch.onnx.export(module, (x,), str(tmp), dynamo=True, dynamic_shapes=({0: batch},), **kw)
    module.train(False)
    os.replace(tmp, path)
    return path


def _batches_np(calibration: Callable[[], Iterable[Any]], limit: int) -> list[np.ndarray]:
    out, n = [], 0
    batches = calibration()
    for x in batches:
        out.append(np.ascontiguousarray(x.float().cpu().numpy()))
        n += len(x)
        if n >= limit:
            break
    close = getattr(batches, "close", None)
    if close is not None:
        close()  # stops a decoding thread
    if not out:
        raise ValueError("expected calibration clips for int8, got none")
    return out


def _torch_runner(net: Any, precision: str, device: str) -> Runner:
    torch = _torch()
    dev_type = device.split(":")[0]
    channels_last = not net.is3d
    amp = {"enabled": dev_type != "cpu"} if precision == "fp32" else {"enabled": True, "dtype": torch.bfloat16}

    def run(x: Any) -> dict[str, np.ndarray]:
        x = x.to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast(device_type=dev_type, **amp):
            o = net(x)
            return {k: o[k].float().cpu().numpy() for k in OUTPUTS}

    return run


def compile_feature_extractor(
    checkpoint: str | os.PathLike,
    net: Any,
    meta: dict[str, Any],
    runtime: str,
    precision: str,
    device: str = "cpu",
    calibration: Callable[[], Iterable[Any]] | None = None,
    calibration_clips: int = 256,
) -> tuple[Runner, Path | None]:
    """The runner of a feature extractor on a runtime, made (and its graph cached) once.

    Parameters
    ----------
    checkpoint
        The feature extractor's checkpoint (graphs are cached beside it).
    net
        The loaded network (see :func:`.loading.load_model`).
    meta
        Its checkpoint metadata (``input_size``, ``n_frames``).
    runtime, precision
        Checked with :func:`.runtimes.check_runtime` first.
    device
        The resolved torch device (``"cpu"`` for runtimes other than torch).
    calibration
        Called (only when the int8 graph is not cached yet) for batches of normalised clips
        ``(N, 3L, H, W)`` to calibrate on.
    calibration_clips
        At most this many clips are used.

    Returns
    -------
    runner
        Clips -> ``spatial``, ``flow``, ``logits`` float32 arrays.
    graph
        The cached graph's path, or None for torch.

    Raises
    ------
    ValueError
        int8 is asked for, its graph is not cached and no calibration clips are given.
    """
    if runtime == "torch":
        return _torch_runner(net, precision, device), None
    h, w = (int(v) for v in meta["input_size"])
    graph = graph_path(checkpoint, runtime, precision, (h, w))
    key = (str(graph), precision, _torch().get_num_threads())
    if key in _RUNNERS and graph.is_file():
        _RUNNERS.move_to_end(key)
        return _RUNNERS[key], graph
    spec = RUNTIMES[runtime]
    if not graph.is_file():
        onnx = graph_path(checkpoint, "onnxruntime", "fp32", (h, w))
        if not onnx.is_file():
            log.info("exporting %s to ONNX", checkpoint)
            export_onnx(net, onnx, (3 * int(meta["n_frames"]), h, w))
        if precision == "int8":
            if calibration is None:
                raise ValueError(f"expected calibration clips to make the int8 graph {graph.name}, got none")
            calib = _batches_np(calibration, calibration_clips)
            log.info("quantizing %s to int8 on %d clips", checkpoint, sum(len(c) for c in calib))
            spec.quantize(onnx, graph, calib)
        elif graph != onnx:
            spec.convert(onnx, graph)
    runner = spec.runner(graph, precision, _torch().get_num_threads())
    _RUNNERS[key] = runner
    while len(_RUNNERS) > _RUNNERS_KEPT:
        _RUNNERS.popitem(last=False)
    return runner, graph


def run_batches(run: Any, batches: Any, desc: str = "features", progress: bool = False) -> dict[str, np.ndarray]:
    """A runner over batches of clips, concatenated.

    Parameters
    ----------
    run
        Clips ``(N, 3L, H, W)`` -> ``spatial``, ``flow``, ``logits`` arrays (see
        :func:`.compile.compile_feature_extractor`).
    batches
        Iterable of clip batches.
    desc
        Progress bar label.
    progress
        Show a progress bar.

    Returns
    -------
    dict
        ``spatial``, ``flow`` ``(T, 512)``, ``logits``, ``probabilities`` ``(T, C)`` float32.
    """
    parts: dict[str, list[np.ndarray]] = {"spatial": [], "flow": [], "logits": []}
    for x in tqdm(batches, desc=desc, disable=not progress, unit="batch"):
        o = run(x)
        for k in parts:
            parts[k].append(o[k])
    arrays = {k: np.concatenate(v).astype(np.float32, copy=False) for k, v in parts.items()}
    arrays["probabilities"] = (1.0 / (1.0 + np.exp(-arrays["logits"]))).astype(np.float32)
    return arrays


def clear_model_caches() -> None:
    """Forget the loaded networks and compiled graphs kept in this process (their memory is
    freed once nothing else holds them); the next use loads them again."""
    from .loading import _CACHE

    _RUNNERS.clear()
    _CACHE.clear()
