"""Plain settings for the voice assistant (the kiosk's config file fills them; voice reads only these)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from voice.plugins import ASR_ENGINES, TTS_ENGINES, VAD_ENGINES, understands

EnglishEngine = ASR_ENGINES.choice(understands("en"))
MandarinEngine = ASR_ENGINES.choice(understands("zh"))
SpeechDetectorName = VAD_ENGINES.choice()
MandarinVoice = TTS_ENGINES.choice()
TTS_PYTHON = Path(__file__).resolve().parents[1] / ".venv-tts" / "bin" / "python"


class VoiceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo in the config file is named, not ignored

    engine_en: EnglishEngine = "whisper_tiny_en"
    engine_zh: MandarinEngine = "whisper_base"  # today the only offline Mandarin engine available
    intent_threshold: float = Field(70.0, ge=0, le=100)  # below: "I didn't understand", never a guess
    vad: SpeechDetectorName = "silero"  # end of speech; webrtc never ends a question in steady shop noise
    vad_aggressiveness: int = Field(2, ge=0, le=3)  # webrtc only
    end_of_speech_ms: int = Field(600, ge=150, le=3000)
    max_question_s: float = Field(10.0, ge=1, le=60)
    tts_rate_wpm: int = Field(150, ge=80, le=300)
    # The Mandarin voice. espeak by default: the intelligible neural one is trained on a non-commercial corpus and
    # needs license_policy = "allow_noncommercial" (a pilot's explicit choice).
    tts_zh: MandarinVoice = "espeak"
    tts_python: Path = TTS_PYTHON  # the neural voice's own venv (scripts/setup.sh makes it)
    threads: int = Field(2, ge=1, le=8)
