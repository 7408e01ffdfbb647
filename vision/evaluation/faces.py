"""Face-verification evaluation on a pairs file (image1,image2,same_person[,fold]) through the product path."""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vision.encoder import FaceEncoder, central_face, primary_face
from vision.evaluation.metrics import (
    best_accuracy_threshold,
    fold_accuracy,
    percentile_ms,
    roc_auc,
    tar_at_far,
    threshold_at_fmr,
)
from vision.evaluation.specimen import Conditions
from vision.evaluation.synthetic_id import render_scene
from vision.id_portrait import extract_portrait
from vision.image_io import ImageInputError, load_image
from vision.matching import Calibration

# A pair with an image that yields no face is scored below any real cosine: it counts as a non-match.
NO_FACE_SCORE = -2.0


@dataclass(frozen=True)
class Pairs:
    image1: tuple[str, ...]
    image2: tuple[str, ...]
    labels: np.ndarray
    folds: np.ndarray

    @property
    def images(self) -> list[str]:
        return sorted(set(self.image1) | set(self.image2))


def load_pairs(path: Path) -> Pairs:
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"image1", "image2", "same_person"} <= set(rows[0]):
        raise ValueError(f"{path}: expected CSV columns image1,image2,same_person[,fold]")
    folds = [int(r["fold"]) if r.get("fold") else i % 10 + 1 for i, r in enumerate(rows)]
    if len(set(folds)) < 2:
        # Thresholds and fusion weights are fitted on the other folds; with one fold there are none.
        raise ValueError(f"{path}: needs at least two folds (the fold column has only {folds[0]})")
    return Pairs(
        tuple(r["image1"] for r in rows),
        tuple(r["image2"] for r in rows),
        np.array([int(r["same_person"]) for r in rows]),
        np.array(folds),
    )


@dataclass
class Encoded:
    embeddings: dict[str, dict[str, np.ndarray]]  # image -> recognizer -> unit vector
    failures: dict[str, str]  # image -> reason (failure to enrol)
    decode_s: list[float] = field(default_factory=list)


def _decoded(images: list[str], root: Path, out: Encoded) -> Iterator[tuple[str, np.ndarray]]:
    """Each image that decodes, timed; one that does not is a failure to enrol, with its reason."""
    for name in images:
        t0 = time.perf_counter()
        try:
            image = load_image(root / name)
        except ImageInputError as exc:
            out.failures[name] = str(exc)
            continue
        out.decode_s.append(time.perf_counter() - t0)
        yield name, image


def encode_images(images: list[str], root: Path, encoder: FaceEncoder, subject: str = "center") -> Encoded:
    out = Encoded({}, {})
    for name, image in _decoded(images, root, out):
        faces = encoder.detect(image)
        face = central_face(faces, image.shape) if subject == "center" else primary_face(faces)
        if face is None:
            out.failures[name] = "no face detected"
            continue
        out.embeddings[name] = encoder.embed(image, face)
    return out


# How the SYNTHETIC card is shown to the camera, per evaluated case. "chip": the upright card's portrait stored
# the way a PRC card chip stores it (102x126 pixels, strongly compressed) and matched as the chip photo is.
ID_CASES: dict[str, Conditions] = {
    "upright": Conditions(), "upside_down": Conditions(upside_down=True),
    "far": Conditions(width_frac=(0.38, 0.44)),
    "far_hd": Conditions(width_frac=(0.38, 0.44), frame=(1280, 720)),  # the same distance, an HD capture
    "glare_on_portrait": Conditions(glare_on_portrait=True),
    "chip": Conditions(),
}
CHIP_SIZE, CHIP_JPEG_QUALITY = (102, 126), 35


