"""Cloud stages for the runner: credit estimate + matched offers, and application submission via the outbox."""

from __future__ import annotations

import logging

from cloud.schemas import Applicant, ApplicationRequest, EstimateRequest, OffersResponse, VerificationEvidence
from kiosk.cloud_client.client import CloudClient
from kiosk.cloud_client.errors import CloudBadResponse, CloudError
from kiosk.cloud_client.outbox import Outbox, OutboxItem
from kiosk.journey import events as ev
from kiosk.journey.session import CreditEstimate, SessionData
from kiosk.offers import match_offers

log = logging.getLogger("kiosk.cloud")


class CloudScoring:
    def __init__(self, client: CloudClient, models: dict[str, str] | None = None) -> None:
        self.client = client
        self.models = models or {}
        self._catalog: OffersResponse | None = None  # cached: the catalog changes rarely

    def evidence(self, session: SessionData) -> VerificationEvidence:
        m = session.match
        return VerificationEvidence(
            face_matched=bool(m and m.matched), match_score=m.score if m else -1.0,
            match_threshold=m.threshold if m else 1.0,
            live=session.liveness_score is not None, liveness_score=session.liveness_score, models=self.models,
        )

    def estimate(self, session: SessionData, attempt: int) -> ev.ScoreReceived | ev.ScoringFailed:
        d = session.details
        if d is None:
            return ev.ScoringFailed(code="no_details")
        request = EstimateRequest(
            applicant=Applicant(id_number=d.id_number, monthly_income=d.monthly_income,
                                requested_amount=d.requested_amount, term_months=d.term_months),
            verification=self.evidence(session),
        )
        try:
            result = self.client.estimate(request)
            if self._catalog is None:
                self._catalog = self.client.offers()
        except CloudError as exc:
            log.warning("scoring failed", extra={"code": exc.code, "detail": str(exc)[:200]})
            return ev.ScoringFailed(code=exc.code)
        estimate = CreditEstimate(result.limit, result.currency, result.grade, tuple(result.reasons),
                                  result.estimate_id, result.decision, tuple(result.reason_codes))
        quotes = [] if result.decision == "declined" else match_offers(
            self._catalog.products, result.grade, result.limit, d.requested_amount, d.term_months)
        return ev.ScoreReceived(estimate=estimate, offers=tuple(q.summary() for q in quotes))


class CloudApplications:
    """Stores the application in the outbox first (durable), then tries to send it right away."""

    def __init__(self, client: CloudClient, outbox: Outbox) -> None:
        self.client = client
        self.outbox = outbox

    def send(self, item: OutboxItem) -> dict:
        request = ApplicationRequest(**item.payload)
        return self.client.submit_application(request, item.idempotency_key).model_dump()

    def submit(
        self, session: SessionData, offer_id: str, idempotency_key: str
    ) -> ev.ApplicationRecorded | ev.ApplicationFailed:
        offer = next(o for o in session.offers if o.offer_id == offer_id)
        payload = {"estimate_id": session.estimate.estimate_id if session.estimate else "",
                   "offer_id": offer_id.split(":")[0], "amount": offer.amount, "term_months": offer.term_months}
        item_id = self.outbox.enqueue("application", idempotency_key, payload)
        try:
            self.outbox.drain(self.send, only=item_id)
        except CloudBadResponse as exc:
            log.warning("application answer unusable; kept in the outbox", extra={"detail": str(exc)[:200]})
        if any(i.id == item_id for i in self.outbox.items("rejected")):
            return ev.ApplicationFailed(code="rejected")
        result = self.outbox.result(item_id)
        if result is not None:
            return ev.ApplicationRecorded(reference=result["application_id"], queued=False)
        return ev.ApplicationRecorded(reference=f"Q{item_id:06d}", queued=True)

