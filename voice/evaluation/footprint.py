"""What one ASR engine costs to hold, measured in a process of its own (the high-water mark of a process that has
already loaded another engine says nothing about the second): ``python -m voice.evaluation.footprint NAME DIR...``
prints {"seconds", "rss_mb", "rss_before_mb"} as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(name: str, model_dirs: list[Path], threads: int = 2) -> dict:
    """In a child process: load time, RSS before and after loading."""
    out = subprocess.run([sys.executable, "-m", "voice.evaluation.footprint", name, str(threads), *map(str, model_dirs)],
                         capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{name}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from voice.asr import build_asr

    name, threads, dirs = sys.argv[1], int(sys.argv[2]), [Path(d) for d in sys.argv[3:]]
    before = rss_mb()
    t0 = time.perf_counter()
    build_asr(name, dirs, threads)
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "rss_mb": round(rss_mb(), 1),
                      "rss_before_mb": round(before, 1)}))


if __name__ == "__main__":
    main()
