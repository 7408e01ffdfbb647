"""The one way code gets a model file: license policy first, then size and hash, then the path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import onnxruntime as ort

from edge_models.manifest import DEFAULT_MANIFEST, load_manifest
from edge_models.verify import check_license, verify_model


def verified_model_path(name: str, models_dir: Path | Sequence[Path], allow_noncommercial: bool = False) -> Path:
    spec = load_manifest(DEFAULT_MANIFEST).get(name)
    check_license(spec, allow_noncommercial)
    return verify_model(spec, models_dir)


def onnx_session(path: Path, threads: int = 2) -> ort.InferenceSession:
    options = ort.SessionOptions()
    # The kiosk has 2 cores shared with the UI; more intra-op threads than that only adds contention.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Several sessions (detector, recognizer, liveness) share the cores with the UI; spinning worker threads
    # of one session starve the others (measured: 5.7 ms -> 30 ms per embedding with four sessions).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Without onnxruntime's own arena, activations go back to malloc after each run instead of staying reserved
    # at their peak in every session (25 MB less for the face models, no measurable change in speed).
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
