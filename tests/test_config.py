from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import CHECKOUT_ROOT, ConfigError, load_config

EXAMPLE = CHECKOUT_ROOT / "config" / "kiosk.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid_and_documented_values_load():
    config = load_config(EXAMPLE)
    assert config.language_default == "zh"
    assert config.journey.face_attempts == 3
    assert config.journey.timeouts_s["consent"] == 180


def test_models_dir_defaults_to_shared_models_next_to_checkout():
    config = load_config()
    assert config.models_dir == CHECKOUT_ROOT.parent / "shared" / "models"


def test_file_values_and_nested_sections(tmp_path):
    path = write(tmp_path, 'device_id = "shop-17"\n[cloud]\nbase_url = "https://score.example.com"\n')
    config = load_config(path)
    assert config.device_id == "shop-17"
    assert str(config.cloud.base_url) == "https://score.example.com/"


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, 'device_id = "shop-17"\n[journey]\nface_attempts = 3\n')
    monkeypatch.setenv("KIOSK_DEVICE_ID", "shop-99")
    monkeypatch.setenv("KIOSK_JOURNEY__FACE_ATTEMPTS", "2")
    config = load_config(path)
    assert config.device_id == "shop-99" and config.journey.face_attempts == 2


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[journey]\nface_attempts = 0\n", "journey.face_attempts"),
        ('language_default = "fr"\n', "language_default"),
        ('[cloud]\nbase_url = "not a url"\n', "cloud.base_url"),
        ("[cloud]\ntimeout = 3\n", "cloud.timeout"),
        ('[hardware.camera]\ndriver = "webcam9000"\n', "hardware.camera.driver"),
        ("[journey.timeouts_s]\nnowhere = 5\n", "journey.timeouts_s"),
        ('device_id = "has spaces"\n', "device_id"),
    ],
)
def test_bad_values_give_one_line_naming_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    assert f"{key}:" in message
    assert str(tmp_path / "kiosk.toml") in message


def test_unknown_key_is_called_unknown(tmp_path):
    with pytest.raises(ConfigError, match=r"devise_id: unknown setting"):
        load_config(write(tmp_path, 'devise_id = "x"\n'))


def test_bad_env_value_is_reported(monkeypatch):
    monkeypatch.setenv("KIOSK_JOURNEY__ID_ATTEMPTS", "many")
    with pytest.raises(ConfigError, match=r"journey.id_attempts"):
        load_config()


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "device_id = \n"))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")
