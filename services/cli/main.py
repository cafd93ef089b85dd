"""xbm: log in, import a plan, fetch its report, push metrics, send compliance documents, replay events.

Exit codes: 0 ok, 1 a service refused (its problem detail on stderr), 2 usage error or bad input file (nothing
sent), 3 a service cannot be reached, 4 not logged in (or the token expired).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.cli import config, metrics_file, plan_file
from services.cli.api import DEFAULT_URLS, Api, Service
from services.cli.errors import CliError, Exit, usage

app = typer.Typer(name="xbm", help=__doc__, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
plan_app = typer.Typer(help="Marketing plans: import one from YAML, fetch its report.", no_args_is_help=True)
metrics_app = typer.Typer(help="Campaign metrics.", no_args_is_help=True)
compliance_app = typer.Typer(help="Compliance documents.", no_args_is_help=True)
events_app = typer.Typer(help="Events and their deliveries.", no_args_is_help=True)
app.add_typer(plan_app, name="plan")
app.add_typer(metrics_app, name="metrics")
app.add_typer(compliance_app, name="compliance")
app.add_typer(events_app, name="events")

err = Console(stderr=True, highlight=False, soft_wrap=True)
MAX_FILE_BYTES = 50 * 1024 * 1024

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Context:
    urls: dict[Service, str]
    config_dir: Path

    def api(self, token: str | None = None) -> Api:
        return Api(self.urls, token)

    def token(self) -> str:
        """A live token: the one `xbm login` kept, else one exchanged for $XBM_API_KEY."""
        credentials = config.load(self.config_dir)
        if credentials and not credentials.expired():
            return credentials.access_token
        api_key = os.environ.get("XBM_API_KEY")
        if api_key:
            return _exchange(self.api(), api_key)["access_token"]
        if credentials:
            raise CliError("the token expired; run `xbm login`", Exit.NOT_LOGGED_IN)
        raise CliError("not logged in; run `xbm login` (or set XBM_API_KEY)", Exit.NOT_LOGGED_IN)


def exits(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a CliError into its message on stderr and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CliError as exc:
            err.print(f"xbm: {exc.message}", markup=False)
            raise typer.Exit(int(exc.code)) from None

    return wrapper


def _ctx(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)
    return obj


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise usage(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise usage(f"cannot read {path}: {exc}") from None


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (drawn only on a terminal), advanced by the callback it yields."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def _seg(value: str) -> str:
    """An id as one path segment, so no id can reach another route."""
    if not value.strip():
        raise usage("an id must not be empty")
    return urllib.parse.quote(value, safe="")


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _exchange(api: Api, api_key: str) -> dict[str, Any]:
    try:
        result = api.json("plans", "POST", "/v1/auth/token", json={"api_key": api_key})
    finally:
        api.close()
    if not isinstance(result, dict) or not isinstance(result.get("access_token"), str):
        raise CliError("plans answered /v1/auth/token without an access_token", Exit.REFUSED)
    return result


@app.callback()
def main(
    ctx: typer.Context,
    plans_url: Annotated[str, typer.Option(envvar="XBM_PLANS_URL", help="Base URL of plans.")] = DEFAULT_URLS["plans"],
    campaigns_url: Annotated[
        str, typer.Option(envvar="XBM_CAMPAIGNS_URL", help="Base URL of campaigns.")
    ] = DEFAULT_URLS["campaigns"],
    compliance_url: Annotated[
        str, typer.Option(envvar="XBM_COMPLIANCE_URL", help="Base URL of compliance.")
    ] = DEFAULT_URLS["compliance"],
    config_dir: Annotated[
        Path | None, typer.Option(envvar="XBM_CONFIG_DIR", help="Where the login is kept.", show_default=False)
    ] = None,
) -> None:
    """XBM from the command line, for people and scripts."""
    urls: dict[Service, str] = {"plans": plans_url, "campaigns": campaigns_url, "compliance": compliance_url}
    for name, url in urls.items():
        if not url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"{url!r} is not an http(s) URL", param_hint=f"--{name}-url")
    ctx.obj = Context(urls=urls, config_dir=config_dir or config.config_dir())


@app.command()
@exits
def login(
    ctx: typer.Context,
    api_key: Annotated[
        str, typer.Option(prompt="API key", hide_input=True, envvar="XBM_API_KEY", help="The key to log in with.")
    ],
) -> None:
    """Exchange an API key for an access token and keep the token (file mode 0600) for the next commands."""
    context = _ctx(ctx)
    result = _exchange(context.api(), api_key.strip())
    expires_in = int(result.get("expires_in") or 0)
    credentials = config.Credentials(result["access_token"], time.time() + expires_in, context.urls["plans"])
    path = config.save(context.config_dir, credentials)
    err.print(f"logged in; the token is valid for {expires_in} s and kept in {path}", markup=False)


@app.command()
@exits
def logout(ctx: typer.Context) -> None:
    """Forget the kept token."""
    forgotten = config.forget(_ctx(ctx).config_dir)
    err.print("logged out" if forgotten else "was not logged in")


@plan_app.command("import")
@exits
def plan_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The plan as YAML.", dir_okay=False)],
) -> None:
    """Create a whole plan from one YAML file and print its id."""
    context = _ctx(ctx)
    parsed = plan_file.parse(_read(file))
    with context.api(context.token()) as api:
        created = api.json("plans", "POST", "/v1/plans", json=parsed.plan)
        if not isinstance(created, dict) or "id" not in created:
            raise CliError("plans answered POST /v1/plans without an id", Exit.REFUSED)
        plan_id = str(created["id"])
        ids: dict[str, dict[str, str]] = {key: {} for key, _, _ in plan_file.LISTS}
        with _progress(len(parsed.steps), "importing plan") as advance:
            for step in parsed.steps:
                try:
                    result = api.json(
                        "plans", step.method, step.path.format(plan_id=_seg(plan_id)), json=step.build(ids)
                    )
                except CliError as exc:
                    exc.message = f"{exc.message}\n(at {step.label}; plan {plan_id} was created and kept)"
                    raise
                if step.kind and step.names and isinstance(result, dict) and "id" in result:
                    for name in step.names:
                        ids[step.kind][name] = str(result["id"])
                advance(1)
    typer.echo(plan_id)


@plan_app.command("report")
@exits
def plan_report(
    ctx: typer.Context,
    plan_id: Annotated[str, typer.Argument(help="The plan's id.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML.")] = Path("plan.html"),
) -> None:
    """Save the one-page plan report (HTML)."""
    context = _ctx(ctx)
    with context.api(context.token()) as api:
        response = api.call("plans", "GET", f"/v1/plans/{_seg(plan_id)}/report")
    try:
        output.write_bytes(response.content)
    except OSError as exc:
        raise usage(f"cannot write {output}: {exc}") from None
    typer.echo(str(output))


@metrics_app.command("push")
@exits
def metrics_push(
    ctx: typer.Context,
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id.")],
    file: Annotated[Path, typer.Argument(help="CSV: " + ",".join(metrics_file.REQUIRED) + "[,sends,opens]")],
    batch_size: Annotated[int, typer.Option(min=1, max=metrics_file.MAX_BATCH)] = metrics_file.MAX_BATCH,
) -> None:
    """Upsert a campaign's daily metric rows from a CSV, in batches of at most 1000 rows."""
    context = _ctx(ctx)
    rows = metrics_file.read_rows(_read(file))
    sent = 0
    with context.api(context.token()) as api, _progress(len(rows), "pushing metrics") as advance:
        for batch in metrics_file.batches(rows, batch_size):
            try:
                api.call("campaigns", "PUT", f"/v1/campaigns/{_seg(campaign_id)}/metrics", json={"rows": batch})
            except CliError as exc:
                exc.message = f"{exc.message}\n({sent} of {len(rows)} rows were stored before this batch)"
                raise
            sent += len(batch)
            advance(len(batch))
    err.print(f"pushed {sent} rows to campaign {campaign_id}", markup=False)


