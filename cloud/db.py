"""Service storage through SQLAlchemy Core: SQLite (WAL) by default, PostgreSQL via the database URL.

Everything a request needs to be checked twice (nonces, idempotency keys) lives in the database, not in
process memory, so any number of service instances can sit behind a load balancer.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

devices = Table(
    "devices", metadata,
    Column("device_id", String(64), primary_key=True),
    Column("public_key", String(64), nullable=False),
    # Short and unique across the fleet: the device part of every application reference (contract.reference).
    Column("device_number", Integer, nullable=False, unique=True),
    Column("shop", String(120), nullable=False),
    Column("registered_at", Float, nullable=False),
    # Which provisioning token registered it (a digest prefix, not the token): a leaked token is rate limited.
    Column("token_id", String(16), nullable=False, default="", index=True),
)

nonces = Table(
    "nonces", metadata,
    Column("device_id", String(64), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("seen_at", Float, nullable=False, index=True),
    UniqueConstraint("device_id", "nonce", name="uq_nonce"),
)

estimates = Table(
    "estimates", metadata,
    Column("estimate_id", String(32), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("id_hash", String(64), nullable=False, index=True),  # HMAC of the ID number (cloud.id_hash)
    Column("decision", String(16), nullable=False),
    Column("grade", String(2), nullable=False),
    Column("pd", Float),
    Column("limit_amount", Float, nullable=False),
    Column("created_at", Float, nullable=False, index=True),
    # The offers made with it, as priced (JSON list of contract.schemas.Offer): what an application may take.
    Column("offers", Text, nullable=False, default="[]"),
)

# Fraud and velocity signals, kept for support to review (never a silent decline).
flags = Table(
    "flags", metadata,
    Column("flag_id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),  # e.g. "same_id_other_device"
    Column("device_id", String(64), nullable=False),
    Column("id_hash", String(64)),
    Column("estimate_id", String(32)),
    Column("detail", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False, index=True),
)

applications = Table(
    "applications", metadata,
    Column("application_id", String(32), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("request_digest", String(64), nullable=False),
    Column("reference", String(24), nullable=False, unique=True),  # what the customer was told
    Column("estimate_id", String(32), nullable=False),
    Column("offer_id", String(64), nullable=False),
    Column("amount", Float, nullable=False),
    Column("term_months", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("device_id", "idempotency_key", name="uq_idempotency"),
    # One live application per estimate: a second one (another key, another offer) is refused, so the amounts
    # applied for can never add up past the limit.
    UniqueConstraint("estimate_id", name="uq_application_estimate"),
)


# The head of each device's audit chain at its check-ins: what it can no longer silently rewrite or cut.
audit_anchors = Table(
    "audit_anchors", metadata,
    Column("device_id", String(64), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("head", String(64), nullable=False),
    Column("anchored_at", Float, nullable=False),
)

# Wrong provisioning or support tokens, per source, for the lockout (cloud.guards.Lockout).
auth_failures = Table(
    "auth_failures", metadata,
    Column("kind", String(16), nullable=False),
    Column("source", String(64), nullable=False),
    Column("at", Float, nullable=False, index=True),
)


bundle_requests = Table(
    "bundle_requests", metadata,
    Column("request_id", String(32), primary_key=True),
    Column("device_id", String(64), nullable=False, index=True),
    Column("since", Float, nullable=False),
    Column("requested_at", Float, nullable=False),
    Column("status", String(16), nullable=False),  # "pending" | "uploaded"
    Column("uploaded_at", Float),
    Column("data", LargeBinary),
)


def connect(url: str) -> Engine:
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()
    metadata.create_all(engine)
    _check_schema(engine)
    return engine


class SchemaOutdated(RuntimeError):
    """The database was made by an older version of the service: refuse to start rather than fail every request."""


def _check_schema(engine: Engine) -> None:
    found = inspect(engine)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in found.get_columns(table.name)}
        missing = sorted(c.name for c in table.columns if c.name not in have)
        if missing:
            raise SchemaOutdated(f"database table {table.name} lacks columns {', '.join(missing)}: it was created by "
                                 "an older version of the service; migrate it (or start from a new database)")
