"""Every dependency of every route runs on the event loop: a plain `def` dependency costs each request a hop
to the thread pool (and, while storage hangs, a slot in it). The ones in `deps.py` do no I/O on the loop;
those that may read storage hand that read to a thread themselves."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter

import integrations.api.routes as routes


def _calls(dependant: Dependant) -> list[Any]:
    out = []
    for sub in dependant.dependencies:
        out += [sub.call, *_calls(sub)]
    return out


def test_no_route_dependency_is_a_plain_function() -> None:
    sync: set[str] = set()
    checked = 0
    for info in pkgutil.iter_modules(routes.__path__):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        for router in [v for v in vars(module).values() if isinstance(v, APIRouter)]:
            for route in [r for r in router.routes if isinstance(r, APIRoute)]:
                for call in _calls(route.dependant):
                    checked += 1
                    if not (inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)):
                        sync.add(f"{route.path}: {getattr(call, '__qualname__', call)}")
    assert checked > 100
    assert not sync, sorted(sync)
