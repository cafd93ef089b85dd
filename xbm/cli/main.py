"""xbm: log in, import a plan, fetch its report, push metrics, send compliance documents, replay events.

Exit codes: 0 ok, 1 a service refused (its problem detail on stderr), 2 usage error or bad input file (nothing
sent; also `xbm login` without a terminal and without --api-key or XBM_API_KEY), 3 a service cannot be reached,
4 not logged in (or the API key was refused). With --json, stdout holds one JSON document: the result, or
{"error": {...}} with the same exit code.
"""

# Over 400 lines on purpose: it is the command table (Typer registers commands where they are
# defined), and each command is a few lines of argument handling over plan_file, metrics_file, api and config,
# where the work is. Splitting the table would scatter `xbm --help` across files without moving any logic.

from __future__ import annotations

import base64
import dataclasses
import functools
import gzip
import importlib.metadata
import io
import json
import os
import sys
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from xbm.cli import config, metrics_file, plan_file
from xbm.cli.api import DEFAULT_URLS, SERVICES, Api, Service, default_url
from xbm.cli.errors import KINDS, CliError, Exit, usage
from xbm.cli.schema import Schemas


def _json_first(args: list[str]) -> tuple[list[str], bool]:
    """``--json`` wherever it is written (before a ``--``), moved before the command, where the option lives."""
    end = args.index("--") if "--" in args else len(args)
    if "--json" not in args[:end]:
        return args, False
    return ["--json", *(a for a in args[:end] if a != "--json"), *args[end:]], True


class XbmGroup(TyperGroup):
    """xbm's command group: `--json` anywhere on the line, and with it even a usage error is JSON on stdout."""

    def main(self, args: Any = None, prog_name: str | None = None, *rest: Any, **extra: Any) -> Any:
        argv, as_json = _json_first(list(sys.argv[1:] if args is None else args))
        if not as_json:
            return super().main(argv, prog_name or "xbm", *rest, **extra)
        extra["standalone_mode"] = False
        try:
            code = super().main(argv, prog_name or "xbm", *rest, **extra)
        except typer.TyperException as exc:  # typer's usage errors (its click's ClickException)
            exc.show()  # type: ignore[attr-defined]
            code = int(getattr(exc, "exit_code", Exit.USAGE))
            kind = KINDS[Exit.USAGE] if code == Exit.USAGE else "error"
            _print_json({"error": {"exit_code": code, "kind": kind, "message": exc.format_message()}})  # type: ignore[attr-defined]
            sys.exit(code)
        except typer.Abort:
            _print_json({"error": {"exit_code": 1, "kind": "aborted", "message": "aborted"}})
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="xbm",
    help=__doc__,
    cls=XbmGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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
#: a kept token this close to its expiry is renewed before a command uses it (seconds)
RENEW_MARGIN = 30

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Context:
    urls: dict[Service, str]
    config_dir: Path
    as_json: bool = False

    def api(self, token: str | None = None) -> Api:
        return Api(self.urls, token)

    def authed(self, *, login_required: bool = True) -> Api:
        """A client with a live token that renews itself from the kept API key when a service refuses it (the
        token expired mid-command). Without ``login_required`` a missing or refused login gives a client
        without a token instead of an error."""
        try:
            token = self.token()
        except CliError as exc:
            if login_required or exc.code != Exit.NOT_LOGGED_IN:
                raise
            return Api(self.urls, None)
        return Api(self.urls, token, refresh=self.renew)

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
        """A live token: the one `xbm login` kept (exchanged again for the kept API key once it is about to
        expire), else one exchanged for $XBM_API_KEY."""
        credentials = config.load(self.config_dir)
        if credentials and not credentials.expired(margin=RENEW_MARGIN):
            return credentials.access_token
        renewed = self.renew(credentials)
        if renewed:
            return renewed
        if credentials and not credentials.expired():
            return credentials.access_token
        if credentials:
            raise CliError("the token expired and no API key is kept; run `xbm login`", Exit.NOT_LOGGED_IN)
        raise CliError("not logged in; run `xbm login` (or set XBM_API_KEY)", Exit.NOT_LOGGED_IN)

    def renew(self, credentials: config.Credentials | None = None) -> str | None:
        """A new token for the kept API key (kept again), else for $XBM_API_KEY; None with neither.

        The kept key is only ever sent to the plans URL it was logged in at: told another URL, the CLI does not
        hand that server the key."""
        credentials = credentials or config.load(self.config_dir)
        if credentials and credentials.api_key and credentials.plans_url == self.urls["plans"]:
            result = _exchange(self.api(), credentials.api_key)
            renewed = dataclasses.replace(
                credentials,
                access_token=result["access_token"],
                expires_at=time.time() + int(result.get("expires_in") or 0),
            )
            config.save(self.config_dir, renewed)
            return renewed.access_token
        api_key = os.environ.get("XBM_API_KEY")
        if api_key:
            return str(_exchange(self.api(), api_key)["access_token"])
        return None


