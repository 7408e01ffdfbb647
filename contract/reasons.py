"""Why an estimate is what it is: the stable codes the service sends in ``EstimateResponse.reason_codes``. The
service sends codes only; the kiosk words each one in the customer's language (its catalogues' [reason] table),
so there is one home for the words and a test that every code has them."""

from __future__ import annotations

VERIFICATION_FAILED = "verification_failed"
THIN_FILE = "thin_file"
INCOME_TOO_LOW = "income_too_low"
INCOME_CAP = "income_cap"
AMOUNT_TOO_SMALL = "amount_too_small"
HELD_FOR_REVIEW = "held_for_review"
POLICY = (VERIFICATION_FAILED, THIN_FILE, INCOME_TOO_LOW, INCOME_CAP, AMOUNT_TOO_SMALL, HELD_FOR_REVIEW)

# The scorecard's risk factors, sent as their own codes when they lower an estimate (cloud.credit.bureau.FEATURES).
RISK_FACTORS = ("latest_status", "max_delay", "months_late", "utilisation", "payment_ratio", "credit_line", "age")

ALL = POLICY + RISK_FACTORS
