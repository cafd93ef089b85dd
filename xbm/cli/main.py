"""xbm: log in, import a plan, fetch its report, push metrics, send compliance documents, replay events.

Exit codes: 0 ok, 1 a service refused (its problem detail on stderr), 2 usage error or bad input file (nothing
sent), 3 a service cannot be reached, 4 not logged in (or the token expired or was refused).
"""

# One module of about 500 lines on purpose: it is the command table (Typer registers commands where they are
# defined), and each command is a few lines of argument handling over plan_file, metrics_file, api and config,
# where the work is. Splitting the table would scatter `xbm --help` across files without moving any logic.

from __future__ import annotations

import base64
import functools
import importlib.metadata
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

from xbm.cli import config, metrics_file, plan_file
from xbm.cli.api import DEFAULT_URLS, SERVICES, Api, Service, default_url
from xbm.cli.errors import CliError, Exit, usage
from xbm.cli.schema import Schemas

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
    as_json: bool = False

    def api(self, token: str | None = None) -> Api:
        return Api(self.urls, token)

    def schemas(self, api: Api, service: Service) -> Schemas:
        """The service's OpenAPI document, to check bodies against before any of them is sent. Behind a gateway that
        routes only /v1 there is none: the service then checks each body itself (and says why it refuses)."""
        try:
            return Schemas(api.json(service, "GET", "/openapi.json"))
        except CliError as exc:
            if exc.code != Exit.REFUSED:
                raise
            err.print(f"xbm: {service} does not show its schema here; bodies are checked by {service} only")
            return Schemas({})

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


def _version(value: bool) -> None:
    if value:
        try:
            version = importlib.metadata.version("xbm")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
            version = "unknown"
        typer.echo(f"xbm {version}")
        raise typer.Exit()


def _invalid(where: str, errors: list[str]) -> CliError:
    listed = "\n".join(f"  {e}" for e in errors)
    return usage(f"{where} would be refused; nothing was sent:\n{listed}")


def _exchange(api: Api, api_key: str) -> dict[str, Any]:
    try:
        result = api.json("plans", "POST", "/v1/auth/token", json={"api_key": api_key})
    finally:
        api.close()
    if not isinstance(result, dict) or not isinstance(result.get("access_token"), str):
        raise CliError("plans answered /v1/auth/token without an access_token", Exit.REFUSED)
    return result


URL_HELP = "Base URL of {}; default: the one `xbm login` used, else where `make run` listens ({})."


