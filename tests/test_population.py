"""Per-group verification figures: intervals, same-group pairs, bounded thresholds, population-tagged calibrations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vision.evaluation.faces import Encoded
from vision.evaluation.population import (
    GROUPS_FILE,
    build_population_calibrations,
    clopper_pearson,
    group_scores,
    load_groups,
    rates_at,
    threshold_for,
)
from vision.matching import Calibration, CalibrationError


def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)


def encoded() -> Encoded:
    rng = np.random.default_rng(0)
    emb = {}
    for person in ("A1", "A2", "A3", "B1", "B2"):
        centre = rng.normal(size=16)
        for k in range(2):
            emb[f"{person}/{person}_{k:04d}.jpg"] = {"m": unit(centre + 0.3 * rng.normal(size=16))}
    return Encoded(emb, {})


GROUPS = {"A1": "a", "A2": "a", "A3": "a", "B1": "b", "B2": "b"}
SINGLE = Calibration("m", ("m",), False, "yunet", {}, {"m": 1.0}, {"1e-03": 0.5}, {}, "test")


def test_clopper_pearson_matches_known_values():
    low, high = clopper_pearson(0, 100)
    assert low == 0.0 and high == pytest.approx(0.0362, abs=1e-4)
    low, high = clopper_pearson(5, 100)
    assert low == pytest.approx(0.0164, abs=1e-3) and high == pytest.approx(0.1128, abs=1e-3)


def test_same_group_pairs_only():
    scores = group_scores(encoded(), GROUPS, SINGLE)
    a, b, everyone = scores["a"], scores["b"], scores["all"]
    assert (a.people, a.images, len(a.genuine), len(a.impostor)) == (3, 6, 3, 12)  # 15 pairs: 3 genuine
    assert (b.people, len(b.genuine), len(b.impostor)) == (2, 2, 4)
    assert len(everyone.genuine) == 5 and len(everyone.impostor) == 45 - 5
    fmr, fnmr = rates_at(a, 2.0)
    assert fmr.errors == 0 and fnmr.errors == 3 and fnmr.trials == 3


def test_a_bounded_threshold_is_stricter_than_the_sample_rate():
    impostor = np.random.default_rng(1).normal(size=20_000)
    raw, bounded = threshold_for(impostor, 1e-3), threshold_for(impostor, 1e-3, bound=True)
    assert bounded > raw
    k = int((impostor >= bounded).sum())
    assert clopper_pearson(k, len(impostor))[1] <= 1e-3 and (impostor >= raw).sum() <= 20


def test_population_calibrations_are_tagged_and_a_file_without_population_is_refused(tmp_path):
    (calibration,) = build_population_calibrations(encoded(), GROUPS, "a", "yunet", False, "toy")
    assert calibration.name == "m_a" and calibration.population == "a" and calibration.data["impostor_pairs"] == 12
    path = calibration.save(tmp_path / "m_a.json")
    assert Calibration.load(path).population == "a"
    raw = json.loads(path.read_text())
    del raw["population"]
    path.write_text(json.dumps(raw))
    with pytest.raises(CalibrationError, match="names no population"):
        Calibration.load(path)


def test_every_shipped_calibration_names_its_population():
    assert {c.population for c in Calibration.all()} >= {"lfw_all"}


def test_group_labels_cover_the_pool_and_are_documented():
    groups = load_groups()
    assert len(groups) == 2709 and set(groups.values()) == {"east_asian", "other"}
    assert sum(g == "east_asian" for g in groups.values()) == 116
    assert "Method" in GROUPS_FILE.read_text(encoding="utf-8").split("identity\t")[0]


def test_at_threshold_counts_exactly_the_pairs_given():
    from vision.evaluation.faces import Pairs, at_threshold

    enc = encoded()
    names = sorted(enc.embeddings)
    calibration = Calibration("m", ("m",), False, "yunet", {}, {"m": 1.0}, {"1e-03": 0.0}, {}, "test")
    pairs = Pairs((names[0], names[0], names[2], "missing.jpg"), (names[1], names[2], names[3], names[0]),
                  np.array([1, 0, 1, 1]), np.array([1, 1, 2, 2]))
    scores = [float(enc.embeddings[a]["m"] @ enc.embeddings[b]["m"]) for a, b in zip(pairs.image1[:3], pairs.image2[:3])]
    out = at_threshold(pairs, enc, calibration, 1e-3)
    assert out["genuine_pairs"] == 3 and out["impostor_pairs"] == 1
    assert out["fmr"] == float(scores[1] >= 0.0)
    # the pair with an image that gave no face is a non-match
    assert out["fnmr"] == pytest.approx((int(scores[0] < 0) + int(scores[2] < 0) + 1) / 3)


def test_chip_calibrations_compare_each_chip_photo_with_the_other_images(tmp_path, monkeypatch):
    """Pair (i, j) scores image i's chip photo against image j; the result is a calibration of its own."""
    enc = encoded()
    rng = np.random.default_rng(5)
    chips = Encoded({n: {"m": unit(e["m"] + 0.5 * rng.normal(size=16))} for n, e in enc.embeddings.items()
                     if not n.startswith("A3/A3_0001")}, {})
    cross = group_scores(enc, GROUPS, SINGLE, chips)["a"]
    names = sorted(chips.embeddings)[:5]  # group a, A3_0001 missing from the chips: 5 images, 10 pairs
    expected = sorted(float(chips.embeddings[a]["m"] @ enc.embeddings[b]["m"])
                      for i, a in enumerate(names) for b in names[i + 1:] if a.split("/")[0] != b.split("/")[0])
    assert np.allclose(sorted(cross.impostor), expected) and len(cross.genuine) == 2
    photo, chip = build_population_calibrations(enc, GROUPS, "a", "yunet", False, "toy", chips)
    assert (photo.name, photo.reference) == ("m_a", "photo")
    assert (chip.name, chip.reference, chip.population) == ("m_a_chip", "chip_photo", "a")
    assert chip.data["impostor_pairs"] == len(expected)
    monkeypatch.setattr("vision.matching.CALIBRATION_DIR", tmp_path)
    photo.save(tmp_path / "m_a.json")
    assert Calibration.chip_of("m_a") is None  # no chip calibration shipped: chip photos can't be matched
    chip.save(tmp_path / "m_a_chip.json")
    assert Calibration.chip_of("m_a") == chip
    photo.save(tmp_path / "m_a_chip.json")
    with pytest.raises(CalibrationError, match="not a chip-photo calibration"):
        Calibration.chip_of("m_a")
