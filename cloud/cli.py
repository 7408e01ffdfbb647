"""``kiosk-cloud``: run the reference scoring service, or print its OpenAPI contract."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

OPENAPI_FILE = "cloud/openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk-cloud", description="Reference credit scoring service.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--db", help="database URL (default: SQLite under var/cloud/)")
    # Tokens come from files (one per line) or the environment, never the command line (``ps`` shows it).
    serve.add_argument("--token-file", type=Path, help="provisioning tokens, one per line (or CLOUD_PROVISIONING_TOKENS)")
    serve.add_argument("--support-token-file", type=Path, help="support staff tokens, one per line (or CLOUD_SUPPORT_TOKENS)")
    sub.add_parser("openapi", help="print the OpenAPI contract (JSON)")
    args = parser.parse_args(argv)

    import uvicorn

    from cloud.app import create_app
    from cloud.settings import ServiceSettings

    overrides = {}
    if getattr(args, "db", None):
        overrides["database_url"] = args.db
    for option, setting in (("token_file", "provisioning_tokens"), ("support_token_file", "support_tokens")):
        path = getattr(args, option, None)
        if path is not None:
            try:
                overrides[setting] = [t.strip() for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
            except (OSError, UnicodeDecodeError) as exc:
                print(f"kiosk-cloud: cannot read {path}: {exc}", file=sys.stderr)
                return 2
    settings = ServiceSettings(**overrides)
    if args.command == "openapi":  # the contract needs no data: a throwaway in-memory database
        app = create_app(settings.model_copy(update={"database_url": "sqlite://"}))
        print(json.dumps(app.openapi(), indent=1, sort_keys=True))
        return 0
    if not settings.provisioning_tokens:
        print("kiosk-cloud: no provisioning token set (--token-file or CLOUD_PROVISIONING_TOKENS)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO)
    from cloud.db import SchemaOutdated

    try:
        app = create_app(settings)
    except SchemaOutdated as exc:
        print(f"kiosk-cloud: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
