"""CMU PocketSphinx (English), the lightest engine: the wheel-bundled en-US model, one Decoder kept loaded.

``mode="grammar"`` restricts recognition to the FAQ phrasings (a JSGF grammar built from the knowledge base):
fast and accurate for those questions, but a closed grammar has no rejection, so the intent matcher's
confidence threshold still decides. SpeechRecognition's grammar path breaks on its second call, so the
Decoder is used directly.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pocketsphinx import Decoder, get_model_path

from edge_models.plugins import Plugin
from hardware.audio import AudioClip
from voice.asr.base import AsrError, Transcript


def jsgf_grammar(phrases: list[str]) -> str:
    words = sorted({" ".join(re.findall(r"[a-z']+", p.lower())) for p in phrases} - {""})
    return "#JSGF V1.0;\ngrammar faq;\npublic <faq> = " + " | ".join(f"( {w} )" for w in words) + " ;\n"


class SphinxRecognizer:
    languages = ("en",)

    @classmethod
    def create(cls, _name: str, plugin: Plugin, _model_dirs: Sequence[Path], _threads: int,
               phrases: list[str] | None) -> SphinxRecognizer:
        return cls(plugin.options["mode"], phrases)

    def __init__(self, mode: str = "lm", phrases: list[str] | None = None) -> None:
        self.name = f"pocketsphinx_{mode}"
        model = Path(get_model_path()) / "en-us"
        self._decoder = Decoder(
            hmm=str(model / "en-us"), lm=str(model / "en-us.lm.bin"), dict=str(model / "cmudict-en-us.dict"),
            logfn="/dev/null",
        )
        if mode == "grammar":
            if not phrases:
                raise AsrError("grammar mode needs the FAQ phrases")
            with tempfile.NamedTemporaryFile("w", suffix=".gram", delete=False) as fh:
                fh.write(jsgf_grammar(phrases))
            self._decoder.add_jsgf_file("faq", fh.name)
            self._decoder.activate_search("faq")

    def transcribe(self, clip: AudioClip, language: str | None = None) -> Transcript:
        if language not in (None, "en"):
            raise AsrError(f"{self.name} recognises English only, not {language!r}")
        if clip.sample_rate != 16000:
            raise AsrError(f"expected 16 kHz audio, got {clip.sample_rate} Hz")
        t0 = time.perf_counter()
        self._decoder.start_utt()
        self._decoder.process_raw(clip.samples.astype("<i2").tobytes(), full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return Transcript(hyp.hypstr if hyp else "", "en", self.name, time.perf_counter() - t0)
