"""Plugin options given as ``KEY=VALUE``: checked against a schema before anything is written.

A label generator or image stage declares its options through what it
already has: the values of its ``presets`` (and its constructor's defaults)
give each option's type, and an ``option_ranges`` class attribute gives the
allowed range of those that need one, in interval notation, or the allowed
values as a tuple::

    option_ranges = {"learning_rate": "(0, inf)", "n_critic": "[1, inf)",
                     "discriminator_norm": ("none", "layer")}

``check_options`` turns every mismatch into a ``CkganError`` that names the
option, the value and what is expected, so that a bad value never reaches
the backend (where it crashed) or trains to nonsense (``learning_rate=-1``).
``resolve`` is the one way plugins turn a preset and ``KEY=VALUE`` options
into their settings.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import CkganError

_INTERVAL = re.compile(r"^\s*([\[(])\s*(-?inf|[-+0-9.e]+)\s*,\s*(-?inf|[-+0-9.e]+)\s*([\])])\s*$")


def _kind(value: Any) -> str | None:
    """The schema type of a default value: bool, int, float, str, ints (a list), or None."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return "ints"
    return None


_WORDS = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "str": "a text",
    "ints": "a list of whole numbers such as [32,32]",
}


def option_types(cls) -> dict[str, set[str]]:
    """Each option's allowed schema types, from ``cls.presets`` and the constructor's defaults."""
    types: dict[str, set[str]] = {}
    for preset in getattr(cls, "presets", {}).values():
        for key, value in preset.items():
            kind = _kind(value)
            if kind:
                types.setdefault(key, set()).add(kind)
    try:
        parameters = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        parameters = ()
    for p in parameters:
        kind = _kind(p.default) if p.default is not inspect.Parameter.empty else None
        if kind and p.name not in types:
            types[p.name] = {kind}
    if "jit_compile" in types:
        types["jit_compile"] |= {"bool", "str"}
    return types


def _matches(value: Any, kinds: set[str]) -> bool:
    if isinstance(value, bool):
        return "bool" in kinds
    if isinstance(value, int):
        return bool(kinds & {"int", "float"})
    if isinstance(value, float):
        return "float" in kinds and math.isfinite(value)
    if isinstance(value, str):
        return "str" in kinds
    if isinstance(value, list):
        return "ints" in kinds and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
        )
    return False


def parse_interval(text: str) -> tuple[float, float, bool, bool]:
    """``"[0, 1)"`` as ``(low, high, low_closed, high_closed)``."""
    match = _INTERVAL.match(text)
    if not match:
        raise ValueError(f"not an interval: {text!r}")
    left, low, high, right = match.groups()
    return float(low), float(high), left == "[", right == "]"


def in_interval(value: float, text: str) -> bool:
    """Whether ``value`` lies in the interval ``text`` (e.g. ``"(0, inf)"``)."""
    low, high, low_closed, high_closed = parse_interval(text)
    above = value >= low if low_closed else value > low
    below = value <= high if high_closed else value < high
    return above and below


def check_options(cls, options: Mapping[str, Any], what: str) -> None:
    """Raise a ``CkganError`` for the first option of ``options`` that ``cls`` would not take.

    Only the types and ranges are checked here; unknown names stay the
    constructor's to reject (it lists the known ones).
    """
    types = option_types(cls)
    ranges: Mapping[str, str] = getattr(cls, "option_ranges", {})
    for key, value in options.items():
        kinds = types.get(key)
        if kinds is None:
            continue
        if not _matches(value, kinds):
            expected = " or ".join(_WORDS[k] for k in sorted(kinds))
            raise CkganError(f"option {key}={value!r} of the {what}: expected {expected}")
        interval = ranges.get(key)
        if isinstance(interval, tuple):
            if value not in interval:
                allowed = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in interval)
                raise CkganError(f"option {key}={value!r} of the {what}: expected one of {allowed}")
        elif interval and isinstance(value, (int, float)) and not isinstance(value, bool):
            if not in_interval(value, interval):
                raise CkganError(
                    f"option {key}={value!r} of the {what} is out of range: it must be in "
                    f"{interval}"
                )


def resolve(
    cls, preset: str, given: Mapping[str, Any], extra: Mapping[str, Any], what: str
) -> dict[str, Any]:
    """``cls.presets[preset]`` overridden by ``given`` (constructor arguments that are not
    ``None``) and ``extra`` (keyword arguments the constructor does not name), checked
    (``check_options``) and each converted to its preset value's type; ``"preset"`` holds
    the preset's name. An unknown preset or an ``extra`` name no preset knows is an error
    naming the known ones, so a typo never passes silently. ``what`` names the plugin
    in messages (``"'wgan' label generator"``).
    """
    presets = getattr(cls, "presets", {})
    if preset not in presets:
        raise CkganError(f"unknown preset '{preset}' for the {what} (known: {', '.join(presets)})")
    defaults = presets[preset]
    unknown = sorted(set(extra) - set(defaults))
    if unknown:
        raise CkganError(
            f"unknown option '{unknown[0]}' for the {what} (known: {', '.join(sorted(defaults))})"
        )
    options = {**defaults, **{k: v for k, v in given.items() if v is not None}, **extra}
    check_options(cls, options, what)
    for key, value in options.items():
        kind = _kind(defaults.get(key))
        if kind == "int":
            options[key] = int(value)
        elif kind == "float":
            options[key] = float(value)
        elif kind == "ints":
            options[key] = [int(v) for v in value]
    return {"preset": preset, **options}
