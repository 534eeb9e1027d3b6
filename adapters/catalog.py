"""Loads and validates every provider spec in adapters/catalog/*.json (at start-up and in a test)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from adapters.spec import ProviderSpec
from shared.errors import NotFound

CATALOG_DIR = Path(__file__).with_name("catalog")


class Catalog:
    def __init__(self, specs: dict[str, ProviderSpec]) -> None:
        self._specs = specs

    def get(self, provider: str) -> ProviderSpec:
        try:
            return self._specs[provider]
        except KeyError:
            raise NotFound(f"Unknown provider {provider!r}.") from None

    def all(self) -> list[ProviderSpec]:
        return sorted(self._specs.values(), key=lambda s: s.id)


def load(directory: Path = CATALOG_DIR) -> Catalog:
    specs: dict[str, ProviderSpec] = {}
    for path in sorted(directory.glob("*.json")):
        spec = ProviderSpec.model_validate(json.loads(path.read_text()))
        if spec.id != path.stem:
            raise ValueError(f"{path.name}: id {spec.id!r} must match the file name")
        specs[spec.id] = spec
    return Catalog(specs)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    return load()