@app.callback()
def main(
    ctx: typer.Context,
    plans_url: Annotated[
        str | None, typer.Option(envvar="XBM_PLANS_URL", help=URL_HELP.format("plans", DEFAULT_URLS["plans"]))
    ] = None,
    campaigns_url: Annotated[
        str | None,
        typer.Option(envvar="XBM_CAMPAIGNS_URL", help=URL_HELP.format("campaigns", DEFAULT_URLS["campaigns"])),
    ] = None,
    compliance_url: Annotated[
        str | None,
        typer.Option(envvar="XBM_COMPLIANCE_URL", help=URL_HELP.format("compliance", DEFAULT_URLS["compliance"])),
    ] = None,
    config_dir: Annotated[
        Path | None, typer.Option(envvar="XBM_CONFIG_DIR", help="Where the login is kept.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON, for scripts.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """XBM from the command line, for people and scripts."""
    directory = config_dir or config.config_dir()
    given: dict[Service, str | None] = {"plans": plans_url, "campaigns": campaigns_url, "compliance": compliance_url}
    try:
        saved = config.load(directory)
    except CliError:
        saved = None  # an unreadable login is reported by the command that needs it
    urls: dict[Service, str] = {}
    for name in SERVICES:
        # told > the URL logged in against > the default: a kept token never goes to a server it was not made for
        url = given[name] or (saved.urls.get(name) if saved else None) or default_url(name)
        if not url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"{url!r} is not an http(s) URL", param_hint=f"--{name}-url")
        urls[name] = url
    ctx.obj = Context(urls=urls, config_dir=directory, as_json=as_json)


@app.command()
@exits
def login(
    ctx: typer.Context,
    api_key: Annotated[
        str,
        typer.Option(
            prompt="API key", hide_input=True, envvar="XBM_API_KEY", help="The key to log in with.", show_default=False
        ),
    ] = "",  # an empty answer is the user's mistake (exit 2), not a reason to ask again
) -> None:
    """Exchange an API key for an access token and keep the token (file mode 0600) for the next commands."""
    context = _ctx(ctx)
    api_key = api_key.strip()
    if not api_key:
        raise usage("the API key is empty; nothing was sent")
    if len(api_key) > 512 or not api_key.isprintable():
        raise usage("that is not an API key (XBM keys start with xbm_); nothing was sent")
    result = _exchange(context.api(), api_key)
    expires_in = int(result.get("expires_in") or 0)
    credentials = config.Credentials(
        result["access_token"],
        time.time() + expires_in,
        context.urls["plans"],
        {str(k): v for k, v in context.urls.items()},
    )
    path = config.save(context.config_dir, credentials)
    if context.as_json:
        _print_json({"plans_url": context.urls["plans"], "expires_in": expires_in, "kept_in": str(path)})
    err.print(f"logged in at {context.urls['plans']}; the token is valid for {expires_in} s and kept in {path}")


def _claims(token: str) -> dict[str, Any]:
    """The token's claims as plans wrote them (read, not verified: plans verifies it on the next call)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise CliError("the kept token is not a token; run `xbm login`", Exit.NOT_LOGGED_IN) from exc
    if not isinstance(claims, dict):
        raise CliError("the kept token is not a token; run `xbm login`", Exit.NOT_LOGGED_IN)
    return claims


@app.command()
@exits
def whoami(ctx: typer.Context) -> None:
    """Show the organisation, role and key the current login acts as (plans confirms the token)."""
    context = _ctx(ctx)
    token = context.token()
    claims = _claims(token)
    with context.api(token) as api:
        org = api.json("plans", "GET", f"/v1/orgs/{_seg(str(claims.get('org', '')))}")
    name = org.get("name") if isinstance(org, dict) else None
    expires = claims.get("exp")
    who = {
        "org_id": claims.get("org"),
        "org_name": name,
        "role": claims.get("role"),
        "subject": claims.get("sub"),
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)) if isinstance(expires, int) else None,
        "plans_url": context.urls["plans"],
    }
    if context.as_json:
        _print_json(who)
        return
    typer.echo(f"organisation {who['org_name']} ({who['org_id']})")
    typer.echo(f"role         {who['role']}")
    typer.echo(f"key          {who['subject']}")
    typer.echo(f"token until  {who['expires_at']}")
    typer.echo(f"plans        {who['plans_url']}")


@app.command()
@exits
def logout(ctx: typer.Context) -> None:
    """Forget the kept token."""
    forgotten = config.forget(_ctx(ctx).config_dir)
    err.print("logged out" if forgotten else "was not logged in")


PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"


def _placeholders(ids: dict[str, dict[str, str]], parsed: plan_file.PlanFile) -> None:
    """Stand-in ids for every named object, so each body can be checked before anything exists."""
    for step in parsed.steps:
        if step.kind:
            for name in step.names:
                ids[step.kind][name] = PLACEHOLDER_ID


@plan_app.command("import")
@exits
def plan_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The plan as YAML.", dir_okay=False)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file against plans' schemas and send nothing.")
    ] = False,
) -> None:
    """Create a whole plan from one YAML file and print its id.

    Every request body is checked against plans' own schemas first (exit 2, nothing sent). With `plan.key` in
    the file, importing it again prints the plan made the first time and creates nothing. A refusal part-way
    removes the plan created, so a failed import leaves nothing behind.
    """
    context = _ctx(ctx)
    parsed = plan_file.parse(_read(file))
    key = parsed.plan.get("key")
    with context.api(context.token()) as api:
        schemas = context.schemas(api, "plans")
        errors = [f"plan.{e}" for e in schemas.errors("POST", "/v1/plans", parsed.plan)]
        ids: dict[str, dict[str, str]] = {k: {} for k, _, _ in plan_file.LISTS}
        _placeholders(ids, parsed)
        for step in parsed.steps:
            body = step.build(ids)
            errors += [f"{step.label}: {e}" for e in schemas.errors(step.method, step.path, body)]
        if errors:
            raise _invalid(str(file), errors)
        existing = None
        if key is not None:
            found = api.json("plans", "GET", "/v1/plans?" + urllib.parse.urlencode({"key": str(key), "limit": 1}))
            items = found.get("items") if isinstance(found, dict) else None
            existing = items[0] if items else None
        if dry_run:
            summary = {
                "dry_run": True,
                "requests": 1 + len(parsed.steps),
                "steps": ["plan", *(step.label for step in parsed.steps)],
                "existing_plan_id": existing["id"] if existing else None,
            }
            if context.as_json:
                _print_json(summary)
            else:
                err.print(
                    f"{file} is valid: {summary['requests']} requests would be sent; nothing was sent"
                    + (f" (plan key {key!r} is already imported as {existing['id']})" if existing else ""),
                    markup=False,
                )
            return
        if existing:
            err.print(f"plan key {key!r} was imported before; nothing was created", markup=False)
            _echo_plan(context, str(existing["id"]), created=False)
            return
        created = api.json("plans", "POST", "/v1/plans", json=parsed.plan)
        if not isinstance(created, dict) or "id" not in created:
            raise CliError("plans answered POST /v1/plans without an id", Exit.REFUSED)
        plan_id = str(created["id"])
        ids = {k: {} for k, _, _ in plan_file.LISTS}
        with _progress(len(parsed.steps), "importing plan") as advance:
            for step in parsed.steps:
                try:
                    result = api.json(
                        "plans", step.method, step.path.format(plan_id=_seg(plan_id)), json=step.build(ids)
                    )
                except CliError as exc:
                    exc.message = f"{exc.message}\n(at {step.label}; {_undo(api, plan_id)})"
                    raise
                if step.kind and step.names and isinstance(result, dict) and "id" in result:
                    for name in step.names:
                        ids[step.kind][name] = str(result["id"])
                advance(1)
    _echo_plan(context, plan_id, created=True)


