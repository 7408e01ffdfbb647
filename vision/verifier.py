"""Face verification end to end: ID portrait + live frames -> quality-gated, calibrated decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_models.access import ModelAccess
from vision.detectors import build_detector
from vision.encoder import FaceEncoder
from vision.id_portrait import IdPortrait, extract_portrait
from vision.matching import Calibration, CalibrationError, Matcher
from vision.quality import LIVE, assess
from vision.recognizers import build_recognizer
from vision.settings import VisionSettings
from vision.types import FaceObservation, MatchDecision, QualityReport


class VerificationInputError(ValueError):
    """No usable face where one is required (the ID has no portrait, no live frame shows a face)."""


@dataclass
class VerificationResult:
    decision: MatchDecision
    id_quality: QualityReport
    live_quality: list[QualityReport]
    frames_used: list[int]
    timings_ms: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict:
        d = self.decision
        return {
            "match": d.matched,
            "score": round(d.score, 4),
            "threshold": round(d.threshold, 4),
            "fmr_target": d.fmr_target,
            "calibration": d.calibration,
            "id_quality": {"ok": self.id_quality.ok, "reasons": list(self.id_quality.reasons)},
            "live_quality": [{"ok": q.ok, "reasons": list(q.reasons)} for q in self.live_quality],
            "frames_used": self.frames_used,
        }


class FaceVerifier:
    def __init__(self, encoder: FaceEncoder, matcher: Matcher, live_frames_used: int = 3,
                 chip_matcher: Matcher | None = None) -> None:
        self.encoder = encoder
        self.matcher = matcher
        self.live_frames_used = live_frames_used
        # Chip photos (102x126, compressed) are matched at their own calibrated threshold: at the printed
        # portrait's, about a third of honest customers would fail (``kiosk eval faces --synthetic-id --case chip``).
        self.chip_matcher = chip_matcher

    @classmethod
    def from_settings(cls, v: VisionSettings, models: ModelAccess) -> FaceVerifier:
        allow = models.allow_noncommercial
        calibration = Calibration.named(v.calibration)
        if calibration.detector != v.detector:
            raise CalibrationError(
                f"calibration {calibration.name} was measured with detector {calibration.detector!r}, config uses "
                f"{v.detector!r}; make one with `kiosk eval faces --detector {v.detector} --write-calibration DIR`"
            )
        detector = build_detector(v.detector, models.dirs, allow)
        recognizers = {
            name: build_recognizer(name, models.dirs, allow, calibration.flip_tta, v.threads)
            for name in calibration.recognizers
        }
        chip = Calibration.chip_of(calibration.name)
        if chip is not None and (chip.recognizers, chip.flip_tta, chip.detector) != (
                calibration.recognizers, calibration.flip_tta, calibration.detector):
            raise CalibrationError(f"chip calibration {chip.name} was measured with other models than {calibration.name}")
        return cls(FaceEncoder(detector, recognizers), Matcher(calibration, v.fmr_target), v.live_frames_used,
                   Matcher(chip, v.fmr_target) if chip is not None else None)

    def id_portrait(self, frame: np.ndarray) -> IdPortrait:
        return extract_portrait(frame, self.encoder.detector)

    def observe_live(self, frame: np.ndarray) -> FaceObservation | None:
        faces = self.encoder.detect(frame)
        if not faces:
            return None
        quality = assess(frame, faces, LIVE)
        main = max(faces, key=lambda d: d.box[2] * d.box[3])
        return FaceObservation(frame, main, quality)

    def embed_id(self, portrait: IdPortrait) -> dict[str, np.ndarray]:
        if portrait.face is None:
            raise VerificationInputError("no face found on the ID document")
        return self.encoder.embed(portrait.document, portrait.face)

    def best_frames(self, observations: list[FaceObservation | None], count: int | None = None) -> list[int]:
        """Indices of the best-quality usable frames (quality-passing first, then by quality score); ``count``
        of them (default: as many as the match uses)."""
        ranked = sorted(
            (i for i, o in enumerate(observations) if o is not None),
            key=lambda i: (observations[i].quality.ok, observations[i].quality.score),
            reverse=True,
        )
        return ranked[: self.live_frames_used if count is None else count]

    def match(self, id_embedding: dict[str, np.ndarray], observations: list[FaceObservation | None]) -> tuple[MatchDecision, list[int]]:
        chosen = self.best_frames(observations)
        if not chosen:
            raise VerificationInputError("no face found in the live images")
        probes = [self.encoder.embed(observations[i].image, observations[i].detection) for i in chosen]
        return self.matcher.decide(id_embedding, probes), chosen

    def match_photo(self, photo: np.ndarray, observations: list[FaceObservation]) -> MatchDecision | None:
        """A small reference photo (the 102x126 chip photo) against already-chosen live frames; None when no
        face is found on it. Refused (CalibrationError) when the calibration has no chip-photo calibration."""
        if self.chip_matcher is None:
            raise CalibrationError(f"calibration {self.matcher.calibration.name} has no chip-photo calibration "
                                   f"({self.matcher.calibration.name}_chip): chip photos cannot be matched")
        reference = self.encoder.embed_small_photo(photo)
        if reference is None:
            return None
        probes = [self.encoder.embed(o.image, o.detection) for o in observations]
        return self.chip_matcher.decide(reference, probes)

    def verify(self, id_frame: np.ndarray, live_frames: list[np.ndarray]) -> VerificationResult:
        portrait = self.id_portrait(id_frame)
        id_embedding = self.embed_id(portrait)
        observations = [self.observe_live(f) for f in live_frames]
        decision, chosen = self.match(id_embedding, observations)
        return VerificationResult(
            decision,
            portrait.quality,
            [o.quality if o else QualityReport(False, ("no_face",), 0.0) for o in observations],
            chosen,
        )


def collect_images(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".webp"})
        if not files:
            raise VerificationInputError(f"{path}: folder holds no images")
        return files
    return [path]
