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
    """The service itself answered with one of its documented errors (contract.errors). ``final``: the same
    request will always be refused (an application goes to staff); otherwise it is worth sending again later
    (rate limited, an unknown device until re-provisioned, a signature spoilt in transit)."""

    code = "rejected"

    def __init__(self, status: int, error_code: str, message: str, final: bool = True,
                 server_time: float | None = None) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status, self.error_code, self.final, self.server_time = status, error_code, final, server_time


class CloudBadResponse(CloudError):
    """The answer was unusable: not JSON, wrong shape or types, too big, or dripped too slowly."""

    code = "bad_response"


class InsecureCloudUrl(CloudError):
    """A plain-http service URL that is not this machine: the scores, the application and the device's signed
    requests would cross the network readable and alterable."""

    code = "insecure_url"
