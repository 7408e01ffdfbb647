"""The diagnostics bundle support staff receive, built the way Home Assistant builds diagnostics: a fixed set
of sections, each passed through the one redaction list (``kiosk.redaction``) on the way out, so nothing that
names a customer or shows their face can be in it even if it slipped into a log line.
"""

from __future__ import annotations

import io
import json
import platform
import time
import zipfile
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from edge_models.manifest import load_manifest
from edge_models.verify import verify_all
from kiosk import __version__
from kiosk.audit import AuditLog
from kiosk.cloud_client.outbox import Outbox
from kiosk.config import KioskConfig
from kiosk.logging_setup import LOG_FILE_NAME
from kiosk.redaction import redact, redact_text

BUNDLE_FORMAT = 1
# The bundle's shape; a test pins it. Add a section here and to the test together.
SECTIONS = ("manifest.json", "config.json", "versions.json", "models.json", "selftest.json", "outbox.json",
            "sessions.json", "audit.json", "logs.jsonl")
PACKAGES = ("onnxruntime", "opencv-python", "insightface", "faster-whisper", "fastapi", "kivy", "cryptography")


def _versions() -> dict:
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {"kiosk": __version__, "python": platform.python_version(), "platform": platform.platform(),
            "packages": packages}


def _models(config: KioskConfig) -> list[dict]:
    manifest = load_manifest()
    results = {r.name: r for r in verify_all(manifest, config.model_dirs)}
    return [{"model": m.name, "role": m.role, "file": m.file, "sha256": m.sha256, "license": m.license,
             "ok": results[m.name].ok, "problem": "" if results[m.name].ok else results[m.name].message}
            for m in manifest.model]


def _logs(config: KioskConfig, since: float) -> list[dict]:
    records = []
    for path in sorted(config.log_dir.glob(LOG_FILE_NAME + "*"), reverse=True):  # oldest rotation first
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                records.append({"unparsable": redact_text(line[:500])})
                continue
            if _timestamp(record) >= since:
                records.append(redact(record))
    return records


def _timestamp(record: dict) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(record.get("ts", "")).replace(",", ".")).timestamp()
    except ValueError:
        return float("inf")  # keep records whose time cannot be read: better too much than too little


def build_bundle(config: KioskConfig, since: float = 0.0, selftest: list | None = None) -> bytes:
    """The zip, in memory. ``selftest``: results to include (CheckResult list), or None to note none ran."""
    audit = AuditLog.for_data_dir(config.data_dir)
    outbox = Outbox.for_data_dir(config.data_dir)
    try:
        sections = {
            "manifest.json": {"format": BUNDLE_FORMAT, "device_id": config.device_id, "created": time.time(),
                              "since": since, "sections": list(SECTIONS)},
            "config.json": redact(config.model_dump(mode="json")),
            "versions.json": _versions(),
            "models.json": _models(config),
            "selftest.json": [{"check": r.name, "ok": r.ok, "detail": r.detail} for r in selftest]
            if selftest is not None else {"ran": False},
            "outbox.json": outbox.counts(),
            "sessions.json": [asdict(r) for r in audit.records(since) if r.action in ("session_end", "handoff")],
            "audit.json": asdict(audit.verify()),
        }
        logs = _logs(config, since)
    finally:
        audit.close()
        outbox.close()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in sections.items():
            zf.writestr(name, json.dumps(redact(content), indent=1, ensure_ascii=False))
        zf.writestr("logs.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in logs))
    return buffer.getvalue()


def export_bundle(config: KioskConfig, out: Path, since: float = 0.0, selftest: list | None = None) -> Path:
    data = build_bundle(config, since, selftest)
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out
