"""Is a question about the kiosk's business at all? Fuzzy similarity alone accepts questions that are shaped like
an FAQ phrasing ("what is the capital of France" ~ "what is the APR") or share one everyday word with it ("how much
does a bus ticket cost"). The check here: how much of what the customer said, function words left out, is in the
knowledge base's own vocabulary. Mostly foreign words -> off-topic, whatever the closest phrasing is.

Tolerant of recogniser errors: English words compare by stem and, for longer words, by spelling; a Mandarin
character also counts when it sounds like the knowledge base's (a homophone next to the same neighbour)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz, process
from snowballstemmer import stemmer

from voice.syllables import syllables

_STEM = stemmer("english")
# An English word this long that is spelled nearly like a known one is taken for it (a recogniser's slip).
FUZZY_MIN_LEN, FUZZY_MIN_RATIO = 5, 85.0


def stems(words: list[str]) -> list[str]:
    return _STEM.stemWords(words)


def _pairs(text: str) -> set[str]:
    sounds = syllables(text)
    return {f"{a} {b}" for a, b in pairwise(sounds)}


def _function_spans(text: str, words: frozenset[str]) -> list[bool]:
    """Per character of a Mandarin text: is it inside a function word (longest match first)?"""
    marked, i = [False] * len(text), 0
    longest = max((len(w) for w in words), default=0)
    while i < len(text):
        for n in range(min(longest, len(text) - i), 0, -1):
            if text[i:i + n] in words:
                marked[i:i + n] = [True] * n
                i += n
                break
        else:
            i += 1
    return marked


@dataclass(frozen=True)
class Domain:
    language: str
    function_words: frozenset[str]
    words: frozenset[str]  # en: stems of the vocabulary's words; zh: its characters
    spellings: tuple[str, ...] = ()  # en: the vocabulary's longer words, for the spelling tolerance
    sound_pairs: frozenset[str] = frozenset()  # zh: adjacent syllable pairs of the vocabulary

    @classmethod
    def from_texts(cls, language: str, texts: list[str], function_words: list[str]) -> Domain:
        """``texts``: everything the knowledge base says in this language, normalised (phrases, keywords, cues,
        synonyms)."""
        fw = frozenset(function_words)
        if language == "zh":
            return cls(language, fw, frozenset("".join(texts)) - fw,
                       sound_pairs=frozenset(p for t in texts for p in _pairs(t)))
        vocab = {w for t in texts for w in t.split()} - fw
        return cls(language, fw, frozenset(stems(sorted(vocab))),
                   tuple(sorted(w for w in vocab if len(w) >= FUZZY_MIN_LEN)))

    def coverage(self, query: str) -> float | None:
        """Share of the query's content (not function words, not numbers) found in the vocabulary; None when
        there is no content to judge (every word a function word)."""
        known = self._zh(query) if self.language == "zh" else self._en(query)
        return sum(known) / len(known) if known else None

    def _en(self, query: str) -> list[bool]:
        content = [w for w in query.split() if w not in self.function_words]
        return [stem in self.words or (len(w) >= FUZZY_MIN_LEN and process.extractOne(
                    w, self.spellings, scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_RATIO) is not None)
                for w, stem in zip(content, stems(content), strict=True)]

    def _zh(self, query: str) -> list[bool]:
        marked = _function_spans(query, self.function_words)
        sounds = syllables(query)
        known = []
        for i, ch in enumerate(query):
            # Function words, and what is not a Chinese character (a recogniser's stray English) say nothing.
            if marked[i] or not "\u4e00" <= ch <= "\u9fff":
                continue
            near = [f"{sounds[j]} {sounds[j + 1]}" for j in (i - 1, i) if 0 <= j < len(query) - 1]
            known.append(ch in self.words or any(p in self.sound_pairs for p in near))
        return known
