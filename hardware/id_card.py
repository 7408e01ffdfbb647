"""The identity document, as read: the card's text fields and, from a chip reader, the chip portrait.

Two sources give a :class:`DocumentRead` through one interface, :class:`DocumentReader`:
- the card in the camera frame, read by OCR (``vision.id_card.CameraCardReader``, the default: every kiosk has
  a camera);
- an ID-card chip reader (this module): the USB/serial reader with a SAM module found on Chinese ID-check
  terminals. It returns the text fields and the chip photo in the vendor's compressed format; turning that into
  pixels needs the vendor's decoder library, so the decoder is a configured plug-in, and without one the read
  says ``photo_status = "unavailable"`` instead of failing.

Everything here is personal data: held in memory for the session, never logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from hardware.errors import DeviceDataError, DeviceDisconnected, DeviceMissing

# GB 3304 ethnicity codes as the chip stores them (two digits) -> the name printed on the card.
ETHNICITIES = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎",
    "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬",
    "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴",
    "珞巴", "基诺",
)


@dataclass(frozen=True)
class IdCardFields:
    """The fields of a PRC resident ID card (front: name to number; back: authority and validity)."""

    id_number: str | None = None
    name: str | None = None
    sex: str | None = None  # "M" | "F"
    ethnicity: str | None = None
    birth_date: date | None = None
    address: str | None = None
    authority: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    permanent: bool = False  # validity 长期 (no end date)

    @property
    def back_read(self) -> bool:
        return self.permanent or self.valid_until is not None


@dataclass(eq=False)
class DocumentRead:
    source: str  # "ocr" | "chip"
    fields: IdCardFields
    portrait: np.ndarray | None = None  # chip photo (BGR) when decoded; biometric data
    photo_status: str = "unavailable"  # "ok" | "unavailable" (no decoder) | "undecodable"
    seconds: float = 0.0
    confidences: dict[str, float] = field(default_factory=dict)  # per field, OCR only


class DocumentReader(Protocol):
    source: str

    def open(self) -> None: ...
    def read_document(self) -> DocumentRead: ...
    def close(self) -> None: ...


class ChipPhotoDecoder(Protocol):
    """Vendor library binding: the chip's compressed photo (1024 bytes) -> a 102x126 BGR image."""

    name: str

    def decode(self, data: bytes) -> np.ndarray: ...


# Decoders this build can load, by config name. None ship: the format is a vendor's, licensed with its reader.
PHOTO_DECODERS: dict[str, Callable[[], ChipPhotoDecoder]] = {}


class ChipPhotoDecoderMissing(DeviceMissing):
    def __init__(self, message: str) -> None:
        super().__init__("id_reader", message)


def build_photo_decoder(name: str | None) -> ChipPhotoDecoder | None:
    if name is None:
        return None
    try:
        return PHOTO_DECODERS[name]()
    except KeyError:
        installed = ", ".join(sorted(PHOTO_DECODERS)) or "none"
        raise ChipPhotoDecoderMissing(
            f"chip photo decoder {name!r} is not installed (installed: {installed}); the vendor's decoder library "
            "comes with the reader: install its plug-in, or unset hardware.id_reader.photo_decoder"
        ) from None


# ---- the chip's base-information record ------------------------------------------------------------------

# (field, bytes) of the 256-byte UCS-2LE text record, in order.
TEXT_LAYOUT = (("name", 30), ("sex", 2), ("ethnicity", 4), ("birth", 16), ("address", 70), ("id_number", 36),
               ("authority", 30), ("valid_from", 16), ("valid_until", 16), ("reserved", 36))
TEXT_BYTES = sum(n for _, n in TEXT_LAYOUT)
PHOTO_BYTES = 1024


def _ymd(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError):
        return None


def parse_text_record(record: bytes) -> IdCardFields:
    if len(record) != TEXT_BYTES:
        raise DeviceDataError("id_reader", f"text record is {len(record)} bytes, expected {TEXT_BYTES}")
    values, offset = {}, 0
    for name, size in TEXT_LAYOUT:
        values[name] = record[offset : offset + size].decode("utf-16-le", errors="replace").strip(" \x00")
        offset += size
    code = values["ethnicity"]
    ethnicity = ETHNICITIES[int(code) - 1] if code.isdigit() and 1 <= int(code) <= len(ETHNICITIES) else None
    permanent = values["valid_until"].startswith("长期")
    return IdCardFields(
        id_number=values["id_number"].upper() or None,
        name=values["name"] or None,
        sex={"1": "M", "2": "F"}.get(values["sex"]),
        ethnicity=ethnicity,
        birth_date=_ymd(values["birth"]),
        address=values["address"] or None,
        authority=values["authority"] or None,
        valid_from=_ymd(values["valid_from"]),
        valid_until=None if permanent else _ymd(values["valid_until"]),
        permanent=permanent,
    )


