"""The application reference a customer is given: unique across the fleet, short, and readable aloud.

``<device>-<sequence><check>``, e.g. ``2B-00071`` (device 75, application 7): the device's number (assigned by the service at registration,
so no two kiosks share it) and the kiosk's own application sequence, both in Crockford's base32 (no I, L, O or U,
so nothing reads as another letter or a digit), then one ISO 7064 MOD 33,32 check character over both, so a
reference mis-heard on the phone is caught before anyone searches for it.
"""

from __future__ import annotations

import re

from stdnum.iso7064 import mod_37_36  # the hybrid ISO 7064 scheme, for any alphabet size

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
PATTERN = re.compile(rf"^([{ALPHABET}]+)-([{ALPHABET}]{{4,}})([{ALPHABET}])$")


def _base32(n: int, width: int) -> str:
    digits = ""
    while n:
        n, r = divmod(n, 32)
        digits = ALPHABET[r] + digits
    return digits.rjust(width, "0")


def make_reference(device_number: int, sequence: int) -> str:
    if device_number < 1 or sequence < 1:
        raise ValueError("device number and sequence start at 1")
    device, seq = _base32(device_number, 2), _base32(sequence, 4)
    return f"{device}-{seq}{mod_37_36.calc_check_digit(device + seq, alphabet=ALPHABET)}"


def parse_reference(text: str) -> tuple[int, int] | None:
    """(device number, sequence) of a well-formed reference, None when it is mistyped or mis-heard. Read-alike
    letters are folded the way Crockford's base32 does (O -> 0, I and L -> 1)."""
    text = text.strip().upper().replace(" ", "").translate(str.maketrans("OIL", "011"))
    match = PATTERN.match(text)
    if not match or not mod_37_36.is_valid(match[1] + match[2] + match[3], alphabet=ALPHABET):
        return None
    return int(match[1].translate(_DECODE), 32), int(match[2].translate(_DECODE), 32)


_DECODE = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")
