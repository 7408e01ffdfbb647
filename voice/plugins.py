"""The speech recognition (ASR) plugins, one row each (see edge_models.plugins)."""

from __future__ import annotations

from edge_models.plugins import Plugin, Registry

ASR_ENGINES = Registry("ASR engine", {
    "whisper_base": Plugin("voice.asr.whisper:WhisperRecognizer", "Whisper base (multilingual), Mandarin and English",
                           {"group": "whisper_base"}, languages=("zh", "en")),
    "whisper_tiny_en": Plugin("voice.asr.whisper:WhisperRecognizer", "Whisper tiny.en, English, fast",
                              {"group": "whisper_tiny_en"}, languages=("en",)),
    "pocketsphinx_lm": Plugin("voice.asr.sphinx:SphinxRecognizer", "PocketSphinx, English language model",
                              {"mode": "lm"}, languages=("en",)),
    "pocketsphinx_grammar": Plugin("voice.asr.sphinx:SphinxRecognizer",
                                   "PocketSphinx, English, only the FAQ's phrases", {"mode": "grammar"},
                                   languages=("en",)),
})


def understands(language: str):
    return lambda plugin: language in plugin.languages

VAD_ENGINES = Registry("speech detector", {
    "silero": Plugin("voice.vad:SileroDetector", "Silero VAD v6 (neural; holds in shop noise)", {"model": "silero_vad"}),
    "webrtc": Plugin("voice.vad:WebRtcDetector", "webrtcvad (no model; fails in steady noise)"),
})

TTS_ENGINES = Registry("voice", {
    "espeak": Plugin("voice.tts:EspeakTts", "espeak-ng, both languages (its Mandarin is hard to understand)"),
    "baker_neural": Plugin("voice.tts:NeuralMandarinTts",
                           "Baker FastSpeech2 + MB-MelGAN, Mandarin; non-commercial licence (see the manifest)",
                           {"models": ("baker_fastspeech2", "baker_mb_melgan", "baker_mapper")}, languages=("zh",)),
})
