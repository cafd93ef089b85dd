"""Schemathesis against an app served in-process on the test session's event loop.

The apps (and their database engines) live on the pytest-asyncio session loop; Hypothesis drives its tests
synchronously. So the fuzz runs in a worker thread, and each request it makes is handed to the session loop
(``asyncio.run_coroutine_threadsafe``) through a ``requests`` adapter that calls the app with httpx's ASGI
transport. Schemathesis sees an ordinary ``requests.Session``: every phase and check works unchanged.
"""

from __future__ import annotations

import asyncio
import io
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import requests
import requests.adapters
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Flaky
from schemathesis import checks
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.overrides import Override
from urllib3 import HTTPHeaderDict, HTTPResponse

#: examples per operation in `make test`; `make fuzz` raises it (XBM_FUZZ_EXAMPLES=…)
EXAMPLES = int(os.environ.get("XBM_FUZZ_EXAMPLES", "5"))
#: `make fuzz`: the coverage phase for made-up ids too (its body and query cases also run with real ids), and
#: new random cases on every run; `make test` replays the same cases every time
FULL = os.environ.get("XBM_FUZZ_FULL", "") == "1"
CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
    checks.negative_data_rejection,
]


class AsgiAdapter(requests.adapters.HTTPAdapter):
    """Sends each request to the app on ``loop`` and waits for the answer."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop):
        super().__init__()
        self.client = client
        self.loop = loop

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        elif body is not None and not isinstance(body, bytes):
            body = b"".join(body)  # type: ignore[arg-type]
        call = self.client.request(
            request.method or "GET", request.url or "/", headers=dict(request.headers), content=body
        )
        answer = asyncio.run_coroutine_threadsafe(call, self.loop).result(timeout=120)
        raw = HTTPResponse(
            body=io.BytesIO(answer.content),
            headers=HTTPHeaderDict(answer.headers.multi_items()),
            status=answer.status_code,
            reason=answer.reason_phrase,
            version=11,
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)


def session_for(client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop, token: str) -> requests.Session:
    session = requests.Session()
    adapter = AsgiAdapter(client, loop)
    session.mount("http://", adapter)
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def load_schema(app: Any, base_url: str) -> Any:
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.config.update(base_url=base_url)
    # the harness sends the token itself (session_for): a generated Authorization header never reaches the app
    schema.config.generation.with_security_parameters = False
    # a body past the size limit is refused before it is read (413): a rejection like any other
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return schema


def hypothesis_settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not FULL,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )


@dataclass
class Findings:
    """What the checks found, one entry per operation and kind of failure (with its first reproduction)."""

    service: str
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    calls: int = 0

    def validate(self, case: Any, response: Any, **kwargs: Any) -> None:
        self.calls += 1
        try:
            case.validate_response(response, checks=CHECKS, **kwargs)
        except FailureGroup as group:
            for failure in group.exceptions:
                self.failures.setdefault((case.operation.label, failure.title), short(str(group)))

    def crash(self, where: str, exc: BaseException) -> None:
        self.failures.setdefault((where, type(exc).__name__), short("".join(traceback.format_exception(exc))[-3000:]))

    def report(self) -> str:
        return f"{len(self.failures)} failing:\n\n" + "\n\n".join(
            f"{self.service} {where} — {title}:\n{text}" for (where, title), text in sorted(self.failures.items())
        )


def short(text: str) -> str:
    lines = [line if len(line) < 400 else line[:400] + " …" for line in text.strip().splitlines()]
    return "\n".join(lines[:40])


#: path parameter values of real objects for an operation's path (None: let schemathesis make them up)
Ids = Callable[[str], dict[str, str]] | None
ORDER = {"GET": 0, "PUT": 1, "PATCH": 2, "POST": 3, "DELETE": 4}


def fuzz_operations(
    schema: Any,
    session: requests.Session,
    findings: Findings,
    examples: int = EXAMPLES,
    ids: Ids = None,
    coverage: bool = True,
) -> None:
    """The examples, coverage (boundary and invalid values of every parameter and property) and fuzzing phases
    for every operation. With ``ids``, every case names real objects, so bodies and queries reach the domain code
    rather than a 404; reads go first and deletes last."""
    modes = [HypothesisTestMode.EXAMPLES, HypothesisTestMode.FUZZING]
    if coverage:
        modes.insert(1, HypothesisTestMode.COVERAGE)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: (ORDER.get(op.method.upper(), 5), -op.path.count("/") * (op.method == "delete")))
    for operation in operations:
        override = Override(path_parameters=ids(operation.path)) if ids else Override()
        config = HypothesisTestConfig(
            project=schema.config,
            modes=modes,
            settings=hypothesis_settings(examples),
            override=override,
        )

        def check(case: Any) -> None:
            findings.validate(case, case.call(session=session))

        test: Callable[[], None] = create_test(operation=operation, test_func=check, config=config)
        try:
            test()
        except Exception as exc:  # not a check: the harness or schemathesis itself
            findings.crash(operation.label, exc)


def fuzz_stateful(schema: Any, session: requests.Session, findings: Findings, examples: int = EXAMPLES) -> None:
    """Scenarios chaining operations by the links schemathesis infers (a created id fed to the next call)."""
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"session": session}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            findings.validate(case, response, transport_kwargs=kwargs or None)

        def step(self, input: Any) -> Any:
            try:
                return super().step(input)
            except Exception as exc:  # kept: Hypothesis' replay of a live scenario would hide it as flaky
                findings.crash(f"stateful {input.case.operation.label}", exc)
                raise

    settings = hypothesis.settings(hypothesis_settings(4 * examples), stateful_step_count=10)
    for suite in range(3):
        try:
            (Machine if FULL else hypothesis.seed(suite)(Machine)).run(settings=settings)
            return
        except Flaky:
            # the API's state moved on between Hypothesis' runs of a scenario (a bundle empty on replay): what
            # the checks found is recorded already; start another suite, as schemathesis' own runner does
            continue
        except Exception as exc:
            findings.crash("stateful", exc)
            return
