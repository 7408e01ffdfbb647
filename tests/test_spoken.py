"""Every customer screen is spoken, in the customer's language; amounts and rates as people say them; a tap stops
the kiosk talking, except during a scam warning; "say it again" repeats."""

from __future__ import annotations

import time

import pytest

from hardware.audio import read_audio_file
from hardware.printer import NoPrinter
from hardware.speaker import FileSpeaker
from kiosk.devices import Devices
from kiosk.i18n import tr
from kiosk.journey import effects as fx
from kiosk.journey import events as ev
from kiosk.journey.session import CreditEstimate, OfferSummary, SessionData
from kiosk.journey.states import CUSTOMER_STATES, State
from kiosk.runner import Runner
from kiosk.spoken import say_money, say_rate, say_reference, screen_speech
from kiosk.stages import Stages
from tests.journey_helpers import FORWARD, new_journey, walk_to
from voice.tts import EspeakTts

SPOKEN_BY_THE_JOURNEY = {State.CONSENT, State.HANDOFF}  # their own Speak effects read them


def test_amounts_rates_and_references_are_read_as_people_say_them():
    assert say_money(5297.28, "zh") == "五千二百九十七点二八元"  # as payment apps announce money
    assert say_money(5000, "zh") == "五千元" and say_money(1000.05, "zh") == "一千点零五元"
    assert say_money(20000, "zh") == "两万元" and say_money(2000, "zh") == "两千元" and say_money(12, "zh") == "十二元"
    assert say_money(12000, "zh") == "一万两千元" and say_money(220000, "zh") == "二十二万元"
    assert say_money(5297.2, "zh") == "五千二百九十七点二元"
    assert say_money(441.44, "en") == "441.44 yuan" and say_money(20000, "en") == "20,000 yuan"
    assert say_money(5297.2, "en") == "5,297.20 yuan"
    assert say_rate(0.108, "zh") == "百分之十点八" and say_rate(0.1512, "zh") == "百分之十五点一二"
    assert say_rate(0.108, "en") == "10.8 percent"
    assert say_reference("01-0005P", "zh") == "零，一，杠，零，零，零，五，P"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_customer_screen_has_spoken_words_in_both_languages(language):
    data = SessionData(session_id="s", started_at=0, language=language)
    data.estimate = CreditEstimate(5000, "CNY", "B")
    data.offers = (OfferSummary("p:12", 5000.0, 12, 0.108, 441.44, 5297.28, lender="County Bank", fee=50.0,
                                lender_zh="县银行", late_daily_rate=0.0005),)
    data.chosen_offer_id = "p:12"
    for state in sorted(CUSTOMER_STATES - SPOKEN_BY_THE_JOURNEY, key=lambda s: s.value):
        params = {"reference": "01-0005P"} if state is State.CONFIRMATION else {}
        message = "error.network" if state is State.ERROR else None
        speech = screen_speech(fx.ShowScreen(state.value, message, params), data)
        assert speech and all(text and "spoken." not in text and "{" not in text for text, _ in speech), state
    offers = screen_speech(fx.ShowScreen("offers"), data)[0][0]
    expected = ("五千元", "四百四十一点四四元", "五千二百九十七点二八元", "百分之十点八") if language == "zh" else \
        ("5,000 yuan", "441.44 yuan", "5,297.28 yuan", "10.8 percent")
    assert all(words in offers for words in expected), offers
    # The review says every cost, the lender in the customer's language, and the late-payment charge.
    review = screen_speech(fx.ShowScreen("review"), data)[0][0]
    expected = ("县银行", "四千九百五十元", "四百四十一点四四元", "百分之零点零五") if language == "zh" else \
        ("County Bank", "4,950 yuan", "441.44 yuan", "0.05 percent")
    assert all(words in review for words in expected), review
    wrong = screen_speech(fx.ShowScreen("review", "review.check_wrong"), data)[0][0]
    assert wrong != review and expected[2] in wrong  # re-explained: the monthly payment again


