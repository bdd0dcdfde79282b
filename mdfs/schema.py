"""One schema for what a run writes, whatever the stages produced.

- Counts are int64 and scores float32 in every stage's `<stage>__<metric>` columns (`pc.utf8_length`
  gives int32, numpy float64): a column means the same type in the corpus, the rejects and across runs.
  Input columns (metadata) keep their types.
- Columns only web input can fill (fetch date, WARC record id, content type, HTTP and detected charset,
  the undecoded payload) are left out of a run that reads no WARC or HTML: they would be null in every row.
"""

from __future__ import annotations

import pyarrow as pa

WEB_ONLY = ("fetch_date", "warc_record_id", "content_type", "http_charset", "charset", "raw")


def uniform(table: pa.Table, web_input: bool = True) -> pa.Table:
    if not web_input:
        table = table.drop_columns([c for c in WEB_ONLY if c in table.column_names])
    for i, f in enumerate(table.schema):
        if "__" not in f.name:  # input columns keep their types (metadata); mdfs's own are already right
            continue
        if pa.types.is_integer(f.type) and f.type != pa.int64():
            target = pa.int64()
        elif pa.types.is_floating(f.type) and f.type != pa.float32():
            target = pa.float32()
        else:
            continue
        try:
            table = table.set_column(i, f.name, table.column(i).cast(target))  # safe: no silent overflow
        except pa.ArrowInvalid:
            pass  # a uint64 hash over 2**63: kept as it is rather than wrapped
    return table