def build_text_record(f: IdCardFields) -> bytes:
    """The inverse of :func:`parse_text_record` (replay files and tests speak the chip's own format)."""
    def ymd(d: date | None) -> str:
        return d.strftime("%Y%m%d") if d else ""

    values = {
        "name": f.name or "", "sex": {"M": "1", "F": "2"}.get(f.sex or "", ""),
        "ethnicity": f"{ETHNICITIES.index(f.ethnicity) + 1:02d}" if f.ethnicity in ETHNICITIES else "",
        "birth": ymd(f.birth_date), "address": f.address or "", "id_number": f.id_number or "",
        "authority": f.authority or "", "valid_from": ymd(f.valid_from),
        "valid_until": "长期" if f.permanent else ymd(f.valid_until), "reserved": "",
    }
    out = b""
    for name, size in TEXT_LAYOUT:
        raw = values[name].encode("utf-16-le")[:size]
        out += raw + b" \x00" * ((size - len(raw)) // 2)
    return out


# ---- serial framing (the reader's SAM protocol) ------------------------------------------------------------

PREAMBLE = bytes.fromhex("AAAAAA9669")
CMD_FIND, CMD_SELECT, CMD_READ = bytes.fromhex("2001"), bytes.fromhex("2002"), bytes.fromhex("3001")
SW_OK, SW_FOUND = bytes.fromhex("000090"), bytes.fromhex("00009F")


def _xor(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value


def build_command(command: bytes) -> bytes:
    body = len(command + b"\x00").to_bytes(2, "big") + command
    return PREAMBLE + body + bytes([_xor(body)])


def build_response(status: bytes, data: bytes = b"") -> bytes:
    body = (len(status + data) + 1).to_bytes(2, "big") + status + data
    return PREAMBLE + body + bytes([_xor(body)])


def parse_response(frame: bytes) -> tuple[bytes, bytes]:
    """(status word, data) of one response frame; a damaged frame is a data error, never a guess."""
    if len(frame) < 11 or not frame.startswith(PREAMBLE):
        raise DeviceDataError("id_reader", "reply does not start with the reader's preamble")
    length = int.from_bytes(frame[5:7], "big")
    body = frame[5 : 7 + length]
    if len(body) != length + 2 or _xor(body[:-1]) != body[-1]:
        raise DeviceDataError("id_reader", "reply is truncated or fails its checksum")
    return body[2:5], body[5:-1]


def parse_base_info(data: bytes) -> tuple[IdCardFields, bytes]:
    """Read-base-information data: text length, photo length, the text record, the compressed photo."""
    if len(data) < 4:
        raise DeviceDataError("id_reader", "base information too short")
    text_len, photo_len = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
    if len(data) < 4 + text_len + photo_len:
        raise DeviceDataError("id_reader", "base information shorter than its lengths say")
    return parse_text_record(data[4 : 4 + text_len]), data[4 + text_len : 4 + text_len + photo_len]


def _with_photo(fields: IdCardFields, photo: bytes, decoder: ChipPhotoDecoder | None) -> DocumentRead:
    if decoder is None or not photo:
        return DocumentRead("chip", fields, None, "unavailable")
    try:
        image = decoder.decode(photo)
    except Exception:  # noqa: BLE001 (any failure of a vendor's library: the text fields are still good)
        return DocumentRead("chip", fields, None, "undecodable")
    return DocumentRead("chip", fields, image, "ok")


class SerialChipReader:
    """A chip reader on a serial port (USB-serial on most terminals), 115200 8N1."""

    source = "chip"

    def __init__(self, port: str, decoder: ChipPhotoDecoder | None = None, baudrate: int = 115200,
                 timeout_s: float = 2.0) -> None:
        self.port, self.decoder, self.baudrate, self.timeout_s = port, decoder, baudrate, timeout_s
        self._serial = None

    def open(self) -> None:
        import serial

        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=self.timeout_s)
        except (serial.SerialException, OSError) as exc:
            raise DeviceMissing("id_reader", f"no ID-card reader at {self.port} ({exc})") from None

    def _exchange(self, command: bytes) -> tuple[bytes, bytes]:
        if self._serial is None:
            raise DeviceMissing("id_reader", "ID-card reader is not open")
        try:
            self._serial.write(build_command(command))
            head = self._serial.read(7)
            rest = self._serial.read(int.from_bytes(head[5:7], "big")) if len(head) == 7 else b""
        except OSError as exc:
            raise DeviceDisconnected("id_reader", f"ID-card reader stopped answering ({exc})") from None
        if not head:
            raise DeviceDisconnected("id_reader", "ID-card reader did not answer")
        return parse_response(head + rest)

    def read_document(self) -> DocumentRead:
        status, _ = self._exchange(CMD_FIND)
        if status != SW_FOUND:
            raise DeviceDataError("id_reader", "no card on the reader")
        self._exchange(CMD_SELECT)
        status, data = self._exchange(CMD_READ)
        if status != SW_OK:
            raise DeviceDataError("id_reader", f"the card could not be read (status {status.hex()})")
        fields, photo = parse_base_info(data)
        return _with_photo(fields, photo, self.decoder)

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None


class ReplayChipReader:
    """Replays a recorded read: a file holding the reader's base-information data (``.bin``), or a JSON file
    of the fields with an optional ``photo`` image file standing in for a decoded chip photo."""

    source = "chip"

    def __init__(self, path: Path, decoder: ChipPhotoDecoder | None = None) -> None:
        self.path, self.decoder = Path(path), decoder

    def open(self) -> None:
        if not self.path.is_file():
            raise DeviceMissing("id_reader", f"replay file not found: {self.path}")

    def read_document(self) -> DocumentRead:
        if self.path.suffix == ".bin":
            fields, photo = parse_base_info(self.path.read_bytes())
            return _with_photo(fields, photo, self.decoder)
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            fields = IdCardFields(**{k: _ymd(v.replace("-", "")) if k.endswith(("_date", "_from", "_until")) and v
                                     else v for k, v in raw["fields"].items()})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DeviceDataError("id_reader", f"{self.path.name}: not a chip replay file ({exc})") from None
        if not raw.get("photo"):
            return DocumentRead("chip", fields, None, "unavailable")
        from hardware.camera import decode_image

        photo = decode_image((self.path.parent / raw["photo"]).read_bytes(), raw["photo"])
        return DocumentRead("chip", fields, photo, "ok")

    def close(self) -> None:
        pass
