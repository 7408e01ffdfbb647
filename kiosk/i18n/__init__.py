"""Customer-facing texts, one catalogue per language (TOML files, not code), for the screens and for what the kiosk
says; number and currency formatting."""

from __future__ import annotations

import hashlib
import json
import tomllib
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).parent


@cache
def catalog(language: str) -> dict:
    with (FOLDER / f"{language}.toml").open("rb") as fh:
        return tomllib.load(fh)


def tr(key: str, language: str, **params) -> str:
    """``tr("screen.limit", "zh", limit="¥5,000")``; a missing key falls back to English, then to the key."""
    for lang in (language, "en"):
        node = catalog(lang)
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            return node.format(**params) if params else node
    return key


def consent_version(language: str) -> str:
    """The version of the consent text in ``language``: a hash of its whole [consent] table, so a consent record
    names exactly the words the customer saw and heard."""
    table = catalog(language)["consent"]
    digest = hashlib.sha256(json.dumps(table, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return f"consent-{language}-{digest[:12]}"


def answer_text(intent: str | None, language: str, values: dict[str, str] | None = None) -> str:
    """The answer to a customer's question (``intent`` None: not understood), quoting live session values
    ({limit}, {apr}) when known, else the answer's generic wording."""
    if intent is None:
        return tr("answer.not_understood", language)
    template = tr(f"answer.{intent}.text", language)
    try:
        return template.format(**{k: v for k, v in (values or {}).items() if v})
    except KeyError:  # a value the answer needs is not known yet in this session
        return tr(f"answer.{intent}.generic", language)


def money(amount: float, language: str) -> str:
    return f"¥{amount:,.2f}" if language == "zh" else f"CNY {amount:,.2f}"


def percent(rate: float) -> str:
    return f"{100 * rate:.2f}%"


def keys(language: str) -> set[str]:
    def walk(node: dict, prefix: str = "") -> set[str]:
        out = set()
        for k, v in node.items():
            out |= walk(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
        return out

    return walk(catalog(language))


# Liveness verdicts are not explained one by one (that would coach an attacker which check to beat): an honest
# customer gets the same plain instruction for each.
NEUTRAL_REASONS = frozenset({"presentation_attack", "challenge_failed", "static_frames"})


def hint_key(reason: str) -> str:
    """The catalogue key for a stage's reason code ("challenge_failed:timeout" -> "hint.follow_instructions")."""
    code = reason.split(":", 1)[0]
    return "hint.follow_instructions" if code in NEUTRAL_REASONS else f"hint.{code}"


def retry_words(message: str | None, reasons, language: str) -> str:
    """A capture asked again: why (face.<reason>: its own words) and what to do (the hints), "" when not a retry."""
    hints = reasons_text(reasons, language)
    if message == "id.retry":
        return tr("hint.id_retry", language, reasons=hints or tr("hint.face_retry", language))
    if not (message or "").startswith("face."):
        return ""
    why = tr(message, language)
    why = tr("hint.face_retry", language) if why == message else why
    return f"{why}{'' if language == 'zh' else ' '}{hints}" if hints else why


def reasons_text(reasons, language: str) -> str:
    """Reason codes as the hints a customer can act on ("hold the card flat, avoid reflections"), each once."""
    return ", ".join(tr(key, language) for key in dict.fromkeys(hint_key(r) for r in reasons))
