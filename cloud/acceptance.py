"""The service's own verdict on a kiosk's identity evidence (``acceptance.toml``).

The kiosk sends scores and the hashes of the model files it ran; it sends no decisions and no thresholds. A
verification passes only when the calibration and every model file are ones the lender trusts, each score
clears the threshold the lender set for its false-match rate, every liveness challenge passed, and the document
passed every check (the number checks are repeated here: contract.id_number).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from contract.id_number import REQUIRED_CHECKS
from contract.schemas import IdentityEvidence

POLICY_FILE = Path(__file__).with_name("acceptance.toml")


@dataclass(frozen=True)
class FacePolicy:
    models: dict[str, str]
    threshold: float
    # Live face vs the card chip's photo, at that calibration's own threshold (``<name>_chip``); None: a
    # verification that read a chip photo is not accepted with this calibration.
    chip_threshold: float | None = None


@dataclass(frozen=True)
class AcceptancePolicy:
    fmr: str
    faces: dict[str, FacePolicy]
    liveness_models: dict[str, str]
    passive_min: float
    min_challenges: int
    sources: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = POLICY_FILE) -> AcceptancePolicy:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        fmr = raw["fmr"]
        faces = {name: FacePolicy(dict(f["models"]), float(f["thresholds"][fmr]),
                                  float(f["chip_thresholds"][fmr]) if "chip_thresholds" in f else None)
                 for name, f in raw["face"].items()}
        live = raw["liveness"]
        return cls(fmr, faces, dict(live["models"]), float(live["passive_min"]), int(live["min_challenges"]),
                   tuple(raw["document"]["sources"]))

    def failures(self, evidence: IdentityEvidence) -> list[str]:
        """Why this evidence does not verify the person (empty: verified). Codes for the service's log and
        for support; the customer is told only that the identity could not be verified."""
        out = []
        face, live, doc = evidence.face, evidence.liveness, evidence.document
        policy = self.faces.get(face.calibration)
        if policy is None:
            out.append("untrusted_calibration")
        else:
            if face.models != policy.models:
                out.append("untrusted_face_models")
            if face.score < policy.threshold:
                out.append("face_mismatch")
            if doc.chip_photo == "ok" and (face.chip_score is None or policy.chip_threshold is None
                                           or face.chip_score < policy.chip_threshold):
                out.append("chip_face_mismatch")
        if live.models != self.liveness_models:
            out.append("untrusted_liveness_models")
        if live.passive_score < self.passive_min:
            out.append("presentation_attack")
        if live.challenges < self.min_challenges or live.challenges_passed < live.challenges:
            out.append("challenges_incomplete")
        if doc.source not in self.sources:
            out.append("untrusted_document_source")
        required = set(REQUIRED_CHECKS) | ({"chip_print_match"} if doc.source == "chip" else set())
        if not required <= set(doc.checks):
            out.append("document_checks_incomplete")
        return out
