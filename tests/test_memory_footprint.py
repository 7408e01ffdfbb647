"""Issue 16: the kiosk within 600 MB. Libraries that cost tens of MB for a small job stay out of its process; each
row says what they cost (measured on import, scripts/bench_ui.py for the whole) and what does the job instead."""

from __future__ import annotations

import json
import subprocess
import sys

# module -> why it must not be loaded
KEPT_OUT = {
    "scipy": "77 MB for resampling audio (soxr) and 38 MB behind the face alignment (OpenCV's fit)",
    "skimage": "a similarity fit (OpenCV's estimateAffinePartial2D)",
    "insightface": "50 MB for five template points (vision.align.ARCFACE_112)",
    "pypinyin.phrases_dict": "43 MB the matcher never reads (voice.syllables)",
    "speech_recognition": "10 MB, needed only to read audio files (replay, evaluation)",
    "cloud": "the scoring service's stack: the demo runs it in a process of its own (kiosk_app/demo_service.py)",
}

# The kiosk's own work: the stages built as the product builds them, a spoken question at 48 kHz resampled and
# answered, the face pipeline's alignment.
KIOSK_WORK = """
import json, sys
import numpy as np
from hardware.audio import AudioClip
from kiosk.config import load_config
from kiosk.stages import face_verifier, liveness_engine, voice_assistant
from vision.align import ARCFACE_112, alignment_matrix
config = load_config().model_copy(update={"extra_models_dir": sys.argv[1]})
verifier = face_verifier(config)
liveness_engine(config, verifier)
assistant = voice_assistant(config)
question = assistant.speak("How much can I borrow?", "en")
t = np.arange(question.samples.size * 48000 // question.sample_rate)
mic = AudioClip(np.interp(t * question.sample_rate / 48000, np.arange(question.samples.size),
                          question.samples).astype(np.int16), 48000)
answer = assistant.ask(mic, "en")
alignment_matrix(ARCFACE_112 * 2 + 10, ARCFACE_112)
print(json.dumps({"intent": answer.intent, "modules": sorted(sys.modules)}))
"""


def test_heavy_libraries_stay_out_of_the_kiosks_process(installed_models):
    out = subprocess.run([sys.executable, "-c", KIOSK_WORK, str(installed_models)], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    seen = json.loads(out)
    assert seen["intent"] == "borrow_limit", seen["intent"]  # the work really ran
    loaded = {m for m in KEPT_OUT for name in seen["modules"] if name == m or name.startswith(m + ".")}
    assert not loaded, {m: KEPT_OUT[m] for m in loaded}
