"""The rooms and their one-way arrows, read from every import in the source (a small test over ``ast``).

Bottom: ``contract`` (the wire contract and the shared document rules), ``hardware``, ``edge_models``.
Then ``vision`` and ``voice`` (plain settings of their own, never the kiosk's config); ``kiosk`` (journey,
runner, cloud client, CLI core) on them; ``ui`` on ``kiosk``; ``kiosk_app`` (the `kiosk` command with `run`, the
demo world) on top. The service, ``cloud``, stands beside the kiosk and shares only ``contract``.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ALLOWED: dict[str, set[str]] = {
    "contract": set(),
    "hardware": set(),
    "edge_models": set(),
    "vision": {"hardware", "edge_models", "contract"},
    "voice": {"hardware", "edge_models"},
    "kiosk": {"vision", "voice", "hardware", "edge_models", "contract"},
    "ui": {"kiosk", "vision", "voice", "hardware", "edge_models", "contract"},
    "kiosk_app": {"ui", "kiosk", "vision", "voice", "hardware", "edge_models", "contract", "cloud"},
    "cloud": {"contract"},
}


def wrong_arrows(root: Path) -> list[str]:
    """Every import of one room from another it may not use: "file: room -> room (module)"."""
    out = []
    for room, may in ALLOWED.items():
        for path in sorted((root / room).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in ALLOWED and top != room and top not in may:
                        out.append(f"{path.relative_to(root)}: {room} -> {top} ({module})")
    return out


def test_every_import_follows_the_arrows():
    assert wrong_arrows(REPO) == []


def test_every_top_level_package_is_a_room():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests"}
    assert packages == set(ALLOWED)


def test_a_wrong_arrow_is_caught(tmp_path):
    """The check itself can fail: vision importing the kiosk's config (today's old cycle), even lazily."""
    for room in ALLOWED:
        (tmp_path / room).mkdir()
    (tmp_path / "vision" / "verifier.py").write_text("def f():\n    from kiosk.config import KioskConfig\n")
    (tmp_path / "cloud" / "scorecard.py").write_text("import vision.evaluation.metrics\n")
    assert wrong_arrows(tmp_path) == [
        "vision/verifier.py: vision -> kiosk (kiosk.config)",
        "cloud/scorecard.py: cloud -> vision (vision.evaluation.metrics)",
    ]
