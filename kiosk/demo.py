"""Headless demo: a scripted customer walks the real journey with replay devices, printing each state.

Stages that have not landed yet are reported plainly and the demo stops there; nothing is invented.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hardware.errors import DeviceError
from kiosk.config import CHECKOUT_ROOT, KioskConfig
from kiosk.devices import build_devices
from kiosk.journey import events as ev
from kiosk.journey.machine import Journey, Transition
from kiosk.journey.session import ApplicantDetails
from kiosk.journey.states import State
from kiosk.runner import Runner, limits_from_config
from kiosk.stages import STAGES, build_stages
from edge_models.verify import ModelError
from vision.matching import CalibrationError

SHARED_DATA = CHECKOUT_ROOT.parent / "shared" / "data"


class DemoError(Exception):
    pass


@dataclass(frozen=True)
class DemoAssets:
    camera_dir: Path  # replayed in name order: the ID card scene first, then the customer's face


def prepare_demo_assets(out_dir: Path, data_root: Path = SHARED_DATA) -> DemoAssets:
    """The replay camera's frames: a SYNTHETIC ID card (an LFW portrait printed on a rendered card,
    photographed at 640x480), then other LFW photos of the same person as the live face."""
    import cv2

    from vision.evaluation.synthetic_id import render_scene
    from vision.image_io import load_image

    person = data_root / "faces" / "lfw-deepfunneled" / "Abel_Pacheco"
    files = sorted(person.glob("*.jpg"))
    if len(files) < 2:
        raise DemoError(f"demo replay images not found under {person} (is ../shared beside the checkout?)")
    camera_dir = out_dir / "camera"
    shutil.rmtree(camera_dir, ignore_errors=True)
    camera_dir.mkdir(parents=True)
    cv2.imwrite(str(camera_dir / "00_id_card_scene_SYNTHETIC.jpg"), render_scene(load_image(files[0]), seed=1))
    for i, live in enumerate(files[1:], start=1):
        shutil.copy(live, camera_dir / f"{i:02d}_live_{live.name}")
    return DemoAssets(camera_dir)


def demo_config(config: KioskConfig, assets: DemoAssets) -> KioskConfig:
    hw = config.hardware.model_copy(
        update={
            "camera": config.hardware.camera.model_copy(
                update={"driver": "replay", "replay_path": assets.camera_dir, "replay_loop": True}
            ),
            "speaker": config.hardware.speaker.model_copy(
                update={"driver": "file", "out_dir": config.data_dir / "demo" / "speaker"}
            ),
        }
    )
    return config.model_copy(update={"hardware": hw})


class ScriptedCustomer:
    """Answers each screen the way a cooperative customer would."""

    def __init__(self, language: str) -> None:
        self.language = language

    def next_event(self, journey: Journey, now: float) -> ev.Event | None:
        state = journey.state
        data = journey.data
        if state is State.ATTRACT:
            return ev.StartPressed(at=now)
        if state is State.LANGUAGE:
            return ev.LanguageChosen(at=now, language=self.language)
        if state is State.CONSENT:
            return ev.ConsentGiven(at=now, agreed=True)
        if state is State.DETAILS:
            # A synthetic applicant: the ID number is made up and never leaves this process in the demo.
            details = ApplicantDetails(
                id_number="110101199003074518", monthly_income=6000, requested_amount=5000, term_months=12
            )
            return ev.DetailsSubmitted(at=now, details=details)
        if state is State.OFFERS and data.offers:
            return ev.OfferChosen(at=now, offer_id=data.offers[0].offer_id)
        if state is State.CONFIRMATION and data.application_ref:
            return ev.Finish(at=now)
        return None


def run_demo(config: KioskConfig, language: str = "en", out: TextIO = sys.stdout) -> int:
    assets = prepare_demo_assets(config.data_dir / "demo")
    config = demo_config(config, assets)
    t0 = time.monotonic()

    def show(t: Transition) -> None:
        if t.ignored:
            return
        arrow = t.state.value if t.state is not t.previous else f"{t.state.value} (again)"
        print(f"[{time.monotonic() - t0:6.2f}s] {t.previous.value:>12} -> {arrow:<18} on {t.event}", file=out)

    try:
        devices = build_devices(config.hardware, config.data_dir)
        stages = build_stages(config)
    except (DeviceError, ModelError, CalibrationError) as exc:
        print(f"demo cannot start: {exc}", file=out)
        return 1
    journey = Journey(limits_from_config(config), now=time.monotonic())
    runner = Runner(journey, devices, stages, on_transition=show)
    customer = ScriptedCustomer(language)
    frames = ", ".join(p.name for p in sorted(assets.camera_dir.iterdir()))
    print(f"Kiosk demo ({language}): replay camera [{frames}], scripted customer", file=out)
    missing = stages.missing()
    if missing:
        print("Stages not available yet: " + ", ".join(m.name for m in missing), file=out)
    for _ in range(100):  # a full journey is ~15 transitions; the bound stops a runaway loop
        if journey.state is State.ERROR:
            error = journey.data.error
            if error and error.code == "stage_unavailable":
                info = STAGES[error.detail]
                print(
                    f"STOPPED: stage '{info.name}' ({info.description}) is not available yet; it is provided by "
                    f"{info.provided_by}. The demo stops here rather than invent a result.",
                    file=out,
                )
                return 0
            print(f"STOPPED: error screen '{error.code if error else '?'}'", file=out)
            return 1
        if journey.state is State.HANDOFF:
            handoff = journey.data.handoff
            print(f"STOPPED: handed to the shopkeeper ({handoff.reason if handoff else '?'})", file=out)
            return 1
        if journey.state is State.END:
            print(f"Journey complete: {journey.ended_sessions[-1]}", file=out)
            return 0
        event = customer.next_event(journey, time.monotonic())
        if event is None:
            print(f"STOPPED: nothing to do in state {journey.state.value}", file=out)
            return 1
        runner.send(event)
    print("STOPPED: too many steps", file=out)
    return 1
