"""Face alignment: the ArcFace template and the least-squares similarity fit, checked against the libraries the
kiosk no longer loads for them (insightface's template, scikit-image's Umeyama estimate)."""

from __future__ import annotations

import numpy as np
import pytest

from vision.align import ARCFACE_112, DLIB_150, alignment_matrix


def test_the_arcface_template_is_insightfaces():
    from insightface.utils import face_align

    np.testing.assert_array_equal(ARCFACE_112, face_align.arcface_dst.astype(np.float32))


@pytest.mark.parametrize("template", [ARCFACE_112, DLIB_150])
def test_the_fit_is_the_least_squares_similarity(template):
    from skimage.transform import SimilarityTransform

    rng = np.random.default_rng(7)
    for _ in range(200):
        angle, scale = rng.uniform(-0.6, 0.6), rng.uniform(0.4, 5.0)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        face = (template @ rotation.T) * scale + rng.uniform(0, 600, 2) + rng.normal(0, 4, template.shape)
        ours = alignment_matrix(face, template)
        umeyama = SimilarityTransform.from_estimate(face, template.astype(np.float64)).params[:2]
        mapped = [face @ m[:, :2].T + m[:, 2] for m in (ours, umeyama)]
        assert np.abs(mapped[0] - mapped[1]).max() < 1e-3


def test_degenerate_landmarks_are_refused():
    with pytest.raises(ValueError, match="degenerate"):
        alignment_matrix(np.full((5, 2), 50.0), ARCFACE_112)
