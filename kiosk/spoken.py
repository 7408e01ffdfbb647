"""What the kiosk says when a screen appears, in the customer's language: every customer screen has a spoken
version, because most customers read little. Amounts, rates and references are read the way people say them
(5,297.28 -> 五千二百九十七点二八元; 10.8% -> 百分之十点八; a reference one character at a time)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import cn2an

from kiosk.i18n import money, percent, retry_words, tr
from kiosk.journey import effects as fx
from kiosk.journey.session import OfferSummary, SessionData

DIGITS_ZH = "零一二三四五六七八九"


def say_money(amount: float, language: str) -> str:
    """Yuan with the fen as decimals, the way payment apps announce money in every shop (支付宝到账五千二百九十七点
    二八元): `kiosk eval tts` reads these back right far more often than 元角分 (二角八分 was heard as 2.8分)."""
    cents = int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    yuan, fraction = cents // 100, cents % 100
    if language == "zh":
        # 两, not 二, before 千, 万 and 亿 (两万, 一万两千), unless part of a tens (二十二万): what people say.
        words = re.sub(r"(?<!十)二(?=[千万亿])", "两", cn2an.an2cn(str(yuan), "low"))
        if fraction:
            words += "点" + DIGITS_ZH[fraction // 10] + (DIGITS_ZH[fraction % 10] if fraction % 10 else "")
        return words + "元"
    return f"{yuan:,}" + (f".{fraction:02d}" if fraction else "") + " yuan"


def say_rate(rate: float, language: str) -> str:
    percent = f"{Decimal(str(rate)) * 100:.2f}".rstrip("0").rstrip(".")
    return f"百分之{cn2an.an2cn(percent, 'low')}" if language == "zh" else f"{percent} percent"


def say_reference(reference: str, language: str) -> str:
    """One character at a time, so it can be written down (digits as words in Mandarin)."""
    if language == "zh":
        return "，".join("杠" if c == "-" else DIGITS_ZH[int(c)] if c.isdigit() else c for c in reference)
    return ", ".join("dash" if c == "-" else c for c in reference)


def offers_speech(data: SessionData, language: str) -> str:
    parts = []
    if data.estimate is not None and data.estimate.limit > 0:  # never "your limit is zero yuan"
        parts.append(tr("spoken.limit", language, limit=say_money(data.estimate.limit, language)))
    if not data.offers:
        return " ".join([*parts, tr("screen.no_offers", language), tr("screen.declined_next", language)])
    for i, o in enumerate(data.offers[:3], start=1):
        parts.append(tr("spoken.offer", language, n=i, lender=o.lender_name(language), amount=say_money(o.amount, language),
                        term=o.term_months, monthly=say_money(o.monthly_payment, language),
                        total=say_money(o.total_repayable, language), apr=say_rate(o.apr, language)))
    parts.append(tr("spoken.offers_choose", language))
    return " ".join(parts)


def review_values(offer: OfferSummary, language: str, say: bool) -> dict[str, str | int]:
    """The review's figures, written (¥5,297.28, 10.80%) or as said (五千二百九十七点二八元, 百分之十点八)."""
    cash = (lambda v: say_money(v, language)) if say else (lambda v: money(v, language))
    rate = (lambda r: say_rate(r, language)) if say else percent
    return {"lender": offer.lender_name(language), "amount": cash(offer.amount), "received": cash(offer.received),
            "fee": cash(offer.fee), "monthly": cash(offer.monthly_payment), "term": offer.term_months,
            "total": cash(offer.total_repayable), "apr": rate(offer.apr), "late": rate(offer.late_daily_rate)}


def review_speech(message: str | None, data: SessionData, language: str) -> str:
    offer = data.chosen_offer
    if offer is None:
        return ""
    key = {"review.understood": "spoken.review_understood", "review.check_wrong": "spoken.review_check_wrong"}
    return tr(key.get(message or "", "spoken.review"), language, **review_values(offer, language, say=True))


def screen_speech(effect: fx.ShowScreen, data: SessionData) -> list[tuple[str, str]]:
    """(text, language) to say for a screen, in order; nothing for screens the journey speaks itself (consent,
    handoff: their Speak effects) or that no customer is at (attract)."""
    language = data.language or "en"
    screen = effect.screen
    if screen == "language":  # nobody has chosen yet: both languages, Mandarin first
        return [(tr("spoken.language", lang), lang) for lang in ("zh", "en")]
    if screen == "offers":
        return [(offers_speech(data, language), language)]
    # Why the face is asked for again, then what to do (an ID card retry is spoken by the journey's Speak).
    retry = retry_words(effect.message, effect.params.get("reasons") or [], language)
    if retry and screen == "live_capture":
        return [(retry, language), (tr("spoken.live_capture", language), language)]
    if screen == "review":
        return [(review_speech(effect.message, data, language), language)]
    if screen == "confirmation" and effect.params.get("reference"):
        key = "spoken.queued" if data.application_queued else "spoken.sent"
        if effect.message == "confirmation.already_sent":
            key = "spoken.already_sent"
        said = tr(key, language, reference=say_reference(effect.params["reference"], language))
        return [(said, language), (tr("screen.next_steps", language), language)]
    if screen == "error":
        text = tr(effect.message or "error.default", language, **effect.params)
        return [(text if text != effect.message else tr("error.default", language), language)]
    # A message with words (what to fix, why the wait is longer, how it ended) is said first, then the screen's
    # own words. A handoff's reason is spoken by the journey itself (its Speak effect).
    message = tr(effect.message, language, **effect.params) if effect.message and screen != "handoff" else None
    said = [(message, language)] if message and message != effect.message else []
    key = f"spoken.{screen}"
    text = tr(key, language)
    return said + ([] if text == key else [(text, language)])
