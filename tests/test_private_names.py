"""No module reaches into another module's objects through a private name.

The package (``src/skyclass``) and its tests (``tests/*.py``) are held to the same
rule. ``obj._name`` is flagged wherever ``obj`` is not ``self``, ``cls`` or
``super()`` and ``_name`` is not defined in the same file (a module may use its
own private names on any object; ``obj._name = value`` replacing a name another
module of the package defines does not count as defining it). So are
``getattr(obj, "_name")`` and its siblings (``monkeypatch.setattr`` among them),
a dotted target such as ``monkeypatch.setattr("skyclass.search._fit", ...)``, an
import of a private name (``from skyclass.predict import _chunks``), and in the
tests the same inside the scripts they run in a subprocess. A private *module*
whose names are public (``skyclass._util``) may be imported and named. What is
flagged either becomes a public, documented name of its owner or is listed below
with the reason it has to stay.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "skyclass"
TESTS = ROOT / "tests"
PRIVATE = re.compile(r"^_[A-Za-z]\w*$")
OWN = {"self", "cls"}
#: Calls whose second argument names an attribute of their first.
BY_NAME = {"getattr", "hasattr", "setattr", "delattr"}
#: Calls whose first argument may be a dotted target (``"skyclass.search._fit"``).
BY_PATH = {"setattr", "delattr", "patch"}

#: (file relative to the repository, what is read) -> why it has to stay.
ALLOWED: dict[tuple[str, str], str] = {
    ("tests/test_simulate_general.py", "general_module._VI_RANGE"): (
        "the class colour ranges: emptying them changes how many colours are drawn and "
        "nothing else, which shows that the curves do not depend on the colour stream"
    ),
    ("tests/test_simulate_general.py", "general_module._catalogue_colours"): (
        "the colour of a star of known V - I and error, so that its scatter can be checked "
        "against the one it must have; simulate_general draws the V - I too, which hides it"
    ),
    ("src/skyclass/training/loop.py", "batchnorm._BatchNorm"): (
        "torch's one base of every batch-norm layer (1d/2d/3d, sync, lazy); it has no public one"
    ),
    ("src/skyclass/represent/features.py", "light_curve_ext._FeatureEvaluator"): (
        "light-curve's base of its feature classes, the only way to tell them from its other names"
    ),
    ("tests/test_period.py", "import skyclass.preprocess.period._coarse_power"): (
        "the fast search's coarse periodogram, checked value by value against nifty-ls; "
        "find_period shows only the peaks it keeps"
    ),
    ("tests/test_period.py", "import skyclass.preprocess.period._type1_plan"): (
        "the FINUFFT plan cache keyed by thread count; no public call shows which plan is reused"
    ),
}


def _modules() -> set[str]:
    """The dotted names of the package's modules (``skyclass._util`` among them)."""
    found = set()
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = _modules()


def _scanned() -> list[Path]:
    return sorted(SRC.rglob("*.py")) + sorted(TESTS.glob("*.py"))


def _receiver(node: ast.expr) -> str:
    """A short name for what the attribute is read from (``a.b`` -> ``b``, ``f()`` -> ``f()``)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return f"{_receiver(node.func)}()"
    return type(node).__name__


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of names, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _called(node: ast.Call) -> str | None:
    """The name a call is made by: ``getattr`` for ``getattr(...)`` and ``m.setattr(...)``."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _top_level_names(tree: ast.Module) -> set[str]:
    """Functions, classes and names a module defines at its top level."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


#: Private top-level names of the package -> the files that define them.
PACKAGE_NAMES: dict[str, set[str]] = {}
for _path in SRC.rglob("*.py"):
    for _name in _top_level_names(ast.parse(_path.read_text(encoding="utf-8"))):
        if PRIVATE.match(_name):
            PACKAGE_NAMES.setdefault(_name, set()).add(_path.relative_to(ROOT).as_posix())


def _defined_names(trees: list[ast.AST], rel: str) -> set[str]:
    """Every name a file defines: functions, classes, assigned names and attributes.

    ``obj._name = value`` defines ``_name`` (a mark the file sets on objects) unless
    another module of the package defines ``_name``: then it replaces that module's.
    """
    names: set[str] = set()
    for node in (n for tree in trees for n in ast.walk(tree)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Name):
                        names.add(part.id)
                    elif isinstance(part, ast.Attribute) and (
                        (isinstance(part.value, ast.Name) and part.value.id in OWN)
                        or not PACKAGE_NAMES.get(part.attr, set()) - {rel}
                    ):
                        names.add(part.attr)
    return names


def _scripts(tree: ast.AST) -> list[tuple[int, ast.Module]]:
    """Python a file holds in strings (scripts run in a subprocess), with their first line.

    An f-string's fields are read as ``0``; a string that does not parse, or imports
    nothing, is not a script.
    """
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(_text(v) or "0" for v in node.values)
        elif id(node) not in parts and _text(node) is not None:
            text = _text(node)
        else:
            continue
        if "import " not in text:
            continue
        try:
            found.append((node.lineno, ast.parse(textwrap.dedent(text))))
        except SyntaxError:
            continue
    return found


def private_reaches(path: Path, *, scripts: bool = False) -> list[tuple[int, str]]:
    """``(line, what)`` for each private name ``path`` takes from another module.

    With ``scripts``, also in the Python its strings hold (see :func:`_scripts`).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = [(1, tree), *(_scripts(tree) if scripts else [])]
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    own = _defined_names([t for _, t in parts], rel)
    found = []
    for first, part in parts:
        found += [(first + line - 1, what) for line, what in _reaches(part, own)]
    return sorted(found)


