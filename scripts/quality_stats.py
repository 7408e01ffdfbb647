"""Print the distribution of each quality metric over a folder tree of face images (e.g. LFW), and how
often each quality reason fires, so the limits in vision/quality.py can be checked against real data.

    .venv/bin/python scripts/quality_stats.py ../shared/data/faces/lfw-deepfunneled [--limit 2320]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np

from kiosk.config import load_config
from vision.detectors import build_detector
from vision.encoder import central_face
from vision.image_io import load_image
from vision.quality import ID_PORTRAIT, LIVE, assess


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--limit", type=int, default=2320)
    args = parser.parse_args()
    config = load_config()
    detector = build_detector("yunet", config.models_dir)
    files = sorted(args.root.rglob("*.jpg"))[: args.limit]
    metrics: dict[str, list[float]] = {}
    reasons = {"live": Counter(), "id": Counter()}
    for path in files:
        image = load_image(path)
        face = central_face(detector.detect(image), image.shape)
        faces = [face] if face else []
        for role, limits in (("live", LIVE), ("id", ID_PORTRAIT)):
            report = assess(image, faces, limits)
            reasons[role].update(report.reasons or ("ok",))
        for key, value in report.metrics.items():
            metrics.setdefault(key, []).append(value)
    print(f"{len(files)} images under {args.root}")
    print(f"{'metric':<16} {'p1':>8} {'p5':>8} {'p50':>8} {'p95':>8} {'p99':>8}")
    for key, values in metrics.items():
        p = np.percentile(values, [1, 5, 50, 95, 99])
        print(f"{key:<16} " + " ".join(f"{v:8.3f}" for v in p))
    for role, counter in reasons.items():
        print(f"{role} reasons: " + ", ".join(f"{k} {v}" for k, v in counter.most_common()))


if __name__ == "__main__":
    main()