class DocumentKind(StrEnum):
    order = "order"
    payment = "payment"
    waybill = "waybill"


@compliance_app.command("send")
@exits
def compliance_send(
    ctx: typer.Context,
    kind: Annotated[DocumentKind, typer.Argument(help="order, payment or waybill.")],
    file: Annotated[Path, typer.Argument(help="A canonical document as JSON, or a list of them.")],
) -> None:
    """Send canonical order, payment or waybill documents (docs/flows.md) to compliance."""
    context = _ctx(ctx)
    try:
        loaded = json.loads(_read(file))
    except json.JSONDecodeError as exc:
        raise usage(f"{file} is not valid JSON: {exc}") from None
    documents = loaded if isinstance(loaded, list) else [loaded]
    if not documents or not all(isinstance(d, dict) for d in documents):
        raise usage(f"{file} must hold a JSON object or a non-empty list of objects")
    results = []
    with context.api(context.token()) as api, _progress(len(documents), f"sending {kind.value}s") as advance:
        for document in documents:
            results.append(api.json("compliance", "POST", f"/v1/compliance/{kind.value}s", json=document))
            advance(1)
    _print_json(results if isinstance(loaded, list) else results[0])


@events_app.command("replay")
@exits
def events_replay(
    ctx: typer.Context,
    service: Annotated[Service, typer.Option(help="The service whose subscription it is.")],
    subscription: Annotated[str, typer.Option("--subscription", "-s", help="The subscription's id.")],
    delivery: Annotated[str, typer.Option("--delivery", "-d", help="The (dead) delivery's id.")],
) -> None:
    """Deliver a dead delivery of a subscription again."""
    context = _ctx(ctx)
    with context.api(context.token()) as api:
        result = api.json(service, "POST", f"/v1/subscriptions/{_seg(subscription)}/deliveries/{_seg(delivery)}/replay")
    _print_json(result)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