def _undo(api: Api, plan_id: str) -> str:
    """Remove a half-imported plan (still a draft: activation is the last step)."""
    try:
        api.call("plans", "DELETE", f"/v1/plans/{_seg(plan_id)}")
    except CliError as exc:
        return f"plan {plan_id} could not be removed and is left as a draft: {exc.message}"
    return f"plan {plan_id} was removed; nothing is left behind"


def _echo_plan(context: Context, plan_id: str, *, created: bool) -> None:
    if context.as_json:
        _print_json({"plan_id": plan_id, "created": created})
    else:
        typer.echo(plan_id)


@plan_app.command("report")
@exits
def plan_report(
    ctx: typer.Context,
    plan_id: Annotated[str, typer.Argument(help="The plan's id.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the HTML; `-` writes it to stdout.")
    ] = Path("plan.html"),
) -> None:
    """Save the one-page plan report (HTML)."""
    context = _ctx(ctx)
    with context.api(context.token()) as api:
        response = api.call("plans", "GET", f"/v1/plans/{_seg(plan_id)}/report")
    if str(output) == "-":
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
        return
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
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Accept rows dated outside the campaign's dates.")
    ] = False,
) -> None:
    """Upsert a campaign's daily metric rows from a CSV, in batches of at most 1000 rows."""
    context = _ctx(ctx)
    rows = metrics_file.read_rows(_read(file))
    sent = 0
    with context.api(context.token()) as api, _progress(len(rows), "pushing metrics") as advance:
        for batch in metrics_file.batches(rows, batch_size):
            try:
                body: dict[str, Any] = {"rows": batch, **({"backfill": True} if backfill else {})}
                api.call("campaigns", "PUT", f"/v1/campaigns/{_seg(campaign_id)}/metrics", json=body)
            except CliError as exc:
                exc.message = f"{exc.message}\n({sent} of {len(rows)} rows were stored before this batch)"
                raise
            sent += len(batch)
            advance(len(batch))
    if context.as_json:
        _print_json({"campaign_id": campaign_id, "rows": sent})
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
    """Send canonical order, payment or waybill documents to compliance.

    Every document is checked against compliance's schema first (exit 2, nothing sent). Each one's result is
    printed; the exit code is 1 when any was refused or its order is in `mismatch`.
    """
    context = _ctx(ctx)
    try:
        loaded = json.loads(_read(file))
    except json.JSONDecodeError as exc:
        raise usage(f"{file} is not valid JSON: {exc}") from None
    documents = loaded if isinstance(loaded, list) else [loaded]
    if not documents or not all(isinstance(d, dict) for d in documents):
        raise usage(f"{file} must hold a JSON object or a non-empty list of objects")
    path = f"/v1/compliance/{kind.value}s"
    results: list[dict[str, Any]] = []
    with context.api(context.token()) as api:
        schemas = context.schemas(api, "compliance")
        errors = [f"[{i}] {e}" for i, d in enumerate(documents) for e in schemas.errors("POST", path, d)]
        if errors:
            raise _invalid(str(file), errors)
        with _progress(len(documents), f"sending {kind.value}s") as advance:
            for index, document in enumerate(documents):
                try:
                    results.append(_send_one(api, path, index, document))
                except CliError as exc:
                    # what was stored before the service went away is still printed, so a retry can skip it
                    _print_json(results)
                    exc.message += f"\n({len(results)} of {len(documents)} documents were sent before this one)"
                    raise
                advance(1)
    failed = [r for r in results if r["result"] != "ok"]
    _print_json(results if isinstance(loaded, list) else results[0])
    for r in failed:
        err.print(f"[{r['index']}] {r.get('order_no') or '—'}: {r['result']} {r.get('error') or ''}", markup=False)
    if failed:
        err.print(f"{len(failed)} of {len(results)} documents failed or mismatched", markup=False)
        raise typer.Exit(int(Exit.REFUSED))


