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


# ---- the other customer texts: one catalogue per language -----------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_reason_code_the_service_or_the_kiosk_sends_has_words(language):
    from contract import reasons

    for code in (*reasons.ALL, "offers_withheld"):
        assert tr(f"reason.{code}", language) != f"reason.{code}", code


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_intent_has_an_answer_and_every_challenge_a_prompt(language):
    from kiosk.i18n import answer_text
    from kiosk.journey.prompts import challenge_names, prompt_text
    from vision.liveness.active import Challenge
    from voice.intents import KnowledgeBase

    for intent in KnowledgeBase().names():
        specific = answer_text(intent, language, {"limit": "8,000 CNY", "apr": "12.00%"})
        generic = answer_text(intent, language, {})
        assert "answer." not in specific and "{" not in generic and "answer." not in generic, intent
    assert set(challenge_names()) == {c.value for c in Challenge}
    assert all(prompt_text(c, language) != f"prompt.challenge.{c}" for c in challenge_names())
    assert answer_text(None, language) == tr("answer.not_understood", language) != "answer.not_understood"


def test_the_receipt_speaks_the_customers_language():
    from kiosk.journey.session import OfferSummary
    from kiosk.runner import receipt_lines

    offer = OfferSummary("p:12", 3000.0, 12, 0.191, 266.55, 3198.6, lender="Bank", fee=60.0, lender_zh="某银行",
                         late_daily_rate=0.0005)
    zh, en = receipt_lines("zh", "01-0001X", True, offer), receipt_lines("en", "01-0001X", True, offer)
    assert zh[0] == "贷款申请" and en[0] == "Loan application" and len(zh) == len(en) == 12
    assert "年化利率（含费用）: 19.10%" in zh and en[-1] == tr("receipt.queued", "en")
    assert "贷款机构: 某银行" in zh and "Lender: Bank" in en  # the lender's name in the customer's language
    assert "到手金额: 2,940.00" in zh and "逾期罚息（每天）: 0.05%" in zh