def test_the_journey_speaks_consent_and_handoff_itself():
    transitions = [t for _, t in _walk()]
    consent = next(t for t in transitions if t.state is State.CONSENT)
    assert fx.Speak("consent.read") in consent.effects


def _walk():
    j = new_journey()
    for state, event in FORWARD[:3]:
        yield state, j.handle(event)


class Voice:
    def __init__(self) -> None:
        self.tts = EspeakTts()

    def speak(self, text, language):
        return self.tts.synthesize(text, language)


def _runner(tmp_path, state=State.OFFERS):
    speaker = FileSpeaker(tmp_path / "spk")
    devices = Devices(camera=None, microphone=None, speaker=speaker, printer=NoPrinter())
    return Runner(walk_to(state, new_journey()), devices, Stages(answers=Voice())), speaker


def test_a_tap_stops_the_talking_but_not_a_scam_warning(tmp_path):
    runner, speaker = _runner(tmp_path)
    runner.send(ev.QuestionAnswered(intent="interest_fees", confidence=0.9, text="Every offer shows the APR."))
    assert len(speaker.played) == 1
    runner.hush()
    assert speaker.stopped == 1
    runner.send(ev.QuestionAnswered(intent="scam_upfront_fee", confidence=0.96,
                                    text="Warning: that is a scam. Do not pay. Tell the shopkeeper."))
    runner.hush()
    assert speaker.stopped == 1  # said in full
    time.sleep(read_audio_file(speaker.played[-1]).duration_s + 0.1)
    runner.hush()
    assert speaker.stopped == 2  # once it is over, taps silence again


def test_say_it_again_repeats_what_was_said_last(tmp_path):
    runner, speaker = _runner(tmp_path, State.DETAILS)
    runner.send(ev.QuestionAnswered(intent="repayment", confidence=0.9, text="You repay the same amount every month."))
    runner.repeat()
    assert len(speaker.played) == 2 and speaker.played[0].read_bytes() == speaker.played[1].read_bytes()


def test_everything_said_in_one_step_is_one_sound(tmp_path):
    runner, speaker = _runner(tmp_path, State.ATTRACT)
    runner.send(ev.StartPressed())  # the language screen: Mandarin, then English, joined
    assert len(speaker.played) == 1


def test_a_retry_is_said_once_with_its_reason():
    data = SessionData(session_id="s", started_at=0, language="en")
    face = [t for t, _ in screen_speech(fx.ShowScreen("live_capture", "face.face_mismatch"), data)]
    assert face[0] == tr("face.face_mismatch", "en") and len(face) == 2
    # The ID card retry's hints are the journey's own Speak effect: the screen does not say them again.
    card = [t for t, _ in screen_speech(fx.ShowScreen("id_capture", "id.retry", {"reasons": ["tilt_card"]}), data)]
    assert not any(tr("hint.tilt_card", "en") in t for t in card)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_declined_customer_hears_what_they_can_do_and_no_zero_limit(language):
    """Issue 16 item 9: a declined customer heard "your estimated limit is 0" and no next step."""
    data = SessionData(session_id="s", started_at=0, language=language,
                       estimate=CreditEstimate(0, "CNY", "E", decision="declined"))
    said = " ".join(t for t, _ in screen_speech(fx.ShowScreen("offers"), data))
    assert tr("screen.declined_next", language) in said and say_money(0, language) not in said
    assert tr("spoken.limit", language, limit="").split("{")[0].strip(" 。.") not in said


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_confirmation_says_what_happens_next(language):
    data = SessionData(session_id="s", started_at=0, language=language)
    said = [t for t, _ in screen_speech(fx.ShowScreen("confirmation", None, {"reference": "01-0005P"}), data)]
    assert said[-1] == tr("screen.next_steps", language)
    assert say_reference("01-0005P", language) in said[0]
