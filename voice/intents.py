"""Intent matching robust to ASR errors: fuzzy text match, and for Mandarin also a pinyin match (a
misrecognised character usually keeps its sound). Below the confidence threshold the answer is "I didn't
understand" rather than a guess."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from voice.domain import Domain, stems
from voice.normalize import normalize
from voice.syllables import syllables

KB_FILE = Path(__file__).with_name("faq.toml")
# Scores are 0..100. Chosen on the FAQ phrasings vs the off-topic set printed by `kiosk eval voice`.
DEFAULT_THRESHOLD = 70.0

# How an answer is put into words for the customer: (intent, None when not understood; language; live session
# values such as {"limit": "8,000 CNY"}) -> the text. The words are the kiosk's (its text catalogues), not voice's.
Wording = Callable[[str | None, str, dict[str, str]], str]


def is_scam(intent: str | None) -> bool:
    """The scam warnings: they win over other intents and are always said in full."""
    return bool(intent) and intent.startswith("scam_")


@dataclass(frozen=True)
class Intent:
    name: str
    phrases: dict[str, tuple[str, ...]]  # language -> normalised phrasings
    keywords: dict[str, tuple[str, ...]]
    # language -> groups of words; the intent is meant when every group has a hit ("pay" + "before" + ...).
    cues: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @property
    def is_scam(self) -> bool:
        return is_scam(self.name)


@dataclass(frozen=True)
class IntentMatch:
    intent: str | None  # None: not understood
    confidence: float  # 0..1
    text: str  # what to say and show


class KnowledgeBase:
    def __init__(self, path: Path = KB_FILE) -> None:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        # Everyday words -> the words the knowledge base uses (老板 -> 店主, owner -> shopkeeper), per language,
        # replaced in one pass (longest first), so a replacement is never replaced again.
        self.synonyms = {lang: {normalize(k, lang): normalize(v, lang) for k, v in table.items()}
                         for lang, table in data.get("synonyms", {}).items()}
        self._synonym_patterns = {lang: _alternation(table, lang) for lang, table in self.synonyms.items()}
        for lang, table in self.synonyms.items():
            for word, replacement in table.items():
                if self.canonical(replacement, lang) != replacement:
                    raise ValueError(f"{path.name}: synonym {word!r} -> {replacement!r} ({lang}) is replaced again")
        self.intents = [
            Intent(
                name,
                {lang: tuple(self.canonical(normalize(p, lang), lang) for p in phrases)
                 for lang, phrases in body["phrases"].items()},
                {lang: self._forms(words, lang) for lang, words in body.get("keywords", {}).items()},
                {lang: tuple(self._forms(group, lang) for group in groups)
                 for lang, groups in body.get("cues", {}).items()},
            )
            for name, body in data["intent"].items()
        ]
        self.domains = {lang: Domain.from_texts(lang, self._vocabulary(lang),
                                                [normalize(w, lang) for w in words])
                        for lang, words in data["function_words"].items()}
        self.intent_domains = {(i.name, "en"): Domain.from_texts("en", self._vocabulary("en", [i]),
                                                                 [normalize(w, "en") for w in data["function_words"]["en"]])
                               for i in self.intents}

    def _forms(self, words: list[str], language: str) -> tuple[str, ...]:
        """A keyword or cue as the knowledge base writes it and as written before its synonyms: 贷多少 becomes
        借多少, and 带多少 (贷 misheard) still sounds like the original."""
        forms = [f for w in words for f in (self.canonical(normalize(w, language), language), normalize(w, language))]
        return tuple(dict.fromkeys(forms))

    def _vocabulary(self, language: str, intents: list[Intent] | None = None) -> list[str]:
        texts = [w for table in [self.synonyms.get(language, {})] for kv in table.items() for w in kv] \
            if intents is None else []
        for i in intents if intents is not None else self.intents:
            texts += [*i.phrases.get(language, ()), *i.keywords.get(language, ())]
            texts += [w for group in i.cues.get(language, ()) for w in group]
        return texts

    def canonical(self, text: str, language: str) -> str:
        pattern = self._synonym_patterns.get(language)
        if pattern is None:
            return text
        table = self.synonyms[language]
        return pattern.sub(lambda m: table[m.group(0)], text)

    def names(self) -> list[str]:
        return [i.name for i in self.intents]

    def phrases(self, language: str) -> list[str]:
        return [p for i in self.intents for p in i.phrases.get(language, ())]


def _alternation(table: dict[str, str], language: str) -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in sorted(table, key=len, reverse=True))
    # English: whole words only ("text" is not in "context"); Mandarin has no spaces.
    return re.compile(words if language == "zh" else rf"(?<!\S)(?:{words})(?!\S)")


# One keyword hit scores just above the threshold; each further hit adds confidence.
KEYWORD_BASE, KEYWORD_STEP, KEYWORD_CAP = 72.0, 8.0, 95.0


# Below this share of its content words in the knowledge base's vocabulary a question is off-topic. Chosen on the
# DEV phrasings (`kiosk eval intents --set dev`).
MIN_COVERAGE = 0.5
# A match this strong is taken whatever the coverage (chosen on the DEV phrasings and the synthesised FAQ speech).
STRONG_MATCH = 75.0

# Every cue group of an intent hit: the customer means it, whatever the closest phrasing is.
CUE_SCORE = 96.0


SOUND_MIN_CHARS = 3


def _contains(query: str, word: str, language: str) -> bool:
    # English: whole words by their stems ("fee" is not in "coffee"; "charges" is "charge"). Mandarin has no
    # spaces: a substring is a hit, and so is a word of three or more characters heard as homophones (贷多少
    # written 带多少, 验证码 as 验证马); shorter sounds are too common to trust (先付 xian fu is also 线覆).
    if language != "zh":
        return f" {_stemmed(word)} " in f" {_stemmed(query)} "
    return word in query or (len(word) >= SOUND_MIN_CHARS and f" {_pinyin(word)} " in f" {_pinyin(query)} ")


def keyword_score(query: str, keywords: tuple[str, ...], language: str) -> float:
    hits = sum(_contains(query, k, language) for k in keywords)
    return 0.0 if hits == 0 else min(KEYWORD_CAP, KEYWORD_BASE + KEYWORD_STEP * (hits - 1))


def cues_met(query: str, groups: tuple[tuple[str, ...], ...], language: str) -> bool:
    return bool(groups) and all(any(_contains(query, w, language) for w in group) for group in groups)


@lru_cache(maxsize=4096)
def _stemmed(text: str) -> str:
    return " ".join(stems(text.split()))


@lru_cache(maxsize=4096)
def _pinyin(text: str) -> str:
    return " ".join(syllables(text))


def similarity(query: str, phrase: str, language: str) -> float:
    if language == "zh":
        chars = max(fuzz.ratio(query, phrase), 0.9 * fuzz.partial_ratio(query, phrase))
        # Same sounds in the same order: ASR often swaps a character for a homophone.
        return max(chars, fuzz.ratio(_pinyin(query), _pinyin(phrase)))
    return max(fuzz.ratio(query, phrase), 0.95 * fuzz.token_set_ratio(query, phrase) if len(query.split()) >= 3 else 0.0)


class IntentMatcher:
    def __init__(self, wording: Wording, kb: KnowledgeBase | None = None, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.wording = wording
        self.kb = kb or KnowledgeBase()
        self.threshold = threshold

    def score(self, text: str, language: str) -> tuple[str | None, float]:
        query = self.kb.canonical(normalize(text, language), language)
        if not query:
            return None, 0.0
        # A scam's cues win over everything else: a question about paying before the loan must never get the
        # reassuring answer about fees. Then any other intent whose cues are all there.
        cued = [i for i in self.kb.intents if cues_met(query, i.cues.get(language, ()), language)]
        if cued:
            return min(cued, key=lambda i: not i.is_scam).name, CUE_SCORE
        # The best score wins; between equal scores (one keyword hit each), the closer phrasing.
        best, best_key, by_shape = None, (0.0, 0.0), False
        for intent in self.kb.intents:
            fuzzy = max((similarity(query, p, language) for p in intent.phrases.get(language, ())), default=0.0)
            keyword = keyword_score(query, intent.keywords.get(language, ()), language)
            key = (max(fuzzy, keyword), fuzzy)
            if key > best_key:
                best, best_key, by_shape = intent.name, key, keyword == 0.0
        # Mostly words the knowledge base never uses: off-topic, unless the question is very close to a phrasing
        # or a keyword (a misheard question keeps its sounds: 與其惡感們喚 is 逾期了怎么办).
        domain = self.kb.domains.get(language)
        coverage = domain.coverage(query) if domain and best_key[0] < STRONG_MATCH else None
        if coverage is not None and coverage < MIN_COVERAGE:
            return None, 0.0
        # English won on the shape of a phrasing alone ("what time does the bank open" ~ "what is the interest
        # rate"): at least one of the question's own words must be that intent's. Not for Mandarin, where a
        # phrasing matched by sound is how a misheard question is understood (measured: it lost scam questions).
        own = self.kb.intent_domains.get((best, language)) if by_shape and language == "en" else None
        if own is not None and own.coverage(query) == 0.0:
            return None, 0.0
        return best, best_key[0]

    def match(self, text: str, language: str, values: dict[str, str] | None = None) -> IntentMatch:
        name, score = self.score(text, language)
        if name is None or score < self.threshold:
            name = None
        return IntentMatch(name, score / 100, self.wording(name, language, values or {}))
