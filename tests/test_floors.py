"""The floors are a contract (issue 10): import-linter checks them, and the checks can fail.

- the real tree keeps every contract in pyproject.toml;
- a copy of the tree with one deliberate upward import breaks the layer contract, and one with
  Django imported into the pure rules breaks the purity contract (so neither check is a no-op);
- imports hidden inside function bodies between project modules stay few, and each says why.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("safety_portal", "accounts", "messaging", "moderation")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Body imports allowed, each with a `# body import: <reason>` comment on its line or the line
# above (app `ready()` hooks, the audit and outbox package doors). Lower it when one goes.
BODY_IMPORT_LIMIT = 14
MARKER = "# body import:"


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True
    )


def _copy_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "migrations"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_real_tree_keeps_every_import_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_from_a_lower_floor_breaks_the_layer_contract(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    models = tree / "accounts" / "managers" / "restrictions.py"
    models.write_text(models.read_text() + "\nimport moderation.models  # deliberate\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "Floors: roof -> moderation" in result.stdout
    assert "accounts.managers.restrictions -> moderation.models" in result.stdout


def test_django_in_the_pure_rules_breaks_the_purity_contract(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    ages = tree / "safety_portal" / "rules" / "ages.py"
    ages.write_text(ages.read_text() + "\nimport django.db  # deliberate\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "The rules are pure" in result.stdout
    assert "safety_portal.rules.ages -> django" in result.stdout


def _body_imports() -> list[tuple[str, int, bool]]:
    """(file:line, line number, has a reason) of every project import inside a function."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            lines = path.read_text().splitlines()
            tree = ast.parse("\n".join(lines))
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom):
                        names = [("." * node.level) + (node.module or "")]
                    elif isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    else:
                        continue
                    if not any(n.startswith(".") or n.split(".")[0] in PACKAGES for n in names):
                        continue
                    here, above = lines[node.lineno - 1], lines[node.lineno - 2]
                    reason = MARKER in here or above.strip().startswith(MARKER)
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.append((where, node.lineno, reason))
    return sorted(set(found))


def test_imports_inside_functions_are_few_and_each_says_why() -> None:
    found = _body_imports()
    unexplained = [where for where, _, reason in found if not reason]
    assert unexplained == [], f"add '{MARKER} <why>' or move to the top: {unexplained}"
    assert len(found) <= BODY_IMPORT_LIMIT, [where for where, _, _ in found]


def test_the_body_import_count_sees_an_import_hidden_in_a_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counter itself can fail: a hidden import in a copy of the tree is found."""
    tree = _copy_tree(tmp_path)
    (tree / "messaging" / "zz_hidden.py").write_text(
        "def later():\n    from safety_portal.core import clock\n\n    return clock\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tree)
    found = {where: reason for where, _, reason in _body_imports()}
    assert found["messaging/zz_hidden.py:2"] is False


def _history_callers(root: Path) -> list[str]:
    """Modules that name `seeding_history` (the demo's moved clock), besides the clock itself."""
    callers = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "seeding_history" in path.read_text() and path.name != "clock.py":
                callers.append(str(path.relative_to(root)))
    return callers


def test_only_the_demo_seeders_move_the_clock() -> None:
    """`clock.seeding_history` writes history as of a past moment; a request or a task using it
    would make the audit log lie about when things happened."""
    assert _history_callers(ROOT)
    assert all(path.endswith("demo.py") for path in _history_callers(ROOT)), _history_callers(ROOT)


def test_the_clock_check_sees_a_view_that_moves_the_clock(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    (tree / "moderation" / "zz_view.py").write_text(
        "from safety_portal.core import clock\n\nwith clock.seeding_history(None):\n    pass\n"
    )
    assert "moderation/zz_view.py" in _history_callers(tree)
