"""Plugin discovery through Python entry points, bundled and third-party alike.

Listing reads only package metadata (no plugin code runs), so a broken plugin can never stop the
workbench from starting. Loading is lazy and per plugin; a plugin that fails to import, is not the
expected type, or raises while its class attributes are read is recorded as broken with a one-line
reason and disabled, never propagated.
"""
from __future__ import annotations

import importlib.metadata as md
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

GROUPS: dict[str, str] = {
    "passes": "workbench.passes",
    "runners": "workbench.runners",
    "probes": "workbench.probes",
    "evaluators": "workbench.evaluators",
    "tuners": "workbench.tuners",
}
BUNDLED_DIST = "edge-workbench"


@dataclass(frozen=True)
class PluginManifest:
    """What the metadata says about one plugin: found without importing it."""

    name: str  # entry point name, e.g. "fp16"
    group: str  # entry point group, e.g. "workbench.passes"
    value: str  # "module.path:Attr"
    dist: str  # distribution name, "" if unknown
    version: str  # distribution version, "" if unknown

    @property
    def origin(self) -> str:
        """'bundled' for this project's own plugins, else the providing distribution's name."""
        return "bundled" if _norm(self.dist) == _norm(BUNDLED_DIST) else (self.dist or "unknown")

    @property
    def kind(self) -> str:
        """Short group name: passes, runners, probes, evaluators, tuners."""
        return self.group.removeprefix("workbench.")


@dataclass
class PluginStatus:
    manifest: PluginManifest
    ok: bool
    error: str = ""  # one line when not ok
    obj: Any = field(default=None, repr=False)


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def list_plugins(groups: list[str] | None = None) -> list[PluginManifest]:
    """All registered plugins of the given groups (default: all workbench groups), sorted, not imported."""
    wanted = [GROUPS.get(g, g) for g in groups] if groups else list(GROUPS.values())
    found: dict[tuple[str, str], PluginManifest] = {}
    for group in wanted:
        for ep in md.entry_points(group=group):
            dist = getattr(ep, "dist", None)
            m = PluginManifest(
                name=ep.name, group=group, value=ep.value,
                dist=dist.metadata["Name"] if dist is not None else "",
                version=dist.version if dist is not None else "",
            )
            # The same dist can be visible twice (editable + egg-info); keep the first, like pip does.
            found.setdefault((group, ep.name), m)
    return sorted(found.values(), key=lambda m: (m.group, m.name))


def _expected_check(group: str) -> Callable[[Any], str | None]:
    """Return a validator giving an error line when a loaded object is not what `group` needs."""

    def need_subclass(base: type, attrs: tuple[str, ...]) -> Callable[[Any], str | None]:
        def check(obj: Any) -> str | None:
            if not (inspect.isclass(obj) and issubclass(obj, base)):
                return f"is {type(obj).__name__ if not inspect.isclass(obj) else obj.__name__}, not a {base.__name__} subclass"
            if inspect.isabstract(obj):
                return f"{obj.__name__} is abstract (missing {', '.join(sorted(obj.__abstractmethods__))})"
            for a in attrs:
                getattr(obj, a)  # may raise: reported as broken by the caller
            return None

        return check

    if group == GROUPS["passes"]:
        from workbench.core.passes.base import Pass

        def check_pass(obj: Any) -> str | None:
            err = need_subclass(Pass, ("id", "title", "version", "Params", "search_space"))(obj)
            if err is None:
                obj.params_schema()
            return err

        return check_pass
    if group == GROUPS["probes"]:
        from workbench.core.telemetry.probe import Probe

        return need_subclass(Probe, ("id", "title"))
    if group == GROUPS["evaluators"]:
        from workbench.core.passes.fidelity import Evaluator

        return need_subclass(Evaluator, ("id", "title"))
    # runners and tuners have no shared base class yet: anything callable will do.
    return lambda obj: None if callable(obj) else f"is a {type(obj).__name__}, not a class or callable"


class PluginRegistry:
    """Lazily loads plugins and remembers each outcome (ok + object, or broken + reason)."""

    def __init__(self, manifests: list[PluginManifest] | None = None) -> None:
        self._manifests = manifests
        self._status: dict[tuple[str, str], PluginStatus] = {}

    def manifests(self, group: str | None = None) -> list[PluginManifest]:
        if self._manifests is None:
            self._manifests = list_plugins()
        g = GROUPS.get(group, group) if group else None
        return [m for m in self._manifests if g is None or m.group == g]

    def find(self, group: str, name: str) -> PluginManifest | None:
        return next((m for m in self.manifests(group) if m.name == name), None)

    def load(self, manifest: PluginManifest) -> PluginStatus:
        key = (manifest.group, manifest.name)
        if key in self._status:
            return self._status[key]
        try:
            obj = md.EntryPoint(manifest.name, manifest.value, manifest.group).load()
            problem = _expected_check(manifest.group)(obj)
            status = PluginStatus(manifest, ok=problem is None, error=problem or "", obj=obj if problem is None else None)
        except BaseException as exc:  # noqa: BLE001 - plugin code may raise anything, even SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            status = PluginStatus(manifest, ok=False, error=f"{type(exc).__name__}: {line}".rstrip(": "))
        self._status[key] = status
        return status

    def require(self, group: str, name: str, kind: str, error: type[Exception]) -> Any:
        """The loaded plugin `name` of `group`, or `error` saying which exist (unknown) or why it is broken;
        `kind` is the word users know ("pass", "evaluator")."""
        manifest = self.find(group, name)
        if manifest is None:
            known = ", ".join(m.name for m in self.manifests(group)) or "none installed"
            raise error(f"unknown {kind} '{name}' (known: {known})")
        status = self.load(manifest)
        if not status.ok:
            raise error(f"{kind} '{name}' from {manifest.origin} is broken: {status.error}")
        return status.obj

    def load_all(self, group: str | None = None) -> list[PluginStatus]:
        return [self.load(m) for m in self.manifests(group)]

    def broken(self) -> list[PluginStatus]:
        """Plugins loaded so far that failed (call load_all first to check them all)."""
        return [s for s in self._status.values() if not s.ok]


_default: PluginRegistry | None = None


def default_registry() -> PluginRegistry:
    """The process-wide registry (metadata read once; reset with `reset_default_registry`)."""
    global _default
    if _default is None:
        _default = PluginRegistry()
    return _default


def reset_default_registry() -> None:
    """Forget cached metadata and load results (after installing a plugin package at run time)."""
    global _default
    _default = None
