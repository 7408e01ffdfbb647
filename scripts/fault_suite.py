"""Fault suite: applications through every fault the field will throw at them, against real processes on loopback.

Each case starts a fresh kiosk (its own device registration, outbox and customers) against a real scoring
service, makes ``--tries`` applications while the fault is on, removes the fault, lets the kiosk's own
background drainer deliver, and counts, from the service's database:

  survived    the kiosk answered every try with a clear result (sent, queued, or "not stored" and said so)
  lost        applications the customer was told were sent or saved that the service never received
  duplicated  applications the service holds beyond one per customer intent
  recover_s   seconds from removing the fault until everything promised had arrived

    .venv/bin/python scripts/fault_suite.py            # every case, 5 tries each (about two minutes)
    .venv/bin/python scripts/fault_suite.py --tries 2 --json   # the short form the tests run
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cloud.credit.model import CreditModel
from cloud.local import LocalService
from cloud.settings import ServiceSettings
from kiosk.cloud_client.client import CloudClient
from kiosk.cloud_client.drainer import OutboxDrainer
from kiosk.cloud_client.outbox import Outbox
from kiosk.cloud_client.registration import register_device
from kiosk.cloud_client.stages import CloudApplications
from kiosk.config import load_config
from kiosk.journey import events as ev
from kiosk.journey.session import CreditEstimate, OfferSummary, SessionData
from tests.cloud_helpers import estimate_request
from tests.helpers.gateway import Gateway, start_gateway

TOKEN = "fault-suite-token"


@dataclass
class Row:
    case: str
    tries: int
    survived: int
    lost: int
    duplicated: int
    recover_s: float


# What the gateway answers in each mode ("slow": it drips the status line).
GATEWAY_ANSWERS = {"503": (503, b"Service Unavailable"), "garbage": (200, b"<html>captive portal</html>"),
                   "429": (429, b"Too Many Requests"), "408": (408, b""), "404": (404, b"<h1>Not Found</h1>"),
                   "401": (401, b'{"message": "Unauthorized"}')}


class World:
    """The service, a gateway in front of it, and the customers to hand out."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.model = CreditModel.load(artifact=root / "card.json")
        self.settings = ServiceSettings(database_url=f"sqlite:///{root / 'service.sqlite3'}",
                                        provisioning_tokens=[TOKEN], id_hash_key_file=root / "id_hash.key",
                                        scorecard=root / "card.json", max_estimates_per_device_hour=10_000)
        self.service = LocalService(self.settings, model=self.model).start()
        self._people = iter([r.id_number for r in self.model.records() if self.model.score(r)[0] < 0.12])
        self.gateway, self.gateway_url = start_gateway()
        self._kiosks = 0

    def kiosk(self, case: str):
        """A freshly registered kiosk: (config, identity)."""
        self._kiosks += 1
        config = load_config().model_copy(update={"data_dir": self.root / f"kiosk-{self._kiosks}-{case}"})
        identity, _ = register_device(config, self.service.url, TOKEN, "Fault shop", f"kiosk-fault-{self._kiosks:04d}")
        return config, identity

    def estimates(self, identity, n: int) -> list:
        client = client_for(self.service.url, identity)
        return [client.estimate(estimate_request(next(self._people), amount=1000)) for _ in range(n)]

    def received(self, device_id: str) -> list[tuple[str, str]]:
        """(idempotency key, reference) of every application the service holds from this device."""
        conn = sqlite3.connect(self.root / "service.sqlite3")
        try:
            return conn.execute("SELECT idempotency_key, reference FROM applications WHERE device_id = ?",
                                (device_id,)).fetchall()
        finally:
            conn.close()

    def close(self) -> None:
        self.gateway.shutdown()
        self.service.stop()


def client_for(url: str, identity, deadline_s: float = 3.0) -> CloudClient:
    return CloudClient(url, identity, connect_timeout_s=1.0, read_timeout_s=1.0, max_retries=1, backoff_s=0.05,
                       deadline_s=deadline_s)


def session_for(estimate) -> SessionData:
    data = SessionData(session_id="fault", started_at=0)
    data.estimate = CreditEstimate(estimate.limit, "CNY", estimate.grade, estimate.estimate_id)
    data.offers = (OfferSummary("rural-bank-flex:12", 1000.0, 12, 0.108, 88.0, 1056.0),)
    return data


