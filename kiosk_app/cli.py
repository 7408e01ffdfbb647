"""The `kiosk` command: the core's commands (kiosk.cli) plus `run`, which needs the touchscreen app."""

from __future__ import annotations

import argparse
import sys

from kiosk import cli as core


def cmd_run(args: argparse.Namespace) -> int:
    from kiosk_app.demo import DemoError, run_demo

    config = core.configured(args)
    try:
        if args.demo and args.headless:
            return run_demo(config, language=args.lang)
        from ui.launch import build_app, run_kiosk

        if not args.demo:
            return run_kiosk(config, fullscreen=not args.windowed)
        from kiosk_app.demo import demo_world

        with demo_world(config) as world:  # the touchscreen app in a window, over the demo world
            build_app(world.config, world.runner, fullscreen=False).run()
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
