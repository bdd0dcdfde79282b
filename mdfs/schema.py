"""One schema for what a run writes, whatever the stages produced.

- Counts are int64 and scores float32 in every stage (`pc.utf8_length` gives int32, numpy float64):
  a column means the same type in the corpus, the rejects and across runs.
- Columns only web input can fill (fetch date, WARC record id, content type, HTTP and detected charset,
  the undecoded payload) are left out of a run that reads no WARC or HTML: they would be null in every row.
"""

from __future__ import annotations

import pyarrow as pa

WEB_ONLY = ("fetch_date", "warc_record_id", "content_type", "http_charset", "charset", "raw")


def uniform(table: pa.Table, web_input: bool = True) -> pa.Table:
    if not web_input:
        table = table.drop_columns([c for c in WEB_ONLY if c in table.column_names])
    fields = []
    for f in table.schema:
        if pa.types.is_integer(f.type) and f.type != pa.int64():
            f = f.with_type(pa.int64())
        elif pa.types.is_floating(f.type) and f.type != pa.float32() and "__" in f.name:
            f = f.with_type(pa.float32())
        fields.append(f)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return table if schema == table.schema else table.cast(schema)
