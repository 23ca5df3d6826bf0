"""A registry of named extensions that fills itself from one package (the metrics, the losses, the kinds of
source): each module of the package registers its entries when imported, and the first listing imports
every module there once, so adding an entry is adding its file. tasks/caching.py counts every module of
such a package as reached by the registry, so a step's cache key covers them all.
"""

import importlib
import pkgutil
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, package: str, name_of: Callable[[T], str], order_of: Callable[[T], int]):
        self.package, self.name_of, self.order_of = package, name_of, order_of
        self.entries: dict[str, T] = {}
        self._discovered = False

    def register(self, entry: T) -> T:
        """Add (or replace) an entry; every listing includes it from then on."""
        self.entries[self.name_of(entry)] = entry
        return entry

    def all(self) -> list[T]:
        """Every entry by its order (then name), after importing each module of the package once."""
        if not self._discovered:
            self._discovered = True
            for info in pkgutil.iter_modules(importlib.import_module(self.package).__path__):
                importlib.import_module(f"{self.package}.{info.name}")
        return sorted(self.entries.values(), key=lambda entry: (self.order_of(entry), self.name_of(entry)))

    def get(self, name: str) -> T | None:
        self.all()
        return self.entries.get(name)
