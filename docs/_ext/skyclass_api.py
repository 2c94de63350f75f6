"""Write the API reference pages of the site from the package itself.

Every module of :mod:`skyclass` gets one page, generated at build time so the
reference cannot fall behind the code. A module's public names are the names in
its ``__all__`` plus the functions and classes it defines whose names do not
start with an underscore. Each name is documented once, in the module that
defines it; a package that re-exports names lists them with links to those pages.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

PACKAGE = "skyclass"


def modules() -> list[str]:
    """Every importable module of the package, in sorted order."""
    package = importlib.import_module(PACKAGE)
    names = [m.name for m in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.")]
    return sorted([PACKAGE, *names])


def _defines(module: ModuleType, obj: object) -> bool:
    return getattr(obj, "__module__", None) == module.__name__


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function"
    return "data"


def public_api() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Public names by module: ``{"own": [(name, kind)], "reexported": [(name, target)]}``.

    ``own`` names are documented on the module's page; ``reexported`` ones are
    documented where they are defined and only listed here, with that full name.
    """
    loaded = {name: importlib.import_module(name) for name in modules()}
    listed: dict[str, list[str]] = {}
    for name, module in loaded.items():
        names = list(getattr(module, "__all__", []))
        for attr, obj in vars(module).items():
            if attr.startswith("_") or attr in names:
                continue
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and _defines(module, obj):
                names.append(attr)
        listed[name] = names

    # Data (constants, registries) has no __module__: its home is the deepest module listing it.
    data_home: dict[int, str] = {}
    for name in sorted(loaded, key=lambda n: n.count(".")):
        for attr in listed[name]:
            obj = getattr(loaded[name], attr)
            if _kind(obj) == "data":
                data_home[id(obj)] = f"{name}.{attr}"

    api: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for name, module in loaded.items():
        own, reexported = [], []
        for attr in listed[name]:
            obj = getattr(module, attr)
            kind = _kind(obj)
            if kind == "data":
                home = data_home[id(obj)]
            elif getattr(obj, "__module__", "").startswith(PACKAGE):
                home = f"{obj.__module__}.{attr}"
            else:
                home = f"{name}.{attr}"
            if home == f"{name}.{attr}":
                own.append((attr, kind))
            else:
                reexported.append((attr, home))
        api[name] = {"own": sorted(own), "reexported": sorted(reexported)}
    return api


def _directive(kind: str) -> str:
    return {"class": "autoclass", "exception": "autoexception", "function": "autofunction"}.get(
        kind, "autodata"
    )


def module_page(name: str, entry: dict[str, list[tuple[str, str]]]) -> str:
    """The reStructuredText of one module's reference page."""
    lines = [f"``{name}``", "=" * (len(name) + 4), "", f".. automodule:: {name}", ""]
    own = entry["own"]
    if own:
        lines += [".. currentmodule:: " + name, "", ".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {attr}" for attr, _ in own]
        lines.append("")
    if entry["reexported"]:
        lines += ["Also importable from here:", ""]
        lines += [f"- :py:obj:`{attr} <{target}>`" for attr, target in entry["reexported"]]
        lines.append("")
    for attr, kind in own:
        lines += [f".. {_directive(kind)}:: {name}.{attr}"]
        if kind in ("class", "exception"):
            lines += ["   :members:", "   :show-inheritance:"]
        elif kind == "data":
            lines += ["   :no-value:"]
        lines.append("")
    return "\n".join(lines)


def write_pages(out: Path) -> list[str]:
    """Write one page per module into ``out`` (removing stale ones); return the modules."""
    out.mkdir(parents=True, exist_ok=True)
    api = public_api()
    wanted = {f"{name}.rst": module_page(name, entry) for name, entry in api.items()}
    for old in out.glob("*.rst"):
        if old.name not in wanted:
            old.unlink()
    for filename, text in wanted.items():
        path = out / filename
        if not path.exists() or path.read_text() != text:  # untouched pages are not rebuilt
            path.write_text(text)
    return list(api)
