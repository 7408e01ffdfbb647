"""Reading the ID card: GB 11643 rules, the OCR text parser, the chip reader's record and framing, and the
capture of a whole SYNTHETIC specimen card (front, back, chip) through the real OCR and face models."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from contract import id_number as idn
from edge_models.verify import ModelMissing
from hardware.errors import DeviceDataError, DeviceMissing
from hardware.id_card import (
    CMD_READ,
    SW_FOUND,
    SW_OK,
    IdCardFields,
    ReplayChipReader,
    SerialChipReader,
    build_command,
    build_photo_decoder,
    build_response,
    build_text_record,
    parse_response,
    parse_text_record,
)
from vision.evaluation.specimen import CLEAN, photograph, specimen_card
from vision.id_text import OcrLine, id_number_in, read_card_text
from vision.image_io import load_image

TODAY = date(2026, 12, 1)
VALID = "11010219840406970X"  # 北京市西城区, 1984-04-06, female


# ---- GB 11643 -----------------------------------------------------------------------------------------------

def test_valid_number_passes_every_number_check():
    assert idn.number_problems(VALID, TODAY) == []
    assert idn.birth_date(VALID) == date(1984, 4, 6) and idn.sex_of(VALID) == "F"


@pytest.mark.parametrize("number, problem", [
    ("11010219840406971X", idn.CHECK_DIGIT),  # one digit changed
    ("000000000000000000", idn.CHECK_DIGIT),  # the numbers the old service gave starter loans to
    ("12345678901234567X", idn.CHECK_DIGIT),
    ("1101021984040697", idn.FORMAT),
])
def test_numbers_that_no_card_carries_are_refused(number, problem):
    assert problem in idn.number_problems(number, TODAY)


def test_impossible_and_future_birth_dates_and_unknown_regions():
    feb30 = "1101021990023012" + "3"
    feb30 = feb30[:17] + idn.check_digit(feb30[:17])
    assert idn.number_problems(feb30, TODAY) == [idn.BIRTH_DATE_INVALID]
    future = "110102" + "20300101" + "123"
    assert idn.BIRTH_DATE_INVALID in idn.number_problems(future + idn.check_digit(future), TODAY)
    nowhere = "999999" + "19900307" + "451"
    assert idn.number_problems(nowhere + idn.check_digit(nowhere), TODAY) == [idn.REGION_INVALID]


def test_document_checks_against_the_printed_fields():
    good = idn.PrintedFields(date(1984, 4, 6), "F", date(2030, 1, 1))
    result = idn.check_document(VALID, good, TODAY)
    assert result.complete and set(result.passed) == set(idn.REQUIRED_CHECKS)
    assert idn.check_document(VALID, replace(good, birth_date=date(1984, 4, 7)), TODAY).problems == (
        idn.BIRTH_DATE_MISMATCH,)
    assert idn.check_document(VALID, replace(good, sex="M"), TODAY).problems == (idn.SEX_MISMATCH,)
    assert idn.check_document(VALID, replace(good, valid_until=date(2020, 1, 1)), TODAY).problems == (idn.EXPIRED,)
    assert idn.check_document(VALID, replace(good, valid_until=None, permanent=True), TODAY).complete
    # A field not read is a check not made: never complete.
    unread = idn.check_document(VALID, idn.PrintedFields(date(1984, 4, 6), "F", None), TODAY)
    assert not unread.problems and not unread.complete and "not_expired" not in unread.passed


def test_mask_shows_first_six_and_last_four():
    assert idn.mask(VALID) == "110102********970X"


# ---- OCR text -> fields -----------------------------------------------------------------------------------

def line(text, y, x=0.0, score=0.99):
    return OcrLine(text, score, ((x, y - 10), (x + 100, y - 10), (x + 100, y + 10), (x, y + 10)))


def test_front_text_with_labels_split_and_merged():
    lines = [line("姓名", 60), line("王芳", 61, x=120), line("性别女民族汉", 125), line("出生1984年4月6日", 190),
             line("住址北京市西城区", 255), line("人民路1号", 300, x=120), line("样本SPECIMEN", 380),
             line("公民身份号码", 460), line(VALID, 458, x=200)]
    text = read_card_text(lines)
    f = text.fields
    assert text.side == "front" and f.id_number == VALID and f.name == "王芳" and f.sex == "F"
    assert f.ethnicity == "汉" and f.birth_date == date(1984, 4, 6) and f.address == "北京市西城区人民路1号"


def test_back_text_validity_and_permanent():
    back = read_card_text([line("中华人民共和国", 50), line("签发机关北京市公安局西城分局", 400),
                           line("有效期限2015.03.01-2035.03.01", 460)])
    assert back.side == "back" and back.fields.authority == "北京市公安局西城分局"
    assert back.fields.valid_until == date(2035, 3, 1) and not back.fields.permanent
    forever = read_card_text([line("有效期限", 460), line("2010.06.28-长期", 461, x=150)])
    assert forever.fields.permanent and forever.fields.valid_until is None


def test_a_misread_number_fails_closed():
    assert id_number_in("公民身份号码" + VALID) == VALID
    assert id_number_in("4" + VALID) == VALID  # a stray mark before the number: one window passes
    assert id_number_in(VALID[:-1] + "1") is None  # a misread digit fails the check digit
    text = read_card_text([line("姓名王芳", 60), line("性别女民族汉", 125), line(VALID[:-1] + "1", 460)])
    assert text.side == "front" and text.fields.id_number is None and text.number_problem == idn.CHECK_DIGIT
    assert read_card_text([line("hello", 10)]).side == "unknown"


# ---- the chip -------------------------------------------------------------------------------------------

CHIP = IdCardFields(id_number=VALID, name="王芳", sex="F", ethnicity="汉", birth_date=date(1984, 4, 6),
                    address="北京市西城区人民路1号", authority="北京市公安局西城分局", valid_from=date(2015, 3, 1),
                    valid_until=date(2035, 3, 1))


def base_info(fields: IdCardFields, photo: bytes = b"\x00" * 1024) -> bytes:
    text = build_text_record(fields)
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


def test_chip_text_record_round_trip():
    assert parse_text_record(build_text_record(CHIP)) == CHIP
    permanent = replace(CHIP, valid_until=None, permanent=True)
    assert parse_text_record(build_text_record(permanent)).permanent


def test_serial_frames_checksums_and_damage():
    command = build_command(CMD_READ)
    assert command.hex() == "aaaaaa96690003300132"  # the read command as the readers document it
    frame = build_response(SW_OK, b"payload")
    assert parse_response(frame) == (SW_OK, b"payload")
    damaged = frame[:-3] + bytes([frame[-3] ^ 0xFF]) + frame[-2:]
    with pytest.raises(DeviceDataError, match="checksum"):
        parse_response(damaged)
    with pytest.raises(DeviceDataError, match="preamble"):
        parse_response(b"\x00" * 20)


class FakeSerial:
    """Answers find, select and read like a reader with a card on it."""

    def __init__(self, info: bytes) -> None:
        self.replies = [build_response(SW_FOUND), build_response(SW_OK), build_response(SW_OK, info)]
        self.buffer = b""

    def write(self, data: bytes) -> None:
        self.buffer = self.replies.pop(0)

    def read(self, n: int) -> bytes:
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def close(self) -> None:
        pass


def test_serial_reader_reads_the_fields_and_says_the_photo_is_unavailable_without_a_decoder():
    reader = SerialChipReader("/dev/null-reader")
    reader._serial = FakeSerial(base_info(CHIP))
    read = reader.read_document()
    assert read.fields == CHIP and read.source == "chip"
    assert read.portrait is None and read.photo_status == "unavailable"


def test_missing_reader_and_missing_photo_decoder_are_clear_errors(tmp_path):
    with pytest.raises(DeviceMissing, match="no ID-card reader"):
        SerialChipReader(str(tmp_path / "ttyUSB9")).open()
    with pytest.raises(DeviceMissing, match="decoder 'vendor_wlt' is not installed"):
        build_photo_decoder("vendor_wlt")
    assert build_photo_decoder(None) is None


def test_replay_chip_reader_binary_and_json(tmp_path):
    binary = tmp_path / "read.bin"
    binary.write_bytes(base_info(CHIP))
    assert ReplayChipReader(binary).read_document().fields == CHIP
    recorded = tmp_path / "read.json"
    recorded.write_text(json.dumps({"fields": {"id_number": VALID, "name": "王芳", "birth_date": "1984-04-06"}}))
    read = ReplayChipReader(recorded).read_document()
    assert read.fields.birth_date == date(1984, 4, 6) and read.photo_status == "unavailable"
    recorded.write_text("{not json")
    with pytest.raises(DeviceDataError, match="not a chip replay file"):
        ReplayChipReader(recorded).read_document()


# ---- a whole card through the real models ----------------------------------------------------------------

@pytest.fixture(scope="module")
def card_reader(models_dir, installed_models):
    from vision.detectors import build_detector
    from vision.id_card import CardReader
    from vision.id_ocr import CardOcr

    dirs = (models_dir, installed_models)
    return CardReader(build_detector("yunet", dirs), CardOcr(dirs))


@pytest.fixture(scope="module")
def face(faces_dir):
    return load_image(faces_dir / "Howard_Dean" / "Howard_Dean_0002.jpg")


def scenes(card, seed: int = 3):
    rng = np.random.default_rng(seed)
    return [photograph(card.front, rng, CLEAN), photograph(card.back, rng, CLEAN)]


def capture(card_reader, frames, chip=None):
    from vision.id_capture import IdCardCapture

    prompts = []
    outcome = IdCardCapture(card_reader, chip, max_frames=6, today=lambda: TODAY).run(frames, prompts.append)
    return outcome, prompts


def test_a_specimen_card_is_read_front_then_back(card_reader, face):
    card = specimen_card(face, 5, today=TODAY)
    outcome, prompts = capture(card_reader, scenes(card))
    assert outcome.ok, outcome.reasons
    assert outcome.fields.id_number == card.fields.id_number and outcome.source == "ocr"
    assert set(outcome.checks) == set(idn.REQUIRED_CHECKS) and prompts == ["show_back"]
    assert outcome.portrait is not None and outcome.portrait.quality.ok


def test_an_upside_down_card_is_read_and_its_portrait_found(card_reader, face):
    from vision.evaluation.specimen import Conditions

    card = specimen_card(face, 6, today=TODAY)
    side = card_reader.read(photograph(card.front, np.random.default_rng(1), Conditions(upside_down=True)))
    assert side.side == "front" and side.fields.id_number == card.fields.id_number
    assert side.portrait.face is not None


def test_the_front_alone_is_not_enough_without_a_chip(card_reader, face):
    card = specimen_card(face, 5, today=TODAY)
    outcome, _ = capture(card_reader, scenes(card)[:1] * 3)
    assert not outcome.ok and outcome.reasons[0] == "show_back"


def test_expired_card_and_bad_check_digit_give_their_reasons(card_reader, face):
    expired = specimen_card(face, 7, today=TODAY, valid_from=date(2010, 1, 1), valid_until=date(2020, 1, 1))
    outcome, _ = capture(card_reader, scenes(expired))
    assert not outcome.ok and outcome.reasons == (idn.EXPIRED,)
    good = specimen_card(face, 8, today=TODAY).fields.id_number
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    forged = specimen_card(face, 8, today=TODAY, id_number=wrong)
    outcome, _ = capture(card_reader, scenes(forged))
    assert not outcome.ok and outcome.reasons[0] == idn.CHECK_DIGIT


def test_impossible_birth_date_is_refused(card_reader, face):
    body = "110102" + "19900230" + "452"
    impossible = body + idn.check_digit(body)
    card = specimen_card(face, 9, today=TODAY, id_number=impossible)
    outcome, _ = capture(card_reader, scenes(card))
    assert not outcome.ok and idn.BIRTH_DATE_INVALID in outcome.reasons


def test_chip_fields_win_and_disagreement_with_the_print_is_refused(card_reader, face, tmp_path):
    card = specimen_card(face, 10, today=TODAY)
    same = tmp_path / "same.bin"
    same.write_bytes(base_info(card.fields))
    outcome, prompts = capture(card_reader, scenes(card)[:1], ReplayChipReader(same))
    assert outcome.ok and outcome.source == "chip" and "chip_print_match" in outcome.checks
    assert prompts == [] and outcome.chip.photo_status == "unavailable"  # the chip has the validity period
    other = tmp_path / "other.bin"
    other.write_bytes(base_info(replace(card.fields, id_number=VALID)))
    outcome, _ = capture(card_reader, scenes(card)[:1], ReplayChipReader(other))
    assert not outcome.ok and outcome.reasons == ("chip_print_mismatch",)


def test_missing_ocr_model_is_a_clear_error(tmp_path, models_dir):
    from vision.id_ocr import CardOcr

    with pytest.raises(ModelMissing, match="ppocr_v4_det: file missing"):
        CardOcr((models_dir, tmp_path))


# ---- the commands -----------------------------------------------------------------------------------------

def kiosk(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "kiosk.cli", *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=180)


def test_id_read_prints_fields_checks_and_time_and_fails_clearly(tmp_path, face, faces_dir):
    import cv2

    card = specimen_card(face, 11)
    front = tmp_path / "front.jpg"
    cv2.imwrite(str(front), photograph(card.front, np.random.default_rng(2)))
    out = kiosk("id", "read", front, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["side"] == "front" and report["fields"]["id_number"] == card.fields.id_number
    assert "check_digit" in report["checks"]["passed"] and report["read_ms"] > 0 and report["portrait"]["found"]
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff not really a jpeg")
    out = kiosk("id", "read", corrupt)
    assert out.returncode == 2 and "corrupt.jpg" in out.stderr and "Traceback" not in out.stderr
    out = kiosk("id", "read", faces_dir / "Abel_Pacheco" / "Abel_Pacheco_0001.jpg")
    assert out.returncode == 1 and "no ID card found" in out.stderr


def test_eval_id_reports_field_rates_per_condition(card_reader, faces_dir):
    from vision.evaluation.id_cards import evaluate_cards, format_cards

    report = evaluate_cards(card_reader, faces_dir, 2, today=TODAY)
    clean = report["conditions"]["clean"]
    assert clean["cards"] == 2 and clean["number"] == 2 and clean["wrong_number_accepted"] == 0
    assert set(report["conditions"]) == {"clean", "degraded", "upside_down"}
    text = format_cards(report)
    assert "number" in text and "per card (front + back)" in text
    assert clean["captured"] == 2 and clean["captured_wrong"] == 0 and clean["capture_frames"] >= 4
