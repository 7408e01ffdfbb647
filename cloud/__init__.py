"""The reference cloud scoring service the kiosk talks to.

A lender-side HTTP service: device registration, signed and replay-protected credit-estimate requests,
the loan-offer catalog and idempotent applications, backed by a credit model trained on public data.
The kiosk never sends images or embeddings here, only verification scores and declared details.
"""
