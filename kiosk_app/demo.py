"""Headless demo: a scripted customer walks the real journey with replay devices, printing each state.

Stages that have not landed yet are reported plainly and the demo stops there; nothing is invented.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from cloud.local import free_port
from edge_models.verify import ModelError
from hardware.audio import AudioClip
from hardware.errors import DeviceError
from hardware.microphone import CHUNK_S, clip_then_silence
from kiosk.cloud_client.errors import CloudError
from kiosk.cloud_client.registration import register_device
from kiosk.config import CHECKOUT_ROOT, KioskConfig
from kiosk.devices import build_devices
from kiosk.i18n import tr
from kiosk.journey import events as ev
from kiosk.journey.machine import Journey, Transition
from kiosk.journey.session import ApplicantDetails
from kiosk.journey.states import State
from kiosk.runner import Runner, limits_from_config
from kiosk.stages import STAGES, Stages, build_stages
from kiosk_app.demo_service import DemoService, DemoServiceError
from vision.evaluation.sequences import Actor, ActorCamera
from vision.evaluation.specimen import photograph, specimen_card
from vision.image_io import ImageInputError, load_image
from vision.matching import CalibrationError

SHARED_DATA = CHECKOUT_ROOT.parent / "shared" / "data"


class DemoError(Exception):
    pass


DEMO_PERSON = "Howard_Dean"
# LFW photos of one person: one printed on the synthetic ID card, the others acting out the challenges.
DEMO_PHOTOS = {"id": "0002", "neutral": "0005", "turn_left": "0012", "turn_right": "0008"}


def demo_photos(data_root: Path = SHARED_DATA) -> dict[str, np.ndarray]:
    person = data_root / "faces" / "lfw-deepfunneled" / DEMO_PERSON
    try:
        return {k: load_image(person / f"{DEMO_PERSON}_{n}.jpg") for k, n in DEMO_PHOTOS.items()}
    except ImageInputError as exc:
        raise DemoError(f"demo images missing ({exc}); is ../shared beside the checkout?") from None


def demo_card(out_dir: Path, id_number: str, portrait: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A SYNTHETIC specimen ID card (an LFW portrait, the bureau applicant's number, a "样本 SPECIMEN" watermark),
    photographed front and back (also saved to ``out_dir`` to look at)."""
    card = specimen_card(portrait, seed=1, bureau_number=id_number)
    front, back = (photograph(side, np.random.default_rng(1)) for side in (card.front, card.back))
    out_dir.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_dir / "id_card_front_SPECIMEN.jpg"), front)
    cv2.imwrite(str(out_dir / "id_card_back_SPECIMEN.jpg"), back)
    return front, back


def demo_camera(photos: dict[str, np.ndarray]) -> ActorCamera:
    """The demo's camera: the specimen card (shown once it is made: ``ActorCamera.show_card``), then the same
    person's other photos acting out each prompted challenge (see vision/evaluation/sequences.py)."""
    actor = Actor(photos["neutral"], {k: photos[k] for k in ("turn_left", "turn_right")})
    blank = np.full((480, 640, 3), 90, np.uint8)  # no card yet (the kiosk does not start a session before it is)
    return ActorCamera(blank, actor)


DEMO_TOKEN = "demo-provisioning-token"


def demo_config(config: KioskConfig, cloud_url: str) -> KioskConfig:
    """The demo's own data directory (device key, outbox), file speaker and printer, local cloud."""
    data = config.data_dir / "demo"
    hw = config.hardware.model_copy(
        update={
            "speaker": config.hardware.speaker.model_copy(update={"driver": "file", "out_dir": data / "speaker"}),
            "printer": config.hardware.printer.model_copy(update={"driver": "escpos", "device": data / "receipt.escpos"}),
        }
    )
    cloud = config.cloud.model_copy(update={"base_url": cloud_url})
    return config.model_copy(update={"hardware": hw, "data_dir": data, "device_id": "kiosk-demo-0001",
                                     "extra_models_dir": config.installed_models_dir, "cloud": cloud})


DEMO_QUESTIONS = {"en": "What is the interest rate?", "zh": "我能借多少钱"}


def ask_question(runner: Runner, language: str, out: TextIO) -> None:
    """The customer presses "talk" and asks a question (speech synthesised with espeak-ng: SYNTHETIC)."""
    from voice.tts import EspeakTts

    question = DEMO_QUESTIONS[language]
    clip = EspeakTts().synthesize(question, language)
    print(f"          customer asks (synthesised speech): {question}", file=out)
    runner.ask(clip)
    answer = runner.last_answer
    if answer is not None:
        print(f"          heard: {answer.transcript!r} -> {answer.intent} ({answer.confidence:.2f})", file=out)
        print(f"          kiosk answers: {answer.text}", file=out)


