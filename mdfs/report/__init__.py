"""The run report: `report/index.html` (self-contained, inline SVG plots), `report/report.md` and
`report/report.json`, written from a finished run directory (`mdfs report RUN_DIR`, and at the end of
`mdfs run` unless `output.report: false` or `--no-report`)."""

from __future__ import annotations

import json

from mdfs import storage

__all__ = ["write_report"]


def write_report(root: str, **options) -> str:
    """Write the three report files into `<root>/report/`; return the path of index.html."""
    from mdfs.report.collect import build_report  # here, not above: mdfs.datastats imports mdfs.report.scan
    from mdfs.report.markdown import to_markdown
    from mdfs.report.render import to_html

    report = build_report(root, **options)
    folder = storage.join(root, "report")
    storage.write_bytes(
        storage.join(folder, "report.json"), json.dumps(report, ensure_ascii=False, indent=1).encode()
    )
    storage.write_bytes(storage.join(folder, "report.md"), to_markdown(report).encode())
    index = storage.join(folder, "index.html")
    storage.write_bytes(index, to_html(report).encode())
    return index
