"""Challenge prompts in every customer language, from ``prompts.toml`` (data, not code)."""

from __future__ import annotations

import secrets
import tomllib
from functools import cache
from pathlib import Path

PROMPTS_FILE = Path(__file__).with_name("prompts.toml")


@cache
def _prompts() -> dict[str, dict[str, str]]:
    with PROMPTS_FILE.open("rb") as fh:
        return tomllib.load(fh)["challenge"]


def challenge_names() -> tuple[str, ...]:
    return tuple(_prompts())


def challenge_prompt(challenge: str, language: str) -> str:
    texts = _prompts()[challenge]
    return texts.get(language) or texts["en"]


def random_challenges(count: int) -> tuple[str, ...]:
    """A fresh, unpredictable challenge order per attempt (a replayed video cannot know it)."""
    return tuple(secrets.SystemRandom().sample(challenge_names(), count))
