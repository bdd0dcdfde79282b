"""Input fields mdfs does not consume (title, licence, date, language tags, nested structs…) travel with
each document to the corpus and the rejects, so that lineage and licence tracking survive a run.

Each kept field becomes a column named `input.metadata_prefix + field`. A name that mdfs itself writes
(`source`, `domain`, `lang`, any `<stage>__<metric>`) is never overwritten: the input field is kept as
`input_<name>` instead. `input.metadata` selects: `keep` (all), `drop` (none) or a list of field names.
Parquet columns keep their Arrow types, nested ones included; JSON values are typed by Arrow's inference
per batch, and a field whose values do not share one type (a number here, a string there) is kept as
JSON text so that nothing is lost.
"""

from __future__ import annotations

import json

import pyarrow as pa

MDFS_FIELDS = frozenset({"id", "text", "url", "source", "domain", "fetch_date", "warc_record_id",
                         "content_type", "http_charset", "raw", "charset", "lang", "lang_score",
                         "text_original"})


def wanted(field: str, cfg) -> bool:
    """Is this input field kept (consumed fields excluded by the caller)?"""
    if cfg.metadata == "keep":
        return True
    if cfg.metadata == "drop":
        return False
    return field in cfg.metadata


def column_name(field: str, prefix: str) -> str:
    """`prefix + field`; `input_…` where mdfs writes that name; `__` (mdfs's score separator) made `_`."""
    name = prefix + field
    if "__" in name:
        name = "input_" + name.replace("__", "_")
    return f"input_{name}" if name in MDFS_FIELDS else name


def is_metadata(name: str) -> bool:
    """A column that came from the input (not one of mdfs's own, not a score, not internal)."""
    return name not in MDFS_FIELDS and "__" not in name


def columns_from_records(records: list[dict | None], prefix: str) -> dict[str, pa.Array]:
    """Arrow columns from per-document dicts of kept fields (None: a document without metadata)."""
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r or ()))
    out = {}
    for field in names:
        values = [None if r is None else r.get(field) for r in records]
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            array = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in values],
                             pa.string())
        out[column_name(field, prefix)] = array
    return out


def concat(tables: list[pa.Table]) -> pa.Table:
    """Batches of one shard as one table. Batches may differ in columns (input fields present in some
    records only) and, for JSON input, in a field's inferred type; a field whose types cannot be
    promoted to one becomes JSON text in every batch, as within a batch."""
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        _, clash = unified_schema([t.schema for t in tables])
        return pa.concat_tables([_as_json(t, clash) for t in tables], promote_options="permissive")


def unified_schema(schemas: list[pa.Schema]) -> tuple[pa.Schema, set[str]]:
    """One schema for tables that may differ in columns and in a field's type; the fields whose types
    cannot be promoted to one are returned too: they are written as JSON text."""
    types: dict[str, set] = {}
    for schema in schemas:
        for f in schema:
            types.setdefault(f.name, set()).add(f.type)
    clash = {n for n, ts in types.items() if len(ts - {pa.null()}) > 1}
    try:
        return pa.unify_schemas(schemas, promote_options="permissive"), set()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        fixed = [pa.schema([f.with_type(pa.string()) if f.name in clash else f for f in s]) for s in schemas]
        return pa.unify_schemas(fixed, promote_options="permissive"), clash


def conform(table: pa.Table, schema: pa.Schema, clash: set[str]) -> pa.Table:
    """`table` with every column of `schema`, in its order and types (missing ones null)."""
    table = _as_json(table, clash)
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.table(columns, schema=schema)


def _json_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _as_json(table: pa.Table, names: set[str]) -> pa.Table:
    for name in names & set(table.column_names):
        text = pa.array([_json_text(v) for v in table.column(name).to_pylist()], pa.string())
        table = table.set_column(table.schema.get_field_index(name), name, text)
    return table