def _send_one(api: Api, path: str, index: int, document: dict[str, Any]) -> dict[str, Any]:
    """One document's outcome: ok, refused (its problem) or mismatch; unreachable or logged out ends the batch."""
    entry: dict[str, Any] = {"index": index, "order_no": document.get("order_no")}
    try:
        answer = api.json("compliance", "POST", path, json=document)
    except CliError as exc:
        if exc.code != Exit.REFUSED:
            raise
        return {**entry, "result": "refused", "error": exc.message}
    state = answer.get("state") if isinstance(answer, dict) else None
    return {**entry, "result": "mismatch" if state == "mismatch" else "ok", "answer": answer}


#: states an order is still held in after it was compared again (the exit code is 1 for these)
HELD = ("incomplete", "awaiting_documents", "mismatch", "matched", "rejected")


@compliance_app.command("rematch")
@exits
def compliance_rematch(
    ctx: typer.Context,
    ebp_code: Annotated[str, typer.Argument(help="The platform's code (ebp_code) the orders are under.")],
    order_nos: Annotated[list[str], typer.Argument(help="One or more order numbers.", show_default=False)],
) -> None:
    """Compare orders again once the cause of their exception is fixed, and declare those that pass.

    A refused (`rejected`) order whose checks pass is declared again. Each order's new state is printed (its
    view with --json); the exit code is 1 when any is still held (incomplete, mismatch, rejected, waiting) or
    was refused (e.g. 409: it is already declared).
    """
    context = _ctx(ctx)
    results: list[dict[str, Any]] = []
    with context.api(context.token()) as api:
        for order_no in order_nos:
            path = f"/v1/compliance/orders/{_seg(ebp_code)}/{_seg(order_no)}/rematch"
            try:
                view = api.json("compliance", "POST", path)
            except CliError as exc:
                if exc.code != Exit.REFUSED:
                    raise
                results.append({"order_no": order_no, "result": "refused", "error": exc.message})
                continue
            results.append({"order_no": order_no, "result": "held" if view["state"] in HELD else "ok", "order": view})
    if context.as_json:
        _print_json(results)
    for r in results:
        if r["result"] == "refused":
            err.print(f"{ebp_code}/{r['order_no']}: {r['error']}", markup=False)
            continue
        view = r["order"]
        why = [c["detail"] for c in view.get("checks") or [] if not c.get("passed")]
        refusal = view.get("refusal") or {}
        line = f"{ebp_code}/{r['order_no']}: {view['state']}"
        if refusal:
            why = [f"customs: {refusal.get('info')}"]
        if not context.as_json:
            typer.echo(line + (f" ({'; '.join(why)})" if why and view["state"] in HELD else ""))
    held = [r for r in results if r["result"] != "ok"]
    if held:
        err.print(f"{len(held)} of {len(results)} orders are still held or were refused", markup=False)
        raise typer.Exit(int(Exit.REFUSED))


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
