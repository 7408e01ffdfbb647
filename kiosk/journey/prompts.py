"""Capture prompts (liveness challenges, ID-card steps) in every customer language, from ``prompts.toml``."""

from __future__ import annotations

import secrets
import tomllib
from functools import cache
from pathlib import Path

PROMPTS_FILE = Path(__file__).with_name("prompts.toml")


@cache
def _tables() -> dict[str, dict[str, dict[str, str]]]:
    with PROMPTS_FILE.open("rb") as fh:
        return tomllib.load(fh)


def challenge_names() -> tuple[str, ...]:
    return tuple(_tables()["challenge"])


def prompt_text(name: str, language: str) -> str:
    """The text of a challenge or a card step (names are unique across both tables)."""
    tables = _tables()
    texts = tables["challenge"].get(name) or tables["card"][name]
    return texts.get(language) or texts["en"]


def random_challenges(count: int) -> tuple[str, ...]:
    """A fresh, unpredictable challenge order per attempt (a replayed video cannot know it)."""
    return tuple(secrets.SystemRandom().sample(challenge_names(), count))
