"""Per-stage latency of face verification on 640x480 frames, process RSS and cold start. Prints a table.

    .venv/bin/python scripts/bench_faces.py [--frames 200] [--calibration mobilefacenet_flip]

Frames are LFW faces composited into 640x480 JPEG camera frames (the kiosk camera's resolution).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import cv2
import numpy as np

from kiosk.config import load_config
from vision.evaluation.metrics import percentile_ms
from vision.image_io import decode_image_bytes, load_image


def camera_frames(faces_root: Path, count: int) -> list[bytes]:
    files = sorted(faces_root.rglob("*.jpg"))[:count]
    frames = []
    for path in files:
        frame = np.full((480, 640, 3), 100, np.uint8)
        frame[40:440, 120:520] = cv2.resize(load_image(path), (400, 400))
        frames.append(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return frames


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--calibration", default=None, help="vision calibration name (default: config)")
    args = parser.parse_args()
    overrides = {"vision": {"calibration": args.calibration}} if args.calibration else {}
    config = load_config(**overrides)

    t0 = time.perf_counter()
    from kiosk.stages import face_verifier  # imported here so the cold start includes the imports

    verifier = face_verifier(config)
    cold_start = time.perf_counter() - t0
    frames = camera_frames(config.models_dir.parent / "data" / "faces" / "lfw-deepfunneled", args.frames)
    reference = None
    decode, total, match = [], [], []
    encoder = verifier.encoder
    encoder.timer.samples.clear()
    for data in frames:
        t = time.perf_counter()
        image = decode_image_bytes(data)
        decode.append(time.perf_counter() - t)
        t = time.perf_counter()
        obs = verifier.observe_live(image)
        embedding = encoder.embed(image, obs.detection)
        total.append(time.perf_counter() - t)
        if reference is None:
            reference = embedding
        t = time.perf_counter()
        verifier.matcher.decide(reference, [embedding])
        match.append(time.perf_counter() - t)
    rows = {"decode (JPEG 640x480)": decode}
    rows.update({k: v for k, v in encoder.timer.samples.items()})
    rows["match"] = match
    rows["detect+quality+align+embed"] = total
    print(f"calibration {verifier.matcher.calibration.name}, detector {encoder.detector.name}, {len(frames)} frames 640x480")
    print(f"{'stage':<30} {'median ms':>10} {'p95 ms':>10}")
    for stage, samples in rows.items():
        median, p95 = percentile_ms(samples)
        print(f"{stage:<30} {median:>10.2f} {p95:>10.2f}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cold start (imports + hash check + model load): {cold_start * 1000:.0f} ms")
    print(f"peak RSS: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
