"""Fields of a PRC resident ID card from OCR text lines (pure: no model, no image).

Lines are grouped into rows by position and read against the card's labels (姓名, 性别, 民族, 出生, 住址,
公民身份号码 on the front; 签发机关, 有效期限 on the back). OCR sometimes drops a label, so each field also has
a positional fallback (the name is the row above the sex/ethnicity row). The citizen number is taken only
when exactly one 18-character candidate on its row passes the GB 11643 check digit: a misread number fails
closed, it never becomes another plausible number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from contract.id_number import CHECK_DIGIT, ID_PATTERN, check_digit
from hardware.id_card import IdCardFields

FRONT_LABELS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
BACK_LABELS = ("签发机关", "有效期限", "居民身份证", "中华人民共和国")
WATERMARK_PIECES = ("SPEC", "PECIM", "样本")
# What the recogniser confuses with digits on the number row only (never applied to names).
DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1",
                                  "Z": "2", "S": "5", "B": "8", "x": "X", "×": "X"})
BIRTH = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
VALIDITY = re.compile(r"(\d{4})[.．](\d{1,2})[.．](\d{1,2})[-—–~至]*(?:(\d{4})[.．](\d{1,2})[.．](\d{1,2})|(长期))")


@dataclass(frozen=True)
class OcrLine:
    text: str
    score: float
    box: tuple[tuple[float, float], ...]  # four corners, image pixels

    @property
    def cy(self) -> float:
        return sum(p[1] for p in self.box) / len(self.box)

    @property
    def x0(self) -> float:
        return min(p[0] for p in self.box)

    @property
    def height(self) -> float:
        ys = [p[1] for p in self.box]
        return max(ys) - min(ys)


@dataclass(frozen=True)
class Row:
    text: str
    score: float  # lowest OCR confidence of the row's pieces


@dataclass(frozen=True)
class CardText:
    side: str  # "front" | "back" | "unknown"
    fields: IdCardFields
    confidences: dict[str, float]
    number_problem: str | None = None  # front: why no number was taken (e.g. it fails the check digit)


def rows(lines: list[OcrLine]) -> list[Row]:
    """Lines on the same baseline joined left to right; watermark pieces dropped."""
    kept = [ln for ln in lines if ln.text.strip() and not any(w in ln.text.upper() for w in WATERMARK_PIECES)]
    groups: list[list[OcrLine]] = []
    for line in sorted(kept, key=lambda ln: ln.cy):
        if groups and abs(line.cy - groups[-1][-1].cy) < 0.5 * max(line.height, groups[-1][-1].height, 1.0):
            groups[-1].append(line)
        else:
            groups.append([line])
    out = []
    for group in groups:
        group.sort(key=lambda ln: ln.x0)
        out.append(Row("".join(ln.text for ln in group).replace(" ", ""), min(ln.score for ln in group)))
    return out


def _date(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _runs(text: str) -> list[str]:
    return re.findall(r"[0-9X]{18,}", text.replace("公民身份号码", "").translate(DIGIT_LOOKALIKES).upper())


def id_number_in(text: str) -> str | None:
    """The one 18-character run that passes the check digit, or None (none, or more than one)."""
    found = set()
    for run in _runs(text):
        for i in range(len(run) - 17):
            candidate = run[i : i + 18]
            if ID_PATTERN.match(candidate) and check_digit(candidate[:17]) == candidate[17]:
                found.add(candidate)
    return found.pop() if len(found) == 1 else None


def number_problem(table: list[Row]) -> str | None:
    """Why the front gave no number: a clean 18-character number that fails its check digit says so (a
    misread or a false card: the customer is asked to try again, then the shopkeeper); otherwise unreadable."""
    if any(len(run) == 18 and ID_PATTERN.match(run) for r in table for run in _runs(r.text)):
        return CHECK_DIGIT
    return "number_unreadable"


def _strip(text: str, label: str) -> str:
    return text.split(label, 1)[1] if label in text else text


def _front(table: list[Row]) -> tuple[IdCardFields, dict[str, float]]:
    values: dict = {}
    conf: dict[str, float] = {}
    number_row = next((i for i, r in enumerate(table) if id_number_in(r.text)), None)
    if number_row is not None:
        values["id_number"] = id_number_in(table[number_row].text)
        conf["id_number"] = table[number_row].score
    sex_row = next((i for i, r in enumerate(table) if "民族" in r.text or "性别" in r.text), None)
    if sex_row is not None:
        text = table[sex_row].text
        sex_part = _strip(text.split("民族")[0], "性别")
        if sex_part[:1] in ("男", "女"):
            values["sex"] = "M" if sex_part[:1] == "男" else "F"
            conf["sex"] = table[sex_row].score
        if "民族" in text and _strip(text, "民族"):
            values["ethnicity"] = _strip(text, "民族")
        name_row = next((i for i, r in enumerate(table[:sex_row]) if "姓名" in r.text), sex_row - 1)
        if name_row >= 0 and _strip(table[name_row].text, "姓名"):
            values["name"] = _strip(table[name_row].text, "姓名")
            conf["name"] = table[name_row].score
    birth_row = next((i for i, r in enumerate(table) if BIRTH.search(r.text)), None)
    if birth_row is not None:
        values["birth_date"] = _date(*BIRTH.search(table[birth_row].text).groups())
        conf["birth_date"] = table[birth_row].score
        end = number_row if number_row is not None else len(table)
        address = "".join(_strip(r.text, "住址") for r in table[birth_row + 1 : end] if "公民身份号码" not in r.text)
        if address:
            values["address"] = address
    return IdCardFields(**values), conf


def _back(table: list[Row]) -> tuple[IdCardFields, dict[str, float]]:
    values: dict = {}
    conf: dict[str, float] = {}
    for i, r in enumerate(table):
        if "签发机关" in r.text:
            authority = _strip(r.text, "签发机关") or (table[i + 1].text if i + 1 < len(table) else "")
            if authority and "有效期限" not in authority:
                values["authority"], conf["authority"] = authority, r.score
        match = VALIDITY.search(r.text)
        if match:
            g = match.groups()
            values["valid_from"] = _date(*g[:3])
            values["permanent"] = g[6] is not None
            values["valid_until"] = None if g[6] else _date(*g[3:6])
            conf["validity"] = r.score
    return IdCardFields(**values), conf


def read_card_text(lines: list[OcrLine]) -> CardText:
    table = rows(lines)
    joined = "".join(r.text for r in table)
    if any(label in joined for label in BACK_LABELS) or VALIDITY.search(joined):
        fields, conf = _back(table)
        return CardText("back", fields, conf)
    fields, conf = _front(table)
    if fields.id_number or sum(label in joined for label in FRONT_LABELS) >= 2:
        return CardText("front", fields, conf, None if fields.id_number else number_problem(table))
    return CardText("unknown", IdCardFields(), {})
