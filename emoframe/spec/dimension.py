"""What one searched parameter says: a list (grid points) or ``loguniform(a, b)``, ``uniform(a, b)``,
``int(a, b)``, ``choice(a, b, ...)``. Read by the spec model itself (so a syntax error names its path),
hence apart from ``search``, which needs the models."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")
_CALL = re.compile(r"^\s*(loguniform|uniform|int|choice)\s*\((.*)\)\s*$", re.S)
SYNTAX = "a list of values (a grid) or loguniform(a, b), uniform(a, b), int(a, b), choice(a, b, ...)"


@dataclass(frozen=True)
class Dimension:
    """One searched parameter: ``grid``/``choice`` list values, the others draw from [low, high]."""

    kind: str  # grid | choice | loguniform | uniform | int
    values: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0

    @property
    def categorical(self) -> bool:
        return self.kind in ("grid", "choice")

    def text(self) -> str:
        if self.kind == "grid":
            return "[" + ", ".join(map(str, self.values)) + "]"
        if self.kind == "choice":
            return "choice(" + ", ".join(map(str, self.values)) + ")"
        return f"{self.kind}({self.low:g}, {self.high:g})"


def _scalar(text: str) -> Any:
    text = text.strip()
    for number in (int, float):  # YAML 1.1 reads 1e-3 as a string
        try:
            return number(text)
        except ValueError:
            pass
    value = yaml.safe_load(text) if text else None
    if isinstance(value, (list, dict)) or value is None:
        raise ValueError(f"'{text.strip()}' is not a single value")
    return value


def parse_dimension(name: str, value: Any) -> Dimension:
    """The dimension ``value`` spells; ValueError (naming the parameter and the syntax) otherwise."""
    if isinstance(value, list):
        if not value:
            raise ValueError(f"{name}: an empty list; give at least one value")
        if any(isinstance(v, (list, dict)) for v in value):
            raise ValueError(f"{name}: grid values must be single values, got {value}")
        return Dimension("grid", tuple(value))
    match = _CALL.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{name}: {value!r} is not a search; write {SYNTAX}")
    kind, inner = match.group(1), match.group(2)
    try:
        args = [_scalar(a) for a in inner.split(",")] if inner.strip() else []
    except (ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{name}: cannot read {value!r} ({exc})") from None
    if kind == "choice":
        if not args:
            raise ValueError(f"{name}: choice() needs at least one value")
        return Dimension("choice", tuple(args))
    if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        raise ValueError(f"{name}: {kind}(low, high) takes two numbers, got {value!r}")
    low, high = float(args[0]), float(args[1])
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ValueError(f"{name}: {kind}(low, high) needs finite low < high, got {value!r}")
    if kind == "int" and not all(isinstance(a, int) for a in args):
        raise ValueError(f"{name}: int(low, high) takes whole numbers, got {value!r}")
    if kind == "loguniform" and low <= 0:
        raise ValueError(f"{name}: loguniform needs low > 0 (a log scale), got {value!r}")
    return Dimension(kind, (), low, high)
