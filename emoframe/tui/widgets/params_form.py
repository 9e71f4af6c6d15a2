"""A parameter form generated from a component's Params JSON Schema, with field-level errors."""

from __future__ import annotations

import json
from typing import Any

import yaml
from pydantic import ValidationError
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, Switch

from ...errors import validation_problems


def _enum(prop: dict[str, Any]) -> list[Any] | None:
    if "enum" in prop:
        return list(prop["enum"])
    for alt in prop.get("anyOf", []):
        if "enum" in alt:
            return list(alt["enum"]) + ([None] if any(a.get("type") == "null" for a in prop["anyOf"]) else [])
    return None


class ParamsForm(Vertical):
    """Edits one component's params; posts Changed with the values that differ from the defaults."""

    class Changed(Message):
        def __init__(self, component: str, params: dict[str, Any], valid: bool, slot: str = ""):
            super().__init__()
            self.component, self.params, self.valid, self.slot = component, params, valid, slot

    def __init__(self, info: Any, values: dict[str, Any] | None = None, slot: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.info = info
        self.slot = slot
        self.values = dict(values or {})
        self.schema = info.params_schema().get("properties", {})

    def compose(self) -> ComposeResult:
        yield Static(f"[b]{self.info.name}[/b] parameters", classes="form-title")
        if not self.schema:
            yield Label("no parameters")
        for name, prop in self.schema.items():
            yield Label(f"{name} — {prop.get('description', '')}", classes="field-label")
            value = self.values.get(name, prop.get("default"))
            options = _enum(prop)
            if prop.get("type") == "boolean":
                yield Switch(value=bool(value), id=f"field-{name}")
            elif options:
                yield Select(
                    [(str(o), json.dumps(o)) for o in options],
                    value=json.dumps(value),
                    allow_blank=False,
                    id=f"field-{name}",
                )
            else:
                text = (
                    ""
                    if name not in self.values
                    else (self.values[name] if isinstance(self.values[name], str) else json.dumps(self.values[name]))
                )
                yield Input(value=text, placeholder=f"default: {json.dumps(prop.get('default'))}", id=f"field-{name}")
            yield Label("", id=f"error-{name}", classes="field-error")

    def _read(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, prop in self.schema.items():
            widget = self.query_one(f"#field-{name}")
            default = prop.get("default")
            if isinstance(widget, Switch):
                value: Any = widget.value
            elif isinstance(widget, Select):
                value = json.loads(widget.value) if isinstance(widget.value, str) else default
            else:
                raw = str(getattr(widget, "value", "")).strip()
                if raw == "":
                    continue
                try:
                    value = yaml.safe_load(raw)
                except yaml.YAMLError:
                    value = raw
                if prop.get("type") == "string" and not isinstance(value, str):
                    value = raw
            if value != default:
                out[name] = value
        return out

    def validate_now(self) -> bool:
        params = self._read()
        for name in self.schema:
            self.query_one(f"#error-{name}", Label).update("")
        valid = True
        try:
            self.info.params_model.model_validate(params)
        except ValidationError as err:
            valid = False
            for path, msg in validation_problems(err):
                field = path.split(".")[0]
                if field in self.schema:
                    self.query_one(f"#error-{field}", Label).update(f"✗ {msg}")
        self.post_message(self.Changed(self.info.name, params, valid, self.slot))
        return valid

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate_now()

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self.validate_now()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.validate_now()
