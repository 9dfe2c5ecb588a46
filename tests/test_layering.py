"""The package's layering, checked on the source (issue #17, item 5).

Layers, bottom to top (docs/architecture.rst draws them):

- base: disk, logger, multiprocessing probe, externals, atomic file writes;
- hashing, persistence (compressor, _persist, numpy_pickle), stores
  (_store, _store_backends), Memory (_memory, func_inspect, memory);
- parallel core (_parallel, with the backend interface), memmapping
  (_parallel/memmapping), backends (_parallel/backends);
- the surface: joblib, joblib.parallel and the 1.6 compatibility shims.

Rules checked here:

1. A module-level import never points to a higher layer, nor across the
   Memory/parallel stacks.
2. Only surface modules import the compatibility shims (they are for users).
3. A function-level import that points up (or across the stacks) is listed
   in ``DEFERRED`` with its reason (a cycle, a call-time accessor).
   Deferred imports that point down only delay loading (import speed, e.g.
   ``import joblib.parallel`` stays light for the warm start).
4. Every function-level import says why it is not at module level, in a
   comment on its line or on the line above (``# optional dependency``,
   ``# numpy is optional at import``, ``# cycle: X imports this module``,
   ``# lazy: keeps import joblib.parallel light``...). One comment above a
   group of consecutive imports covers the group.

When this test fails after your change: import from the module where the
code lives, at module level; if that makes a cycle, the code is in the wrong
layer (move it down) or, as a last resort, add a deferred import to
``DEFERRED`` with a one-line reason.
"""

import ast
import os

import joblib

ROOT = os.path.dirname(joblib.__file__)

# Re-export files kept only for joblib 1.6's import paths.
SHIMS = {
    "joblib._dask",
    "joblib._memmapping_reducer",
    "joblib._parallel_backends",
    "joblib._utils",
    "joblib.backports",
    "joblib.executor",
    "joblib.numpy_pickle_utils",
    "joblib.pool",
}
SURFACE = SHIMS | {"joblib", "joblib.parallel", "joblib.__main__"}

# Layer of each module, by longest matching prefix.
LAYER_OF_PREFIX = {
    "joblib.disk": "base",
    "joblib.logger": "base",
    "joblib.testing": "base",
    "joblib._multiprocessing_helpers": "base",
    "joblib._cloudpickle_wrapper": "base",
    "joblib.externals": "base",
    "joblib._versions": "base",
    "joblib._store.atomic": "base",  # a file-system primitive, used by dump too
    "joblib._hashing": "hashing",
    "joblib.hashing": "hashing",
    "joblib.compressor": "persistence",
    "joblib._persist": "persistence",
    "joblib.numpy_pickle": "persistence",
    "joblib.numpy_pickle_compat": "persistence",
    "joblib._store": "stores",
    "joblib._store_backends": "stores",
    "joblib._memory": "memory",
    "joblib.func_inspect": "memory",
    "joblib.memory": "memory",
    "joblib._parallel": "parallel_core",
    "joblib._parallel.backends.base": "parallel_core",  # the backend interface
    "joblib._parallel.backends.traceback_capture": "parallel_core",
    "joblib._parallel.memmapping": "memmapping",
    # Broadcast values go to workers as memmapped files: above memmapping.
    "joblib._parallel.workers.broadcast_files": "workers",
    "joblib._parallel.backends": "backends",
    "joblib._cli": "surface",
}
ALLOWED = {
    "base": {"base"},
    "hashing": {"base", "hashing"},
    "persistence": {"base", "persistence"},
    "stores": {"base", "persistence", "stores"},
    "memory": {"base", "hashing", "persistence", "stores", "memory"},
    "parallel_core": {"base", "parallel_core"},
    "memmapping": {"base", "persistence", "parallel_core", "memmapping"},
    "workers": {"base", "parallel_core", "memmapping", "workers"},
    "backends": {"base", "parallel_core", "memmapping", "workers", "backends"},
}

# Call-time accessors of the globals users patch at their 1.6 home (the
# one upward reference the layering allows; see CONVENTIONS).
ACCESSORS = {
    ("joblib._memory.hooks", "joblib.memory"),
    ("joblib._parallel.memmapping.temp_folders", "joblib._memmapping_reducer"),
}

# (importer, imported): why this import points up (or across the stacks) and
# so sits in a function.
DEFERRED = {
    **{pair: "call-time accessor of patchable globals" for pair in ACCESSORS},
    ("joblib._parallel.backends.base", "joblib._parallel.backends.sequential"): "cycle: they subclass the base",
    ("joblib._parallel.backends.base", "joblib._parallel.backends.thread_pool"): "cycle: they subclass the base",
    ("joblib._parallel.memmapping.executor", "joblib._parallel.backends.loky_warm"): "loky's warm start, owned by the loky backend",
    ("joblib.numpy_pickle", "joblib._parallel.memmapping.array_files"): "1.6's load_temporary_memmap reaches the parallel layer",
    ("joblib._parallel.workers.broadcast", "joblib._parallel.workers.broadcast_files"): "owned by the workers work (#16): large broadcast values only",
    ("joblib._parallel.fault_tolerance.errors", "joblib._parallel.backends.pool_watch"): "owned by the fault-tolerance work (#12): core reaches into a backend",
    ("joblib._parallel.fault_tolerance.run", "joblib._parallel.backends.loky_backend"): "owned by the fault-tolerance work (#12): runner chosen by backend class",
    ("joblib._parallel.fault_tolerance.run", "joblib._parallel.backends.mp_pool"): "owned by the fault-tolerance work (#12): runner chosen by backend class",
    ("joblib._parallel.fault_tolerance.run", "joblib._parallel.backends.sequential"): "owned by the fault-tolerance work (#12): runner chosen by backend class",
    ("joblib._parallel.fault_tolerance.run", "joblib._parallel.backends.thread_pool"): "owned by the fault-tolerance work (#12): runner chosen by backend class",
}


