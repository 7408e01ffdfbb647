"""Plain settings for face verification and liveness (the kiosk's config file fills them; vision reads only these)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vision.plugins import DETECTORS

DetectorName = DETECTORS.choice()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo in the config file is named, not ignored


class VisionSettings(_Section):
    detector: DetectorName = "yunet"
    # A calibration file in vision/calibration/ names the recognizer(s), TTA and thresholds together.
    calibration: str = "mobilefacenet_flip_east_asian"
    fmr_target: Literal[1e-2, 1e-3, 1e-4] = 1e-3
    threads: int = Field(2, ge=1, le=8)
    live_frames_used: int = Field(3, ge=1, le=10)  # best-quality live frames that enter the match
    id_capture_frames: int = Field(40, ge=1, le=600)  # camera frames tried per ID attempt
    live_capture_frames: int = Field(150, ge=3, le=1200)  # upper bound for one challenge sequence


class LivenessSettings(_Section):
    passive_threshold: float = Field(0.5, gt=0, lt=1)  # fused MiniFASNet P(real) below this = attack
    passive_frames: int = Field(5, ge=1, le=30)
    challenges: int = Field(2, ge=1, le=4)  # randomised active challenges per attempt
    challenge_time_limit_s: float = Field(6.0, ge=2, le=30)