def _deliver(world: World, outbox: Outbox, identity, promised: set[str], t0: float, timeout_s: float = 30.0) -> float:
    """Runs the kiosk's drainer against the real service until every promised reference arrived."""
    drainer = OutboxDrainer(outbox, CloudApplications(client_for(world.service.url, identity), outbox).send,
                            min_pause_s=0.2, max_pause_s=1.0)
    drainer.start()
    try:
        while time.monotonic() - t0 < timeout_s:
            if promised <= {ref for _, ref in world.received(identity.device_id)}:
                break
            time.sleep(0.05)
    finally:
        drainer.stop()
    return time.monotonic() - t0


def _row(world: World, case: str, identity, tries: int, survived: int, promised: set[str], recover_s: float) -> Row:
    received = world.received(identity.device_id)
    refs = [ref for _, ref in received]
    return Row(case, tries, survived, len(promised - set(refs)), len(refs) - len(set(refs)), round(recover_s, 2))


def submit_all(stage: CloudApplications, estimates, case: str) -> tuple[int, set[str]]:
    """Customers applying while the fault is on: how many got a clear answer, and the references promised."""
    survived, promised = 0, set()
    for i, estimate in enumerate(estimates):
        try:
            result = stage.submit(session_for(estimate), "rural-bank-flex:12", f"{case}-intent-{i:04d}")
        except Exception as exc:  # noqa: BLE001 (anything escaping is what this suite looks for)
            print(f"{case}: try {i} raised {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        survived += 1
        if isinstance(result, ev.ApplicationRecorded):
            promised.add(result.reference)
    return survived, promised


def gateway_case(world: World, case: str, mode: str, tries: int) -> Row:
    config, identity = world.kiosk(case)
    estimates = world.estimates(identity, tries)
    outbox = Outbox.for_data_dir(config.data_dir)
    Gateway.drip_s = 0.4 if mode == "slow" else 0.0
    Gateway.answer = GATEWAY_ANSWERS.get(mode, Gateway.answer)
    survived, promised = submit_all(CloudApplications(client_for(world.gateway_url, identity), outbox), estimates, case)
    return _row(world, case, identity, tries, survived, promised, _deliver(world, outbox, identity, promised,
                                                                           time.monotonic()))


def cloud_down(world: World, tries: int) -> Row:
    config, identity = world.kiosk("down")
    estimates = world.estimates(identity, tries)
    outbox = Outbox.for_data_dir(config.data_dir)
    port = world.service.port
    world.service.stop()
    survived, promised = submit_all(CloudApplications(client_for(world.service.url, identity), outbox), estimates,
                                    "cloud_down")
    t0 = time.monotonic()
    world.service = LocalService(world.settings, port, world.model).start()
    return _row(world, "cloud_down", identity, tries, survived, promised, _deliver(world, outbox, identity, promised, t0))


def clock_ahead(world: World, tries: int) -> Row:
    config, identity = world.kiosk("clock")
    estimates = world.estimates(identity, tries)
    outbox = Outbox.for_data_dir(config.data_dir)
    client = client_for(world.service.url, identity)
    client.clock_offset = 400.0  # the kiosk's clock runs 400 s fast
    t0 = time.monotonic()
    survived, promised = submit_all(CloudApplications(client, outbox), estimates, "clock_ahead_400s")
    return _row(world, "clock_ahead_400s", identity, tries, survived, promised,
                _deliver(world, outbox, identity, promised, t0))


def disk_full(world: World, tries: int) -> Row:
    """The kiosk process may not grow any file (RLIMIT_FSIZE: the OS refuses the write, as on a full disk) while
    ``tries`` customers apply; then space comes back and ``tries`` more apply."""
    config, identity = world.kiosk("disk")
    estimates = world.estimates(identity, 2 * tries)
    Outbox.for_data_dir(config.data_dir).close()  # the kiosk has started: its files exist
    proc = subprocess.run([sys.executable, "-m", "tests.helpers.outbox_writer", "disk-full", str(config.data_dir),
                           world.service.url, ",".join(e.estimate_id for e in estimates)], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    survived = sum(1 for a in answers if a["recorded"] or a["code"] == "not_stored")
    promised = {a["reference"] for a in answers if a["recorded"]}
    t0 = time.monotonic()
    outbox = Outbox.for_data_dir(config.data_dir)
    row = _row(world, "disk_full", identity, 2 * tries, survived, promised,
               _deliver(world, outbox, identity, promised, t0))
    row.lost += sum(1 for a in answers if not a["full"] and not a["recorded"])  # space back, still not stored
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
    return row


def _killed(args: list[str], after_lines: int) -> list[dict]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.outbox_writer", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(json.loads(line))
        if len(seen) >= after_lines:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=30)
    return seen


def kill_during_write(world: World, tries: int) -> Row:
    config, identity = world.kiosk("kill-write")
    estimates = world.estimates(identity, 3 * tries)
    committed = _killed(["write", str(config.data_dir), ",".join(e.estimate_id for e in estimates)], tries)
    outbox = Outbox.for_data_dir(config.data_dir)
    keys = {i.idempotency_key: i.reference for i in outbox.items()}
    promised = {keys[f"kill-test-{c['committed']:04d}"] for c in committed if f"kill-test-{c['committed']:04d}" in keys}
    survived = len(promised)  # every commit the writer saw return is on disk
    row = _row(world, "kill9_during_outbox_write", identity, tries, survived, promised,
               _deliver(world, outbox, identity, set(keys.values()), time.monotonic()))
    row.lost += len(committed) - len(promised)
    return row


def kill_during_drain(world: World, tries: int) -> Row:
    config, identity = world.kiosk("kill-drain")
    estimates = world.estimates(identity, 2 * tries)
    outbox = Outbox.for_data_dir(config.data_dir)
    for i, estimate in enumerate(estimates):
        outbox.enqueue("application", f"kill-drain-{i:04d}", {"estimate_id": estimate.estimate_id,
                                                              "offer_id": "rural-bank-flex:12", "amount": 1000.0,
                                                              "term_months": 12})
    promised = {i.reference for i in outbox.items()}
    _killed(["drain", str(config.data_dir), world.service.url], tries)
    t0 = time.monotonic()
    outbox = Outbox.for_data_dir(config.data_dir)  # the kiosk restarts
    return _row(world, "kill9_during_drain", identity, tries, tries, promised,
                _deliver(world, outbox, identity, promised, t0))


# ---- the kiosk's own devices and models: nothing to lose, but every one must end on a clear screen ----------


def _box(case: str):
    """A runner with replay devices around the journey; stages that grab frames (the device path, not vision)."""
    from hardware.camera import ReplayCamera
    from hardware.microphone import ReplayMicrophone
    from hardware.printer import EscPosFilePrinter
    from hardware.speaker import FileSpeaker
    from kiosk.devices import Devices
    from kiosk.journey.session import BiometricSample, LivenessSummary
    from kiosk.runner import Runner
    from kiosk.stages import Stages
    from tests.journey_helpers import DOCUMENT, new_journey

    class GrabId:
        def capture_id(self, camera, attempt, on_prompt, on_status=None):
            return ev.IdCaptureResult(ok=True, portrait=BiometricSample("id_portrait", camera.read().image),
                                      document=DOCUMENT)

    class GrabLive:
        def capture_live(self, camera, attempt, challenges, on_prompt, on_status=None):
            frames = tuple(BiometricSample("live_frame", camera.read().image) for _ in range(3))
            return ev.LiveCaptureResult(ok=True, frames=frames, liveness=LivenessSummary(0.9, 2, 2))

    images = sorted((REPO.parent / "shared" / "data" / "faces" / "lfw-deepfunneled" / "Abel_Pacheco").glob("*.jpg"))
    out = Path(tempfile.mkdtemp(prefix=f"fault-{case}-"))
    devices = Devices(camera=ReplayCamera(images, disconnect_after=2), microphone=ReplayMicrophone(out / "absent.wav"),
                      speaker=FileSpeaker(out / "spk"), printer=EscPosFilePrinter(out / "lp0"))
    return Runner(new_journey(), devices, Stages(id_capture=GrabId(), live_capture=GrabLive())), images


def _start(runner) -> None:
    for event in (ev.StartPressed(), ev.LanguageChosen(language="zh"), ev.ConsentGiven(agreed=True)):
        runner.send(event)


def camera_unplugged(_world: World, tries: int) -> Row:
    """Unplugged after the ID photo: the camera error screen, the ID photo kept; plugged back in, Retry resumes."""
    from hardware.camera import ReplayCamera
    from kiosk.journey.states import State

    survived, recover = 0, 0.0
    for _ in range(tries):
        runner, images = _box("camera")
        _start(runner)
        data = runner.journey.data
        if runner.journey.state is not State.ERROR or data.error.code != "camera_disconnected":
            continue
        t0 = time.monotonic()
        runner.devices.camera = ReplayCamera(images)  # plugged back in
        runner.send(ev.Retry())
        recover = max(recover, time.monotonic() - t0)
        survived += runner.journey.state is State.ERROR and runner.journey.data.error.code == "stage_unavailable"
    # With the camera back, the journey reaches the match (no match stage in this box: its own clear screen).
    return Row("camera_unplugged_mid_session", tries, survived, 0, 0, round(recover, 2))


def microphone_absent(_world: World, tries: int) -> Row:
    """A question asked with no microphone: the microphone error screen, and cancel still wipes the session."""
    from kiosk.journey.states import State

    survived, recover = 0, 0.0
    for _ in range(tries):
        runner, _ = _box("microphone")
        runner.send(ev.StartPressed())
        try:
            runner.devices.microphone.open()
        except Exception as exc:  # noqa: BLE001 (the device error the controller turns into an event)
            runner.send(ev.DeviceFailed(device="microphone", code=getattr(exc, "code", "error")))
        t0 = time.monotonic()
        ok = runner.journey.state is State.ERROR and runner.journey.data.error.code == "microphone_missing"
        runner.send(ev.Cancel())
        recover = max(recover, time.monotonic() - t0)
        survived += ok and runner.journey.data.biometrics.is_empty
    return Row("microphone_absent", tries, survived, 0, 0, round(recover, 3))


def corrupt_model(_world: World, tries: int) -> Row:
    """A model file with flipped bytes: refused by its hash, by name, before it is loaded."""
    import shutil

    from edge_models.manifest import load_manifest
    from edge_models.verify import ModelCorrupt, verify_model

    spec = next(m for m in load_manifest().model if m.name == "yunet_2023mar")
    source = verify_model(spec, load_config().model_dirs)
    survived = 0
    for i in range(tries):
        folder = Path(tempfile.mkdtemp(prefix="fault-model-"))
        target = folder / spec.file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        data = bytearray(target.read_bytes())
        data[len(data) // 2 + i] ^= 0xFF
        target.write_bytes(bytes(data))
        try:
            verify_model(spec, folder)
        except ModelCorrupt as exc:
            survived += spec.name in str(exc)
        shutil.rmtree(folder)
    return Row("corrupt_model", tries, survived, 0, 0, 0.0)


CASES = {
    "cloud_down": cloud_down,
    "cloud_slow": lambda w, n: gateway_case(w, "cloud_slow", "slow", n),
    "cloud_5xx": lambda w, n: gateway_case(w, "cloud_5xx", "503", n),
    "cloud_garbage": lambda w, n: gateway_case(w, "cloud_garbage", "garbage", n),
    "gateway_429": lambda w, n: gateway_case(w, "gateway_429", "429", n),
    "gateway_408": lambda w, n: gateway_case(w, "gateway_408", "408", n),
    "gateway_404": lambda w, n: gateway_case(w, "gateway_404", "404", n),
    "gateway_401": lambda w, n: gateway_case(w, "gateway_401", "401", n),
    "clock_ahead_400s": clock_ahead,
    "disk_full": disk_full,
    "kill9_during_outbox_write": kill_during_write,
    "kill9_during_drain": kill_during_drain,
    "camera_unplugged_mid_session": camera_unplugged,
    "microphone_absent": microphone_absent,
    "corrupt_model": corrupt_model,
}


def run(tries: int, only: list[str] | None = None) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="fault-suite-") as tmp:
        world = World(Path(tmp))
        try:
            return [CASES[name](world, tries) for name in (only or CASES)]
        finally:
            world.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(args.tries, args.case)
    if args.json:
        print(json.dumps([asdict(r) for r in rows]))
    else:
        print(f"{'case':<28} {'tries':>5} {'survived':>8} {'lost':>4} {'duplicated':>10} {'recover_s':>9}")
        for r in rows:
            print(f"{r.case:<28} {r.tries:>5} {r.survived:>8} {r.lost:>4} {r.duplicated:>10} {r.recover_s:>9.2f}")
    return 0 if all(r.lost == 0 and r.duplicated == 0 and r.survived == r.tries for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