def _reaches(tree: ast.AST, own: set[str]) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if PRIVATE.match(alias.name) and full not in MODULES:
                    found.append((node.lineno, f"import {full}"))
            continue
        if isinstance(node, ast.Attribute):
            receiver, name = node.value, node.attr
            if _dotted(node) in MODULES:  # a private module, named by its path
                continue
        elif isinstance(node, ast.Call) and node.args and _called(node) in BY_PATH | BY_NAME:
            target = _text(node.args[0])
            if _called(node) in BY_PATH and target and "." in target:
                owner, name = target.rsplit(".", 1)
                if PRIVATE.match(name) and target not in MODULES:
                    found.append((node.lineno, f"{owner.rsplit('.', 1)[-1]}.{name}"))
                continue
            if _called(node) not in BY_NAME or len(node.args) < 2 or _text(node.args[1]) is None:
                continue
            receiver, name = node.args[0], _text(node.args[1])
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
        "import skyclass._util\n"
        "from skyclass import _util\n"
        "from skyclass._util import write_json\n"
        "from skyclass.predict import _predict_unit, check_model\n"
        "class A:\n"
        "    def _own(self):\n"
        "        return self._own, super()._x, cls._y, skyclass._util.LOG_EVERY\n"
        "def f(est, other, monkeypatch):\n"
        "    est._own()\n"
        "    getattr(est, '_needs', False)\n"
        "    monkeypatch.setattr(skyclass._util, '_stderr_is_terminal', None)\n"
        "    monkeypatch.setattr('skyclass.search._Fit', None)\n"
        "    monkeypatch.setattr('skyclass._util', None)\n"
        "    other._predict_unit = est._marked = None\n"
        "    return other._raw_predict(1), other._marked\n"
        'SCRIPT = f"""\n'
        "import skyclass.cli as cli\n"
        "cli._load = {f}\n"
        '"""\n'
    )
    found = [
        (4, "import skyclass.predict._predict_unit"),
        (10, "est._needs"),
        (11, "_util._stderr_is_terminal"),
        (12, "search._Fit"),
        (14, "other._predict_unit"),  # predict.py's function, replaced
        (15, "other._raw_predict"),
    ]
    assert private_reaches(code) == found
    assert private_reaches(code, scripts=True) == [*found, (18, "cli._load")]


def _scans_scripts(path: Path) -> bool:
    """Tests run scripts in subprocesses; this file's strings are examples of reaches."""
    return path.parent == TESTS and path != Path(__file__).resolve()


def test_no_module_uses_another_modules_private_names():
    found = []
    for path in _scanned():
        rel = path.relative_to(ROOT).as_posix()
        for line, what in private_reaches(path, scripts=_scans_scripts(path)):
            if (rel, what) not in ALLOWED:
                found.append(f"{rel}:{line}: {what}")
    assert not found, (
        "private names used across modules (make them public on their owner, or list "
        "them in ALLOWED with the reason):\n" + "\n".join(found)
    )


def test_every_allowed_reach_is_still_there():
    here = {
        (path.relative_to(ROOT).as_posix(), what)
        for path in _scanned()
        for _, what in private_reaches(path, scripts=_scans_scripts(path))
    }
    assert not set(ALLOWED) - here, "remove these entries of ALLOWED: the code no longer has them"