class DemoMicrophone:
    """A customer asking the demo question in the session's language (espeak-ng speech: SYNTHETIC)."""

    def __init__(self, language: Callable[[], str]) -> None:
        self.language = language

    def open(self) -> None:
        pass

    def record(self, max_seconds: float) -> AudioClip:
        from voice.tts import EspeakTts

        return EspeakTts().synthesize(DEMO_QUESTIONS[self.language()], self.language())

    def stream(self, chunk_s: float = CHUNK_S) -> Iterator[AudioClip]:
        return clip_then_silence(self.record(0).resampled(16000), chunk_s)

    def close(self) -> None:
        pass


class ScriptedCustomer:
    """Answers each screen the way a cooperative customer would. It never types an ID number: the kiosk reads
    the card, and the customer only confirms that the name and masked number shown are theirs."""

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
        if state is State.CONFIRM_IDENTITY:
            return ev.IdentityConfirmed(at=now, agreed=True)
        if state is State.DETAILS:
            details = ApplicantDetails(monthly_income=6000, requested_amount=5000, term_months=12)
            return ev.DetailsSubmitted(at=now, details=details)
        if state is State.OFFERS and data.offers:
            return ev.OfferChosen(at=now, offer_id=data.offers[0].offer_id)
        if state is State.REVIEW and data.chosen_offer is not None:
            # Reads the costs, picks the monthly payment it will really pay, then agrees.
            if not data.review_understood:
                return ev.PaymentPicked(at=now, monthly=data.chosen_offer.monthly_payment)
            return ev.BorrowAgreed(at=now)
        if state is State.CONFIRMATION and data.application_ref:
            return ev.Finish(at=now)
        return None


@dataclass
class DemoWorld:
    """Everything a demo session needs, wired: local service, registered device, actor camera, stages."""

    config: KioskConfig
    camera: ActorCamera
    runner: Runner
    service: DemoService | None = None  # (set by prepare: with defer_stages, once the app calls it)
    applicant: str = ""
    prepare: Callable[[], Stages] | None = None  # with defer_stages: builds the rest (the app calls it later)

    @property
    def journey(self) -> Journey:
        return self.runner.journey


@contextmanager
def demo_world(config: KioskConfig, defer_stages: bool = False) -> Iterator[DemoWorld]:
    """The demo's kiosk: actor camera, scripted microphone, journey and runner at once; the bureau model, the
    specimen card, the local scoring service, the registration and the stages in ``prepare`` (with
    ``defer_stages`` the app calls it behind its attract screen; otherwise now)."""
    port = free_port()
    config = demo_config(config, f"http://127.0.0.1:{port}")
    photos = demo_photos()
    camera = demo_camera(photos)
    try:
        devices = build_devices(config.hardware, config.data_dir)
    except DeviceError as exc:
        raise DemoError(f"demo cannot start: {exc}") from None
    devices.camera = camera
    rng = random.SystemRandom()
    # The product draws from every challenge; the demo actor has photos for these only.
    journey = Journey(limits_from_config(config), now=time.monotonic(),
                      challenge_factory=lambda n: tuple(rng.sample(camera.repertoire, n)))
    devices.microphone = DemoMicrophone(lambda: journey.data.language or "en")
    runner = Runner(journey, devices, Stages())

    def actor_sees(t: Transition) -> None:
        if t.state is State.ID_CAPTURE and t.previous is State.CONSENT:  # a new customer at the kiosk
            camera.new_customer()
        if t.state is State.LIVE_CAPTURE and t.previous is not State.LIVE_CAPTURE:
            camera.look_at_camera()

    runner.transition_listeners.append(actor_sees)
    runner.prompt_listeners.append(lambda challenge, _text: camera.perform(challenge))
    world = DemoWorld(config, camera, runner)
    with ExitStack() as services:

        def prepare() -> Stages:
            database = config.data_dir / "cloud.sqlite3"
            for leftover in (database, database.with_name(database.name + "-wal"),
                             database.with_name(database.name + "-shm")):
                leftover.unlink(missing_ok=True)  # each demo run's service starts empty (and this version's schema)
            try:
                world.service = services.enter_context(
                    DemoService(database, port, [DEMO_TOKEN], config.log_dir / "demo-service.log"))
                world.applicant = world.service.applicant
                camera.show_card(*demo_card(config.data_dir, world.applicant, photos["id"]))
                register_device(config, world.service.url, DEMO_TOKEN, "Demo shop")
                return build_stages(config, devices.id_reader)
            except (DemoServiceError, CloudError, DeviceError, ModelError, CalibrationError) as exc:
                raise DemoError(f"demo cannot start: {exc}") from None

        if defer_stages:
            world.prepare = prepare
        else:
            runner.stages = prepare()
            if runner.stages.drainer is not None:
                runner.stages.drainer.start()
        try:
            yield world
        finally:
            if runner.stages.drainer is not None:  # (deferred: the app installed the stages and started it)
                runner.stages.drainer.stop()


