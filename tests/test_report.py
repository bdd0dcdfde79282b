"""The run report (JSON, Markdown, self-contained HTML checked in a real headless Chromium) and
`mdfs stats` on corpora that are not mdfs runs."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mdfs.cli import main
from tests.conftest import CLEAN, ROOT, write_jsonl

ARTIFACTS = ROOT / "tests" / "artifacts"
HOSTILE = "<script>alert('x')</script><img src=\"https://example.com/pixel.png\">短"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    """The demo recipe, serial, plus a document whose text is HTML that must be shown escaped."""
    tmp = tmp_path_factory.mktemp("report")
    extra = write_jsonl(
        tmp / "in" / "hostile.jsonl", [{"id": "hostile", "text": HOSTILE, "url": "https://evil.example.cn/x"}]
    )
    out = tmp / "out"
    code = main(
        [
            "run",
            str(ROOT / "configs" / "demo.yaml"),
            "-i",
            str(ROOT / "configs" / "demo" / "data"),
            "-i",
            str(extra),
            "-o",
            str(out),
            "--engine",
            "serial",
            "--no-progress",
        ]
    )
    assert code == 0
    # Show every rejected document of each (small) reason group, so the hostile one is in the page.
    assert main(["report", str(out), "--samples", "50"]) == 0
    return out


def test_run_writes_the_report_with_every_section(demo_run, capsys):
    report = json.loads((demo_run / "report" / "report.json").read_text(encoding="utf-8"))
    manifest = json.loads((demo_run / "manifest.json").read_text(encoding="utf-8"))
    funnel = {f["stage"]: f for f in report["funnel"]}
    assert list(funnel) == list(manifest["stages"])
    for stage, st in manifest["stages"].items():
        assert (funnel[stage]["docs_in"], funnel[stage]["docs_out"]) == (st["docs_in"], st["docs_out"])
    assert report["reasons"]["quality"] == manifest["stages"]["quality"]["reasons"] != {}
    kept = manifest["conservation"]["docs_out"]
    assert sum(report["lengths"]["kept"]) == kept == report["corpus"]["documents"]
    assert sum(report["lengths"]["rejected"]) == manifest["conservation"]["rejected"]
    score = report["scores"]["quality__score"]
    assert sum(score["kept"]) == kept
    by = score["rejected_by"]  # the rejects' own scores, per rejecting stage, and the stage's threshold
    quality = manifest["stages"]["quality"]
    assert sum(by["quality"]) == quality["docs_in"] - quality["docs_out"]
    assert sum(by["dedup"]) > 0 and "collection" not in by
    assert score["threshold"] == 0.15  # the bundled page model's floor on P(clean), chosen out of fold
    assert report["corpus"]["languages"][0]["lang"] == "zh"
    assert report["sources"] and report["domains"]
    assert report["dedup"]["dedup"]["cluster_sizes"]["2"] > 0
    assert all(r["mb_per_s"] for r in report["throughput"]["stages"] if r["stage"] != "read")
    reasons = {(s["stage"], s["reason"]) for s in report["samples"]}
    assert reasons == {(stage, r) for stage, rs in report["reasons"].items() for r in rs}
    assert all(0 < len(s["documents"]) <= 50 for s in report["samples"])
    md = (demo_run / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Funnel" in md and next(iter(report["reasons"]["quality"])) in md
    assert f"Threshold: {score['threshold']:g}" in md and "rejected by quality %" in md
    html = (demo_run / "report" / "index.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "&lt;script&gt;alert(" in html  # rejected text is shown escaped
    assert "threshold 0.15</text>" in html  # drawn on the histogram
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert main(["report", str(demo_run), "--samples", "2"]) == 0
    assert "report: " in capsys.readouterr().out
    again = json.loads((demo_run / "report" / "report.json").read_text(encoding="utf-8"))
    assert all(len(s["documents"]) <= 2 for s in again["samples"])
    assert main(["report", str(demo_run), "--samples", "50"]) == 0  # as the fixture left it


def test_no_report_option(tmp_path):
    src = write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": str(i), "text": CLEAN[i] * 3} for i in range(5)])
    assert (
        main(
            [
                "run",
                str(ROOT / "configs" / "tiny.yaml"),
                "-i",
                str(src),
                "-o",
                str(tmp_path / "out"),
                "--engine",
                "serial",
                "--no-progress",
                "--no-report",
            ]
        )
        == 0
    )
    assert not (tmp_path / "out" / "report").exists()


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("chromium not installed (Debian: apt-get update && apt-get install -y chromium)")
    return path


class _Page:
    """A page of a headless Chromium driven over the DevTools protocol (websocket-client)."""

    def __init__(self, browser: str, profile: Path):
        import websocket

        port = _free_port()
        self.proc = subprocess.Popen(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={port}",
                "--remote-allow-origins=*",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 30
        while True:
            try:
                targets = json.loads(
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2).read()
                )
                page = next(t for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration, ValueError):
                if time.time() > deadline or self.proc.poll() is not None:
                    self.close()
                    raise RuntimeError("chromium did not open its DevTools port") from None
                time.sleep(0.2)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.next_id, self.events = 0, []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.time() > deadline:
                raise TimeoutError(event)
            self.events.append(json.loads(self.ws.recv()))

    def close(self) -> None:
        if getattr(self, "ws", None):
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_report_renders_in_headless_chromium(demo_run, tmp_path):
    page = _Page(_chromium(), tmp_path / "profile")
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False
        )
        url = (demo_run / "report" / "index.html").as_uri()
        page.call("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        charts = page.call(
            "Runtime.evaluate",
            returnByValue=True,
            expression="""(() => {
            const svgs = [...document.querySelectorAll('svg.chart')];
            const visible = svgs.filter(s => {
                const r = s.getBoundingClientRect(); return r.width > 100 && r.height > 40; });
            const bars = visible.map(s => [...s.querySelectorAll('rect')].filter(r => {
                const b = r.getBoundingClientRect(); return b.width > 0 && b.height > 0; }).length);
            return {charts: svgs.length, visible: visible.length, bars: bars,
                    scripts: document.querySelectorAll('script, img, iframe, link[rel=stylesheet]').length,
                    text: document.body.textContent};
        })()""",
        )["result"]["value"]
        height = page.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
        shot = page.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": 1200, "height": height, "scale": 1},
        )
    finally:
        page.close()
    import base64

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = base64.b64decode(shot["data"])
    (ARTIFACTS / "report.png").write_bytes(png)
    errors = [
        e
        for e in page.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    requests = [
        e["params"]["request"]["url"] for e in page.events if e.get("method") == "Network.requestWillBeSent"
    ]
    assert errors == []
    assert requests == [url]  # the page itself, nothing from the network
    assert charts["charts"] >= 8 and charts["visible"] == charts["charts"]
    assert all(n > 0 for n in charts["bars"])
    assert charts["scripts"] == 0  # the hostile document's <script> and <img> are text, not elements
    for section in (
        "Funnel",
        "Drop reasons",
        "Document length",
        "quality__score",
        "Languages",
        "Sources",
        "Top domains",
        "Deduplication",
        "Throughput",
        "Rejected documents",
    ):
        assert section in charts["text"]
    assert "<script>alert('x')</script>" in charts["text"]  # shown as text
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


# -- mdfs stats -------------------------------------------------------------------------------------
def _stats_corpus(folder: Path) -> list[str]:
    write_jsonl(
        folder / "a.jsonl",
        [
            {"text": CLEAN[0], "url": "https://a.example.cn/1"},
            {"text": "Hello world, 你好", "url": "https://b.example.com/2"},
        ],
    )
    pq.write_table(
        pa.table(
            {
                "text": [CLEAN[1], CLEAN[2], None],
                "lang": ["zh", "zh", None],
                "quality__score": pa.array([0.9, 0.2, None], pa.float32()),
            }
        ),
        folder / "b.parquet",
    )
    return [CLEAN[0], "Hello world, 你好", CLEAN[1], CLEAN[2]]


def test_stats_of_jsonl_and_parquet(tmp_path, capsys):
    from mdfs.datastats import compute_stats

    texts = _stats_corpus(tmp_path / "corpus")
    s = compute_stats([str(tmp_path / "corpus")], engine="serial")
    assert s["documents"] == 4 and s["characters"] == sum(map(len, texts))
    han = sum(1 for t in texts for ch in t if "\u4e00" <= ch <= "\u9fff")
    assert s["scripts"]["han"] == han and s["scripts"]["latin"] == 10
    other = s["characters"] - han - s["scripts"]["space"]
    assert s["estimated_tokens"] == round(han / 1.5 + other / 4)
    lengths = sorted(map(len, texts))
    assert s["length_percentiles"]["p50"] == lengths[1] and s["length_percentiles"]["p99"] == lengths[-1]
    assert s["languages"] == [{"lang": "zh", "documents": 2, "characters": len(CLEAN[1]) + len(CLEAN[2])}]
    assert {d["domain"] for d in s["domains"]} == {"a.example.cn", "b.example.com"}
    assert sum(s["scores"]["quality__score"]["counts"]) == 2
    out = tmp_path / "stats.json"
    assert main(["stats", str(tmp_path / "corpus"), "--engine", "serial", "--json", str(out)]) == 0
    assert "| documents | 4 |" in capsys.readouterr().out
    assert json.loads(out.read_text())["documents"] == 4


def test_stats_of_parquet_with_an_all_null_text_column(tmp_path):
    """A Parquet file whose text column is all null (null type) is read, not a raw ArrowInvalid."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mdfs.datastats import compute_stats

    (tmp_path / "c").mkdir()
    pq.write_table(pa.table({"id": ["a", "b"], "text": pa.nulls(2)}), tmp_path / "c" / "empty.parquet")
    pq.write_table(pa.table({"id": ["c"], "text": [CLEAN[0]]}), tmp_path / "c" / "full.parquet")
    assert compute_stats([str(tmp_path / "c")], engine="serial")["documents"] == 1


@pytest.mark.slow
def test_stats_on_ray_equals_serial(tmp_path):
    from mdfs.datastats import compute_stats
    from tests.conftest import make_docs

    for i in range(3):
        write_jsonl(tmp_path / "corpus" / f"p{i}.jsonl", make_docs(40, prefix=f"f{i}"))
    kwargs = dict(shard_size_mb=0.004)
    serial = compute_stats([str(tmp_path / "corpus")], engine="serial", **kwargs)
    on_ray = compute_stats([str(tmp_path / "corpus")], engine="ray", workers=2, **kwargs)
    assert on_ray["engine"] == "ray" and on_ray["shards"] >= 3
    for key in ("documents", "characters", "scripts", "length_percentiles", "domains", "estimated_tokens"):
        assert on_ray[key] == serial[key], key
