"""Routes an integration to its adapter (family + provider → class), as seed 002's service describes."""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from adapters.base import Adapter, AdapterContext


@lru_cache(maxsize=64)
def adapter_class(dotted: str | None) -> type[Adapter[Any]]:
    if not dotted:
        return Adapter
    module, _, name = dotted.partition(":")
    cls: object = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise TypeError(f"{dotted} is not an Adapter")
    return cls


def build_adapter(ctx: AdapterContext) -> Adapter[Any]:
    return adapter_class(ctx.spec.adapter)(ctx)
