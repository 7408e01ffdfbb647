"""Typed cloud errors; the journey turns each into a clear screen (retry, queue, or the shopkeeper)."""

from __future__ import annotations


class CloudError(Exception):
    code = "cloud_error"


class CloudUnavailable(CloudError):
    """No usable answer after the retries: network down, timeouts, 5xx. Worth trying again later."""

    code = "network_down"


class NotRegistered(CloudUnavailable):
    """This kiosk has no device identity yet: nothing can be signed until it is provisioned. Queued work
    stays queued."""

    code = "not_registered"


class CloudRejected(CloudError):
    """The service understood and refused (4xx): retrying the same request will not help."""

    code = "rejected"

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status, self.error_code = status, error_code


class CloudBadResponse(CloudError):
    """The answer was unusable: not JSON, wrong shape or types, too big, or dripped too slowly."""

    code = "bad_response"
