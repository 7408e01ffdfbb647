"""The wire contract between the kiosk and the scoring service: request/response bodies, request signing and
the resident-ID number rules both sides apply. It imports neither side, and both sides import it."""
