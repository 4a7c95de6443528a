"""The rules floor imports no Django: loading all of it leaves Django out of the interpreter."""

from __future__ import annotations

import subprocess
import sys


def test_importing_every_rule_module_loads_no_django() -> None:
    code = (
        "import sys, safety_portal.rules as r; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'celery', 'rest_framework'}))"
    )
    # Not `import safety_portal`: the project package starts Celery (the roof); the rules are a
    # namespace below it, so they are loaded by file path the way the import system would.
    loader = (
        "import importlib.util, pathlib, sys; "
        "root = pathlib.Path('safety_portal'); "
        "spec = importlib.util.spec_from_file_location('safety_portal', root / '__init__.py', "
        "submodule_search_locations=[str(root)]); "
        "pkg = importlib.util.module_from_spec(spec); sys.modules['safety_portal'] = pkg; "
    )
    result = subprocess.run(
        [sys.executable, "-c", loader + code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
