"""The kiosk's side of the cloud contract: device identity, signed requests, the durable outbox."""
