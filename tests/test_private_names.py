"""No module reaches into another module's objects through a private name.

``obj._name`` is flagged wherever ``obj`` is not ``self``, ``cls`` or
``super()`` and ``_name`` is not defined in the same file (a module may use its
own private names on any object); so is ``getattr(obj, "_name")`` and its
siblings. What is flagged either becomes a public, documented name of its owner
or is listed below with the reason it has to stay.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "skyclass"
PRIVATE = re.compile(r"^_[a-z]\w*$")
OWN = {"self", "cls"}

#: (file relative to src/skyclass, "receiver._name") -> why it has to stay. Imports
#: (``from sklearn.tree._tree import Tree``) are not attribute reads and are not listed.
ALLOWED: dict[tuple[str, str], str] = {}


def _receiver(node: ast.expr) -> str:
    """A short name for what the attribute is read from (``a.b`` -> ``b``, ``f()`` -> ``f()``)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return f"{_receiver(node.func)}()"
    return type(node).__name__


def _defined_names(tree: ast.AST) -> set[str]:
    """Every name a file defines: functions, classes, assigned names and attributes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Name):
                        names.add(part.id)
                    elif isinstance(part, ast.Attribute):
                        names.add(part.attr)
    return names


def private_reaches(path: Path) -> list[tuple[int, str]]:
    """``(line, "receiver._name")`` for each private name ``path`` reads off a foreign object."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = _defined_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            receiver, name = node.value, node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr", "setattr", "delattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            receiver, name = node.args[0], node.args[1].value
        else:
            continue
        if not PRIVATE.match(name) or name in own:
            continue
        if isinstance(receiver, ast.Name) and receiver.id in OWN:
            continue
        if (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "super"
        ):
            continue
        found.append((node.lineno, f"{_receiver(receiver)}.{name}"))
    return found


def test_the_scan_finds_a_reach_and_passes_own_names(tmp_path):
    code = tmp_path / "m.py"
    code.write_text(
        "class A:\n"
        "    def _own(self):\n"
        "        return self._own, super()._x, cls._y\n"
        "def f(est, other):\n"
        "    est._own()\n"
        "    getattr(est, '_needs', False)\n"
        "    return other._raw_predict(1)\n"
    )
    assert private_reaches(code) == [(6, "est._needs"), (7, "other._raw_predict")]


def test_no_module_uses_another_modules_private_names():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for line, what in private_reaches(path):
            if (rel, what) not in ALLOWED:
                found.append(f"src/skyclass/{rel}:{line}: {what}")
    assert not found, (
        "private names used across modules (make them public on their owner, or list "
        "them in ALLOWED with the reason):\n" + "\n".join(found)
    )


def test_every_allowed_reach_is_still_there():
    here = {
        (path.relative_to(SRC).as_posix(), what)
        for path in SRC.rglob("*.py")
        for _, what in private_reaches(path)
    }
    assert not set(ALLOWED) - here, "remove these entries of ALLOWED: the code no longer has them"
