"""The JSON log line (shared/observability.py JsonFormatter): one object per line, with the request id, the access
fields when given, text in any script as UTF-8 and the exception's traceback."""

from __future__ import annotations

import json
import logging
import re
import sys

from shared.observability import JsonFormatter, request_id_var


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("xbm.plans.access", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_an_access_line_carries_its_fields_and_the_request_id() -> None:
    formatter = JsonFormatter()
    token = request_id_var.set("req-123")
    try:
        line = formatter.format(
            _record(
                "GET /v1/sbus/{sbu_id} 200",
                service="plans",
                method="GET",
                path="/v1/sbus/{sbu_id}",
                status=200,
                duration_ms=1.25,
            )
        )
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry == {
        "time": entry["time"],
        "level": "info",
        "logger": "xbm.plans.access",
        "message": "GET /v1/sbus/{sbu_id} 200",
        "request_id": "req-123",
        "service": "plans",
        "method": "GET",
        "path": "/v1/sbus/{sbu_id}",
        "status": 200,
        "duration_ms": 1.25,
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", entry["time"])


def test_text_in_any_script_and_an_exception() -> None:
    formatter = JsonFormatter()
    try:
        raise ValueError("高尔夫 kit")
    except ValueError:
        record = _record(
            "订单 %s refused",
        )
        record.args = ("XBM-1",)
        record.exc_info = sys.exc_info()
    entry = json.loads(formatter.format(record))
    assert entry["message"] == "订单 XBM-1 refused"
    assert "request_id" not in entry and "status" not in entry
    assert entry["exception"].startswith("Traceback") and "ValueError: 高尔夫 kit" in entry["exception"]


def test_the_time_follows_the_record() -> None:
    formatter = JsonFormatter()
    first, later = _record("a"), _record("b")
    first.created, later.created = 1_700_000_000.2, 1_700_000_061.9
    times = [json.loads(formatter.format(r))["time"] for r in (first, later, first)]
    assert times[0] != times[1] and times[0] == times[2]
    assert times[0] == formatter.formatTime(first, "%Y-%m-%dT%H:%M:%S")
