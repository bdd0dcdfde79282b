"""Files shipped inside the package (recipes, models, lexicons).

In the repository they sit in `configs/` and `stages/`; installed, they are package data of `mdfs.configs`
and `mdfs.stages` (pyproject.toml maps the folders). Asking importlib.resources for them finds the same
files from a checkout, an editable install and a wheel; a path relative to the repository would not.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def bundled(package: str, *parts: str) -> Path:
    """A bundled file or folder of `package` as a path (mdfs installs as files, never zipped: fastText and
    the lexicon readers open models by path)."""
    return Path(str(files(package).joinpath(*parts)))
