"""Write the public names of every joblib 1.6 module to a JSON file.

Run it with the interpreter that has the real joblib 1.6.0 installed::

    /work/refvenv/bin/python tools/joblib16_surface.py tests/data/joblib16_public_names.json

A name counts when it has no leading underscore and the module either
defines it (top-level assignment, ``def``, ``class``) or imports it from
joblib itself (a relative import or ``joblib.*``).  Names that 1.6 merely
imported from the standard library or a third-party package (``os``,
``Path``, ``loky``...) are left out: they are not joblib's surface.
tests/test_public_surface_16.py compares the list with this package.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import pkgutil
import sys


def _module_names(package) -> list[str]:
    names = [package.__name__]
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        leaf = info.name.rsplit(".", 1)[1]
        if leaf in ("test", "externals") or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


def _own_names(source: str, package: str) -> set[str]:
    """Names a module's top level defines or imports from joblib."""
    names: set[str] = set()
    tree = ast.parse(source)
    for node in tree.body:
        names |= _names_of(node, package)
    # ``try: import lz4 / except ImportError: lz4 = None``: a module, not a name.
    modules = {(a.asname or a.name).split(".")[0]
               for node in ast.walk(tree) if isinstance(node, ast.Import)
               for a in node.names}
    return names - modules


def _names_of(node, package: str) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, ast.ImportFrom):
        if node.level or (node.module or "").startswith(package):
            return {(a.asname or a.name) for a in node.names if a.name != "*"}
        return set()
    if isinstance(node, (ast.If, ast.Try)):
        found = set()
        for child in ast.iter_child_nodes(node):
            found |= _names_of(child, package)
        for handler in getattr(node, "handlers", []):
            for child in handler.body:
                found |= _names_of(child, package)
        return found
    return set()


def _is_joblib_name(module, name: str, package: str) -> bool:
    """Present, and not a third-party module (or its None stand-in)."""
    if not hasattr(module, name):
        return False
    value = getattr(module, name)
    if value is None:  # ``from .compressor import lz4``, lz4 not installed
        return False
    return not (inspect.ismodule(value) and not value.__name__.startswith(package))


def surface(package_name: str = "joblib") -> dict[str, list[str]]:
    package = importlib.import_module(package_name)
    result = {}
    for name in _module_names(package):
        try:
            module = importlib.import_module(name)
        except ImportError:  # joblib.testing needs pytest: read its source only
            module = None
        spec = importlib.util.find_spec(name)
        with open(spec.origin, encoding="utf-8") as f:
            own = _own_names(f.read(), package_name)
        public = {n for n in own if not n.startswith("_")
                  and (module is None or _is_joblib_name(module, n, package_name))}
        result[name] = sorted(public)
    return result


def main(argv: list[str]) -> int:
    import joblib

    data = {"joblib_version": joblib.__version__, "modules": surface()}
    with open(argv[1], "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
