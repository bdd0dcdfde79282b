import pytest

from mdfs.cli import main
from mdfs.config import DEFAULT_CONFIG, format_loc, load_config
from mdfs.errors import ConfigError
from mdfs.plan import compile_plan, describe

from .conftest import ROOT


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_bundled_configs_validate():
    for name in ("zh_web.yaml", "demo.yaml", "tiny.yaml"):
        cfg = load_config(ROOT / "configs" / name)
        assert [s.name for s in cfg.stages][:2] == ["collection", "coarse"]
        compile_plan(cfg)
    assert DEFAULT_CONFIG.name == "zh_web.yaml"


def test_bad_stage_value_names_the_key_path(tmp_path):
    p = write(tmp_path, "stages:\n  - name: collection\n  - name: coarse\n    with: {min_chars: -1}\n")
    with pytest.raises(ConfigError) as e:
        compile_plan(load_config(p))
    assert "stages[1].with.min_chars: Input should be ≥ 0" in str(e.value)


def test_unknown_keys_fail_with_their_path(tmp_path):
    with pytest.raises(ConfigError, match=r"engine.wokers: Extra inputs are not permitted"):
        load_config(write(tmp_path, "engine: {wokers: 2}\n"))
    p = write(tmp_path, "stages:\n  - name: coarse\n    with: {min_chr: 3}\n")
    with pytest.raises(ConfigError, match=r"stages\[0\].with.min_chr: Extra inputs"):
        compile_plan(load_config(p))
    with pytest.raises(ConfigError, match=r"unknown stage 'nope'"):
        compile_plan(load_config(write(tmp_path, "stages:\n  - name: nope\n")))
    with pytest.raises(ConfigError, match=r"cannot import no_such_module"):
        compile_plan(load_config(write(tmp_path, "stages:\n  - name: x\n    uses: no_such_module:Stage\n")))


def test_overrides_address_stages_by_name():
    cfg = load_config(ROOT / "configs" / "tiny.yaml", ["stages.coarse.min_chars=200", "engine.workers=3",
                                                       "stages.quality.enabled=false"])
    coarse = next(s for s in cfg.stages if s.name == "coarse")
    assert coarse.with_["min_chars"] == 200 and cfg.engine.workers == 3
    assert not next(s for s in cfg.stages if s.name == "quality").enabled
    with pytest.raises(ConfigError, match="no stage named 'nope'"):
        load_config(ROOT / "configs" / "tiny.yaml", ["stages.nope.x=1"])


def test_config_hash_ignores_engine_and_output_location():
    a = load_config(ROOT / "configs" / "tiny.yaml", ["engine.kind=serial", "output.path=/a"])
    b = load_config(ROOT / "configs" / "tiny.yaml", ["engine.workers=7", "output.path=/b"])
    c = load_config(ROOT / "configs" / "tiny.yaml", ["stages.coarse.min_chars=7"])
    assert a.content_hash() == b.content_hash() != c.content_hash()


def test_format_loc():
    assert format_loc(("stages", 1, "with", "min_chars")) == "stages[1].with.min_chars"


def test_validate_command_prints_plan(capsys, tmp_path):
    assert main(["validate", str(ROOT / "configs" / "tiny.yaml")]) == 0
    out = capsys.readouterr().out
    assert "segment 1" in out and "global dedup" in out and "config OK" in out
    assert main(["validate", str(write(tmp_path, "stages: [{name: coarse, with: {min_chars: x}}]"))]) == 2
    assert "stages[0].with.min_chars" in capsys.readouterr().err
    assert "collection" in describe(compile_plan(load_config(None)))


def test_old_dotted_paths_of_builtin_stages_still_work(tmp_path):
    """Recipes written when the stages were a top-level `stages` package name them `stages.…`: that now means
    `mdfs.stages.…`, the installed module, never a second copy imported from a checkout."""
    from mdfs.registry import build_stage, load_object
    from mdfs.stages.coarse import CoarseFilter

    cfg = load_config(write(tmp_path, "stages:\n  - {name: coarse, uses: stages.coarse:CoarseFilter}\n"))
    assert type(build_stage(cfg.stages[0], 0)) is CoarseFilter
    assert load_object("stages.rules.chars.ratio") is load_object("mdfs.stages.rules.chars:ratio")
    with pytest.raises(ConfigError, match="cannot import stages.nope"):
        load_object("stages.nope:X")
