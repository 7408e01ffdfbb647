"""Understanding from text: scam cues win, colloquial words map to the knowledge base's, off-topic is refused,
and the held-out evaluation prints honest figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kiosk.i18n import answer_text
from voice.evaluation import intents_eval as ie
from voice.intents import IntentMatcher, KnowledgeBase


@pytest.fixture(scope="module")
def matcher():
    return IntentMatcher(answer_text)


@pytest.mark.parametrize(("language", "text"), [
    ("en", "Do I need to pay an insurance fee before the money arrives?"),
    ("en", "what fees do i pay first, before the loan"),  # a fee word that alone means interest_fees
    ("en", "they want a deposit to release the money"),
    ("zh", "放款前要不要先交手续费"),
    ("zh", "利息和费用要先付吗"),
    ("zh", "先交押金才能借吗"),
])
def test_a_question_about_paying_before_the_loan_always_gets_the_scam_warning(matcher, language, text):
    match = matcher.match(text, language)
    assert match.intent == "scam_upfront_fee", (text, match.intent)
    assert match.text == answer_text("scam_upfront_fee", language)


def test_every_scam_intent_has_cues_in_both_languages():
    scams = [i for i in KnowledgeBase().intents if i.is_scam]
    assert len(scams) == 3 and all(len(i.cues.get(lang, ())) >= 2 for i in scams for lang in ("en", "zh"))


@pytest.mark.parametrize(("language", "text", "intent"), [
    ("zh", "我要跟老板说话", "talk_to_person"),  # 老板: the everyday word for the shopkeeper
    ("en", "get me the boss", "talk_to_person"),
    ("zh", "户口本要带吗", "documents"),
])
def test_everyday_words_reach_the_intent(matcher, language, text, intent):
    assert matcher.match(text, language).intent == intent


@pytest.mark.parametrize(("language", "text"), [
    ("en", "How old is the Brooklyn Bridge?"), ("en", "Do you sell phone chargers here?"),
    ("zh", "一袋大米多少钱"), ("zh", "明天下不下雨"),
])
def test_off_topic_gets_the_not_understood_answer_with_what_to_ask(matcher, language, text):
    match = matcher.match(text, language)
    assert match.intent is None and match.text == answer_text(None, language)
    assert ("shopkeeper" if language == "en" else "店主") in match.text


@pytest.mark.parametrize(("language", "text"), [
    ("en", "how much is a tin of paint"),  # "how much" as in the loan questions, but about paint
    ("en", "what is the population of shanghai"),  # shaped like "what is the apr"
    ("en", "what does a haircut cost in town"),  # one word of the knowledge base, the rest foreign
    ("zh", "一斤白菜多少钱"), ("zh", "照相馆星期天开门吗"),
])
def test_a_question_mostly_in_words_the_knowledge_base_never_uses_is_off_topic(matcher, language, text):
    assert matcher.match(text, language).intent is None


@pytest.mark.parametrize(("language", "text", "intent"), [
    ("zh", "能给我带多少", "borrow_limit"),  # 贷 heard as its homophone 带
    ("zh", "验证马能告诉他吗", "scam_verification_code"),  # 码 heard as 马
    ("zh", "光有身份正行不行", "documents"),  # 证 heard as 正
    ("en", "the bank officers keep calling me", "scam_fake_official"),  # by stem: officers, calling
    ("en", "are there any charges", "interest_fees"),
])
def test_a_keyword_or_cue_heard_as_a_homophone_or_another_form_still_counts(matcher, language, text, intent):
    assert matcher.match(text, language).intent == intent


def test_synonyms_are_replaced_once_and_a_table_that_would_replace_its_own_output_is_refused(tmp_path):
    kb = KnowledgeBase()
    assert kb.canonical("someone wants my text message code", "en") == "someone wants my sms code"
    assert kb.canonical("我要找老板娘", "zh") == "我要找店主"  # the longest everyday word first
    bad = tmp_path / "faq.toml"
    bad.write_text('[synonyms.en]\n"text" = "text message"\n[function_words]\nen = ["a"]\n'
                   '[intent.x]\nphrases.en = ["hello"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="replaced again"):
        KnowledgeBase(bad)


def test_the_dev_and_test_phrasings_are_apart_from_each_other_and_from_the_knowledge_base():
    kb_phrases = {p for i in KnowledgeBase().intents for lang in ("en", "zh") for p in i.phrases.get(lang, ())}
    dev = {t for _, _, t in ie.load_questions(ie.SETS["dev"])}
    test = {t for _, _, t in ie.load_questions(ie.SETS["test"])}
    assert len(test) >= 90 and not dev & test and not {t.lower() for t in test} & kb_phrases


def test_eval_intents_and_ask_text_on_the_command_line():
    out = subprocess.run([sys.executable, "-m", "kiosk.cli", "eval", "intents", "--set", "test"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert "test (phrasings_test.toml)" in out and out.count("accuracy") == 2 and "scam recall" in out
    answer = subprocess.run([sys.executable, "-m", "kiosk.cli", "ask", "--text", "验证码能告诉别人吗", "--lang", "zh",
                             "--json"], capture_output=True, text=True, timeout=120, check=True).stdout
    assert json.loads(answer)["intent"] == "scam_verification_code"
    refused = subprocess.run([sys.executable, "-m", "kiosk.cli", "ask", "--text", "hello"], capture_output=True,
                             text=True, timeout=120, check=False)
    assert refused.returncode == 2 and "--lang" in refused.stderr


def test_an_english_question_shaped_like_a_phrasing_but_sharing_none_of_its_words_is_off_topic(matcher):
    assert matcher.match("what time does the bank close", "en").intent is None  # "time", "bank" are known words
    assert matcher.match("what is the interest rate", "en").intent == "interest_fees"
