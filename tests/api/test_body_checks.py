"""The edge's body checks take a shortcut for the common body (a byte count, a byte scan) before parsing and
walking it: the shortcut must never let through what the walk would refuse."""

from __future__ import annotations

import json
import random

from integrations.api import body_checks
from integrations.api.body_checks import depth_exceeds, value_errors

NASTY = ["\x00", "\x07", "\b", "\f", "\x1b", "\x7f", "\x85", "\x9f", "\t", "\n", "\r", "ö", "€", "\U0001f600", '"', "\\"]
NUMBERS = ["1", "-0.5", "1e5", "1E-3", "1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1" + "0" * 400 + ".5", "12.75"]


def _bodies(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(400):
        text = "".join(rng.choice(NASTY + list("abc 123")) for _ in range(rng.randint(0, 6)))
        key = "".join(rng.choice(NASTY + list("kx")) for _ in range(rng.randint(1, 3)))
        number = rng.choice(NUMBERS)
        name = json.dumps(key)[1:-1] if rng.random() < 0.8 else key  # escaped, or sent as it is
        value = json.dumps(text, ensure_ascii=rng.random() < 0.5)
        raw = f'{{"{name}": {value}, "list": [{number}, {{"t": {json.dumps(text)}}}]}}'
        out.append(raw.encode("utf-8", "surrogatepass"))
    return out


def test_the_shortcut_agrees_with_the_walk() -> None:
    bodies = _bodies(7)
    assert any(value_errors(b) for b in bodies) and any(not value_errors(b) for b in bodies)
    for body in bodies:
        assert value_errors(body) == body_checks._walked_errors(body), body


def test_the_depth_shortcut_agrees_with_the_walk() -> None:
    for depth in range(0, 12):
        for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth, b'["[[[[[[[[["]'):
            for limit in (3, 5, 8):
                assert depth_exceeds(body, limit) == body_checks._nests_deeper(body, limit), (body, limit)
