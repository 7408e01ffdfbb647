"""`kiosk run`: the touchscreen app with the configured devices, or (--demo) with the demo world."""

from __future__ import annotations

import time

from kiosk.admin_pin import PinStore
from kiosk.audit import AuditLog
from kiosk.config import KioskConfig
from kiosk.devices import build_devices
from kiosk.journey.machine import Journey
from kiosk.runner import Runner, limits_from_config
from kiosk.selftest import run_selftest
from kiosk.stages import Stages, build_stages


def build_app(config: KioskConfig, runner: Runner, fullscreen: bool, prepare=None):
    from ui.app import KioskApp

    audit = AuditLog.for_data_dir(config.data_dir)
    runner.audit = audit
    pins = PinStore(config.data_dir / "device" / "admin_pin.json", audit=audit)

    def selftest():
        results = run_selftest(config)
        audit.append("staff", "selftest", {"passed": sum(r.ok for r in results), "total": len(results)})
        return results

    return KioskApp(runner, pins, config.language_default, fullscreen, selftest=selftest, prepare=prepare)


def run_kiosk(config: KioskConfig, fullscreen: bool = True) -> int:
    devices = build_devices(config.hardware, config.data_dir)
    # The attract screen first; the models are checked and loaded behind it (the drainer, which sends queued
    # applications, starts with the stages).
    runner = Runner(Journey(limits_from_config(config), now=time.monotonic()), devices, Stages())
    try:
        build_app(config, runner, fullscreen, prepare=lambda: build_stages(config, devices.id_reader)).run()
    finally:
        if runner.stages.drainer is not None:
            runner.stages.drainer.stop()
    return 0

