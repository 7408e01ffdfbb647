"""Capture prompts (liveness challenges, ID-card steps) in every customer language, from the text catalogues
(``[prompt.challenge]``, ``[prompt.card]`` in kiosk/i18n)."""

from __future__ import annotations

import secrets

from kiosk.i18n import catalog, tr


def challenge_names() -> tuple[str, ...]:
    return tuple(catalog("en")["prompt"]["challenge"])


def prompt_text(name: str, language: str) -> str:
    """The text of a challenge or a card step (names are unique across both tables)."""
    table = "challenge" if name in catalog("en")["prompt"]["challenge"] else "card"
    return tr(f"prompt.{table}.{name}", language)


def random_challenges(count: int) -> tuple[str, ...]:
    """A fresh, unpredictable challenge order per attempt (a replayed video cannot know it)."""
    return tuple(secrets.SystemRandom().sample(challenge_names(), count))
