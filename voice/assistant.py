"""A spoken question in, a shown and spoken answer out: endpointing -> ASR -> intent -> answer text."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from edge_models.access import ModelAccess
from hardware.audio import AudioClip
from voice.asr import SpeechRecognizer, build_asr
from voice.intents import IntentMatcher, KnowledgeBase, Wording
from voice.listen import Heard, listen
from voice.plugins import TTS_ENGINES, VAD_ENGINES
from voice.settings import VoiceSettings
from voice.tts import EspeakTts, NeuralMandarinTts
from voice.vad import Endpointer, SpeechDetector

ASR_RATE = 16000


@dataclass(frozen=True)
class Answer:
    transcript: str
    language: str
    intent: str | None
    confidence: float
    text: str
    engine: str
    asr_seconds: float
    total_seconds: float  # from having the audio to having the answer text


def speech_detector(v: VoiceSettings, models: ModelAccess) -> SpeechDetector:
    from edge_models.loader import verified_model_path

    plugin = VAD_ENGINES[v.vad]
    model = plugin.options.get("model")
    path = None if model is None else verified_model_path(model, models.dirs, models.allow_noncommercial)
    return plugin.load().create(plugin, path, v.vad_aggressiveness)


def build_tts(v: VoiceSettings, models: ModelAccess) -> EspeakTts | NeuralMandarinTts:
    espeak = EspeakTts(v.tts_rate_wpm)
    if v.tts_zh == "espeak":
        return espeak
    from edge_models.loader import verified_model_path

    plugin = TTS_ENGINES[v.tts_zh]
    paths = [verified_model_path(m, models.dirs, models.allow_noncommercial) for m in plugin.options["models"]]
    return plugin.load()(v.tts_python, paths[0].parent, espeak)


class VoiceAssistant:
    def __init__(
        self,
        engines: dict[str, SpeechRecognizer],
        matcher: IntentMatcher,
        endpointer: Endpointer,
        tts: EspeakTts | NeuralMandarinTts | None = None,
        max_question_s: float = 10.0,
    ) -> None:
        self.engines = engines  # language -> engine; "auto" -> a multilingual engine with language ID
        self.matcher = matcher
        self.endpointer = endpointer
        self.tts = tts
        self.max_question_s = max_question_s

    @classmethod
    def from_settings(cls, v: VoiceSettings, models: ModelAccess, wording: Wording) -> VoiceAssistant:
        kb = KnowledgeBase()
        dirs = models.dirs
        loaded: dict[str, SpeechRecognizer] = {}
        for name in {v.engine_en, v.engine_zh}:
            loaded[name] = build_asr(name, dirs, v.threads, kb.phrases("en"))
        engines = {"en": loaded[v.engine_en], "zh": loaded[v.engine_zh], "auto": loaded[v.engine_zh]}
        return cls(
            engines,
            IntentMatcher(wording, kb, v.intent_threshold),
            Endpointer(speech_detector(v, models), v.end_of_speech_ms),
            build_tts(v, models),
            v.max_question_s,
        )

    def listen(self, chunks: Iterable[AudioClip], stop: threading.Event | None = None) -> Heard:
        """A question from a live microphone, ended by the endpointer (or the cap, or a tap on stop)."""
        return listen(chunks, self.endpointer, self.max_question_s, stop)

    def ask(self, clip: AudioClip, language: str | None, values: dict[str, str] | None = None) -> Answer:
        t0 = time.perf_counter()
        audio = clip.resampled(ASR_RATE)
        speech = self.endpointer.trim(audio)
        lang = language or "zh"
        if speech is None:
            return Answer("", lang, None, 0.0, self.matcher.wording(None, lang, {}), "", 0.0, time.perf_counter() - t0)
        engine = self.engines[language] if language else self.engines["auto"]
        transcript = engine.transcribe(speech, language)
        match = self.matcher.match(transcript.text, transcript.language, values)
        return Answer(
            transcript.text, transcript.language, match.intent, match.confidence, match.text,
            engine.name, transcript.seconds, time.perf_counter() - t0,
        )

    def speak(self, text: str, language: str) -> AudioClip:
        if self.tts is None:
            raise RuntimeError("no speech output configured")
        return self.tts.synthesize(text, language)
