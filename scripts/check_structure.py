"""Structure gate for the library: no import cycles, no overlong modules or functions.

    python scripts/check_structure.py [--max-module 600] [--max-function 60] [--quiet]

Reads the source with ``ast`` (nothing is imported or run). Every import of a project
module counts as an edge, lazy imports inside functions and imports for type checking
included: a cycle through either still ties two stages together.
Exits 1 and lists the offenders when a limit is broken; tests are not checked.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("assistant", "ui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for pkg in PACKAGES:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, wherever it stands."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """module → the project modules it imports (a ``from pkg import name`` that names a
    submodule points at the submodule)."""
    files = {module_name(p): p for p in source_files()}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        is_pkg = path.name == "__init__.py"
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                target = _resolve(mod, is_pkg, node)
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in files else target
                           for a in node.names]
            for t in targets:
                while t and t not in files:
                    t = t.rpartition(".")[0]
                # a module importing its own package's __init__ is how re-exports work
                if t and t != mod and not mod.startswith(t + "."):
                    graph[mod].add(t)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def long_functions(limit: int) -> list[tuple[str, int]]:
    found = []
    for path in source_files():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > limit:
                    rel = path.relative_to(ROOT).as_posix()
                    found.append((f"{rel}:{node.lineno} {node.name}", n))
    return found


def long_modules(limit: int) -> list[tuple[str, int]]:
    found = []
    for path in source_files():
        n = len(path.read_text("utf-8").splitlines())
        if n > limit:
            found.append((path.relative_to(ROOT).as_posix(), n))
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-module", type=int, default=600)
    ap.add_argument("--max-function", type=int, default=60)
    ap.add_argument("--quiet", action="store_true", help="print only problems")
    args = ap.parse_args(argv)
    graph = import_graph()
    problems = [f"import cycle: {' ↔ '.join(c)}" for c in find_cycles(graph)]
    problems += [f"module over {args.max_module} lines: {m} ({n})"
                 for m, n in long_modules(args.max_module)]
    problems += [f"function over {args.max_function} lines: {f} ({n})"
                 for f, n in long_functions(args.max_function)]
    for p in problems:
        print(p, file=sys.stderr)
    if not args.quiet or problems:
        edges = sum(len(v) for v in graph.values())
        print(f"structure: {len(graph)} modules, {edges} import edges, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
