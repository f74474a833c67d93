"""Layering is enforced, not hoped for: the import-linter contracts in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(lint), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_layer_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_contracts_catch_a_framework_import_in_the_domain(tmp_path: Path) -> None:
    """The same contracts, run over a copy of the package with one forbidden import added."""
    import shutil

    shutil.copytree(ROOT / "src", tmp_path / "src")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src/kalamna/domain/leak.py").write_text(textwrap.dedent("import litestar  # noqa\n"))
    import os

    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode != 0
    assert "kalamna.domain.leak" in result.stdout
