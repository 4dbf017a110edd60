"""Measure a year's 考核 and the cockpit page on a replayed record.

The record: the bundled policy and a second, imported one (tests/data/import/second_policy.txt)
replayed from 2018-05-30 to 2019-01-10 with the simulator's scripted units (seed 20). Then, on
2019-01-10: the 2018 assessment over all policies (median of N), the cockpit page as a
supervisor gets it (server side, median of N), its map data, and publishing the year (the
numbered 考核结果通报 rendered as PDF with the cities' map, archived and mailed), once.

Run: .venv/bin/python benchmarks/bench_assessment.py [--runs N] [--out DIR]
Goals: a year's assessment under 1 s, the cockpit page under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
SECOND = ROOT / "tests" / "data" / "import" / "second_policy.txt"
PASSWORD = "bench-password-1"


def median(fn: Callable[[], object], runs: int) -> float:
    """Median seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def replay(out: Path) -> tuple[float, str]:
    """The record; its seconds and database URL."""
    from simulator.replay import SimulationRequest, simulate

    started = time.perf_counter()
    simulate(SimulationRequest(date(2018, 5, 30), date(2019, 1, 10), 20, out, imports=(SECOND,)))
    return time.perf_counter() - started, f"sqlite:///{(out / 'simulation.db').resolve()}"


def measure(out: Path, url: str, runs: int) -> dict[str, float]:
    """The figures on the replayed database."""
    from engine import accounts
    from engine.access import Actor
    from engine.clock import CHINA_TZ, ManualClock, today
    from engine.config import Config
    from engine.models import Role
    from engine.runtime import open_runtime
    from notifications.assessment import compute
    from notifications.assessment_doc import publish
    from web.app import create_app

    rt = open_runtime(Config(data_dir=out / "data", database_url=url),
                      ManualClock(datetime(2019, 1, 10, 10, 0, tzinfo=CHINA_TZ)))
    day = today(rt.clock)
    with rt.sessions() as s:
        result = compute(s, 2018, day)
        units, items = len(result.units), sum(len(u.items) for u in result.units)

    def assess() -> None:
        with rt.sessions() as s:
            compute(s, 2018, day)

    figures = {"units": units, "items": items, "assess_year_s": median(assess, runs)}
    with rt.sessions() as s, s.begin():
        accounts.create_user(s, rt.clock, username="bench_sup", display_name="测试督查",
                             role=Role.SUPERVISOR, password=PASSWORD, unit_id="dcs")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "SESSION_COOKIE_SECURE": False}, runtime=rt)
    client = app.test_client()
    assert client.post("/login", data={"username": "bench_sup",
                                       "password": PASSWORD}).status_code == 302

    def page(path: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code
        return get

    figures["cockpit_page_s"] = median(page("/assessment/cockpit"), runs)
    figures["cockpit_map_json_s"] = median(page("/assessment/map.json"), runs)
    figures["ranking_page_s"] = median(page("/assessment/?year=2018"), runs)
    if Path("/usr/bin/chromium").exists():
        figures["cockpit_in_chromium_s"] = in_chromium(app, out, runs)
    started = time.perf_counter()
    with rt.sessions() as s, s.begin():
        doc = publish(s, rt.clock, Actor(None, "bench_sup", Role.SUPERVISOR, "dcs"), 2018, None)
        number = doc.number
    figures["publish_s"] = time.perf_counter() - started
    print(f"published: {number}")
    return figures


def in_chromium(app: object, out: Path, runs: int) -> float:
    """Median seconds from navigation to the drawn map in Debian's Chromium (ECharts, the
    province's GeoJSON from the app); a screenshot of the last one in ``out``."""
    import logging
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{base}/login")
            page.fill("#username", "bench_sup")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()

            def load() -> None:
                page.goto(f"{base}/assessment/cockpit?year=2018")
                page.wait_for_selector("body[data-map-ready='1'] #map-rate svg path")

            seconds = median(load, runs)
            page.screenshot(path=str(out / "cockpit.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    return seconds


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="keep the replay here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        seconds, url = replay(out)
        print(f"replay_2018_two_policies_s: {seconds:.1f}")
        for name, value in measure(out, url, args.runs).items():
            print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")


if __name__ == "__main__":
    main()
