"""ASR engines, chosen by config (``voice.engine_en`` / ``voice.engine_zh``); each model stays loaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge_models.manifest import load_manifest
from edge_models.verify import verify_model
from voice.asr.base import AsrError, SpeechRecognizer, Transcript

WHISPER_GROUPS = {"whisper_base": ("whisper_base", ("zh", "en")), "whisper_tiny_en": ("whisper_tiny_en", ("en",))}


def whisper_model_dir(group: str, model_dirs: Sequence[Path]) -> Path:
    """Verify every file of the model group; return the directory holding them."""
    paths = [verify_model(spec, model_dirs) for spec in load_manifest().group(group)]
    return paths[0].parent


def build_asr(name: str, model_dirs: Sequence[Path], threads: int = 2, phrases: list[str] | None = None) -> SpeechRecognizer:
    if name in WHISPER_GROUPS:
        from voice.asr.whisper import WhisperRecognizer

        group, languages = WHISPER_GROUPS[name]
        return WhisperRecognizer(name, whisper_model_dir(group, model_dirs), languages, threads)
    if name in ("pocketsphinx_lm", "pocketsphinx_grammar"):
        from voice.asr.sphinx import SphinxRecognizer

        return SphinxRecognizer(name.removeprefix("pocketsphinx_"), phrases)
    raise AsrError(f"unknown ASR engine {name!r}")


__all__ = ["AsrError", "SpeechRecognizer", "Transcript", "build_asr"]
