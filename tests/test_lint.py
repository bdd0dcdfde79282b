"""ruff (pinned in the test extras) over the whole repository, with pyproject.toml's rules and its line
length: run by the README's test command, so by CI."""

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def test_ruff_passes():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: pip install -e '.[test]'"
    proc = subprocess.run([ruff, "check", "--no-cache", str(ROOT)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