def exits(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a CliError into its message on stderr and its exit code (with --json, the error as JSON on stdout)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CliError as exc:
            err.print(f"xbm: {exc.message}", markup=False)
            ctx = kwargs.get("ctx")
            if ctx is not None and _ctx(ctx).as_json:  # type: ignore[arg-type]
                _print_json(exc.as_json())
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
    return usage(f"{where} would be refused; nothing was sent:\n{listed}", details=errors)


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
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print the result, or the error as {"error": …}, as JSON on stdout (any place).'),
    ] = False,
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


def _interactive() -> bool:
    """Whether a person can be asked for the key: stdin is a terminal (not closed, not a pipe or a file)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # a closed stdin
        return False


def _key_from_stdin() -> str:
    try:
        line = sys.stdin.readline() if sys.stdin is not None else ""
    except (ValueError, OSError):
        line = ""
    if not line.strip():
        raise usage("--api-key - reads the key from stdin, and stdin is empty; nothing was sent")
    return line


@app.command()
@exits
def login(
    ctx: typer.Context,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="XBM_API_KEY",
            help="The key to log in with; `-` reads it from stdin. Asked for (not echoed) on a terminal.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Exchange an API key for an access token; keep both (file mode 0600), so the login outlasts the token.

    Without a terminal (a script, CI) give the key with --api-key or XBM_API_KEY: xbm does not wait for input
    it cannot get (exit 2).
    """
    context = _ctx(ctx)
    if api_key is None:
        if not _interactive():
            raise usage(
                "no terminal to ask for the API key on: give it with --api-key KEY (or --api-key - to read it "
                "from stdin) or set XBM_API_KEY; nothing was sent"
            )
        api_key = typer.prompt("API key", default="", hide_input=True, show_default=False, err=True)
    elif api_key == "-":
        api_key = _key_from_stdin()
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
        api_key,
    )
    path = config.save(context.config_dir, credentials)
    if context.as_json:
        _print_json({"plans_url": context.urls["plans"], "expires_in": expires_in, "kept_in": str(path)})
    err.print(
        f"logged in at {context.urls['plans']}; the token (valid {expires_in} s, renewed from the key kept with it "
        f"when it expires) is kept in {path}; `xbm logout` forgets both",
        markup=False,
    )


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
    with Api(context.urls, token, refresh=context.renew) as api:
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
    """Forget the kept token and API key."""
    context = _ctx(ctx)
    forgotten = config.forget(context.config_dir)
    if context.as_json:
        _print_json({"logged_out": forgotten})
    err.print("logged out: the kept token and API key are forgotten" if forgotten else "was not logged in")


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
    # a dry run needs no login: the schema is public; logged in, it also says whether the plan key was imported
    with context.authed(login_required=not dry_run) as api:
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
        if key is not None and api.token:
            found = api.json("plans", "GET", "/v1/plans?" + urllib.parse.urlencode({"key": str(key), "limit": 1}))
            items = found.get("items") if isinstance(found, dict) else None
            existing = items[0] if items else None
        if dry_run:
            checked_key = key is not None and api.token is not None
            summary = {
                "dry_run": True,
                "valid": True,
                "requests": 1 + len(parsed.steps),
                "steps": ["plan", *(step.label for step in parsed.steps)],
                "existing_plan_id": existing["id"] if existing else None,
                "key_checked": checked_key,
            }
            if context.as_json:
                _print_json(summary)
            else:
                err.print(
                    f"{file} is valid: {summary['requests']} requests would be sent; nothing was sent"
                    + (f" (plan key {key!r} is already imported as {existing['id']})" if existing else "")
                    + (
                        f" (not logged in: whether plan key {key!r} was imported before is not checked)"
                        if key is not None and not checked_key
                        else ""
                    ),
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
    if str(output) == "-" and context.as_json:
        raise usage("--json and -o - both want stdout: write the report to a file with -o FILE")
    with context.authed() as api:
        response = api.call("plans", "GET", f"/v1/plans/{_seg(plan_id)}/report")
    if str(output) == "-":
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(response.content)
    except OSError as exc:
        raise usage(f"cannot write {output}: {exc}") from None
    if context.as_json:
        _print_json({"plan_id": plan_id, "output": str(output), "bytes": len(response.content)})
    else:
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
    with context.authed() as api, _progress(len(rows), "pushing metrics") as advance:
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


class ReportFormat(StrEnum):
    google_ads_api = "google_ads_api"
    google_ads_csv = "google_ads_csv"
    meta_insights = "meta_insights"
    meta_ads_manager_csv = "meta_ads_manager_csv"
    tiktok_report = "tiktok_report"
    amazon_ads_report = "amazon_ads_report"
    mailchimp_report = "mailchimp_report"
    klaviyo_campaign_values = "klaviyo_campaign_values"


#: what an imported report may weigh once unzipped (the campaigns service refuses larger bodies anyway)
MAX_REPORT_BYTES = 50 * 1024 * 1024


def _report_bytes(path: Path) -> bytes:
    """The report as it came; an Amazon Ads GZIP_JSON download is unzipped here (the service takes JSON)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise usage(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise usage(f"cannot read {path}: {exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                raw = unzipped.read(MAX_REPORT_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise usage(f"{path} is not a readable gzip file: {exc}") from None
        if len(raw) > MAX_REPORT_BYTES:
            raise usage(f"{path} unzips to more than {MAX_REPORT_BYTES // (1024 * 1024)} MiB")
    if not raw.strip():
        raise usage(f"{path} is empty")
    return raw


def _is_json(raw: bytes) -> bool:
    head = raw.lstrip()[:1]
    return head in (b"{", b"[") or (raw[:3] == b"\xef\xbb\xbf" and raw[3:].lstrip()[:1] in (b"{", b"["))


@metrics_app.command("import")
@exits
def metrics_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="A platform's report as it came: Google Ads API JSON or UI CSV, Meta Insights JSON or Ads Manager "
            "CSV, TikTok, Amazon Ads (JSON or .json.gz), Mailchimp or Klaviyo JSON."
        ),
    ],
    format: Annotated[
        ReportFormat | None, typer.Option("--format", help="The report's format (recognised when left out).")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="The account's currency, when the report carries none.")
    ] = None,
    account_id: Annotated[
        str | None, typer.Option("--account-id", help="The account, when the report names none.")
    ] = None,
    purchase_action_types: Annotated[
        str | None,
        typer.Option("--purchase-action-types", help="Meta: purchase action types in order, comma-separated."),
    ] = None,
    attribution_window: Annotated[
        str | None,
        typer.Option("--attribution-window", help="Amazon Ads: 1d, 7d, 14d or 30d when a campaign names none."),
    ] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Klaviyo: the day (YYYY-MM-DD) to book the report on.")
    ] = None,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", help="Mailchimp: the account's IANA time zone.")
    ] = None,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Record rows dated outside their campaign's dates.")
    ] = False,
) -> None:
    """Import an ad or email platform's report: each row goes to the campaign whose external_refs names its
    platform campaign. Exit 5 when the report names platform campaigns no campaign names (listed, not stored)."""
    context = _ctx(ctx)
    raw = _report_bytes(file)
    if attribution_window is not None and attribution_window not in ("1d", "7d", "14d", "30d"):
        raise usage("--attribution-window must be 1d, 7d, 14d or 30d")
    if currency is not None and not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise usage("--currency must be an ISO 4217 code such as USD")
    options = {
        "format": format.value if format else None,
        "currency": currency,
        "account_id": account_id,
        "purchase_action_types": purchase_action_types,
        "attribution_window": attribution_window,
        "date": day,
        "time_zone": time_zone,
        "backfill": "true" if backfill else None,
    }
    params = {k: v for k, v in options.items() if v is not None}
    content_type = "application/json" if _is_json(raw) else "text/csv"
    with context.api(context.token()) as api:
        response = api.call(
            "campaigns", "POST", "/v1/campaigns/metrics/imports", content=raw, content_type=content_type, params=params
        )
    try:
        answer = response.json()
    except ValueError:
        raise CliError("campaigns answered the import with a body that is not JSON", Exit.REFUSED) from None
    if context.as_json:
        _print_json(answer)
    else:
        for c in answer.get("campaigns", []):
            line = f"campaign {c['campaign_id']}: {c['rows']} rows over {c['days']} days ({c['from']} – {c['to']})"
            above = c.get("conversions_above_clicks") or []
            if above:
                line += f", {len(above)} day(s) with more conversions than clicks (kept)"
            typer.echo(line)
    for u in answer.get("unknown", []):
        err.print(
            f"not stored: {u['platform']} campaign {u['campaign_id']} ({u['rows']} rows): {u['reason']}", markup=False
        )
    for s in answer.get("skipped", []):
        err.print(f"skipped {s['row']}: {s['reason']}", markup=False)
    placed = sum(c["rows"] for c in answer.get("campaigns", []))
    err.print(f"imported {placed} of {answer.get('rows_read', 0)} rows ({answer.get('format')})", markup=False)
    if answer.get("unknown"):
        raise typer.Exit(int(Exit.PARTLY_IMPORTED))


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
    printed (`ok` with the order's state, `refused` with compliance's reason, `mismatch` with the rules the order
    fails); the exit code is 1 when any was refused or its order is in `mismatch`. --json prints the results as
    a JSON list (an object for a file of one document).
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
    with context.authed() as api:
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
                    _report_sent(context, results)
                    exc.message += f"\n({len(results)} of {len(documents)} documents were sent before this one)"
                    exc.extra["sent"] = results
                    raise
                advance(1)
    failed = [r for r in results if r["result"] != "ok"]
    if context.as_json:
        _print_json(results if isinstance(loaded, list) else results[0])
        for r in failed:
            err.print(_result_line(r), markup=False)
    else:
        for r in results:
            typer.echo(_result_line(r))
    if failed:
        err.print(f"{len(failed)} of {len(results)} documents were refused or mismatched", markup=False)
        raise typer.Exit(int(Exit.REFUSED))


def _report_sent(context: Context, results: list[dict[str, Any]]) -> None:
    """What was sent before a batch stopped: as lines, or (with --json) inside the error printed after."""
    if not context.as_json:
        for r in results:
            typer.echo(_result_line(r))


def _result_line(r: dict[str, Any]) -> str:
    """One document's outcome for people: `[0] GSK1: ok (matched)`, and under a mismatch each failing rule."""
    head = f"[{r['index']}] {r.get('order_no') or '—'}: {r['result']}"
    if r["result"] == "refused":
        return f"{head}: {r.get('error')}"
    state = (r.get("answer") or {}).get("state")
    if r["result"] == "ok":
        return f"{head} ({state})" if state else head
    rules = r.get("failing_rules") or []
    if not rules:
        return f"{head}: compliance did not say which rules fail (GET the order for its checks)"
    return head + " — the order fails:\n" + "\n".join(f"    {c['rule']}: {c['detail']}" for c in rules)


def _send_one(api: Api, path: str, index: int, document: dict[str, Any]) -> dict[str, Any]:
    """One document's outcome: ok, refused (its problem) or mismatch (with the rules the order fails);
    unreachable or logged out ends the batch."""
    entry: dict[str, Any] = {"index": index, "order_no": document.get("order_no")}
    try:
        answer = api.json("compliance", "POST", path, json=document)
    except CliError as exc:
        if exc.code != Exit.REFUSED:
            raise
        return {**entry, "result": "refused", "error": exc.message, "status": exc.status, "problem": exc.problem}
    state = answer.get("state") if isinstance(answer, dict) else None
    if state != "mismatch":
        return {**entry, "result": "ok", "answer": answer}
    return {**entry, "result": "mismatch", "answer": answer, "failing_rules": _failing_rules(api, answer)}


def _failing_rules(api: Api, answer: dict[str, Any]) -> list[dict[str, str]]:
    """The checks the mismatched order fails, read from the order itself ([{rule, detail}])."""
    ebp_code, order_no = answer.get("ebp_code"), answer.get("order_no")
    if not ebp_code or not order_no:
        return []
    try:
        order = api.json("compliance", "GET", f"/v1/compliance/orders/{_seg(str(ebp_code))}/{_seg(str(order_no))}")
    except CliError as exc:
        if exc.code != Exit.REFUSED:
            raise
        return []
    checks = order.get("checks") if isinstance(order, dict) else None
    return [
        {"rule": str(c.get("rule")), "detail": str(c.get("detail") or "")}
        for c in checks or []
        if isinstance(c, dict) and c.get("passed") is False
    ]


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
    with context.authed() as api:
        result = api.json(service, "POST", f"/v1/subscriptions/{_seg(subscription)}/deliveries/{_seg(delivery)}/replay")
    if context.as_json:
        _print_json(result)
        return
    state = result.get("state") or result.get("status") if isinstance(result, dict) else None
    typer.echo(f"delivery {delivery} of subscription {subscription} is {state or 'queued again'}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
