"""The registry: loads plugins from the ``emoframe`` entry-point group and indexes components.

A plugin that fails to import, whose hook raises, or that registers a name already taken
is recorded with the reason and its distribution; every other plugin still loads. Tests
and notebooks add plugins directly with :meth:`Registry.add_plugin`.

``EMOFRAME_PLUGINS`` (comma-separated entry-point names, the "plugin" column of ``emoframe
plugins``) loads only the named plugins besides emoframe's core built-ins (plugin ``emoframe``).
The first-party plugins (``opensmile``, ``sklearn``, …) are plugins like any other: the variable
filters them too. A name that is no installed plugin, an empty entry or an empty value is an
error naming it, and while a filter is set every "unknown component" error says so
(:meth:`Registry.filter_note`), so a left-out plugin is never a mystery.
"""

from __future__ import annotations

import difflib
import importlib.metadata as md
import os
import re
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, overload

import pluggy
from pydantic import BaseModel

from ..errors import NameConflictError, PluginError, UnknownComponentError, describe_exception
from . import hookspecs
from .allow import ALLOW_ENV, BUILTIN_PLUGIN, PluginFilter, _check_allowed, parse_allow_env
from .components import (
    FEATURE_KINDS,
    Component,
    Corpus,
    FeatureExtractor,
    Fusion,
    Model,
    Transcriber,
)
from .kinds import BASES, KINDS

ENTRY_POINT_GROUP = "emoframe"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_CORPUS_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")  # corpora may be plain: demo, emodb


@dataclass
class ComponentInfo:
    """What the registry knows of one component, read from its class."""

    name: str
    kind: str
    cls: type[Component]
    plugin: str
    distribution: str
    distribution_version: str = ""

    @property
    def version(self) -> str:
        return str(self.cls.version)

    @property
    def qualified_name(self) -> str:
        """'distribution:name': how a spec picks this component when two distributions register the name."""
        return f"{self.distribution}:{self.name}"

    @property
    def summary(self) -> str:
        return self.cls.summary()

    @property
    def doc(self) -> str:
        return (self.cls.__doc__ or "").strip()

    @property
    def params_model(self) -> type[BaseModel]:
        return self.cls.Params

    @property
    def modality(self) -> str | None:
        return getattr(self.cls, "modality", None) if self.kind == "extractor" else None

    @property
    def output(self) -> str | None:
        return getattr(self.cls, "output", None) if self.kind == "extractor" else None

    @property
    def stateless(self) -> bool | None:
        return getattr(self.cls, "stateless", None) if self.kind == "extractor" else None

    @property
    def accepts(self) -> list[str] | None:
        return sorted(getattr(self.cls, "accepts", ())) if self.kind == "model" else None

    @property
    def fusion_kind(self) -> str | None:
        return getattr(self.cls, "fusion_kind", None) if self.kind == "fusion" else None

    def params_schema(self) -> dict[str, Any]:
        return self.params_model.model_json_schema()

    @property
    def io_text(self) -> str:
        """What goes in and comes out, e.g. 'audio → vector', 'vector/sequence → probabilities'."""
        if self.kind == "extractor":
            return f"{self.modality} → {self.output}" + ("" if self.stateless else " (fitted per fold)")
        if self.kind == "model":
            return "/".join(self.accepts or []) + " → probabilities"
        if self.kind == "fusion":
            return f"{self.fusion_kind} fusion"
        if self.kind == "transcriber":
            return "audio → text"
        return "→ manifest"

    def create(self, params: Mapping[str, Any] | BaseModel | None = None) -> Component:
        component = self.cls(params)  # type: ignore[arg-type]  # any Params subclass instance is accepted
        component._origin = f"{self.distribution} {self.distribution_version}".strip()  # named in its errors
        return component

    def to_dict(self) -> dict[str, Any]:
        d = {
            "name": self.name,
            "kind": self.kind,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "summary": self.summary,
        }
        for key in ("modality", "output", "stateless", "accepts", "fusion_kind"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        d["params"] = self.params_schema().get("properties", {})
        return d


@dataclass
class PluginInfo:
    """One plugin (entry point or programmatic), its components and its problems."""

    name: str
    distribution: str
    version: str
    components: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.problems:
            return "ok"
        return "partial" if self.components else "broken"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "components": self.components,
            "problems": self.problems,
        }


