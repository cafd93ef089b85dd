"""xbm metrics push: a CSV becomes PUT /v1/campaigns/{id}/metrics in batches of at most 1000 rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.cli.fake import FakeXbm, problem
from xbm.cli import metrics_file
from xbm.cli.errors import CliError
from xbm.cli.main import app

HEADER = "date,variant,impressions,clicks,cost,conversions,revenue,currency"


def _csv(tmp_path: Path, lines: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def _day(i: int) -> str:
    return f"2026-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"


def test_rows_are_pushed_in_batches_of_1000(runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path) -> None:
    lines = [f"{_day(i)},{'ab'[i % 2]}-{i // 672},{i},{i // 10},{i}.50,{i // 100},{i * 2},usd" for i in range(2500)]
    result = runner.invoke(app, ["metrics", "push", "camp-1", str(_csv(tmp_path, lines))])
    assert result.exit_code == 0, result.stderr
    assert "pushed 2500 rows" in result.stderr
    sent = fake.requests()
    assert [(s.service, s.method, s.path) for s in sent] == [("campaigns", "PUT", "/v1/campaigns/camp-1/metrics")] * 3
    assert [len(s.body["rows"]) for s in sent] == [1000, 1000, 500]
    rows = [row for s in sent for row in s.body["rows"]]
    assert rows[7] == {
        "date": _day(7),
        "variant": "b-0",
        "impressions": 7,
        "clicks": 0,
        "cost": {"amount": "7.50", "currency": "USD"},
        "conversions": 0,
        "revenue": {"amount": "14", "currency": "USD"},
    }
    assert rows[-1]["impressions"] == 2499


def test_fractional_conversions_are_sent_as_decimals(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    """Google Ads' data-driven attribution reports 2.37 conversions; a view-through day has more than clicks."""
    path = _csv(tmp_path, ["2026-03-01,,100,3,1.2,2.37,30,USD", "2026-03-02,,100,3,1.2,5,30,USD"])
    result = runner.invoke(app, ["metrics", "push", "c", str(path)])
    assert result.exit_code == 0, result.stderr
    assert [row["conversions"] for row in fake.requests()[0].body["rows"]] == ["2.37", 5]
    bad = runner.invoke(app, ["metrics", "push", "c", str(_csv(tmp_path, ["2026-03-01,,100,3,1.2,-1,30,USD"]))])
    assert bad.exit_code == 2 and "conversions must be a non-negative amount" in bad.stderr


def test_optional_columns_and_an_empty_variant(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    path = _csv(tmp_path, ["2026-03-01,,100,5,1.2,1,30,EUR,500,120"], header=HEADER + ",sends,opens")
    result = runner.invoke(app, ["metrics", "push", "c", str(path), "--batch-size", "1"])
    assert result.exit_code == 0, result.stderr
    (row,) = fake.requests()[0].body["rows"]
    assert "variant" not in row
    assert (row["sends"], row["opens"], row["cost"]) == (500, 120, {"amount": "1.2", "currency": "EUR"})


@pytest.mark.parametrize(
    ("lines", "header", "message"),
    [
        (["2026-02-30,a,1,1,1,1,1,USD"], HEADER, "line 2: date"),
        (["2026-02-01,a,1,1,1,1,1,USD", "2026-02-02,a,x,1,1,1,1,USD"], HEADER, "line 3: impressions"),
        (["2026-02-01,a,1,-1,1,1,1,USD"], HEADER, "clicks must not be negative"),
        (["2026-02-01,a,1,1,abc,1,1,USD"], HEADER, "cost must be a decimal amount"),
        (["2026-02-01,a,1,1,NaN,1,1,USD"], HEADER, "cost must be a non-negative amount"),
        (["2026-02-01,a,1,1,1,1,1,DOLLARS"], HEADER, "ISO 4217"),
        (["2026-02-01,a,1,1,1,1,1"], "date,variant,impressions,clicks,cost,conversions,revenue", "currency"),
        (["2026-02-01,a,1,1,1,1,1,USD,3"], HEADER + ",likes", "unknown column(s) likes"),
        ([], HEADER, "no rows"),
    ],
)
def test_a_bad_csv_exits_2_naming_the_problem_and_sends_nothing(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path, lines: list[str], header: str, message: str
) -> None:
    result = runner.invoke(app, ["metrics", "push", "c", str(_csv(tmp_path, lines, header))])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not fake.sent


def test_a_batch_size_over_1000_is_a_usage_error(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    path = _csv(tmp_path, ["2026-02-01,a,1,1,1,1,1,USD"])
    assert runner.invoke(app, ["metrics", "push", "c", str(path), "--batch-size", "1001"]).exit_code == 2
    assert not fake.sent


def test_a_refused_batch_exits_1_and_says_how_much_was_stored(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    answers = iter([None, problem(422, "currency differs from the campaign's")])

    def first_stored_then_refused(sent):
        return next(answers) or fake.default(sent)

    fake.overrides[("PUT", "/v1/campaigns/c/metrics")] = first_stored_then_refused
    lines = [f"{_day(i)},a,1,1,1,1,1,USD" for i in range(3)]
    result = runner.invoke(app, ["metrics", "push", "c", str(_csv(tmp_path, lines)), "--batch-size", "2"])
    assert result.exit_code == 1
    assert "currency differs" in result.stderr
    assert "2 of 3 rows were stored" in result.stderr


@given(
    st.lists(
        st.tuples(st.dates(), st.text("abc-", max_size=5), st.integers(0, 10**9), st.decimals(0, 10**6, places=2)),
        max_size=30,
    ),
    st.integers(1, 1000),
)
def test_every_row_is_read_back_and_batched_exactly_once(rows: list, size: int) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER.split(","))
    for day, variant, count, amount in rows:
        writer.writerow([day.isoformat(), variant, count, count, amount, count, amount, "usd"])
    if not rows:
        with pytest.raises(CliError):
            metrics_file.read_rows(buffer.getvalue())
        return
    read = metrics_file.read_rows(buffer.getvalue())
    batches = list(metrics_file.batches(read, size))
    assert all(1 <= len(b) <= size for b in batches)
    flat = [row for batch in batches for row in batch]
    assert [(r["date"], r.get("variant", ""), r["impressions"], r["cost"]["amount"]) for r in flat] == [
        (day.isoformat(), variant, count, str(amount)) for day, variant, count, amount in rows
    ]


def test_backfill_is_sent_only_when_asked(runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path) -> None:
    path = _csv(tmp_path, ["2026-03-01,,100,5,1.2,1,30,EUR"])
    assert runner.invoke(app, ["metrics", "push", "c", str(path)]).exit_code == 0
    assert "backfill" not in fake.requests()[-1].body
    assert runner.invoke(app, ["metrics", "push", "c", str(path), "--backfill"]).exit_code == 0
    assert fake.requests()[-1].body["backfill"] is True


def test_a_row_outside_the_campaign_exits_1_with_the_reason(
    runner: CliRunner, fake: FakeXbm, logged_in: Path, tmp_path: Path
) -> None:
    fake.overrides[("PUT", "/v1/campaigns/c/metrics")] = lambda _: problem(
        422, "rows[0] is dated 2026-03-01, outside the campaign (2026-04-01 – 2026-04-30); send backfill: true"
    )
    result = runner.invoke(app, ["metrics", "push", "c", str(_csv(tmp_path, ["2026-03-01,,100,5,1.2,1,30,EUR"]))])
    assert result.exit_code == 1 and "outside the campaign" in result.stderr
