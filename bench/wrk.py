"""Closed loops with wrk (Debian's ``wrk`` package), a load generator in C that costs a few microseconds of
CPU per request where httpx costs a few milliseconds: on a 2-CPU machine it leaves the CPU to the servers, so a
bare endpoint is measured at the server's pace rather than the client's. Requests are built by a Lua script;
``__N__`` in a path or body becomes the request's number (zero-padded to 9 digits), so every request can carry
a new order number."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path

from bench.loadgen import Result

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def script(method: str, paths: list[str], headers: dict[str, str], body: str | None = None) -> str:
    """A wrk script sending ``method`` to each of ``paths`` in turn (with ``body``), one counter per thread;
    ``__RUN__`` is replaced by :func:`run`."""
    header_lines = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items())
    path_lines = ", ".join(_lua_string(p) for p in paths)
    return f"""
local counter = 0
local headers = {{{header_lines}}}
local paths = {{{path_lines}}}
local body = {_lua_string(body) if body is not None else "nil"}
request = function()
  counter = counter + 1
  local n = "__RUN__" .. string.format("%09d", counter)
  local path = string.gsub(paths[(counter % #paths) + 1], "__N__", n)
  local payload = nil
  if body ~= nil then payload = string.gsub(body, "__N__", n) end
  return wrk.format("{method}", path, headers, payload)
end
local shown = false
response = function(status, headers, body)
  if status >= 400 and not shown then
    shown = true
    io.write("first error: ", status, " ", string.sub(body, 1, 200), "\\n")
  end
end
"""


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(name: str, output: str, seconds: float, connections: int) -> Result:
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    percentiles = {int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)", output, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in socket.groups()) if socket else 0)
    mode = f"wrk c{connections}"
    sample = re.search(r"^first error: (.*)$", output, re.M)
    return Result(
        name, requests, errors, seconds, [], mode, sample.group(1) if sample else "", requests, percentiles=percentiles
    )


async def run(
    name: str, base_url: str, lua: str, *, connections: int = 16, seconds: float = 10.0, warmup: float = 1.0
) -> Result:
    """One thread (so the request counter is unique), ``connections`` connections, ``seconds`` measured."""
    with tempfile.TemporaryDirectory() as tmp:
        warm, measured = Path(tmp) / "warm.lua", Path(tmp) / "run.lua"
        warm.write_text(lua.replace("__RUN__", "w"))
        measured.write_text(lua.replace("__RUN__", "m"))
        warm_requests = 0
        if warmup > 0:
            warm_requests = parse(name, await _wrk(base_url, warm, connections, warmup), warmup, connections).sent
        output = await _wrk(base_url, measured, connections, seconds)
    result = parse(name, output, seconds, connections)
    result.sent += warm_requests  # the server's CPU is counted over both runs
    return result


async def _wrk(base_url: str, script_path: Path, connections: int, seconds: float) -> str:
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "30s", "-s",
        str(script_path), base_url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    if proc.returncode != 0 or "requests in" not in text or f"{script_path}:" in text:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{text}")
    return text
