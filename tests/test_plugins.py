"""Plugin names come from one registry per kind: settings, config validation and CLI choices follow it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from edge_models.plugins import Plugin, Registry, UnknownPlugin
from vision.plugins import DETECTORS, RECOGNIZERS
from vision.settings import VisionSettings
from voice.asr import AsrError, build_asr
from voice.plugins import ASR_ENGINES
from voice.settings import VoiceSettings


@pytest.mark.parametrize("registry", [DETECTORS, RECOGNIZERS, ASR_ENGINES], ids=lambda r: r.kind)
def test_every_registered_plugin_loads_the_class_it_names(registry):
    for name, plugin in registry.items():
        loaded = plugin.load()
        assert isinstance(loaded, type), name
        assert hasattr(loaded, "model") or hasattr(loaded, "create"), name


def test_settings_accept_exactly_the_registered_names():
    assert all(VisionSettings(detector=n).detector == n for n in DETECTORS)
    with pytest.raises(ValidationError, match="'yunet' or 'scrfd'"):
        VisionSettings(detector="mtcnn")
    # A Mandarin engine must understand Mandarin: the English-only ones are refused for engine_zh.
    english_only = [n for n, p in ASR_ENGINES.items() if "zh" not in p.languages]
    assert english_only and all(VoiceSettings(engine_en=n).engine_en == n for n in english_only)
    with pytest.raises(ValidationError, match="engine_zh"):
        VoiceSettings(engine_zh=english_only[0])


def test_a_new_row_is_a_new_choice_everywhere():
    registry = Registry("widget", {"a": Plugin("json:JSONDecoder", "first")})
    assert registry.names() == ("a",) and registry.describe() == "a: first"
    with pytest.raises(UnknownPlugin, match="unknown widget 'b'; available: a"):
        registry["b"]
    with pytest.raises(AsrError, match="unknown ASR engine 'vosk'; available: whisper_base"):
        build_asr("vosk", [])


def test_cli_choices_are_the_registries():
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "eval", "faces", "--help"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "{" + ",".join(DETECTORS) + "}" in out and "{" + ",".join(RECOGNIZERS) + "}" in out
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "eval", "voice", "--help"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "{" + ",".join(ASR_ENGINES) + "}" in out
