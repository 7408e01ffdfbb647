"""Service configuration (environment ``CLOUD_*`` or constructor arguments)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cloud.credit.model import DEFAULT_ARTIFACT, DEFAULT_CSV, ROOT


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLOUD_", extra="forbid")

    database_url: str = f"sqlite:///{ROOT / 'var' / 'cloud' / 'service.db'}"
    # Provisioning tokens handed to field agents; each registers devices. Keep them out of code and logs.
    provisioning_tokens: list[str] = Field(default_factory=list)
    # Support staff tokens: they may ask a device for its diagnostics bundle and download it.
    support_tokens: list[str] = Field(default_factory=list)
    max_bundle_bytes: int = Field(5_000_000, ge=10_000)
    max_clock_skew_s: int = Field(300, ge=10, le=3600)
    max_body_bytes: int = Field(16_384, ge=1024)
    # What an uploaded diagnostics bundle may inflate to (a 200 KB zip can hold gigabytes).
    max_bundle_uncompressed_bytes: int = Field(50_000_000, ge=100_000)
    # Wrong provisioning or support tokens from one address before it is locked out, and for how long.
    max_token_failures: int = Field(10, ge=1, le=1000)
    token_lockout_s: int = Field(900, ge=10)
    # New devices one provisioning token may register per hour (a field agent's day is a few; a leak is many).
    max_registrations_per_token_hour: int = Field(30, ge=1, le=10_000)
    bureau_csv: Path = DEFAULT_CSV
    scorecard: Path = DEFAULT_ARTIFACT
    offers_file: Path = Path(__file__).with_name("offers.toml")
    acceptance_file: Path = Path(__file__).with_name("acceptance.toml")
    # ID numbers are stored only as HMAC-SHA256 under this server secret (created owner-only on first start).
    id_hash_key_file: Path = ROOT / "var" / "cloud" / "id_hash.key"
    # Velocity: estimates one device may ask for per hour (429 beyond), and how long the same ID number at a
    # second device holds the estimate for review.
    max_estimates_per_device_hour: int = Field(30, ge=1, le=10_000)
    cross_device_window_s: int = Field(24 * 3600, ge=60)
