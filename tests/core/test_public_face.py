"""`core`'s public face is loaded lazily: every name in `__all__` resolves, the lazy table
says what the `TYPE_CHECKING` imports say (what type checkers and import-linter read), and
importing one name does not import the rest of core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parents[2]


def _type_checking_imports() -> dict[str, tuple[str, str]]:
    tree = ast.parse((ROOT / "core" / "__init__.py").read_text(encoding="utf-8"))
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    found: dict[str, tuple[str, str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module is not None
        for alias in node.names:
            found[alias.asname or alias.name] = (node.module, alias.name)
    return found


def test_the_lazy_table_matches_the_type_checking_imports_and_all() -> None:
    assert _type_checking_imports() == core._EXPORTS
    assert sorted(core.__all__) == sorted(core._EXPORTS)


def test_every_public_name_resolves_to_its_modules_object() -> None:
    import importlib

    for name, (module, attr) in core._EXPORTS.items():
        assert getattr(core, name) is getattr(importlib.import_module(module), attr), name
    assert set(core.__all__) <= set(dir(core))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        core.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_one_name_imports_only_its_module() -> None:
    code = (
        "import sys\n"
        "from core import RunSpec\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('core.'))\n"
        "heavy = ('core.cli', 'core.live', 'core.record')\n"
        "assert not any(m.startswith(heavy) for m in loaded), loaded\n"
        "assert 'httpx' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
