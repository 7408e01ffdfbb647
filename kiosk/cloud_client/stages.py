"""Cloud stages for the runner: credit estimate + matched offers, and application submission via the outbox."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from contract.schemas import (
    Applicant,
    ApplicationRequest,
    DocumentEvidence,
    EstimateRequest,
    FaceEvidence,
    IdentityEvidence,
    LivenessEvidence,
)
from kiosk.cloud_client.client import CloudClient
from kiosk.cloud_client.errors import CloudBadResponse, CloudError, CloudRejected
from kiosk.cloud_client.outbox import Outbox, OutboxItem
from kiosk.journey import events as ev
from kiosk.journey.session import CreditEstimate, SessionData
from kiosk.offers import check_offers

log = logging.getLogger("kiosk.cloud")


@dataclass(frozen=True)
class VerificationSetup:
    """What this kiosk verifies with, reported with every estimate so the service can judge the scores."""

    calibration: str
    face_models: dict[str, str]  # manifest name -> sha256
    liveness_models: dict[str, str]


def identity_evidence(session: SessionData, setup: VerificationSetup) -> IdentityEvidence | None:
    """The evidence of this session's verification: the document read, the scores measured. None when the
    session has not verified anyone (nothing is ever scored without it)."""
    doc, match, live = session.document, session.match, session.liveness
    if doc is None or match is None or live is None or live.passive_score is None:
        return None
    return IdentityEvidence(
        document=DocumentEvidence(source=doc.source, id_number=doc.id_number, checks=list(doc.checks),
                                  chip_photo=doc.photo_status),
        face=FaceEvidence(calibration=setup.calibration, models=setup.face_models, score=match.score,
                          chip_score=match.chip_score),
        liveness=LivenessEvidence(models=setup.liveness_models, passive_score=live.passive_score,
                                  challenges=live.challenges, challenges_passed=live.challenges_passed),
    )


class CloudScoring:
    def __init__(self, client: CloudClient, setup: VerificationSetup,
                 on_answer: Callable[[], None] = lambda: None) -> None:
        self.client = client
        self.setup = setup
        self.on_answer = on_answer  # the service answered: queued applications can go now

    def estimate(self, session: SessionData, attempt: int) -> ev.ScoreReceived | ev.ScoringFailed:
        d = session.details
        evidence = identity_evidence(session, self.setup)
        if d is None or evidence is None:
            return ev.ScoringFailed(code="not_verified", final=True)
        request = EstimateRequest(
            applicant=Applicant(monthly_income=d.monthly_income, requested_amount=d.requested_amount,
                                term_months=d.term_months),
            identity=evidence,
        )
        try:
            result = self.client.estimate(request)
        except CloudError as exc:
            log.warning("scoring failed", extra={"code": exc.code, "detail": str(exc)[:200]})
            # A final refusal is the service's answer about this request: asking again gives the same answer.
            # The others (rate limited, a re-provisioned device) may pass on a retry.
            if isinstance(exc, CloudRejected) and exc.final:
                return ev.ScoringFailed(code=exc.error_code, final=True)
            return ev.ScoringFailed(code=exc.code)
        self.on_answer()
        checked = check_offers([] if result.decision == "declined" else result.offers, result.limit)
        # Offers withheld for figures that do not add up: the customer is told why there is less to choose from.
        codes = (*result.reason_codes, *(("offers_withheld",) if checked.withheld else ()))
        estimate = CreditEstimate(result.limit, result.currency, result.grade, result.estimate_id, result.decision,
                                  codes)
        return ev.ScoreReceived(estimate=estimate, offers=checked.shown)


class CloudApplications:
    """Stores the application in the outbox first (durable, with the customer's reference), then tries to send it
    right away; what is not sent now is sent by the kiosk's drainer (``OutboxDrainer``)."""

    def __init__(self, client: CloudClient, outbox: Outbox, on_delivered: Callable[[], None] = lambda: None) -> None:
        self.client = client
        self.outbox = outbox
        self.on_delivered = on_delivered  # the network is back: the drainer should try the rest now

    def send(self, item: OutboxItem) -> dict:
        request = ApplicationRequest(**item.payload, reference=item.reference)
        return self.client.submit_application(request, item.idempotency_key).model_dump()

    def submit(
        self, session: SessionData, offer_id: str, idempotency_key: str
    ) -> ev.ApplicationRecorded | ev.ApplicationFailed:
        offer = next(o for o in session.offers if o.offer_id == offer_id)
        payload = {"estimate_id": session.estimate.estimate_id if session.estimate else "",
                   "offer_id": offer_id, "amount": offer.amount, "term_months": offer.term_months}
        try:
            item = self.outbox.enqueue("application", idempotency_key, payload)
        except (sqlite3.Error, OSError) as exc:  # disk full, read-only: nothing was promised, nothing is on disk
            log.error("application could not be stored", extra={"detail": str(exc)[:200]})
            return ev.ApplicationFailed(code="not_stored")
        try:
            self.outbox.drain(self.send, only=item.id)
        except CloudBadResponse as exc:
            log.warning("application answer unusable; kept in the outbox", extra={"detail": str(exc)[:200]})
        except (sqlite3.Error, OSError) as exc:  # stored, but its status could not be updated: it stays pending
            log.error("outbox update failed", extra={"detail": str(exc)[:200]})
        # The screen says exactly what the database holds: "sent" only for a row marked sent.
        status = self.outbox.item(item.id).status
        if status == "rejected":
            return ev.ApplicationFailed(code="rejected")
        if status == "sent":
            self.on_delivered()
        return ev.ApplicationRecorded(reference=item.reference, queued=status != "sent")

    def withdraw(self, idempotency_key: str) -> ev.ApplicationWithdrawn:
        try:
            outcome = "withdrawn" if self.outbox.withdraw(idempotency_key) else "already_sent"
        except (sqlite3.Error, OSError) as exc:  # not marked withdrawn: it may still go, so a person takes over
            log.error("withdrawal could not be stored", extra={"detail": str(exc)[:200]})
            outcome = "failed"
        log.info("application withdrawal", extra={"outcome": outcome})
        return ev.ApplicationWithdrawn(outcome=outcome)
