"""ASR engines, chosen by config (``voice.engine_en`` / ``voice.engine_zh``) from voice.plugins.ASR_ENGINES;
each model stays loaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge_models.plugins import UnknownPlugin
from voice.asr.base import AsrError, SpeechRecognizer, Transcript
from voice.plugins import ASR_ENGINES


def build_asr(name: str, model_dirs: Sequence[Path], threads: int = 2, phrases: list[str] | None = None) -> SpeechRecognizer:
    try:
        plugin = ASR_ENGINES[name]
    except UnknownPlugin as exc:
        raise AsrError(str(exc)) from None
    return plugin.load().create(name, plugin, model_dirs, threads, phrases)


__all__ = ["AsrError", "SpeechRecognizer", "Transcript", "build_asr"]
