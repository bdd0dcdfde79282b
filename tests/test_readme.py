"""The README's promises: its first two commands are the install+demo and the CI test command, and its
extension example runs as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mdfs

from .conftest import ROOT, read_dir, write_jsonl

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    commands = re.findall(r"```bash\n(.+?)\n```", README, flags=re.DOTALL)[:2]
    assert "mdfs run configs/demo.yaml" in commands[0] and "pip install -e ." in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci


def test_readme_extension_example_runs(tmp_path, monkeypatch, tiny_model):
    section = README.split("## Extending", 1)[1]
    blocks = re.findall(r"```python\n(.+?)```", section, flags=re.DOTALL)
    (tmp_path / "readme_example.py").write_text("\n".join(blocks[:2]), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yaml_block = re.findall(r"```yaml\n(.+?)```", section, flags=re.DOTALL)[0]
    recipe = yaml_block.replace("mypkg.filters", "readme_example")
    (tmp_path / "recipe.yaml").write_text(recipe, encoding="utf-8")
    write_jsonl(tmp_path / "in" / "x.jsonl",
                [{"id": "a", "text": "正常的文章内容"}, {"id": "b", "text": "加微信领红包"}])
    s = mdfs.run(str(tmp_path / "recipe.yaml"), str(tmp_path / "in"), str(tmp_path / "out"), engine="serial",
                 progress=False)
    assert s.stages["no_ads"].reasons == {"keyword": 1}
    assert [r["id"] for r in read_dir(tmp_path / "out" / "data")] == ["a"]
    sys.modules.pop("readme_example", None)


@pytest.mark.slow
def test_readme_extension_runs_from_the_current_folder_without_pythonpath(tmp_path, tiny_model):
    """`mdfs run` with a custom stage in a module of the current folder: no PYTHONPATH, Ray workers too."""
    section = README.split("## Extending", 1)[1]
    blocks = re.findall(r"```python\n(.+?)```", section, flags=re.DOTALL)
    (tmp_path / "my_filters.py").write_text("\n".join(blocks[:2]), encoding="utf-8")
    yaml_block = re.findall(r"```yaml\n(.+?)```", section, flags=re.DOTALL)[0]
    (tmp_path / "recipe.yaml").write_text(yaml_block.replace("mypkg.filters", "my_filters"), encoding="utf-8")
    write_jsonl(tmp_path / "in" / "x.jsonl",
                [{"id": "a", "text": "正常的文章内容"}, {"id": "b", "text": "加微信领红包"}])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    mdfs_script = Path(sys.executable).parent / "mdfs"
    proc = subprocess.run([str(mdfs_script), "run", "recipe.yaml", "-i", "in", "-o", "out", "--workers", "1",
                           "--no-progress", "--no-report"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [r["id"] for r in read_dir(tmp_path / "out" / "data")] == ["a"]
