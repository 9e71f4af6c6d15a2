"""What the faces (CLI, TUI, HTML report) show alike, and how: presentation, kept out of the rules below.

A lower layer decides facts (``evaluation.stats.fusion_outcome`` says whether fusion helped; a component's
``Params`` say what may be set); this module says how a face shows them: the colour of an outcome and the
rows of a parameter table. It sits on the results floor because the HTML report (``results.report``) is
the lowest face; it imports nothing of emoframe.
"""

from __future__ import annotations

import json
from typing import Any

#: a fusion outcome's style in a terminal (CLI, TUI)
OUTCOME_STYLE = {"helped": "green", "hurt": "red", "none": "yellow"}
#: a fusion outcome's colour in the HTML report's figures
OUTCOME_COLOUR = {"helped": "#1a7f37", "hurt": "#c62828", "none": "#b0a060"}

_BOUNDS = (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))


def param_rows(schema: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(name, type, default, allowed range, description) of every parameter of a ``Params`` JSON schema
    (``ComponentInfo.params_schema()``), for the parameter tables of ``emoframe plugins --show`` and the TUI."""
    rows = []
    for name, prop in schema.get("properties", {}).items():
        alts = prop.get("anyOf", [prop])
        if "enum" in prop:
            kind = " | ".join(map(str, prop["enum"]))
        else:
            kind = " | ".join(str(a.get("type") or a.get("enum") or a.get("const") or "object") for a in alts)
        bounds = [
            f"{sign} {a[key]:g}" if isinstance(a[key], (int, float)) else f"{sign} {a[key]}"
            for a in alts
            for key, sign in _BOUNDS
            if key in a
        ]
        rows.append((name, kind, json.dumps(prop.get("default")), ", ".join(bounds), prop.get("description", "")))
    return rows