def _modules():
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
            is_package = rel.endswith(".__init__")
            found[rel[: -len(".__init__")] if is_package else rel] = (path, is_package)
    return found


MODULES = _modules()


def _layer(module):
    if module in SURFACE:
        return "surface"
    best = max((p for p in LAYER_OF_PREFIX if module == p or module.startswith(p + ".")),
               key=len, default=None)
    # A new top-level module is unchecked until it is given a layer here.
    return "surface" if best is None else LAYER_OF_PREFIX[best]


def _targets(module, is_package, node):
    """The joblib modules (or the package) an import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    else:
        base = node.module
    out = []
    for alias in node.names:
        sub = base + "." + alias.name
        out.append(sub if sub in MODULES else base)
    return out


def _owning_module(name):
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module):
    """Yield ``(imported module, at module level?)`` for ``module``."""
    path, is_package = MODULES[module]
    tree = ast.parse(open(path, encoding="utf-8").read())
    deferred = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            deferred.update(id(n) for n in ast.walk(node)
                            if isinstance(n, (ast.Import, ast.ImportFrom)))
    type_checking = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            type_checking.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in type_checking:
            continue
        for target in _targets(module, is_package, node):
            if target == "joblib" or target.startswith("joblib.") or target == "importlib":
                yield _owning_module(target), id(node) not in deferred


def test_module_level_imports_point_down():
    wrong = []
    for module in sorted(MODULES):
        layer = _layer(module)
        if layer == "surface":
            continue
        for target, top_level in _imports(module):
            if top_level and target in MODULES and target != "joblib":
                if _layer(target) not in ALLOWED[layer]:
                    wrong.append("%s (%s) imports %s (%s)" % (module, layer, target, _layer(target)))
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_only_the_surface_imports_compatibility_shims():
    wrong = [
        "%s imports the compatibility module %s" % (module, target)
        for module in sorted(MODULES) if module not in SURFACE
        for target, _ in _imports(module)
        if target in SHIMS and (module, target) not in ACCESSORS
    ]
    assert not wrong, "\n".join(wrong)


def test_deferred_imports_against_the_layers_have_a_reason():
    # A deferred import that points up (or across stacks) hides a dependency
    # the layering forbids: each one needs its reason here. Deferred imports
    # that point down only delay loading (import speed) and are free.
    unexplained = sorted(
        "%s imports %s inside a function" % (module, target)
        for module in MODULES if _layer(module) != "surface"
        for target, top_level in _imports(module)
        if not top_level and target in MODULES and target != "joblib"
        and _layer(target) not in ALLOWED[_layer(module)]
        and (module, target) not in DEFERRED
    )
    assert not unexplained, (
        "move these imports to module level, or list them in DEFERRED with "
        "the reason (cycle, import speed):\n" + "\n".join(unexplained)
    )


def _unexplained_function_imports(source):
    """Line numbers of the function-level imports of ``source`` that have
    no comment on their line(s) nor on the line above (rule 4)."""
    lines = source.splitlines()
    explained = set()
    unexplained = []
    nodes = sorted(
        {(sub.lineno, sub.end_lineno)
         for node in ast.walk(ast.parse(source))
         if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
         for sub in ast.walk(node) if isinstance(sub, (ast.Import, ast.ImportFrom))})
    for first, last in nodes:
        above = lines[first - 2].strip() if first >= 2 else ""
        if (any("#" in lines[i - 1] for i in range(first, last + 1))
                or above.startswith("#") or first - 1 in explained):
            explained.update(range(first, last + 1))
        else:
            unexplained.append(first)
    return unexplained


def test_the_import_comment_check_can_fail():
    source = (
        "def f():\n"
        "    import json  # lazy: only when asked for\n"
        "    # optional dependency\n"
        "    import numpy\n"
        "    import scipy\n"
        "\n"
        "    import zlib\n"
        "    return json, numpy, scipy, zlib\n"
    )
    assert _unexplained_function_imports(source) == [7]


def test_function_level_imports_say_why():
    missing = []
    for module in sorted(MODULES):
        path, _ = MODULES[module]
        with open(path, encoding="utf-8") as f:
            source = f.read()
        for lineno in _unexplained_function_imports(source):
            line = source.splitlines()[lineno - 1].strip()
            missing.append("%s:%d %s" % (os.path.relpath(path, os.path.dirname(ROOT)), lineno, line))
    assert not missing, (
        "move these imports to module level, or say why they stay in the "
        "function in a comment on their line or the line above (optional "
        "dependency, cycle, lazy: keeps import joblib.parallel light, "
        "call-time: patchable global...):\n" + "\n".join(missing)
    )
