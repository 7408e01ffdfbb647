"""Mandarin text as toneless pinyin, one syllable per character: how the matcher hears homophones (a recogniser
swaps a character for another that sounds the same, one character at a time).

Each character is looked up on its own, so pypinyin's phrase dictionary (for reading polyphones in context) is
never consulted here; it is not loaded, which keeps 43 MB out of the kiosk's memory (every CJK character reads the
same either way, checked over U+4E00..U+9FFF). The neural voice's worker, a process of its own, loads it.
"""

from __future__ import annotations

import os

# pypinyin reads these when first imported. (The voice worker is started with them removed.)
PYPINYIN_SETTINGS = ("PYPINYIN_NO_PHRASES", "PYPINYIN_NO_DICT_COPY")
for _setting in PYPINYIN_SETTINGS:
    os.environ.setdefault(_setting, "1")

from pypinyin import lazy_pinyin  # after the settings it reads


def syllables(text: str) -> list[str]:
    """One syllable per character (a run of Latin letters would otherwise come back as one item)."""
    return lazy_pinyin(list(text))
