"""Synthetic ID-card scenes for evaluating ID-vs-live matching. SYNTHETIC: a stand-in, not real documents.

An LFW photo is printed as the portrait of a specimen card (``specimen.py``: real layout, fonts and fields,
"样本 SPECIMEN" watermark), the card is placed with a random rotation and perspective on a textured table and
"photographed" at 640x480 with uneven light and sensor noise. What this does not model: security printing,
holograms and laminate texture, and the years between ID photo and live face.
"""

from __future__ import annotations

import numpy as np

from vision.evaluation.specimen import CLEAN, Conditions, photograph, specimen_card


def render_scene(face_image: np.ndarray, seed: int, conditions: Conditions = CLEAN) -> np.ndarray:
    """A 640x480 camera frame of the front of a specimen card carrying ``face_image`` as its portrait."""
    return photograph(specimen_card(face_image, seed).front, np.random.default_rng(seed + 1), conditions)
