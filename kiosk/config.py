"""Typed kiosk configuration: a TOML file, overridden by ``KIOSK_*`` environment variables.

Validation happens once at start; any problem becomes a :class:`ConfigError` whose message is a single
line naming the offending key, so a field agent can fix a box without reading a traceback.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from edge_models.access import ModelAccess
from vision.settings import LivenessSettings, VisionSettings
from voice.settings import VoiceSettings

CHECKOUT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_ENV_VAR = "KIOSK_CONFIG"

Language = Literal["zh", "en"]


class ConfigError(Exception):
    """A configuration problem, phrased as one line naming the key at fault."""


def default_models_dir() -> Path:
    """``../shared/models`` next to the checkout when it exists (developer machines, CI), else the data dir."""
    shared = CHECKOUT_ROOT.parent / "shared" / "models"
    if shared.is_dir():
        return shared
    return CHECKOUT_ROOT / "var" / "models"


class _Section(BaseModel):
    # Unknown keys are almost always typos in a hand-edited file; refusing them names the typo.
    model_config = ConfigDict(extra="forbid")


class CloudSettings(_Section):
    base_url: HttpUrl = HttpUrl("http://127.0.0.1:8080")
    connect_timeout_s: float = Field(3.0, gt=0, le=60)
    read_timeout_s: float = Field(10.0, gt=0, le=120)
    max_retries: int = Field(3, ge=0, le=10)
    # The whole call, every retry included: the longest a customer waits on the network before being told.
    deadline_s: float = Field(15.0, gt=0, le=300)

    @field_validator("base_url")
    @classmethod
    def _secure(cls, value: HttpUrl) -> HttpUrl:
        from kiosk.cloud_client.client import url_problem

        problem = url_problem(str(value))
        if problem:
            raise ValueError(problem)
        return value


class JourneySettings(_Section):
    id_attempts: int = Field(3, ge=1, le=10)
    face_attempts: int = Field(3, ge=1, le=10)
    scoring_attempts: int = Field(3, ge=1, le=10)
    # Seconds a customer may stay idle in each state before the session ends (and is wiped).
    timeouts_s: dict[str, float] = Field(default_factory=dict)

    @field_validator("timeouts_s")
    @classmethod
    def _known_states(cls, value: dict[str, float]) -> dict[str, float]:
        from kiosk.journey.states import State

        names = {s.value for s in State}
        for key, seconds in value.items():
            if key not in names:
                raise ValueError(f"unknown state {key!r}; expected one of {sorted(names)}")
            if seconds <= 0:
                raise ValueError(f"timeout for {key!r} must be > 0 seconds")
        return value


class CameraSettings(_Section):
    driver: Literal["opencv", "replay"] = "opencv"
    index: int = Field(0, ge=0)
    width: int = Field(640, gt=0)
    height: int = Field(480, gt=0)
    # Reading the ID card: the camera's highest useful resolution (the camera picks the nearest it offers).
    id_width: int = Field(1280, gt=0)
    id_height: int = Field(720, gt=0)
    replay_path: Path | None = None
    replay_loop: bool = True


class MicrophoneSettings(_Section):
    driver: Literal["sounddevice", "replay"] = "sounddevice"
    sample_rate: int = Field(16000, gt=0)
    replay_path: Path | None = None


class SpeakerSettings(_Section):
    driver: Literal["aplay", "file"] = "aplay"
    out_dir: Path | None = None


class PrinterSettings(_Section):
    driver: Literal["escpos", "none"] = "none"
    device: Path | None = None


class IdReaderSettings(_Section):
    # "none": the card is read from the camera by OCR only. "serial": also the card's chip, through a SAM
    # reader (its fields win; a disagreement with the printed card goes to the shopkeeper). "replay": a recorded
    # chip read (tests, demos).
    driver: Literal["none", "serial", "replay"] = "none"
    port: str = "/dev/ttyUSB0"
    replay_path: Path | None = None
    # The vendor library that decodes the chip photo (a plug-in registered in hardware.id_card.PHOTO_DECODERS).
    # Unset: the chip's text is used and its photo is reported unavailable.
    photo_decoder: str | None = None


class HardwareSettings(_Section):
    camera: CameraSettings = CameraSettings()
    id_reader: IdReaderSettings = IdReaderSettings()
    microphone: MicrophoneSettings = MicrophoneSettings()
    speaker: SpeakerSettings = SpeakerSettings()
    printer: PrinterSettings = PrinterSettings()
    # Where the device key's passphrase is sealed: "auto" (the box's TPM 2.0 at /dev/tpmrm0 when there is one),
    # "none", or a TPM TCTI ("device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321"). Without a TPM the key is
    # only bound to this machine's id, which a copy of the disk also holds (self-test says so).
    tpm: str = "auto"


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_bytes: int = Field(5_000_000, ge=10_000)
    backup_count: int = Field(5, ge=1, le=100)


class KioskConfig(BaseSettings):
    """The whole configuration of one kiosk."""

    model_config = SettingsConfigDict(
        env_prefix="KIOSK_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    device_id: str = Field("kiosk-unprovisioned", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
    shop_name: str = Field("", max_length=120)
    language_default: Language = "zh"
    languages: list[Language] = Field(default_factory=lambda: ["zh", "en"], min_length=1)
    models_dir: Path = Field(default_factory=default_models_dir)
    # Models installed on this device (assembled from registry packages, copied from a USB bundle).
    # Default: <data_dir>/models. Model files are looked up in models_dir first, then here.
    extra_models_dir: Path | None = None
    # "commercial_only" refuses models whose license forbids commercial use (e.g. SCRFD); a research
    # build has to opt in explicitly, and no code path picks such a model silently.
    license_policy: Literal["commercial_only", "allow_noncommercial"] = "commercial_only"
    data_dir: Path = Field(default_factory=lambda: CHECKOUT_ROOT / "var")
    cloud: CloudSettings = CloudSettings()
    journey: JourneySettings = JourneySettings()
    hardware: HardwareSettings = HardwareSettings()
    vision: VisionSettings = VisionSettings()
    liveness: LivenessSettings = LivenessSettings()
    voice: VoiceSettings = VoiceSettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; environment variables must win over it so a field agent
        # can override one setting without editing the file.
        return env_settings, init_settings

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def installed_models_dir(self) -> Path:
        return self.extra_models_dir or self.data_dir / "models"

    @property
    def model_dirs(self) -> tuple[Path, ...]:
        return (self.models_dir, self.installed_models_dir)

    @property
    def model_access(self) -> ModelAccess:
        return ModelAccess(self.model_dirs, self.license_policy == "allow_noncommercial")


def _one_line(error: ValidationError, origin: str) -> str:
    parts = []
    for err in error.errors():
        key = ".".join(str(p) for p in err["loc"]) or "<root>"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown setting"
        parts.append(f"{key}: {msg}")
    return f"config error in {origin}: " + "; ".join(parts)


def load_config(path: Path | str | None = None, **overrides: Any) -> KioskConfig:
    """Load and validate the configuration.

    ``path`` defaults to ``$KIOSK_CONFIG``; with neither, only defaults and environment apply. Keyword
    overrides are applied on top of the file (tests and the demo use them), environment on top of both.
    """
    if path is None and os.environ.get(CONFIG_ENV_VAR):
        path = os.environ[CONFIG_ENV_VAR]
    data: dict[str, Any] = {}
    origin = "defaults/environment"
    if path is not None:
        p = Path(path)
        origin = str(p)
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config error: file not found: {p}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config error in {p}: not valid TOML ({exc})") from None
    data.update(overrides)
    try:
        return KioskConfig(**data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, origin)) from None