class Registry:
    """Index of components by dotted name, filled by plugins through pluggy hooks."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._components: dict[str, ComponentInfo] = {}
        self._plugins: dict[str, PluginInfo] = {}
        self._conflicts: dict[str, list[ComponentInfo]] = {}  # a name two distributions registered
        self._qualified: dict[str, ComponentInfo] = {}  # 'distribution:name' of every conflicting component
        # how to build this registry again in another process (see recipe())
        self._entry_points: tuple[bool, tuple[str, ...] | None] = (False, None)
        self._added: list[tuple[str | None, str, str, str]] = []  # (module or None, name, distribution, version)
        self._token = f"{os.getpid()}:{id(self)}"
        self.plugin_filter: PluginFilter | None = None  # the allow-list entry points were loaded under
        _LIVE[self._token] = self

    # -- rebuilding in workers -------------------------------------------------------------
    def recipe(self) -> dict[str, Any]:
        """What rebuilds this registry in another process: entry points loaded (and the allow-list),
        and the importable modules added with :meth:`add_plugin`."""
        loaded, allow = self._entry_points
        return {
            "entry_points": loaded,
            "allow": list(allow) if allow is not None else None,
            "added": [list(a) for a in self._added],
        }

    @classmethod
    def from_recipe(cls, recipe: dict[str, Any]) -> Registry:
        """The registry a recipe describes (memoised per process: workers rebuild it once)."""
        import importlib
        import json

        key = json.dumps(recipe, sort_keys=True)
        if key not in _REBUILT:
            reg = cls()
            if recipe["entry_points"]:
                reg.load_entry_points(recipe["allow"] if recipe["allow"] is not None else None, honour_env=False)
            for module, name, dist, version in recipe["added"]:
                if module is None:
                    raise PluginError(
                        f"plugin '{name}' was added as an object, not a module: worker processes "
                        "cannot rebuild it; register a module (or run with one job)"
                    )
                reg.add_plugin(importlib.import_module(module), name=name, distribution=dist, version=version)
            _REBUILT[key] = reg
        return _REBUILT[key]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as a token and its recipe: a forked worker finds the very object it inherited
        (plugins added in memory included); a spawned or Dask worker rebuilds it from the recipe."""
        return (_unpickle_registry, (self._token, self.recipe()))

    # -- loading -------------------------------------------------------------------
    @classmethod
    def from_entry_points(cls, allow: Iterable[str] | None = None) -> Registry:
        reg = cls()
        reg.load_entry_points(allow)
        return reg

    def load_entry_points(self, allow: Iterable[str] | None = None, honour_env: bool = True) -> None:
        """Load every plugin of the ``emoframe`` group (built-in first), honouring the allow-list
        (``allow``, else ``EMOFRAME_PLUGINS``): an entry that names no installed plugin is a PluginError."""
        eps = sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != BUILTIN_PLUGIN, e.name))
        installed = [ep.name for ep in eps]
        source = f"allow={list(allow)!r}" if allow is not None else ""
        if allow is None and honour_env and os.environ.get(ALLOW_ENV) is not None:
            allow = parse_allow_env(os.environ[ALLOW_ENV], installed)
            source = f"{ALLOW_ENV}={os.environ[ALLOW_ENV]}"
        allow = list(allow) if allow is not None else None
        if allow is not None:
            _check_allowed(allow, installed, source)
            skipped = sorted({n for n in installed if n not in allow and n != BUILTIN_PLUGIN})
            self.plugin_filter = PluginFilter(source, tuple(allow), tuple(skipped))
        self._entry_points = (True, tuple(allow) if allow is not None else None)
        allowed = None if allow is None else set(allow) | {BUILTIN_PLUGIN}
        seen: set[str] = set()
        for ep in eps:
            if allowed is not None and ep.name not in allowed:
                continue
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            if ep.name in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(ep.name)
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 — any import failure is the plugin's, reported
                self._plugins[ep.name] = PluginInfo(
                    ep.name,
                    dist,
                    version,
                    problems=[
                        f"import of '{ep.value}' failed: {describe_exception(exc)}; reinstall {dist} or remove it"
                    ],
                )
                continue
            self._add(module, name=ep.name, distribution=dist, version=version)

    def add_plugin(
        self, plugin: ModuleType | object, name: str | None = None, distribution: str | None = None, version: str = ""
    ) -> PluginInfo:
        """Register a plugin object (a module or any object with hookimpls) and run its hooks."""
        info = self._add(plugin, name, distribution, version)
        module = plugin.__name__ if isinstance(plugin, ModuleType) else None
        self._added.append((module, info.name, info.distribution, info.version))
        return info

    def _add(
        self, plugin: ModuleType | object, name: str | None = None, distribution: str | None = None, version: str = ""
    ) -> PluginInfo:
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        info = PluginInfo(name, distribution or name, version)
        if name in self._plugins:
            info.problems.append(f"a plugin named '{name}' is already loaded (from {self._plugins[name].distribution})")
            self._plugins[f"{name}#{len(self._plugins)}"] = info
            return info
        self._plugins[name] = info
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # noqa: BLE001 — pluggy validation errors name the bad hook
            info.problems.append(f"registration failed: {exc}")
            return info
        for attr in dir(plugin):
            fn = getattr(plugin, attr, None)
            if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_impl") and attr not in hookspecs.HOOK_KINDS:
                close = difflib.get_close_matches(attr, hookspecs.HOOK_KINDS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                info.problems.append(f"unknown hook '{attr}'{hint}")
        for hook_name, kind in hookspecs.HOOK_KINDS.items():
            if any(impl.plugin is plugin for impl in getattr(self.pm.hook, hook_name).get_hookimpls()):
                self._run_hook(info, plugin, hook_name, kind)
        return info

    def _run_hook(self, info: PluginInfo, plugin: object, hook_name: str, kind: str) -> None:
        """Call one plugin's hook through pluggy (its wrappers, tryfirst/trylast apply), isolated from the
        other plugins' implementations; keep what it registered only if the whole call succeeded."""
        staged: list[Any] = []
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        try:
            self.pm.subset_hook_caller(hook_name, remove_plugins=others)(register=staged.append)
        except Exception as exc:  # noqa: BLE001 — a raising hook breaks that plugin only
            info.problems.append(f"hook {hook_name} raised {describe_exception(exc)}")
            return
        for cls in staged:
            problem = self._check_component(cls, kind)
            if problem:
                info.problems.append(problem)
                continue
            self._place(ComponentInfo(cls.name, kind, cls, info.name, info.distribution, info.version), info)

    def _place(self, new: ComponentInfo, info: PluginInfo) -> None:
        """Index a component; a name two distributions register is a conflict: neither wins."""
        name = new.name
        rivals = self._conflicts.get(name) or ([self._components[name]] if name in self._components else [])
        if not rivals:
            self._components[name] = new
            info.components.append(name)
            return
        if any(r.plugin == new.plugin for r in rivals):
            info.problems.append(f"registers '{name}' twice; the second is ignored")
            return
        group = [*rivals, new]
        self._components.pop(name, None)
        self._conflicts[name] = group
        for c in group:
            self._qualified[c.qualified_name] = c
        info.components.append(new.qualified_name)
        choices = " or ".join(f"'{c.qualified_name}'" for c in group)
        note = (
            f"'{name}' is also registered by {', '.join(f'{c.distribution} (plugin {c.plugin})' for c in group)}"
            f": neither is used under that name — write {choices} in a spec to choose, or limit plugins with "
            f"{ALLOW_ENV}"
        )
        for c in group:
            owner = self._plugins.get(c.plugin)
            if owner is not None:
                owner.problems = [p for p in owner.problems if not p.startswith(f"'{name}' is also registered")]
                owner.problems.append(note)
                if c is rivals[0] and len(rivals) == 1 and name in owner.components:
                    owner.components[owner.components.index(name)] = c.qualified_name

    @staticmethod
    def _check_component(cls: Any, kind: str) -> str | None:  # cls is anything a plugin passed
        base = BASES[kind]
        label = getattr(cls, "__qualname__", repr(cls))
        if not (isinstance(cls, type) and issubclass(cls, base)):
            return f"{label} was registered as {kind} but is not a {base.__name__} subclass"
        if "<locals>" in cls.__qualname__:
            return (
                f"{label} is defined inside a function: worker processes rebuild a component by importing "
                f"{cls.__module__}.{cls.__qualname__.split('.<locals>')[0]}…, which cannot reach it — define "
                "the class at module level"
            )
        pattern = _CORPUS_NAME_RE if kind == "corpus" else _NAME_RE
        if not isinstance(cls.name, str) or not pattern.match(cls.name):
            return f"{label} has invalid name {cls.name!r}: use a dotted lower-case name such as 'myplugin.{kind}'"
        try:
            cls.Params()
        except Exception as exc:  # noqa: BLE001
            return f"{cls.name}: Params must give every field a default ({exc})"
        if kind == "extractor":
            if getattr(cls, "modality", None) not in ("audio", "text"):
                return f"{cls.name}: modality must be 'audio' or 'text'"
            if getattr(cls, "output", None) not in FEATURE_KINDS:
                return f"{cls.name}: output must be one of {', '.join(FEATURE_KINDS)}"
        if kind == "model" and not set(getattr(cls, "accepts", ())) <= set(FEATURE_KINDS):
            return f"{cls.name}: accepts must be a subset of {', '.join(FEATURE_KINDS)}"
        if kind == "fusion" and getattr(cls, "fusion_kind", None) not in ("early", "late"):
            return f"{cls.name}: subclass EarlyFusion or LateFusion"
        return None

    # -- queries ---------------------------------------------------------------------
    @property
    def plugins(self) -> list[PluginInfo]:
        return list(self._plugins.values())

    @property
    def broken(self) -> list[PluginInfo]:
        return [p for p in self._plugins.values() if p.problems]

    def components(self, kind: str | None = None, **attrs: Any) -> list[ComponentInfo]:
        """Components sorted by name, optionally filtered by kind and attributes (modality=...)."""
        out = [c for c in self._components.values() if kind is None or c.kind == kind]
        for key, value in attrs.items():
            out = [c for c in out if getattr(c, key) == value]
        return sorted(out, key=lambda c: c.name)

    def names(self, kind: str | None = None) -> list[str]:
        return [c.name for c in self.components(kind)]

    def __contains__(self, name: object) -> bool:
        return name in self._components or name in self._qualified

    @property
    def conflicts(self) -> dict[str, list[ComponentInfo]]:
        """Names registered by more than one distribution, with every registration."""
        return dict(self._conflicts)

    def conflict_message(self, name: str) -> str:
        group = self._conflicts[name]
        return (
            f"'{name}' is registered by {len(group)} distributions "
            f"({', '.join(f'{c.distribution} {c.distribution_version}'.strip() for c in group)}); "
            f"choose one: {' or '.join(repr(c.qualified_name) for c in group)}, or load only one with {ALLOW_ENV}"
        )

    def filter_note(self) -> str:
        """'' unless an allow-list left plugins out: then which, for every "unknown component" message."""
        f = self.plugin_filter
        if f is None or not f.skipped:
            return ""
        return f"{f.describe()} — add the plugin that provides it, or unset {ALLOW_ENV}"

    def suggest(self, name: str, kind: str | None = None, n: int = 3) -> list[str]:
        pool = self.names(kind) or self.names()
        close = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
        if not close:  # 'svc' → 'sklearn.svc': match on the last part of the dotted name
            tail = {c.split(".", 1)[-1]: c for c in pool}
            close = [tail[t] for t in difflib.get_close_matches(name.split(".")[-1], tail, n=n, cutoff=0.6)]
        return close

    def get(self, name: str, kind: str | None = None) -> ComponentInfo:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if name in self._conflicts:
            raise NameConflictError(self.conflict_message(name))
        info = self._components.get(name) or self._qualified.get(name)
        if info is None or (kind is not None and info.kind != kind):
            raise UnknownComponentError(name, kind, self.suggest(name, kind), self.filter_note())
        return info

    @overload
    def create(
        self, name: str, params: Mapping[str, Any] | None = ..., *, kind: Literal["extractor"]
    ) -> FeatureExtractor: ...
    @overload
    def create(self, name: str, params: Mapping[str, Any] | None = ..., *, kind: Literal["model"]) -> Model: ...
    @overload
    def create(self, name: str, params: Mapping[str, Any] | None = ..., *, kind: Literal["fusion"]) -> Fusion: ...
    @overload
    def create(self, name: str, params: Mapping[str, Any] | None = ..., *, kind: Literal["corpus"]) -> Corpus: ...
    @overload
    def create(
        self, name: str, params: Mapping[str, Any] | None = ..., *, kind: Literal["transcriber"]
    ) -> Transcriber: ...
    @overload
    def create(self, name: str, params: Mapping[str, Any] | None = ..., *, kind: str | None = None) -> Component: ...

    def create(self, name: str, params: Mapping[str, Any] | None = None, *, kind: str | None = None) -> Component:
        """Instantiate a component with validated params (ParamsError names the field); typed by ``kind``."""
        return self.get(name, kind).create(dict(params) if params is not None else None)


_default: Registry | None = None
_REBUILT: dict[str, Registry] = {}
#: every registry made in this process, by token: a forked worker unpickles to the object it inherited
_LIVE: weakref.WeakValueDictionary[str, Registry] = weakref.WeakValueDictionary()


def _unpickle_registry(token: str, recipe: dict[str, Any]) -> Registry:
    return _LIVE.get(token) or Registry.from_recipe(recipe)


def get_registry(refresh: bool = False) -> Registry:
    """The process-wide registry loaded from entry points (cached)."""
    global _default
    if _default is None or refresh:
        _default = Registry.from_entry_points()
    return _default
