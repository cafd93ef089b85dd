"""The README's first steps and Company A's export example (examples/company-a/export/README.md) run as written,
one after the other, in a new organisation, against the three apps in-process — and end as the READMEs say.

The shell blocks are read from the READMEs themselves, so an example edited there is the example tested. Each line
is played as a user types it: ``curl`` by its method, URL, headers and body (``-d @file`` read from the
repository); ``xbm compliance send KIND FILE`` as the CLI sends it (the file's JSON to
``POST /v1/compliance/{KIND}s`` with a token for ``XBM_API_KEY``); ``VAR=$(cat var/bootstrap_token)`` as the
bootstrap token the services were given; and ``VAR=...  # paste the FIELD printed above`` as that field of the answer
just printed. An answer's ``# → {...}`` comment names the fields it must carry.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import BOOTSTRAP_TOKEN

ROOT = Path(__file__).resolve().parents[2]
EXPORT_README = ROOT / "examples" / "company-a" / "export" / "README.md"
PORTS = {"8001": "plans", "8002": "campaigns", "8003": "compliance"}


def shell_block(readme: Path, after: str) -> list[str]:
    """The first ``sh`` block after the heading or sentence ``after``, one command per line (continuations
    joined)."""
    text = readme.read_text()
    start = text.index(after)
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block, f"no sh block after {after!r} in {readme}"
    return block[1].replace("\\\n", " ").strip().splitlines()


def _expand(token: str, env: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1] or match[2]
        assert name in env, f"${name} is used before the README sets it"
        return env[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, token)


class Shell:
    """The README's lines, played against the in-process apps."""

    def __init__(self, clients: dict[str, httpx.AsyncClient]):
        self.clients = clients
        self.env: dict[str, str] = {}
        self.last: Any = None
        self.answers: list[tuple[str, int, Any]] = []

    async def run(self, line: str) -> None:
        command, _, comment = line.partition("#")
        command, comment = command.strip(), comment.strip()
        if not command:
            return
        assignment = re.fullmatch(r"(?:export\s+)?(\w+)=(.*)", command)
        if assignment:
            name, value = assignment[1], assignment[2].strip()
            if value == "$(cat var/bootstrap_token)":
                self.env[name] = BOOTSTRAP_TOKEN
            elif value.endswith("..."):  # a value the user pastes from the answer just printed
                pasted = re.fullmatch(r"paste the (\w+) printed above", comment)
                assert pasted, f"the README does not say what to paste into {name}: {line!r}"
                assert isinstance(self.last, dict) and pasted[1] in self.last, (pasted[1], self.last)
                self.env[name] = str(self.last[pasted[1]])
            else:
                self.env[name] = _expand(value, self.env)
            return
        words = [_expand(w, self.env) for w in shlex.split(command)]
        if words[0] == "curl":
            status, body = await self._curl(words[1:])
        elif words[:3] == ["xbm", "compliance", "send"]:
            status, body = await self._send(words[3], words[4])
        else:
            raise AssertionError(f"the test cannot play {command!r}: teach it, or keep the README to curl and xbm")
        assert status < 400, f"{command}\n→ {status} {body}"
        if "→" in comment:  # the answer's fields, as the README shows them
            for field in re.findall(r'"(\w+)":', comment):
                assert field in body, f"{command} answered without {field!r}: {body}"
        self.last = body
        self.answers.append((command, status, body))

    async def _curl(self, args: list[str]) -> tuple[int, Any]:
        method, url, headers, data = "GET", "", {}, None
        it = iter(args)
        for arg in it:
            if arg == "-s":
                continue
            if arg == "-X":
                method = next(it)
            elif arg == "-H":
                name, _, value = next(it).partition(":")
                headers[name.strip()] = value.strip()
            elif arg == "-d":
                data = next(it)
                if data.startswith("@"):
                    data = (ROOT / data[1:]).read_text()
                if method == "GET":
                    method = "POST"
            else:
                url = arg
        match = re.fullmatch(r"(?:http://)?localhost:(\d+)(/.*)", url)
        assert match and match[1] in PORTS, f"curl to {url!r}: not one of the services' default addresses"
        response = await self.clients[PORTS[match[1]]].request(method, match[2], headers=headers, content=data)
        return response.status_code, response.json()

    async def _send(self, kind: str, path: str) -> tuple[int, Any]:
        """What ``xbm compliance send`` does with XBM_API_KEY set: a token for the key, the document posted."""
        token = await self.clients["plans"].post("/v1/auth/token", json={"api_key": self.env["XBM_API_KEY"]})
        assert token.status_code == 200, token.text
        document = json.loads((ROOT / path).read_text())
        response = await self.clients["compliance"].post(
            f"/v1/compliance/{kind}s",
            json=document,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        return response.status_code, response.json()


async def test_the_first_steps_then_the_export_example_declare_the_order_in_a_new_organisation(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    shell = Shell(clients)
    for line in shell_block(ROOT / "README.md", "## First steps"):
        await shell.run(line)
    # the first steps made a new organisation: its key and token are what the export example goes on with
    assert shell.env["XBM_API_KEY"].startswith("xbm_") and shell.env["ACCESS"]

    lines = shell_block(EXPORT_README, "```sh")
    assert any(line.startswith("xbm compliance send waybill") for line in lines)
    for line in lines:
        await shell.run(line)

    # the README says: once the three agree the order is declared, with CEB303, CEB403 and CEB603 listed on it
    text = EXPORT_README.read_text()
    assert "the order is `declared`, with its messages CEB303, CEB403 and CEB603" in text
    order = shell.last
    failing = [c for c in order["checks"] if not c["passed"]]
    assert order["state"] == "declared", f"{order['state']}: {failing}"
    assert {m["message_type"] for m in order["messages"]} >= {"CEB303", "CEB403", "CEB603"}


@pytest.mark.parametrize(
    ("kept", "state", "failing"),
    [
        ((), "mismatch", {"item_records"}),  # a new organisation as it is: no record for GSK-OFFICE-01
        (("/items/",), "matched", set()),  # agreed, but with no customs profile nothing is declared
    ],
)
async def test_each_set_up_call_the_export_example_names_is_needed(
    clients: dict[str, httpx.AsyncClient], kept: tuple[str, ...], state: str, failing: set[str]
) -> None:
    """Why the export example names its set-up: the same documents in a new organisation without it."""
    shell = Shell(clients)
    for line in shell_block(ROOT / "README.md", "## First steps"):
        await shell.run(line)
    for line in shell_block(EXPORT_README, "```sh"):
        if "xbm compliance send" in line or "/orders/" in line or any(k in line for k in kept):
            await shell.run(line)
    order = shell.last
    assert order["state"] == state
    assert {c["rule"] for c in order["checks"] if not c["passed"]} == failing
    text = " ".join(EXPORT_README.read_text().split())
    assert "the order ends in `mismatch` (`item_records`)" in text and "stays `matched`" in text
