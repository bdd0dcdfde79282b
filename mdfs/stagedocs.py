"""`mdfs stages`: the built-in stages, what each does, and every parameter with its type, default and
description, read from the stages' own pydantic models (so the listing cannot drift from the code)."""

from __future__ import annotations

import inspect
import json

from pydantic import BaseModel

from mdfs.registry import BUILTIN_STAGES, load_object
from mdfs.stage import GlobalStage


def stage_info(name: str) -> dict:
    cls = load_object(BUILTIN_STAGES[name], f"built-in stage {name}")
    own = cls.__dict__.get("__doc__")  # not the base class's docstring
    doc = inspect.cleandoc(own) if own else inspect.getdoc(inspect.getmodule(cls)) or ""
    return {"name": name, "class": BUILTIN_STAGES[name], "global": issubclass(cls, GlobalStage),
            "summary": doc.split("\n\n")[0].replace("\n", " "), "params": _fields(cls.Params)}


def _fields(model: type[BaseModel], prefix: str = "") -> list[dict]:
    out = []
    for key, field in model.model_fields.items():
        name = prefix + (field.alias or key)
        sub = field.annotation if isinstance(field.annotation, type) \
            and issubclass(field.annotation, BaseModel) \
            else None
        if sub is not None:
            out += _fields(sub, name + ".")
            continue
        default = field.get_default(call_default_factory=True)
        out.append({"name": name, "type": _type_name(field.annotation),
                    "default": json.loads(json.dumps(default, default=_plain)),
                    "description": field.description or ""})
    return out


def _plain(value):
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else str(value)


def _type_name(annotation) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    return text or str(annotation).replace("typing.", "")


def format_stages(infos: list[dict], verbose: bool) -> str:
    lines = []
    for info in infos:
        kind = "global stage" if info["global"] else "stage"
        lines.append(f"{info['name']}  ({kind}, {info['class']})")
        lines.append(f"  {info['summary']}")
        if verbose:
            for p in info["params"]:
                default = json.dumps(p["default"], ensure_ascii=False)
                if len(default) > 60:
                    default = default[:57] + "..."
                desc = f"  {p['description']}" if p["description"] else ""
                lines.append(f"    {p['name']}: {p['type']} = {default}{desc}")
        lines.append("")
    return "\n".join(lines)
