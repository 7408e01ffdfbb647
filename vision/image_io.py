"""Decoding untrusted image input (camera files, uploaded scans) with clear, typed errors."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

MAX_FILE_BYTES = 25_000_000
MAX_PIXELS = 40_000_000  # a 40 MP phone photo decodes to ~120 MB of BGR; anything bigger is refused
WORKING_MAX_SIDE = 1920  # larger frames are downscaled before detection: faces stay far above min size


class ImageInputError(ValueError):
    """Input that is not a usable image; the message says why in words a user can act on."""


def decode_image_bytes(data: bytes, source: str = "image") -> np.ndarray:
    if not data:
        raise ImageInputError(f"{source}: empty file")
    if len(data) > MAX_FILE_BYTES:
        raise ImageInputError(f"{source}: file is {len(data) / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:  # reads the header only: cheap size check
                width, height = header.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageInputError(f"{source}: image dimensions are implausibly large") from None
    except Exception:  # noqa: BLE001 (a decoder fed garbage raises anything: it is not a readable image)
        raise ImageInputError(f"{source}: not a readable image") from None
    if width * height > MAX_PIXELS:
        raise ImageInputError(f"{source}: {width}x{height} is too large (limit {MAX_PIXELS / 1e6:.0f} megapixels)")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise ImageInputError(f"{source}: image data is corrupt or truncated")
    return image


def load_image(path: Path | str) -> np.ndarray:
    path = Path(path)
    if path.is_dir():
        raise ImageInputError(f"{path}: is a folder, not an image")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageInputError(f"{path}: file not found") from None
    except OSError as exc:
        raise ImageInputError(f"{path}: cannot read ({exc.strerror})") from None
    return decode_image_bytes(data, path.name)


def working_copy(image: np.ndarray, max_side: int = WORKING_MAX_SIDE) -> tuple[np.ndarray, float]:
    """The image at most ``max_side`` pixels on its long side, and the factor to map results back."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = image.shape[:2]
    side = max(h, w)
    if side <= max_side:
        return image, 1.0
    scale = max_side / side
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA), 1.0 / scale
