"""What each graph runtime does with an exported ONNX feature extractor (registered with its
:class:`.runtimes.RuntimeSpec`): convert it to the runtime's graph, quantize it to int8 on
calibration clips, and run it. Heavy packages are imported inside the functions."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "OUTPUTS",
    "openvino_convert",
    "openvino_quantize",
    "openvino_runner",
    "ort_quantize",
    "ort_runner",
    "temp_beside",
]

log = logging.getLogger(__name__)

#: The graph's outputs, in order: ``(N, 512)``, ``(N, 512)``, ``(N, C)``.
OUTPUTS = ("spatial", "flow", "logits")


def temp_beside(path: Path) -> Path:
    """A temporary name beside ``path`` (same suffix), for writing then moving into place."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")


def ort_quantize(src: Path, dst: Path, calib: list[np.ndarray]) -> None:
    """Static int8 quantization (QDQ, per-channel weights) with ONNX Runtime, after its
    pre-processing (shape inference, constant folding: batch norms into convolutions)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from .._console import root_records_to

    # small batches, ranges merged every few of them: ONNX Runtime's calibrator holds every
    # intermediate tensor of the batches since its last merge (and fails when the last batch
    # ends on a merge, hence a period that does not divide their number)
    chunks = [c[i : i + 4] for c in calib for i in range(0, len(c), 4)]
    period = next((m for m in range(3, len(chunks)) if len(chunks) % m), None)
    extra = {} if period is None else {"CalibMaxIntermediateOutputs": period}

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(chunks)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.it, None)
            return None if x is None else {"clip": x}

    pre, tmp = temp_beside(dst.with_name("pre-" + dst.name)), temp_beside(dst)
    try:
        with root_records_to(log):
            quant_pre_process(str(src), str(pre))
            quantize_static(str(pre), str(tmp), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            extra_options=extra)  # fmt: skip
        os.replace(tmp, dst)
    finally:
        pre.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


def _save_ir(model: Any, xml: Path) -> None:
    """Write an OpenVINO model, its weights file first and its ``.xml`` last."""
    import openvino as ov

    tmp = temp_beside(xml)
    ov.save_model(model, str(tmp), compress_to_fp16=False)
    os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))
    os.replace(tmp, xml)


def ort_runner(path: Path, precision: str, threads: int) -> Any:
    """An ONNX Runtime session over ``path`` as a runner (clips -> output arrays)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def run(x: Any) -> dict[str, np.ndarray]:
        out = session.run(list(OUTPUTS), {"clip": np.ascontiguousarray(x.float().cpu().numpy())})
        return dict(zip(OUTPUTS, out))

    return run


def openvino_runner(xml: Path, precision: str, threads: int) -> Any:
    """An OpenVINO CPU model over ``xml`` as a runner, in fp32 or bf16."""
    import openvino as ov

    core = ov.Core()
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    config["INFERENCE_PRECISION_HINT"] = "bf16" if precision == "bf16" else "f32"
    compiled = core.compile_model(core.read_model(str(xml)), "CPU", config)
    request = compiled.create_infer_request()
    names = [compiled.output(i).get_any_name() for i in range(len(compiled.outputs))]

    def run(x: Any) -> dict[str, np.ndarray]:
        res = request.infer({0: np.ascontiguousarray(x.float().cpu().numpy())})
        by_name = {n: np.asarray(res[compiled.output(i)]) for i, n in enumerate(names)}
        return {k: by_name[k].astype(np.float32, copy=False) for k in OUTPUTS}

    return run


def openvino_convert(onnx: Path, xml: Path) -> None:
    """The ONNX graph as OpenVINO IR."""
    import openvino as ov

    _save_ir(ov.Core().read_model(str(onnx)), xml)


def openvino_quantize(onnx: Path, xml: Path, calib: list[np.ndarray]) -> None:
    """NNCF post-training int8 quantization, saved as OpenVINO IR (NNCF's progress bars and
    notices go to this module's logger)."""
    from .._console import captured, quieted

    with captured(log), quieted("torch.utils.cpp_extension", "nncf"):
        import nncf
        import openvino as ov

        model = nncf.quantize(ov.Core().read_model(str(onnx)), nncf.Dataset(calib), subset_size=len(calib))
    _save_ir(model, xml)
