"""The layers of DESIGN.md hold: the store depends on `model` alone of our code.

Every import in every module under `src/liveeval/store/` is read with `ast` (those inside
functions and under `TYPE_CHECKING` too, relative ones resolved), so a deferred import
cannot hide a dependency that points up the table.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"
STORE = SOURCE / "liveeval" / "store"
ALLOWED = ("liveeval.store", "liveeval.model")
STORE_MODULES = sorted(STORE.rglob("*.py"))


def package_of(path: Path) -> str:
    """The package that relative imports in `path` start from."""
    return ".".join(path.relative_to(SOURCE).parent.parts)


def imports_of(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of each import in `source`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((node.lineno, module))
    return found


def outside_the_store_layer(module: str) -> bool:
    """One of our modules that the store may not import."""
    if module != "liveeval" and not module.startswith("liveeval."):
        return False
    return not any(module == ok or module.startswith(ok + ".") for ok in ALLOWED)


def test_the_store_has_modules_to_check() -> None:
    assert len(STORE_MODULES) > 10


@pytest.mark.parametrize("path", STORE_MODULES, ids=lambda p: str(p.relative_to(STORE)))
def test_store_imports_only_store_and_model(path: Path) -> None:
    wrong = [
        f"{path.relative_to(SOURCE)}:{line} imports {module}"
        for line, module in imports_of(path.read_text(), package_of(path))
        if outside_the_store_layer(module)
    ]
    assert not wrong, "the store may import only liveeval.store and liveeval.model:\n" + (
        "\n".join(wrong)
    )


def test_deferred_and_relative_imports_are_seen() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from liveeval.ingest.otlp import decode_span\n"
        "def f():\n"
        "    from ..monitor.rollup import sum_by\n"
        "    from . import schema\n"
        "    import liveeval.gate.divergence\n"
    )
    modules = [module for _, module in imports_of(source, "liveeval.store")]
    assert modules == [
        "typing",
        "liveeval.ingest.otlp",
        "liveeval.monitor.rollup",
        "liveeval.store",
        "liveeval.gate.divergence",
    ]
    assert [outside_the_store_layer(m) for m in modules] == [False, True, True, False, True]
    assert not outside_the_store_layer("liveeval.model.rollup")
    assert outside_the_store_layer("liveeval")
