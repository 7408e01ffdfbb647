"""Every reason code a stage can report reaches the customer as words in each language, never as a raw key."""

from __future__ import annotations

import pytest

from contract.id_number import CHECKS, NUMBER_REASONS
from kiosk.i18n import hint_key, reasons_text, tr
from kiosk.journey.machine import FINAL_ID_REASONS
from vision import id_capture, id_portrait, quality
from vision.liveness import engine

RETRY_REASONS = sorted({*quality.REASONS, *id_portrait.REASONS, *id_capture.REASONS, *engine.REASONS,
                        *NUMBER_REASONS, *CHECKS.values()} - FINAL_ID_REASONS)


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("code", RETRY_REASONS)
def test_every_retry_reason_has_a_hint(code, language):
    key = hint_key(code)
    assert tr(key, language) != key, f"{key} has no {language} text"


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("code", sorted(FINAL_ID_REASONS))
def test_every_final_id_reason_says_why_at_the_handoff(code, language):
    assert tr(f"handoff.{code}", language) != f"handoff.{code}"


def test_liveness_verdicts_are_one_plain_instruction_not_a_coaching_list():
    text = reasons_text(["presentation_attack", "challenge_failed:timeout", "static_frames", "face_changed"], "en")
    assert "hint." not in text
    assert text == f"{tr('hint.follow_instructions', 'en')}, {tr('hint.face_changed', 'en')}"
