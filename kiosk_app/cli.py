"""The `kiosk` command: the core's commands (kiosk.cli) plus `run`, which needs the touchscreen app."""

from __future__ import annotations

import argparse
import sys

from kiosk import cli as core


def cmd_run(args: argparse.Namespace) -> int:
    config = core.configured(args)
    if not args.demo:  # the product: no demo world (its scoring service and actor) imported
        from ui.launch import run_kiosk

        return run_kiosk(config, fullscreen=not args.windowed)
    from kiosk_app.demo import DemoError, demo_world, run_demo

    try:
        if args.headless:
            return run_demo(config, language=args.lang)
        from ui.launch import build_app

        # The touchscreen app in a window over the demo world; its stages load behind the attract screen.
        with demo_world(config, defer_stages=True) as world:
            build_app(world.config, world.runner, fullscreen=False, prepare=world.prepare).run()
        return core.EXIT_OK
    except DemoError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return core.EXIT_FAIL


def add_run(sub) -> None:
    p = sub.add_parser("run", help="run the touchscreen kiosk (--demo: with replay devices and a local cloud)")
    p.add_argument("--demo", action="store_true", help="synthetic customer, replay devices, local scoring service")
    p.add_argument("--headless", action="store_true", help="with --demo: no screen, a scripted customer, console log")
    p.add_argument("--windowed", action="store_true", help="not fullscreen (development)")
    p.add_argument("--lang", choices=["zh", "en"], default="en", help="headless demo customer's language")
    p.set_defaults(func=cmd_run)


def main(argv: list[str] | None = None) -> int:
    return core.main(argv, extra_commands=add_run)


if __name__ == "__main__":
    sys.exit(main())
