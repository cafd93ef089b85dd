"""xbm metrics import: a platform's report sent as it came to POST /v1/campaigns/metrics/imports, with the
options the format needs; exit 0 when every platform campaign was placed, 5 when some were not (listed), 1 when
the service refused the report, 2 when the file cannot be read (nothing sent)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.cli.fake import FakeXbm, Sent, problem
from xbm.cli.main import app

FIXTURES = Path(__file__).parents[1] / "campaigns" / "platforms"
PATH = "/v1/campaigns/metrics/imports"


def _answer(unknown: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "format": "google_ads_api",
        "platform": "google_ads",
        "rows_read": 4,
        "campaigns": [
            {
                "campaign_id": "c-1",
                "platform": "google_ads",
                "platform_campaign_id": "21000000001",
                "account_id": "1234567890",
                "rows": 2,
                "days": 2,
                "from": "2026-09-01",
                "to": "2026-09-02",
                "conversions_above_clicks": [
                    {"date": "2026-09-02", "clicks": 3, "conversions": 5.5, "view_through_conversions": 4}
                ],
            }
        ],
        "unknown": unknown or [],
        "skipped": [],
    }


def _imports(fake: FakeXbm, answer: httpx.Response) -> list[Sent]:
    def respond(sent: Sent) -> httpx.Response:
        return answer

    fake.default = lambda sent: respond(sent) if sent.path.startswith(PATH) else FakeXbm.default(fake, sent)  # type: ignore[method-assign]
    return fake.sent


@pytest.mark.parametrize(
    ("name", "content_type", "options", "query"),
    [
        ("google_ads_search_stream.json", "application/json", [], ""),
        ("google_ads_ui.csv", "text/csv", ["--format", "google_ads_csv"], "format=google_ads_csv"),
        (
            "meta_insights.json",
            "application/json",
            ["--purchase-action-types", "purchase"],
            "purchase_action_types=purchase",
        ),
        ("meta_ads_manager.csv", "text/csv", [], ""),
        ("tiktok_integrated_report.json", "application/json", ["--currency", "USD"], "currency=USD"),
        ("amazon_ads_sp_campaigns.json", "application/json", ["--attribution-window", "14d"], "attribution_window=14d"),
        ("mailchimp_report.json", "application/json", ["--time-zone", "Asia/Shanghai"], "time_zone=Asia%2FShanghai"),
        ("mailchimp_sdk_get_campaign_report.json", "application/json", ["--backfill"], "backfill=true"),
        (
            "klaviyo_campaign_values.json",
            "application/json",
            ["--date", "2026-09-03", "--backfill"],
            "date=2026-09-03&backfill=true",
        ),
    ],
)
def test_each_format_is_sent_as_it_came_and_exits_0(
    runner: CliRunner,
    fake: FakeXbm,
    logged_in: Path,
    name: str,
    content_type: str,
    options: list[str],
    query: str,
) -> None:
    sent = _imports(fake, httpx.Response(200, json=_answer()))
    result = runner.invoke(app, ["metrics", "import", str(FIXTURES / name), *options])
    assert result.exit_code == 0, result.stderr
    (request,) = [s for s in sent if s.path.startswith(PATH)]
    assert request.method == "POST" and request.headers["content-type"] == content_type
    assert request.path == PATH + (f"?{query}" if query else "")
    raw = (FIXTURES / name).read_bytes()
    assert request.body == (json.loads(raw) if content_type == "application/json" else raw)
    assert "campaign c-1: 2 rows over 2 days" in result.stdout and "more conversions than clicks" in result.stdout
    assert "imported 2 of 4 rows" in result.stderr


def test_an_amazon_gzip_download_is_unzipped_before_sending(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    raw = (FIXTURES / "amazon_ads_sp_campaigns.json").read_bytes()
    path = tmp_path / "report.json.gz"
    path.write_bytes(gzip.compress(raw))
    sent = _imports(fake, httpx.Response(200, json=_answer()))
    result = runner.invoke(app, ["metrics", "import", str(path)])
    assert result.exit_code == 0, result.stderr
    (request,) = [s for s in sent if s.path.startswith(PATH)]
    assert request.body == json.loads(raw) and request.headers["content-type"] == "application/json"


def test_unknown_platform_campaigns_exit_5_and_are_listed(runner: CliRunner, fake: FakeXbm, logged_in: Path) -> None:
    unknown = [{"platform": "google_ads", "account_id": "1234567890", "campaign_id": "21000000099", "rows": 1,
                "reason": "no campaign names this platform campaign in its external_refs"}]  # fmt: skip
    _imports(fake, httpx.Response(200, json=_answer(unknown)))
    result = runner.invoke(app, ["--json", "metrics", "import", str(FIXTURES / "google_ads_search_stream.json")])
    assert result.exit_code == 5, result.stderr
    assert json.loads(result.stdout)["unknown"] == unknown
    assert "not stored: google_ads campaign 21000000099 (1 rows)" in result.stderr


def test_a_refused_report_exits_1_with_the_problem(runner: CliRunner, fake: FakeXbm, logged_in: Path) -> None:
    detail = "google_ads campaign 21000000002 on 2026-09-01: clicks (20000) cannot exceed impressions (18764)"
    _imports(fake, problem(422, detail))
    result = runner.invoke(app, ["metrics", "import", str(FIXTURES / "google_ads_search_stream.json")])
    assert result.exit_code == 1 and "cannot exceed impressions" in result.stderr


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        (b"", [], "is empty"),
        (b"\x1f\x8bnot gzip", [], "not a readable gzip file"),
        (b"{}", ["--attribution-window", "9d"], "--attribution-window"),
        (b"{}", ["--currency", "usd"], "ISO 4217"),
    ],
)
def test_an_unreadable_file_exits_2_and_sends_nothing(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, content: bytes, options: list[str], message: str
) -> None:
    path = tmp_path / "report"
    path.write_bytes(content)
    result = runner.invoke(app, ["metrics", "import", str(path), *options])
    assert result.exit_code == 2 and message in result.stderr
    assert fake.writes() == []
    missing = runner.invoke(app, ["metrics", "import", str(tmp_path / "nowhere.json")])
    assert missing.exit_code == 2 and fake.writes() == []
