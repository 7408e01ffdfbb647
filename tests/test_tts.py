"""The Mandarin voice a villager can understand: the kiosk's own speech, read back by the offline recogniser."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_models.access import ModelAccess
from edge_models.verify import ModelError
from voice.asr import build_asr
from voice.assistant import build_tts
from voice.evaluation.tts_eval import round_trips
from voice.settings import VoiceSettings
from voice.tts import TtsError

PROMPTS = {"id": "请把身份证放在屏幕上的框里，先放有照片的一面。", "wait": "请稍等，机器正在核对您的照片。",
           "scam": "注意：这是诈骗。不要付钱，请告诉店主。"}


@pytest.fixture(scope="module")
def recogniser(installed_models):
    return build_asr("whisper_base", [installed_models], 2)


def test_the_neural_mandarin_voice_is_understood_where_espeak_is_not(installed_models, recogniser):
    models = ModelAccess((installed_models,), allow_noncommercial=True)
    neural = build_tts(VoiceSettings(tts_zh="baker_neural"), models)
    try:
        # The worker reads polyphones with pypinyin's phrase dictionary, which the kiosk's process leaves out.
        worker_env = Path(f"/proc/{neural._proc.pid}/environ").read_bytes().split(b"\0")
        assert not [v for v in worker_env if v.startswith(b"PYPINYIN_")], worker_env
        rows = round_trips(neural, recogniser, PROMPTS, "zh")
    finally:
        neural.close()
    espeak = round_trips(build_tts(VoiceSettings(), models), recogniser, PROMPTS, "zh")
    neural_cer = sum(r.error for r in rows) / len(rows)
    espeak_cer = sum(r.error for r in espeak) / len(espeak)
    assert neural_cer <= 0.25 < espeak_cer, (neural_cer, espeak_cer, [r.heard for r in rows])
    both = build_tts(VoiceSettings(tts_zh="baker_neural"), models)
    try:  # English still comes from espeak-ng
        assert both.synthesize("Hello", "en").sample_rate == build_tts(VoiceSettings(), models).synthesize("Hi", "en").sample_rate
    finally:
        both.close()


def test_the_non_commercial_voice_is_refused_under_the_default_licence_policy(installed_models):
    with pytest.raises(ModelError, match="commercial"):
        build_tts(VoiceSettings(tts_zh="baker_neural"), ModelAccess((installed_models,)))


def test_a_missing_voice_venv_is_a_clear_error(installed_models, tmp_path):
    settings = VoiceSettings(tts_zh="baker_neural", tts_python=tmp_path / "no-python")
    with pytest.raises(TtsError, match="setup"):
        build_tts(settings, ModelAccess((installed_models,), allow_noncommercial=True))
    assert Path(settings.tts_python).name == "no-python"


def test_long_texts_are_read_back_a_sentence_at_a_time_and_numbers_stay_whole():
    from voice.evaluation.tts_eval import sentences
    from voice.normalize import normalize

    assert sentences({"k": "Rate 10.8 percent. Next!", "z": "请稍等。好的"}) == {
        "k#1": "Rate 10.8 percent.", "k#2": "Next!", "z#1": "请稍等。", "z#2": "好的"}
    # The recogniser writes digits; compared as said.
    assert normalize("10.8%", "zh") == "百分之十点八" and normalize("5,000元", "zh") == "五千元"
    assert normalize("我60多了", "zh") == "我六十多了" and normalize("1-2线", "zh") == "一二线"


def test_an_amount_is_read_back_right_when_the_numbers_heard_are_the_numbers_said():
    from voice.evaluation.tts_eval import numbers

    said = numbers("五千二百九十七点二八元", "zh")
    assert said == ["5297.28"] == numbers("5297.28元", "zh") == numbers("5,297.28 元", "zh")
    assert numbers("一万两千三百六十八点三五元", "zh") == numbers("1萬2368.35元", "zh") == ["12368.35"]
    assert numbers("百分之十五点一二", "zh") != numbers("15.1%", "zh")  # a digit lost is a misread
    assert numbers("5,297.28 yuan", "en") == numbers("5297.28 UN", "en") == ["5297.28"]
