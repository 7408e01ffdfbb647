"""Text normalisation before scoring (WER/CER) and before intent matching.

Whisper's Mandarin output mixes traditional and simplified characters and writes digits; references and the
FAQ are simplified Chinese with numbers in hanzi, so both sides go through the same normalisation.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from functools import cache

import cn2an
import opencc

_DIGITS_ZH = str.maketrans("0123456789", "零一二三四五六七八九")
_DIGITS_EN = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four",
    "5": "five", "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten",
}
_TENS = {"2": "twenty", "3": "thirty", "4": "forty", "5": "fifty", "6": "sixty", "7": "seventy", "8": "eighty", "9": "ninety"}
_TEENS = {"11": "eleven", "12": "twelve", "13": "thirteen", "14": "fourteen", "15": "fifteen", "16": "sixteen",
          "17": "seventeen", "18": "eighteen", "19": "nineteen"}


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _number_words(match: re.Match[str]) -> str:
    n = match.group(0)
    if n in _DIGITS_EN:
        return _DIGITS_EN[n]
    if n in _TEENS:
        return _TEENS[n]
    if len(n) == 2 and n[0] in _TENS:
        return _TENS[n[0]] + ("" if n[1] == "0" else " " + _DIGITS_EN[n[1]])
    return " ".join(_DIGITS_EN[d] for d in n)


def _strip_punctuation(text: str) -> str:
    return "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in text)


def normalize_en(text: str) -> str:
    text = text.lower().replace("'", "")
    text = re.sub(r"\d+", _number_words, text)
    return " ".join(_strip_punctuation(text).split())


def _numbers_as_said(text: str, method: str) -> str:
    # cn2an warns (and leaves the text) on a malformed number such as a recogniser's "1.027.47": not our error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return cn2an.transform(text, method)


def normalize_zh(text: str) -> str:
    """Simplified characters, numbers as said (60 -> 六十, 10.8% -> 百分之十点八), no punctuation or spaces."""
    text = re.sub(r"(?<=\d),(?=\d)", "", _t2s().convert(text))
    # 1-2线 is 一二线 (a range or a list), never 一负二.
    text = _numbers_as_said(re.sub(r"(?<=\d)-(?=\d)", " ", text), "an2cn")
    # Whatever cn2an leaves as digits (a stray one in a run of punctuation), one by one.
    text = text.translate(_DIGITS_ZH)
    return "".join(_strip_punctuation(text).split())


def digits_zh(text: str) -> str:
    """Mandarin numbers back to digits (五千二百九十七点二八 -> 5297.28), for comparing numbers."""
    return _numbers_as_said(text, "cn2an")


def normalize(text: str, language: str) -> str:
    return normalize_zh(text) if language == "zh" else normalize_en(text)
