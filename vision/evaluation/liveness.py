"""Liveness evaluation in ISO/IEC 30107-3 terms.

APCER (per attack type): share of attack presentations accepted as bona fide. BPCER: share of bona fide
presentations rejected. A presentation in which no face is found is counted as rejected, which helps APCER
and hurts BPCER, and the count is reported separately.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np

from vision.detectors.base import FaceDetector
from vision.encoder import central_face
from vision.evaluation.metrics import percentile_ms
from vision.evaluation.sequences import Actor, Shot, render
from vision.evaluation.synthetic_attacks import RENDERERS, bona_fide
from vision.image_io import load_image
from vision.liveness.active import Challenge
from vision.liveness.engine import LivenessEngine
from vision.liveness.landmarks import FaceMesh
from vision.liveness.passive import PassiveLiveness

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
BONA_FIDE = "bona_fide"


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def attack_sets(attack_dir: Path) -> dict[str, list[Path]]:
    """Sub-folders of ``attack_dir`` are attack types; images directly inside it are type "attack"."""
    sets = {d.name: images_in(d) for d in sorted(attack_dir.iterdir()) if d.is_dir()}
    loose = sorted(p for p in attack_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if loose:
        sets["attack"] = loose
    return {k: v for k, v in sets.items() if v}


def passive_eval(
    sets: dict[str, list[np.ndarray]], detector: FaceDetector, passive: PassiveLiveness, threshold: float
) -> dict:
    """``sets``: BONA_FIDE and one entry per attack type."""
    detect_s, passive_s = [], []
    rows = {}
    for kind, images in sets.items():
        scores, no_face = [], 0
        for image in images:
            t0 = time.perf_counter()
            face = central_face(detector.detect(image), image.shape)
            detect_s.append(time.perf_counter() - t0)
            if face is None:
                no_face += 1
                continue
            t0 = time.perf_counter()
            scores.append(passive.score(image, face))
            passive_s.append(time.perf_counter() - t0)
        accepted = sum(s >= threshold for s in scores)
        error = (len(images) - accepted) if kind == BONA_FIDE else accepted
        rows[kind] = {
            "n": len(images),
            "no_face": no_face,
            "rate": error / max(len(images), 1),
            "median_score": float(np.median(scores)) if scores else None,
        }
    return {"threshold": threshold, "rows": rows, "timings_ms": {
        "detect": percentile_ms(detect_s), "passive (2 models)": percentile_ms(passive_s)}}


def synthetic_passive_sets(faces_root: Path, count: int) -> dict[str, list[np.ndarray]]:
    """First photo of the first ``count`` people: bona fide composite, print attack, replay attack."""
    people = sorted(d for d in faces_root.iterdir() if d.is_dir())[:count]
    sources = [load_image(min(p.glob("*.jpg"))) for p in people]
    sets = {BONA_FIDE: [bona_fide(face, i) for i, face in enumerate(sources)]}
    for kind, renderer in RENDERERS.items():
        sets[kind] = [renderer(face, i) for i, face in enumerate(sources)]
    return sets


def find_actors(faces_root: Path, detector: FaceDetector, mesh: FaceMesh, limit: int, turn_deg: float = 25.0) -> list[Actor]:
    """People with a frontal photo and at least one photo turned each way (real poses, measured)."""
    actors = []
    for person in sorted(d for d in faces_root.iterdir() if d.is_dir()):
        photos = sorted(person.glob("*.jpg"))
        if len(photos) < 3:
            continue
        posed = []
        for path in photos:
            image = load_image(path)
            face = central_face(detector.detect(image), image.shape)
            if face is not None:
                posed.append((mesh.geometry(image, face).yaw, image))
        if not posed:
            continue
        base_yaw, neutral = min(posed, key=lambda p: abs(p[0]))
        left = [img for yaw, img in posed if yaw <= base_yaw - turn_deg]
        right = [img for yaw, img in posed if yaw >= base_yaw + turn_deg]
        if abs(base_yaw) < 8 and left and right:
            actors.append(Actor(neutral, {"turn_left": left[0], "turn_right": right[0]}))
        if len(actors) >= limit:
            break
    return actors


def sequence_eval(engine: LivenessEngine, actors: list[Actor], seed: int = 0) -> dict:
    """Active challenge on SYNTHETIC sequences: bona fide performances and three attack types."""
    rng = random.Random(seed)
    outcomes: dict[str, list[tuple[bool, bool]]] = {k: [] for k in (BONA_FIDE, "static_photo", "replayed_sequence", "identity_swap")}
    per_frame = []

    def run(kind: str, frames, asked: tuple[str, ...]) -> None:
        t0 = time.perf_counter()
        capture = engine.run(frames, tuple(Challenge(c) for c in asked))
        per_frame.append((time.perf_counter() - t0) / max(capture.decision.frames, 1))
        outcomes[kind].append((capture.decision.active.passed and not capture.decision.continuity, capture.decision.live))

    for i, actor in enumerate(actors):
        repertoire = [*actor.moves, "move_closer"]
        asked = tuple(rng.sample(repertoire, 2))
        run(BONA_FIDE, actor.perform(asked, seed=i), asked)
        run("static_photo", render([Shot(actor.neutral, 90)], seed=i), asked)
        recorded = tuple(rng.sample([c for c in repertoire if c != asked[0]], 2))
        run("replayed_sequence", actor.perform(recorded, seed=i), asked)
        other = actors[(i + 1) % len(actors)]
        swap = actor.perform(asked[:1], seed=i) + render([Shot(other.neutral, 30)], seed=i, t0=10.0)
        run("identity_swap", swap, asked)
    rows = {}
    for kind, results in outcomes.items():
        active_ok = sum(a for a, _ in results)
        live = sum(lv for _, lv in results)
        n = max(len(results), 1)
        rows[kind] = {
            "n": len(results),
            "active_rate": (n - active_ok) / n if kind == BONA_FIDE else active_ok / n,
            "combined_rate": (n - live) / n if kind == BONA_FIDE else live / n,
        }
    return {"rows": rows, "per_frame_ms": percentile_ms(per_frame)}


def format_passive(title: str, report: dict) -> list[str]:
    lines = [f"{title} (passive, threshold {report['threshold']})", f"  {'set':<14} {'n':>5} {'no face':>8} {'error':>22} {'median P(real)':>15}"]
    for kind, row in report["rows"].items():
        metric = "BPCER" if kind == BONA_FIDE else f"APCER[{kind}]"
        median = "" if row["median_score"] is None else f"{row['median_score']:.3f}"
        error = f"{metric} {100 * row['rate']:.1f}%"
        lines.append(f"  {kind:<14} {row['n']:>5} {row['no_face']:>8} {error:>22} {median:>15}")
    for stage, (median, p95) in report["timings_ms"].items():
        lines.append(f"  time {stage:<20} median {median:.2f} ms, p95 {p95:.2f} ms")
    return lines


def format_sequences(report: dict) -> list[str]:
    lines = ["SYNTHETIC challenge sequences (stills of real poses, not video)",
             f"  {'set':<18} {'n':>4} {'active check':>20} {'all checks':>20}"]
    for kind, row in report["rows"].items():
        metric = "BPCER" if kind == BONA_FIDE else "APCER"
        active = f"{metric} {100 * row['active_rate']:.1f}%"
        combined = f"{metric} {100 * row['combined_rate']:.1f}%"
        lines.append(f"  {kind:<18} {row['n']:>4} {active:>20} {combined:>20}")
    median, p95 = report["per_frame_ms"]
    lines.append(f"  time per frame (detect + mesh + embed + checks): median {median:.1f} ms, p95 {p95:.1f} ms")
    return lines


def load_sets(real: list[Path], attack: list[Path]) -> dict[str, list[np.ndarray]]:
    """Files or folders. Attack folders' sub-folders are attack types; attack files are type "attack"."""
    sets: dict[str, list[np.ndarray]] = {BONA_FIDE: []}
    for path in real:
        sets[BONA_FIDE] += [load_image(p) for p in (images_in(path) if path.is_dir() else [path])]
    for path in attack:
        groups = attack_sets(path) if path.is_dir() else {"attack": [path]}
        for kind, paths in groups.items():
            sets.setdefault(kind, []).extend(load_image(p) for p in paths)
    return sets