def chip_photo(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The face in ``box`` as a chip stores its photo: head and shoulders at 102x126, compressed hard."""
    x, y, w, h = box
    cx, cy, side = x + w / 2, y + h * 0.55, 1.55 * max(w, h)  # head and shoulders, the ID photo's framing
    x0, y0 = int(max(cx - side * 0.41, 0)), int(max(cy - side / 2, 0))
    crop = image[y0 : int(min(cy + side / 2, image.shape[0])), x0 : int(min(cx + side * 0.41, image.shape[1]))]
    small = cv2.resize(crop, CHIP_SIZE, interpolation=cv2.INTER_AREA)
    _, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, CHIP_JPEG_QUALITY])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def encode_chip_photos(images: list[str], root: Path, encoder: FaceEncoder) -> Encoded:
    """Each image's subject as a chip photo (see :func:`chip_photo`), embedded the way the kiosk embeds one."""
    out = Encoded({}, {})
    for name, image in _decoded(images, root, out):
        face = central_face(encoder.detect(image), image.shape)
        embedding = None if face is None else encoder.embed_small_photo(chip_photo(image, face.box))
        if embedding is None:
            out.failures[name] = "no face found on the chip-resolution photo"
            continue
        out.embeddings[name] = embedding
    return out


def encode_id_renders(images: list[str], root: Path, encoder: FaceEncoder, case: str = "upright"
                      ) -> tuple[Encoded, Counter]:
    """Each image printed on a synthetic ID card in a camera scene, then read back by the product's ID path;
    also how often each quality reason was given (what the customer would have been told)."""
    out, reasons = Encoded({}, {}), Counter()
    for name, source in _decoded(images, root, out):
        seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
        scene = render_scene(source, seed, ID_CASES[case])
        t0 = time.perf_counter()
        portrait = extract_portrait(scene, encoder.detector)
        encoder.timer.samples["id_portrait"].append(time.perf_counter() - t0)
        reasons.update(portrait.quality.reasons or ("ok",))
        if portrait.face is None:
            out.failures[name] = "no portrait found on the card"
            continue
        if case != "chip":
            out.embeddings[name] = encoder.embed(portrait.document, portrait.face)
            continue
        embedding = encoder.embed_small_photo(chip_photo(portrait.document, portrait.face.box))  # as the kiosk matches a chip photo
        if embedding is None:
            out.failures[name] = "no face found on the chip-resolution photo"
            continue
        out.embeddings[name] = embedding
    return out, reasons


def pair_scores(pairs: Pairs, enc: Encoded, recognizer: str, enc2: Encoded | None = None) -> np.ndarray:
    """Score of each pair; ``enc2`` (when given) holds the second image of each pair."""
    second = enc2 or enc
    scores = []
    for a, b in zip(pairs.image1, pairs.image2, strict=True):
        ea, eb = enc.embeddings.get(a), second.embeddings.get(b)
        scores.append(NO_FACE_SCORE if ea is None or eb is None else float(ea[recognizer] @ eb[recognizer]))
    return np.array(scores)


def identity_of(image: str) -> str:
    """LFW layout: <root>/<Person>/<Person>_NNNN.jpg."""
    return Path(image).parent.name


def cross_impostors(enc_a: Encoded, enc_b: Encoded, recognizer: str) -> np.ndarray:
    """Every (a, b) of different people across two encoded sets (e.g. ID renders vs live photos)."""
    names_a, names_b = sorted(enc_a.embeddings), sorted(enc_b.embeddings)
    a = np.stack([enc_a.embeddings[n][recognizer] for n in names_a])
    b = np.stack([enc_b.embeddings[n][recognizer] for n in names_b])
    ids_a = np.array([identity_of(n) for n in names_a])
    ids_b = np.array([identity_of(n) for n in names_b])
    return (a @ b.T)[ids_a[:, None] != ids_b[None, :]]


def exhaustive_impostors(enc: Encoded, recognizer: str) -> np.ndarray:
    """Scores of every pair of encoded images of different people: far more impostors than the pairs file
    holds, so a threshold at FMR 1e-3 or 1e-4 rests on thousands of impostor pairs, not on one or two.
    The order of pairs is the same for every recognizer, so arrays of two models can be fused elementwise."""
    names = sorted(enc.embeddings)
    matrix = np.stack([enc.embeddings[n][recognizer] for n in names])
    ids = np.array([identity_of(n) for n in names])
    sims = matrix @ matrix.T
    upper = np.triu(np.ones_like(sims, dtype=bool), k=1)
    return sims[upper & (ids[:, None] != ids[None, :])]


def fit_fusion_weight(z: dict[str, np.ndarray], labels: np.ndarray) -> float:
    """Weight of the first model that maximises accuracy on these (training) scores."""
    names = list(z)
    best_w, best_acc = 0.5, -1.0
    for w in np.linspace(0, 1, 21):
        s = w * z[names[0]] + (1 - w) * z[names[1]]
        threshold = best_accuracy_threshold(s, labels)
        acc = float(np.mean((s >= threshold) == (labels == 1)))
        if acc > best_acc:
            best_w, best_acc = float(w), acc
    return best_w


def fused_scores(parts: dict[str, np.ndarray], labels: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Score fusion of several recognizers, fitted per test fold on the other folds only.

    Each model's score is z-normalised by the mean/std of its *training-fold impostor* scores, then the
    weight of the first model is grid-searched (training-fold accuracy); the test fold never informs either.
    """
    names = list(parts)
    fused = np.empty_like(labels, dtype=float)
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        z = {}
        for n in names:
            imp = parts[n][train & (labels == 0)]
            z[n] = (parts[n] - imp.mean()) / imp.std()
        w = fit_fusion_weight({n: z[n][train] for n in names}, labels[train])
        fused[test] = (w * z[names[0]] + (1 - w) * z[names[1]])[test]
    return fused


def summarise(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, impostors: np.ndarray | None) -> dict:
    accuracies = fold_accuracy(scores, labels, folds)
    row = {
        "accuracy_mean": float(np.mean(accuracies)),
        "accuracy_sd": float(np.std(accuracies)),
        "accuracy_per_fold": accuracies,
        "roc_auc": roc_auc(scores, labels),
        "tar_at_far_1e-2": tar_at_far(scores, labels, 1e-2)[0],
        "tar_at_far_1e-3": tar_at_far(scores, labels, 1e-3)[0],
    }
    if impostors is not None:
        for far in (1e-3, 1e-4):
            tar, thr = tar_at_far(scores, labels, far, impostors)
            row[f"tar_at_far_{far:.0e}_exhaustive"] = tar
            row[f"threshold_at_far_{far:.0e}_exhaustive"] = thr
        row["exhaustive_impostor_pairs"] = len(impostors)
    return row


def timing_table(encoder: FaceEncoder, enc: Encoded) -> dict[str, tuple[float, float]]:
    table = {"decode": percentile_ms(enc.decode_s)}
    for stage, samples in encoder.timer.samples.items():
        table[stage] = percentile_ms(samples)
    return table


def thresholds_for(impostors: np.ndarray, fmrs=(1e-2, 1e-3, 1e-4)) -> dict[str, float]:
    return {f"{f:.0e}": threshold_at_fmr(impostors, f) for f in fmrs}


def _report(pairs: Pairs, first: Encoded, second: Encoded, encoder: FaceEncoder, impostors, fusion: bool) -> dict:
    """The figures for pairs whose first image is encoded in ``first`` and second in ``second``;
    ``impostors(name)`` gives the exhaustive impostor scores for a recognizer, or None."""
    failures = {**first.failures, **second.failures}
    report: dict = {
        "pairs": len(pairs.labels),
        "genuine": int(pairs.labels.sum()),
        "images": len(first.embeddings) + (0 if first is second else len(second.embeddings)) + len(failures),
        "failure_to_enrol": len(failures),
        "failures": failures,
        "detector": encoder.detector.name,
        "recognizers": {},
    }
    parts = {}
    for name in encoder.recognizers:
        parts[name] = pair_scores(pairs, first, name, second)
        exhaustive = impostors(name)
        row = summarise(parts[name], pairs.labels, pairs.folds, exhaustive)
        if exhaustive is not None:
            row["thresholds"] = thresholds_for(exhaustive)
        report["recognizers"][name] = row
    if fusion and len(parts) == 2:
        fused = fused_scores(parts, pairs.labels, pairs.folds)
        report["recognizers"]["fusion(" + "+".join(parts) + ")"] = summarise(fused, pairs.labels, pairs.folds, None)
    report["timings_ms"] = timing_table(encoder, second)
    return report


def evaluate_faces(
    pairs_path: Path,
    images_dir: Path,
    encoder: FaceEncoder,
    subject: str = "center",
    fusion: bool = True,
) -> tuple[dict, Pairs, Encoded]:
    """Every figure the eval prints, for each recognizer in ``encoder`` (and their fusion when there are two)."""
    pairs = load_pairs(pairs_path)
    enc = encode_images(pairs.images, images_dir, encoder, subject)
    with_ids = identity_based(pairs)
    report = _report(pairs, enc, enc, encoder, lambda n: exhaustive_impostors(enc, n) if with_ids else None, fusion)
    return report, pairs, enc


def evaluate_synthetic_id(pairs_path: Path, images_dir: Path, encoder: FaceEncoder, case: str = "upright",
                          default: Calibration | None = None, fmr: float = 1e-3) -> dict:
    """The same figures for ID-vs-live: image1 of each pair is printed on a synthetic card and captured in a
    scene (shown as ``case`` says); image2 is the live face. Folds and labels are the pairs file's. With
    ``default``: the genuine match rate at the shipped threshold, and the quality reasons the customer got."""
    pairs = load_pairs(pairs_path)
    id_enc, reasons = encode_id_renders(sorted(set(pairs.image1)), images_dir, encoder, case)
    live_enc = encode_images(sorted(set(pairs.image2) | set(pairs.image1)), images_dir, encoder)
    report = _report(pairs, id_enc, live_enc, encoder, lambda n: cross_impostors(id_enc, live_enc, n), fusion=True)
    report["case"] = case
    report["quality_reasons"] = {r: n / max(sum(1 for _ in id_enc.embeddings) + len(id_enc.failures), 1)
                                 for r, n in reasons.most_common()}
    if default is not None and set(default.recognizers) <= set(encoder.recognizers):
        threshold = default.threshold(fmr)
        genuine = [default.score(id_enc.embeddings[a], live_enc.embeddings[b])
                   for a, b, same in zip(pairs.image1, pairs.image2, pairs.labels, strict=True)
                   if same and a in id_enc.embeddings and b in live_enc.embeddings]
        missing = int(pairs.labels.sum()) - len(genuine)
        report["genuine_match_at_default"] = {
            "calibration": default.name, "threshold": threshold,
            "rate": (sum(s >= threshold for s in genuine)) / max(int(pairs.labels.sum()), 1),
            "genuine_pairs": int(pairs.labels.sum()), "no_face": missing}
    return report


def at_threshold(pairs: Pairs, enc: Encoded, calibration: Calibration, fmr: float) -> dict | None:
    """FMR and FNMR of ``calibration`` at its ``fmr`` threshold, on exactly these pairs (a pair whose image gave no
    face is a non-match); None when the encoded recognizers cannot produce its score."""
    first = next(iter(enc.embeddings.values()), {})
    if not set(calibration.recognizers) <= set(first):
        return None
    threshold = calibration.threshold(fmr)
    scores = np.array([NO_FACE_SCORE if a not in enc.embeddings or b not in enc.embeddings
                       else calibration.score(enc.embeddings[a], enc.embeddings[b])
                       for a, b in zip(pairs.image1, pairs.image2, strict=True)])
    genuine, impostor = scores[pairs.labels == 1], scores[pairs.labels == 0]
    return {"threshold": threshold, "fmr_target": fmr,
            "fmr": float(np.mean(impostor >= threshold)) if len(impostor) else None,
            "fnmr": float(np.mean(genuine < threshold)) if len(genuine) else None,
            "impostor_pairs": len(impostor), "genuine_pairs": len(genuine)}


def identity_based(pairs: Pairs) -> bool:
    """Exhaustive impostors need person-named folders (LFW layout) to know who is who."""
    return all(identity_of(a) for a in pairs.image1 + pairs.image2)


def format_report(report: dict) -> str:
    lines = [
        (f"pairs {report['pairs']} ({report['genuine']} genuine), images {report['images']}, "
         f"detector {report['detector']}, failure to enrol {report['failure_to_enrol']}"),
        f"{'recognizer':<34} {'acc% (mean±sd)':>15} {'AUC':>8} {'TAR@1e-2':>9} {'TAR@1e-3':>9} {'TAR@1e-3*':>10} {'TAR@1e-4*':>10}",
    ]
    for name, r in report["recognizers"].items():
        ex3 = r.get("tar_at_far_1e-03_exhaustive")
        ex4 = r.get("tar_at_far_1e-04_exhaustive")
        lines.append(
            f"{name:<34} {100 * r['accuracy_mean']:>8.2f}±{100 * r['accuracy_sd']:.2f} {r['roc_auc']:>8.5f} "
            f"{100 * r['tar_at_far_1e-2']:>8.2f}% {100 * r['tar_at_far_1e-3']:>8.2f}% "
            f"{'' if ex3 is None else f'{100 * ex3:.2f}%':>10} {'' if ex4 is None else f'{100 * ex4:.2f}%':>10}"
        )
    imp = next((r.get("exhaustive_impostor_pairs") for r in report["recognizers"].values() if r.get("exhaustive_impostor_pairs")), None)
    if imp:
        lines.append(f"* FAR measured on all {imp} cross-identity pairs of the encoded images, not only the pairs file's")
    if "case" in report:
        reasons = ", ".join(f"{r} {100 * share:.0f}%" for r, share in report["quality_reasons"].items())
        lines.append(f"case {report['case']}: quality reasons given: {reasons}")
    if "genuine_match_at_default" in report:
        g = report["genuine_match_at_default"]
        lines.append(f"genuine pairs matched at the default {g['calibration']} threshold {g['threshold']:.3f}: "
                     f"{100 * g['rate']:.1f}% of {g['genuine_pairs']} ({g['no_face']} without a face)")
    lines.append("per-stage timings, ms (median / p95):")
    for stage, (median, p95) in report["timings_ms"].items():
        lines.append(f"  {stage:<28} {median:7.2f} / {p95:7.2f}")
    return "\n".join(lines)


def build_calibrations(pairs: Pairs, enc: Encoded, detector: str, flip_tta: bool, source: str) -> list[Calibration]:
    """Product calibrations from one encoded data set: one per recognizer, plus their fusion when two.

    Thresholds come from the exhaustive cross-identity impostor scores; the fusion weight is fitted on the
    pairs file and its z-normalisation on the exhaustive impostors.
    """
    names = list(next(iter(enc.embeddings.values())))
    suffix = "_flip" if flip_tta else ""
    impostors = {n: exhaustive_impostors(enc, n) for n in names}
    data = {
        "description": f"{source}: {len(enc.embeddings)} images, {len(impostors[names[0]])} impostor pairs",
        "pairs_file": source,
        "images": len(enc.embeddings),
        "impostor_pairs": len(impostors[names[0]]),
        "failure_to_enrol": len(enc.failures),
    }
    calibrations = [
        Calibration(f"{n}{suffix}", (n,), flip_tta, detector, {}, {n: 1.0}, thresholds_for(impostors[n]), data,
                    "lfw_all")
        for n in names
    ]
    if len(names) == 2:
        norm = {n: (float(impostors[n].mean()), float(impostors[n].std())) for n in names}
        z_pairs = {n: (pair_scores(pairs, enc, n) - norm[n][0]) / norm[n][1] for n in names}
        w = fit_fusion_weight(z_pairs, pairs.labels)
        weights = {names[0]: w, names[1]: 1 - w}
        fused_imp = sum(weights[n] * (impostors[n] - norm[n][0]) / norm[n][1] for n in names)
        calibrations.append(
            Calibration(f"fusion{suffix}", tuple(names), flip_tta, detector, norm, weights, thresholds_for(fused_imp),
                        data, "lfw_all")
        )
    return calibrations