def run_demo(config: KioskConfig, language: str = "en", out: TextIO = sys.stdout) -> int:
    with demo_world(config) as world:
        print(f"Local scoring service on {world.service.url}", file=out)
        return _run_session(world, language, out)


def _run_session(world: DemoWorld, language: str, out: TextIO) -> int:
    t0 = time.monotonic()
    journey, runner = world.journey, world.runner

    def show(t: Transition) -> None:
        if t.ignored:
            return
        arrow = t.state.value if t.state is not t.previous else f"{t.state.value} (again)"
        print(f"[{time.monotonic() - t0:6.2f}s] {t.previous.value:>12} -> {arrow:<18} on {t.event}", file=out)
        data = journey.data
        if t.event == "IdCaptureResult" and data.document is not None:
            doc = data.document
            print(f"          card read ({doc.source}): {doc.fields.name} {doc.masked_number}; checks passed: "
                  f"{', '.join(doc.checks)}", file=out)
        if t.event == "LiveCaptureResult" and data.liveness is not None and data.liveness.passive_score is not None:
            print(f"          passive liveness P(real) {data.liveness.passive_score:.3f}", file=out)
        if t.event == "MatchResult" and data.match is not None:
            m = data.match
            print(f"          face match score {m.score:.3f} vs threshold {m.threshold:.3f}: {m.matched}", file=out)
        if t.event == "ScoreReceived" and data.estimate is not None:
            e = data.estimate
            print(f"          estimate: {e.decision}, grade {e.grade}, limit {e.limit:,.0f} {e.currency}; "
                  f"reasons: {'; '.join(tr(f'reason.{c}', data.language or 'en') for c in e.reason_codes) or '-'}",
                  file=out)
            for o in data.offers:
                print(f"          offer {o.offer_id} ({o.lender}): {o.amount:,.2f} over {o.term_months} months, "
                      f"{o.monthly_payment:,.2f}/month, total {o.total_repayable:,.2f}, APR {100 * o.apr:.2f}% "
                      f"(fee {o.fee:,.2f})", file=out)
        if t.event == "OfferChosen" and data.chosen_offer is not None:
            o = data.chosen_offer
            print(f"          review: receives {o.received:,.2f} after the fee, {o.term_months} payments of "
                  f"{o.monthly_payment:,.2f}, late charge {100 * o.late_daily_rate:.2f}%/day; check amounts "
                  f"{', '.join(f'{c:,.2f}' for c in t.effects[0].params.get('choices', []))}", file=out)
        if t.event == "PaymentPicked":
            print(f"          customer picks the monthly payment: {'right' if data.review_understood else 'wrong'}; "
                  f"'I agree to borrow' {'unlocked' if data.review_understood else 'still locked'}", file=out)
        if t.event == "ApplicationRecorded":
            queued = " (queued: will be sent when the network is back)" if data.application_queued else ""
            print(f"          application reference {data.application_ref}{queued}; receipt printed", file=out)

    runner.transition_listeners.append(show)
    runner.prompt_listeners.append(lambda _c, text: print(f"          kiosk says: {text}", file=out))
    customer = ScriptedCustomer(language)
    print(f"Kiosk demo ({language}): synthetic ID card + LFW photos of {DEMO_PERSON} acting out challenges", file=out)
    missing = runner.stages.missing()
    if missing:
        print("Stages not available: " + ", ".join(m.name for m in missing), file=out)
    asked = False
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
        if journey.state is State.DETAILS and not asked:
            asked = True
            ask_question(runner, language, out)
            continue
        event = customer.next_event(journey, time.monotonic())
        if event is None:
            print(f"STOPPED: nothing to do in state {journey.state.value}", file=out)
            return 1
        runner.send(event)
    print("STOPPED: too many steps", file=out)
    return 1
