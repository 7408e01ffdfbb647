"""One registry per kind of plugin (face detectors, face recognizers, speech engines): the names that settings
types, config validation and CLI choices are derived from, and the code each name loads. Adding a plugin is one
row in its registry, as in Frigate's detector plugins; the models a plugin runs and their licences are in the
manifest (edge_models/manifest.toml)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


class UnknownPlugin(ValueError):
    pass


@dataclass(frozen=True)
class Plugin:
    target: str  # "package.module:Name": imported only when chosen, so a heavy runtime loads only if it is used
    summary: str
    options: Mapping[str, Any] = field(default_factory=dict)  # the fixed arguments of this choice
    languages: tuple[str, ...] = ()  # speech engines: the languages it understands

    def load(self) -> Any:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


class Registry(Mapping[str, Plugin]):
    def __init__(self, kind: str, plugins: dict[str, Plugin]) -> None:
        self.kind, self._plugins = kind, dict(plugins)

    def __getitem__(self, name: str) -> Plugin:
        try:
            return self._plugins[name]
        except KeyError:
            raise UnknownPlugin(f"unknown {self.kind} {name!r}; available: {', '.join(self._plugins)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._plugins)

    def __len__(self) -> int:
        return len(self._plugins)

    def names(self, where: Callable[[Plugin], bool] = lambda _p: True) -> tuple[str, ...]:
        return tuple(n for n, p in self._plugins.items() if where(p))

    def choice(self, where: Callable[[Plugin], bool] = lambda _p: True) -> Any:
        """The settings type: a Literal of the names, so a typo in a config file is refused with the choices."""
        return Literal[self.names(where)]

    def describe(self) -> str:
        """For ``--help``: each name and what it is."""
        return "; ".join(f"{n}: {p.summary}" for n, p in self._plugins.items())
