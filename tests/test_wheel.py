"""mdfs as a cluster node gets it: a wheel built from this tree, installed into a fresh venv, runs the
default recipe from a folder outside the repository. The wheel holds the library, the stages, recipes,
models and lexicons under `mdfs`, and neither tooling nor a top-level `stages`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, make_docs, write_jsonl

pytestmark = pytest.mark.slow
SOURCES = ("pyproject.toml", "README.md", "mdfs", "stages", "configs")  # what a build reads


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the tree, offline, so the build leaves nothing (build/, *.egg-info) in it."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp / "dist")], check=True, capture_output=True, timeout=600)
    (built,) = (tmp / "dist").glob("mdfs-*.whl")
    return built


def fresh_venv(folder: Path) -> Path:
    """A venv without mdfs that sees this venv's dependencies (a .pth line: no download, no reinstall).
    A path in a .pth file is not a site dir, so the editable install's finder there is not loaded."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "mdfs_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def installed_name(path: Path) -> str:
    """Where a file of this tree lands in the wheel: stages/ and configs/ go under mdfs/."""
    rel = path.relative_to(ROOT).as_posix()
    return rel if rel.startswith("mdfs/") else f"mdfs/{rel}"


def test_wheel_holds_the_package_and_no_tooling(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = ("mdfs/**/*.py", "stages/**/*.py", "configs/*.py", "configs/*.yaml", "stages/models/*.ftz",
               "stages/models/*.ftz.json", "stages/models/*.npz", "stages/lexicons/*.txt")
    expected = {installed_name(p) for pattern in bundled for p in ROOT.glob(pattern)}
    assert {"mdfs/configs/zh_web.yaml", "mdfs/stages/models/page_zh.ftz",
            "mdfs/stages/rules/lexicon.py"} <= expected
    assert expected <= names, sorted(expected - names)
    assert not {n for n in names if n.split("/")[0] in ("stages", "tools", "tests", "configs")}
    assert not {n for n in names if "/bench/" in n or "/train_" in n}


def test_installed_wheel_runs_the_default_recipe_outside_the_repo(wheel, tmp_path):
    python = fresh_venv(tmp_path / "venv")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--ignore-installed", "-q", str(wheel)], check=True, capture_output=True, timeout=300)
    work = tmp_path / "elsewhere"
    write_jsonl(work / "raw" / "docs.jsonl", make_docs(40))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([python, "-c",
                            "import mdfs, mdfs.stages.coarse as c; print(mdfs.__file__, c.__file__)"],
                           cwd=work, env=env, check=True, capture_output=True, text=True).stdout.split()
    assert all(Path(f).is_relative_to(tmp_path / "venv") for f in where), where  # the wheel's, not the repo's
    proc = subprocess.run([python.parent / "mdfs", "run", "--input", "raw", "--output", "out", "--workers",
                           "2",
                           "--no-progress"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "conservation OK: 40 in" in proc.stdout + proc.stderr
    assert list((work / "out" / "data").glob("*.parquet"))
