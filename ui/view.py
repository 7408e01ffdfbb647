"""What the screen shows, as plain data copied out of the journey (no biometrics, no live references)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.journey import effects as fx
from kiosk.journey.machine import Journey, Transition
from kiosk.journey.session import OfferSummary


@dataclass(frozen=True)
class ViewState:
    state: str
    language: str
    message: str | None = None  # translation key of the latest ShowScreen
    params: dict = field(default_factory=dict)
    error_code: str | None = None
    handoff_code: str | None = None
    decision: str | None = None
    limit: float | None = None
    reason_codes: tuple[str, ...] = ()
    requested: float | None = None
    offers: tuple[OfferSummary, ...] = ()
    reference: str | None = None
    queued: bool = False
    answer: str | None = None
    prompt: str | None = None
    listening: bool = False  # a question is being recorded: the ask button stops it
    idle_deadline: float | None = None  # monotonic time the session ends unless touched (the warning shows)
    ready: bool = True  # the kiosk's stages are loaded: Start is possible
    not_ready: str | None = None  # loading failed: out of service (the detail is for the staff's log)


def snapshot(journey: Journey, transition: Transition | None, default_language: str,
             answer: str | None = None, prompt: str | None = None, listening: bool = False) -> ViewState:
    d = journey.data
    show = next((e for e in reversed(transition.effects) if isinstance(e, fx.ShowScreen)), None) if transition else None
    return ViewState(
        state=journey.state.value,
        language=d.language or default_language,
        message=show.message if show else None,
        params=dict(show.params) if show else {},
        error_code=d.error.code if d.error else None,
        handoff_code=d.handoff.code if d.handoff else None,
        decision=d.estimate.decision if d.estimate else None,
        limit=d.estimate.limit if d.estimate else None,
        reason_codes=d.estimate.reason_codes if d.estimate else (),
        requested=d.details.requested_amount if d.details else None,
        offers=tuple(d.offers),
        reference=d.application_ref,
        queued=d.application_queued,
        answer=answer,
        prompt=prompt,
        listening=listening,
        idle_deadline=journey.warning_until,
    )
