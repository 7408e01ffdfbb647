"""Receipt printers: ESC/POS bytes written to a device node or a file; a null driver when there is none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hardware.errors import DeviceDisconnected, DeviceMissing

ESC_INIT = b"\x1b@"
# FS & selects the double-byte (GB18030) character mode on Chinese ESC/POS printers; FS . leaves it.
FS_KANJI_ON = b"\x1c&"
FS_KANJI_OFF = b"\x1c."
FEED_AND_CUT = b"\n\n\n\x1dV\x42\x00"


@dataclass(frozen=True)
class Receipt:
    lines: tuple[str, ...]
    language: str  # "zh" | "en"


def encode_escpos(receipt: Receipt) -> bytes:
    body = "\n".join(receipt.lines) + "\n"
    if receipt.language == "zh":
        payload = FS_KANJI_ON + body.encode("gb18030") + FS_KANJI_OFF
    else:
        payload = body.encode("ascii", errors="replace")
    return ESC_INIT + payload + FEED_AND_CUT


class Printer(Protocol):
    def open(self) -> None: ...
    def print_receipt(self, receipt: Receipt) -> bool: ...
    def close(self) -> None: ...


class EscPosFilePrinter:
    """``device`` is a printer node such as ``/dev/usb/lp0`` or, for demos and tests, a plain file."""

    def __init__(self, device: Path) -> None:
        self.device = Path(device)

    def open(self) -> None:
        if not self.device.parent.is_dir():
            raise DeviceMissing("printer", f"no printer at {self.device}")
        if self.device.exists() and not self.device.is_file() and not self.device.is_char_device():
            raise DeviceMissing("printer", f"{self.device} is not a printer device")

    def print_receipt(self, receipt: Receipt) -> bool:
        try:
            with self.device.open("ab") as fh:
                fh.write(encode_escpos(receipt))
        except FileNotFoundError:
            raise DeviceMissing("printer", f"no printer at {self.device}") from None
        except OSError as exc:
            raise DeviceDisconnected("printer", f"write failed ({exc.strerror})") from None
        return True

    def close(self) -> None:
        pass


class NoPrinter:
    """The kiosk has no printer: the receipt is shown on screen only."""

    def open(self) -> None:
        pass

    def print_receipt(self, receipt: Receipt) -> bool:
        return False

    def close(self) -> None:
        pass
