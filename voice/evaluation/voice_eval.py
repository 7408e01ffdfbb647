"""Voice evaluation: WER/CER and real-time factor on real recordings; intent accuracy and latency on
SYNTHESISED FAQ questions (espeak-ng; clean and with 10 dB white noise). Real and synthetic are reported
separately: espeak's robotic voice is no stand-in for a villager's speech."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np

from hardware.audio import AudioClip, read_audio_file
from voice.asr import SpeechRecognizer
from voice.assistant import ASR_RATE, VoiceAssistant
from voice.intents import is_scam
from voice.normalize import normalize
from voice.vad import add_noise

TEST_QUESTIONS = Path(__file__).with_name("faq_test.toml")


def error_rate(refs: list[str], hyps: list[str], language: str) -> float:
    refs = [normalize(r, language) for r in refs]
    hyps = [normalize(h, language) for h in hyps]
    return float(jiwer.cer(refs, hyps) if language == "zh" else jiwer.wer(refs, hyps))


@dataclass(frozen=True)
class Miss:
    """A question answered wrongly: what was meant, what was answered, what was said and what was heard."""
    expected: str | None
    answered: str | None
    said: str
    heard: str


@dataclass(frozen=True)
class Clip:
    path: Path
    language: str
    reference: str


def load_transcripts(audio_dir: Path, tsv: Path) -> list[Clip]:
    with tsv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [Clip(audio_dir / r["file"], r["language"], r["transcript"]) for r in rows]


def real_eval(engines: dict[str, SpeechRecognizer], clips: list[Clip]) -> list[dict]:
    rows = []
    for name, engine in engines.items():
        for language in ("en", "zh"):
            subset = [c for c in clips if c.language == language and language in engine.languages]
            if not subset:
                continue
            refs, hyps, proc, dur = [], [], 0.0, 0.0
            for c in subset:
                audio = read_audio_file(c.path, ASR_RATE)
                t = engine.transcribe(audio, language)
                refs.append(c.reference)
                hyps.append(t.text)
                proc += t.seconds
                dur += audio.duration_s
            rows.append({"engine": name, "language": language, "clips": len(subset),
                         "metric": "CER" if language == "zh" else "WER",
                         "error": error_rate(refs, hyps, language), "rtf": proc / dur, "hyps": hyps})
    return rows


def synthesize_questions(tts, path: Path = TEST_QUESTIONS) -> list[tuple[str, str, str, AudioClip]]:
    """(language, expected intent or "none", text, 16 kHz clip with 0.5 s lead and 1.0 s trailing silence)."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)["q"]
    out = []
    for q in data:
        for language in ("en", "zh"):
            for text in q.get(language, []):
                clip = tts.synthesize(text, language).resampled(ASR_RATE)
                pad_a, pad_b = np.zeros(ASR_RATE // 2, np.int16), np.zeros(ASR_RATE, np.int16)
                out.append((language, q["intent"], text, AudioClip(np.concatenate([pad_a, clip.samples, pad_b]), ASR_RATE)))
    return out


def faq_eval(assistant: VoiceAssistant, questions, snr_db: float | None) -> dict:
    per_lang: dict[str, dict] = {}
    for language, expected, text, clip in questions:
        # The SNR is measured over the speech itself, not over the silence around it.
        audio = add_noise(clip, snr_db, len(text), assistant.endpointer) if snr_db is not None else clip
        ep = assistant.endpointer.endpoint(audio)
        answer = assistant.ask(audio, language)
        row = per_lang.setdefault(language, {"n": 0, "correct": 0, "off_topic": 0, "rejected": 0, "never_ended": 0,
                                             "scams": 0, "scams_caught": 0, "latency": [], "refs": [], "hyps": [],
                                             "misses": []})
        row["n"] += 1
        want = None if expected == "none" else expected
        row["correct"] += answer.intent == want
        if answer.intent != want:
            row["misses"].append(Miss(want, answer.intent, text, answer.transcript))
        if want is None:
            row["off_topic"] += 1
            row["rejected"] += answer.intent is None
        else:
            row["refs"].append(text)
            row["hyps"].append(answer.transcript)
            if is_scam(want):
                row["scams"] += 1
                row["scams_caught"] += is_scam(answer.intent)
        # End of speech -> answer text: the endpointer's wait after the last speech frame, plus processing. A
        # question whose end was never found is counted as such (a live kiosk would wait for the length cap).
        if ep.decided_at_s is None or ep.end_s is None:
            row["never_ended"] += 1
        else:
            row["latency"].append(ep.decided_at_s - ep.end_s + answer.total_seconds)
    for language, row in per_lang.items():
        row["accuracy"] = row["correct"] / row["n"]
        row["error"] = error_rate(row["refs"], row["hyps"], language)
        row["latency_median"] = float(np.median(row["latency"])) if row["latency"] else float("nan")
        row["latency_p95"] = float(np.percentile(row["latency"], 95)) if row["latency"] else float("nan")
    return per_lang
