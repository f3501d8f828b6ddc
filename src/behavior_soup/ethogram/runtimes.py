"""Inference runtimes for the feature extractor: eager torch, ONNX Runtime or OpenVINO, in
fp32, bf16 or int8, chosen with one argument each.

==============  =====================  ==========================================  ==========
runtime         precisions             how                                          extra
==============  =====================  ==========================================  ==========
``torch``       fp32, bf16             eager; bf16 through ``torch.autocast``       ``ethogram``
``onnxruntime`` fp32, int8             ONNX graph; int8 by static QDQ quantization  ``onnx``
``openvino``    fp32, bf16, int8       OpenVINO IR; int8 by NNCF post-training      ``openvino``
==============  =====================  ==========================================  ==========

An exported graph is cached beside its checkpoint, named by the checkpoint's content hash,
runtime, precision and input size (``fe.pt`` -> ``fe.openvino-int8-224x224-<hash>.xml``), so
it is made once per model and remade when the model changes. int8 graphs are calibrated on
the frames of the trials given when they are made, and used only once accepted by the
accuracy check in :mod:`.quantize` (F1 within 0.01 of fp32 on the model's validation trials).
bf16 needs a CPU with AVX512-BF16 or AMX: elsewhere it is refused with a message saying so.
GPUs stay with torch (``device="cuda"``, which already runs in mixed precision).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import MissingDependencyError
from . import runtime_backends as _rb

__all__ = [
    "PRECISIONS",
    "RUNTIMES",
    "Precision",
    "Runtime",
    "RuntimeSpec",
    "bf16_supported",
    "check_runtime",
    "graph_path",
    "register_runtime",
]

Runtime = Literal["torch", "onnxruntime", "openvino"]
Precision = Literal["fp32", "bf16", "int8"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "int8")

#: A compiled feature extractor: ``(N, 3L, H, W)`` float32 clips -> ``spatial``, ``flow``
#: ``(N, 512)`` and ``logits`` ``(N, C)`` float32 arrays.
Runner = Callable[[Any], dict[str, np.ndarray]]


@dataclass(frozen=True)
class RuntimeSpec:
    """One inference runtime.

    Attributes
    ----------
    name
        As passed to ``runtime=``.
    precisions
        The precisions it runs.
    modules
        Python modules it needs (checked before anything runs).
    extra
        The pip extra that installs them.
    suffix
        The cached graph's file suffix (``None``: nothing is cached, as for torch).
    convert
        ``(onnx, graph)``: write the runtime's graph from the exported ONNX one (None when
        the ONNX graph is the runtime's own).
    quantize
        ``(onnx, graph, calibration)``: write the int8 graph, calibrated on a list of
        ``(N, 3L, H, W)`` float32 arrays.
    runner
        ``(graph, precision, threads) -> Runner``.
    """

    name: str
    precisions: tuple[str, ...]
    modules: tuple[str, ...]
    extra: str
    suffix: str | None
    convert: Callable[[Path, Path], None] | None = None
    quantize: Callable[[Path, Path, list[np.ndarray]], None] | None = None
    runner: Callable[[Path, str, int], Runner] | None = None


RUNTIMES: dict[str, RuntimeSpec] = {}


def register_runtime(spec: RuntimeSpec) -> RuntimeSpec:
    """Register a runtime under its name (:mod:`.compile` exports the ONNX graph it starts from).

    Parameters
    ----------
    spec
        The runtime.

    Returns
    -------
    RuntimeSpec
        ``spec``.
    """
    RUNTIMES[spec.name] = spec
    return spec


register_runtime(RuntimeSpec("torch", ("fp32", "bf16"), ("torch",), "ethogram", None))
register_runtime(
    RuntimeSpec(
        "onnxruntime",
        ("fp32", "int8"),
        ("onnxruntime", "onnx"),
        "onnx",
        ".onnx",
        None,
        _rb.ort_quantize,
        _rb.ort_runner,
    )  # fmt: skip
)
register_runtime(
    RuntimeSpec(
        "openvino",
        ("fp32", "bf16", "int8"),
        ("openvino", "nncf", "onnx"),
        "openvino",
        ".xml",
        _rb.openvino_convert,
        _rb.openvino_quantize,
        _rb.openvino_runner,
    )  # fmt: skip
)


def bf16_supported() -> bool:
    """Whether this CPU computes in bf16 natively (AVX512-BF16 or AMX-BF16, from
    ``/proc/cpuinfo``; False where that cannot be read).

    Returns
    -------
    bool
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def check_runtime(runtime: str, precision: str, device: str = "cpu") -> RuntimeSpec:
    """Check a runtime and precision can run here, before any work.

    Parameters
    ----------
    runtime
        ``"torch"``, ``"onnxruntime"`` or ``"openvino"``.
    precision
        ``"fp32"``, ``"bf16"`` or ``"int8"``.
    device
        The resolved torch device; runtimes other than torch run on the CPU only.

    Returns
    -------
    RuntimeSpec

    Raises
    ------
    ValueError
        Unknown runtime or precision, a precision the runtime lacks, a non-CPU device for
        ONNX Runtime or OpenVINO, or bf16 on a CPU without bf16 instructions.
    MissingDependencyError
        The runtime's package is not installed (the message names the extra).
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"expected runtime in {list(RUNTIMES)}, got {runtime!r}")
    spec = RUNTIMES[runtime]
    if precision not in spec.precisions:
        raise ValueError(f"expected precision in {list(spec.precisions)} for runtime {runtime!r}, got {precision!r}")
    if runtime != "torch" and device != "cpu":
        raise ValueError(f"expected device 'cpu' for runtime {runtime!r}, got {device!r}; GPUs run with 'torch'")
    if precision == "bf16" and device == "cpu" and not bf16_supported():
        raise ValueError(
            "expected a CPU with AVX512-BF16 or AMX for precision 'bf16', got one without (no avx512_bf16 or "
            "amx_bf16 in /proc/cpuinfo); use 'fp32', or 'int8' with runtime 'openvino' or 'onnxruntime'"
        )
    missing = [m for m in spec.modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"expected {', '.join(missing)} for runtime {runtime!r}, found none; "
            f"pip install 'behavior_soup[{spec.extra}]'"
        )
    return spec


_HASHES: dict[tuple[str, int, int], str] = {}


def _content_hash(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def graph_path(checkpoint: str | os.PathLike, runtime: str, precision: str, input_size: tuple[int, int]) -> Path:
    """Where the graph of ``checkpoint`` for a runtime and precision is cached.

    Parameters
    ----------
    checkpoint
        The feature extractor's checkpoint.
    runtime
        A runtime with a cached graph (``"onnxruntime"``, ``"openvino"``).
    precision
        ``"fp32"``, ``"bf16"`` or ``"int8"`` (bf16 shares the fp32 graph: the runtime lowers
        it when compiling).
    input_size
        ``(H, W)`` of the input.

    Returns
    -------
    pathlib.Path
        Beside the checkpoint: ``<stem>.<runtime>-<precision>-<H>x<W>-<hash12><suffix>``.
    """
    ck = Path(checkpoint)
    suffix = RUNTIMES[runtime].suffix or ""
    stored = "fp32" if precision == "bf16" else precision
    h, w = input_size
    return ck.with_name(f"{ck.stem}.{runtime}-{stored}-{h}x{w}-{_content_hash(ck)[:12]}{suffix}")
