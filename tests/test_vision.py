"""Face verification with the real models on LFW images and synthetic ID cards."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from edge_models.verify import LicenseRefused
from hardware.camera import ReplayCamera
from kiosk.config import load_config
from kiosk.journey.session import BiometricSample, BiometricVault
from kiosk.stages import face_verifier
from kiosk.vision_stages import VisionFaceMatch, VisionIdCapture
from vision.detectors import build_detector
from vision.evaluation.synthetic_id import render_scene
from vision.id_portrait import extract_portrait, find_card
from vision.image_io import ImageInputError, decode_image_bytes, load_image
from vision.matching import Calibration, CalibrationError, Matcher
from vision.quality import LIVE, assess
from vision.verifier import FaceVerifier, VerificationInputError


@pytest.fixture(scope="module")
def verifier():
    return face_verifier(load_config())


@pytest.fixture(scope="module")
def lfw_pairs():
    from tests.conftest import DATA_DIR

    with (DATA_DIR / "faces" / "pairs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    root = DATA_DIR / "faces"
    genuine = [(root / r["image1"], root / r["image2"]) for r in rows if r["same_person"] == "1"][:6]
    impostor = [(root / r["image1"], root / r["image2"]) for r in rows if r["same_person"] == "0"][:6]
    return genuine, impostor


def test_same_and_different_people_get_the_right_decision(verifier, lfw_pairs):
    genuine, impostor = lfw_pairs
    for a, b in genuine:
        result = verifier.verify(load_image(a), [load_image(b)])
        assert result.decision.matched, (a.name, b.name, result.decision.score)
    for a, b in impostor:
        result = verifier.verify(load_image(a), [load_image(b)])
        assert not result.decision.matched, (a.name, b.name, result.decision.score)
    assert result.decision.fmr_target == 1e-3
    assert result.decision.threshold == Calibration.named("mobilefacenet_flip_east_asian").thresholds["1e-03"]


def test_id_card_scene_matches_the_same_person_only(verifier, faces_dir):
    card_source = load_image(faces_dir / "Angela_Bassett" / "Angela_Bassett_0001.jpg")
    scene = render_scene(card_source, seed=7)
    same = verifier.verify(scene, [load_image(faces_dir / "Angela_Bassett" / "Angela_Bassett_0005.jpg")])
    other = verifier.verify(scene, [load_image(faces_dir / "Dwayne_Wade" / "Dwayne_Wade_0001.jpg")])
    assert same.decision.matched and not other.decision.matched
    assert same.id_quality.ok


def test_card_is_found_and_rectified(verifier, faces_dir):
    scene = render_scene(load_image(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg"), seed=3)
    assert find_card(scene) is not None
    portrait = extract_portrait(scene, verifier.encoder.detector)
    assert portrait.card_found and portrait.face is not None
    h, w = portrait.document.shape[:2]
    assert abs(w / h - 856 / 540) < 0.02


def test_multi_frame_uses_best_quality_frames(verifier, faces_dir):
    good = load_image(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0004.jpg")
    blurred = cv2.GaussianBlur(good, (0, 0), 6)
    id_image = load_image(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg")
    frames = [blurred, np.full_like(good, 120), good, blurred]
    verifier_one = FaceVerifier(verifier.encoder, verifier.matcher, live_frames_used=1)
    result = verifier_one.verify(id_image, frames)
    assert result.frames_used == [2]
    assert result.live_quality[1].reasons == ("no_face",) and "blurry" in result.live_quality[0].reasons


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"definitely not an image", "not a readable image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a readable image"),
    ],
)
def test_bad_bytes_are_clear_errors(data, message):
    with pytest.raises(ImageInputError, match=message):
        decode_image_bytes(data, "upload")


def test_truncated_jpeg_and_huge_dimensions(tmp_path, faces_dir):
    data = (faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg").read_bytes()
    with pytest.raises(ImageInputError, match="corrupt or truncated|not a readable"):
        decode_image_bytes(data[:300], "cut.jpg")
    huge = cv2.imencode(".png", np.zeros((9000, 9000), np.uint8))[1].tobytes()  # 81 MP, small file
    with pytest.raises(ImageInputError, match="too large|implausibly large"):
        decode_image_bytes(huge, "huge.png")
    with pytest.raises(ImageInputError, match="file not found"):
        load_image(tmp_path / "absent.jpg")
    with pytest.raises(ImageInputError, match="is a folder"):
        load_image(tmp_path)


def test_faceless_inputs_are_clear_errors(verifier, faces_dir):
    blank = np.full((480, 640, 3), 128, np.uint8)
    face = load_image(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg")
    with pytest.raises(VerificationInputError, match="no face found on the ID"):
        verifier.verify(blank, [face])
    with pytest.raises(VerificationInputError, match="no face found in the live"):
        verifier.verify(face, [blank, blank])


def _reasons(verifier, image):
    return assess(image, verifier.encoder.detect(image), LIVE).reasons


@pytest.fixture(scope="module")
def live_face(faces_dir):
    # A 640x480 "camera frame" with the LFW face at kiosk distance.
    face = load_image(faces_dir / "Angela_Bassett" / "Angela_Bassett_0005.jpg")
    frame = np.full((480, 640, 3), 110, np.uint8)
    frame[60:410, 145:495] = cv2.resize(face, (350, 350))
    return frame


def test_good_frame_passes_quality(verifier, live_face):
    assert _reasons(verifier, live_face) == ()


@pytest.mark.parametrize(
    ("degrade", "reason"),
    [
        (lambda f: (f * 0.25).astype(np.uint8), "too_dark"),
        (lambda f: np.clip(f.astype(int) + 140, 0, 255).astype(np.uint8), "too_bright"),
        (lambda f: cv2.GaussianBlur(f, (0, 0), 4), "blurry"),
        (lambda f: cv2.resize(f, (160, 120), interpolation=cv2.INTER_AREA), "move_closer"),
        (lambda f: cv2.warpAffine(f, cv2.getRotationMatrix2D((320, 235), 35, 1.0), (640, 480), borderValue=(110, 110, 110)), "head_tilted"),
    ],
)
def test_quality_reasons_fire_on_degraded_frames(verifier, live_face, degrade, reason):
    assert reason in _reasons(verifier, degrade(live_face))


def test_glare_on_the_face_is_reported(verifier, live_face):
    frame = live_face.copy()
    cv2.circle(frame, (330, 170), 30, (255, 255, 255), -1)  # a specular patch on the forehead
    assert _reasons(verifier, frame) == ("glare",)


def test_license_policy_refuses_scrfd_unless_allowed(models_dir, faces_dir):
    with pytest.raises(LicenseRefused, match="scrfd_500m"):
        build_detector("scrfd", models_dir)
    scrfd = build_detector("scrfd", models_dir, allow_noncommercial=True)
    yunet = build_detector("yunet", models_dir)
    image = load_image(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg")
    a, b = scrfd.detect(image)[0], yunet.detect(image)[0]
    assert a.landmarks.shape == (5, 2)
    assert float(np.mean(np.linalg.norm(a.landmarks - b.landmarks, axis=1))) < 6.0  # same points, same order


def test_scrfd_with_a_yunet_calibration_is_refused(monkeypatch):
    config = load_config(license_policy="allow_noncommercial", vision={"detector": "scrfd"})
    with pytest.raises(CalibrationError, match="measured with detector 'yunet'"):
        face_verifier(config)


def test_calibration_names_its_data_and_rejects_uncalibrated_fmr():
    calibration = Calibration.named("mobilefacenet_flip")
    assert calibration.data["impostor_pairs"] > 1_000_000 and calibration.flip_tta
    assert calibration.thresholds["1e-04"] > calibration.thresholds["1e-03"] > calibration.thresholds["1e-02"]
    with pytest.raises(CalibrationError, match="no threshold for FMR 1e-05"):
        Matcher(calibration, 1e-5)
    with pytest.raises(CalibrationError, match="no calibration named"):
        Calibration.named("sface")


def test_matcher_averages_probe_scores():
    calibration = Calibration("t", ("m",), False, "yunet", {}, {"m": 1.0}, {"1e-03": 0.5}, {}, "test")
    ref = {"m": np.array([1.0, 0.0])}
    close, far = {"m": np.array([0.9, np.sqrt(1 - 0.81)])}, {"m": np.array([0.0, 1.0])}
    decision = Matcher(calibration, 1e-3).decide(ref, [close, far])
    assert decision.score == pytest.approx(0.45) and not decision.matched


def test_id_capture_stage_reads_until_a_usable_card(verifier, faces_dir, tmp_path, models_dir, installed_models):
    from vision.evaluation.specimen import photograph, specimen_card
    from vision.id_capture import IdCardCapture
    from vision.id_card import CardReader
    from vision.id_ocr import CardOcr

    reader = CardReader(verifier.encoder.detector, CardOcr((models_dir, installed_models)))
    blank = tmp_path / "0_blank.png"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 90, np.uint8))
    card = specimen_card(load_image(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg"), 5)
    rng = np.random.default_rng(5)
    front, back = tmp_path / "1_front.png", tmp_path / "2_back.png"
    cv2.imwrite(str(front), photograph(card.front, rng))
    cv2.imwrite(str(back), photograph(card.back, rng))
    camera = ReplayCamera([blank, blank, front, back], loop=False)
    camera.open()
    prompts, statuses = [], []
    result = VisionIdCapture(IdCardCapture(reader, max_frames=10)).capture_id(camera, 1, prompts.append,
                                                                               statuses.append)
    assert result.ok and result.portrait.kind == "id_portrait" and "face" in result.portrait.meta
    assert result.document.id_number == card.fields.id_number and prompts == ["show_back"]
    # Each frame's verdict for the screen's guide: no card twice, then the front read (the back ends it).
    assert statuses == ["card_not_found", "card_not_found", "ok"]
    camera = ReplayCamera([blank], loop=True)
    camera.open()
    failed = VisionIdCapture(IdCardCapture(reader, max_frames=4)).capture_id(camera, 1, prompts.append)
    assert not failed.ok and failed.reasons == ("card_not_found",)


def test_match_stage_uses_the_vault_and_stores_the_embedding_there(verifier, faces_dir):
    id_image = render_scene(load_image(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg"), 11)
    portrait = verifier.id_portrait(id_image)
    vault = BiometricVault(id_portrait=BiometricSample("id_portrait", portrait.document, {"face": portrait.face}))
    for name in ("Abel_Pacheco_0004.jpg", "Abel_Pacheco_0002.jpg"):
        obs = verifier.observe_live(load_image(faces_dir / "Abel_Pacheco" / name))
        vault.live_samples.append(BiometricSample("live_frame", obs.image, {"face": obs.detection, "quality": obs.quality}))
    result = VisionFaceMatch(verifier).match(vault)
    assert result.matched and result.score > result.threshold
    assert "id" in vault.embeddings
    vault.wipe()
    assert vault.is_empty


def test_a_chip_photo_is_matched_at_its_own_calibrated_threshold(verifier, faces_dir):
    """The chip's 102x126 photo of the same person matches, another person's does not, and both are judged at
    the chip-photo calibration's threshold (not the printed portrait's)."""
    from vision.evaluation.faces import chip_photo

    def chip_of(path):
        image = load_image(path)
        return chip_photo(image, verifier.observe_live(image).detection.box)

    live = [verifier.observe_live(load_image(faces_dir / "Abel_Pacheco" / n))
            for n in ("Abel_Pacheco_0004.jpg", "Abel_Pacheco_0002.jpg")]
    same = verifier.match_photo(chip_of(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg"), live)
    other = verifier.match_photo(chip_of(faces_dir / "Howard_Dean" / "Howard_Dean_0002.jpg"), live)
    chip = Calibration.chip_of(verifier.matcher.calibration.name)
    assert chip is not None and chip.reference == "chip_photo"
    assert same.threshold == other.threshold == chip.threshold(1e-3) != verifier.matcher.threshold
    assert same.matched and not other.matched
    no_chip = FaceVerifier(verifier.encoder, verifier.matcher)
    with pytest.raises(CalibrationError, match="no chip-photo calibration"):
        no_chip.match_photo(chip_of(faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg"), live)


def test_verify_cli_prints_json_and_fails_clearly(faces_dir, tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "kiosk.cli", "verify", *map(str, args)],
                              capture_output=True, text=True, timeout=120, check=False)

    out = run("--id", faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg", "--live", faces_dir / "Abel_Pacheco")
    assert out.returncode == 0, out.stderr
    decision = json.loads(out.stdout)
    assert decision["match"] is True and decision["fmr_target"] == 0.001
    assert set(decision) >= {"match", "score", "threshold", "fmr_target", "id_quality", "live_quality"}
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    out = run("--id", blank, "--live", faces_dir / "Abel_Pacheco")
    assert out.returncode == 2 and "no face found on the ID document" in out.stderr
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"junk")
    out = run("--id", junk, "--live", blank)
    assert out.returncode == 2 and "junk.jpg: not a readable image" in out.stderr


def test_pairs_file_with_one_fold_is_refused(tmp_path):
    from vision.evaluation.faces import load_pairs

    path = tmp_path / "pairs.csv"
    path.write_text("image1,image2,same_person,fold\na.jpg,b.jpg,1,1\nc.jpg,d.jpg,0,1\n")
    with pytest.raises(ValueError, match="needs at least two folds"):
        load_pairs(path)


# ---- ID capture that works for honest customers (specimen cards, real detector and recognizer) -------------

def _scene(faces_dir, conditions, seed=4):
    from vision.evaluation.specimen import photograph, specimen_card

    card = specimen_card(load_image(faces_dir / "Howard_Dean" / "Howard_Dean_0002.jpg"), seed)
    return photograph(card.front, np.random.default_rng(seed), conditions)


def test_an_upside_down_card_gives_an_upright_portrait_that_matches(verifier, faces_dir):
    from vision.evaluation.specimen import Conditions

    live = [load_image(faces_dir / "Howard_Dean" / "Howard_Dean_0005.jpg")]
    upright = verifier.verify(_scene(faces_dir, Conditions()), live)
    turned = verifier.verify(_scene(faces_dir, Conditions(upside_down=True)), live)
    assert turned.id_quality.ok and turned.decision.matched
    assert abs(turned.decision.score - upright.decision.score) < 0.05


def test_glare_on_the_portrait_far_cards_and_unreadable_portraits_have_their_own_reasons(verifier, faces_dir):
    from vision.evaluation.specimen import Conditions

    glare = verifier.id_portrait(_scene(faces_dir, Conditions(glare_on_portrait=True)))
    assert "glare" in glare.quality.reasons and "card_not_found" not in glare.quality.reasons
    far = verifier.id_portrait(_scene(faces_dir, Conditions(width_frac=(0.38, 0.42))))
    assert "card_too_far" in far.quality.reasons
    blank = np.full((480, 640, 3), 60, np.uint8)
    cv2.rectangle(blank, (120, 110), (520, 360), (225, 225, 225), -1)  # a card-shaped thing with no photo
    assert verifier.id_portrait(blank).quality.reasons == ("portrait_unreadable",)


def test_an_inverted_face_is_recognised_as_upside_down(verifier, faces_dir):
    from vision.id_portrait import upside_down

    image = cv2.rotate(load_image(faces_dir / "Howard_Dean" / "Howard_Dean_0002.jpg"), cv2.ROTATE_180)
    faces = verifier.encoder.detect(image)
    assert faces, "the detector finds the inverted face (that is the problem being guarded against)"
    assert upside_down(image, faces[0], verifier.encoder.detector)
    upright = cv2.rotate(image, cv2.ROTATE_180)
    assert not upside_down(upright, verifier.encoder.detect(upright)[0], verifier.encoder.detector)


def test_synthetic_id_evaluation_judges_chip_photos_at_the_chip_threshold(tmp_path):
    """`kiosk eval faces --synthetic-id --case chip`: a real run on a few LFW pairs, its figures at the shipped
    chip-photo calibration (not the printed portrait's)."""
    from tests.conftest import DATA_DIR

    with (DATA_DIR / "faces" / "pairs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    pick = [r for r in rows if r["fold"] == "1" and r["same_person"] == "1"][:3] + \
           [r for r in rows if r["fold"] == "2" and r["same_person"] == "0"][:3]
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["image1", "image2", "same_person", "fold"])
        writer.writeheader()
        writer.writerows({k: r[k] for k in writer.fieldnames} for r in pick)
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "eval", "faces", "--pairs", str(pairs), "--images",
                          str(DATA_DIR / "faces"), "--synthetic-id", "--case", "chip", "--recognizer", "mobilefacenet",
                          "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout[out.stdout.index("{"):])
    at = report["genuine_match_at_default"]
    assert report["case"] == "chip" and at["calibration"] == "mobilefacenet_flip_east_asian_chip"
    assert at["threshold"] == Calibration.named("mobilefacenet_flip_east_asian_chip").threshold(1e-3)
    assert at["genuine_pairs"] == 3 and 0.0 <= at["rate"] <= 1.0 and report["failure_to_enrol"] == 0
