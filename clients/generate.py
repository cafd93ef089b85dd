"""Regenerate XBM's clients from the code: the three OpenAPI documents (``clients/openapi/``), the Python client
(``clients/python/xbm_client/``) and, when npm is present, the TypeScript types (``clients/typescript/src/``).

    .venv/bin/python clients/generate.py            # write everything
    .venv/bin/python clients/generate.py --check    # exit 1 if anything committed differs from the code

The Python client is plain code over httpx: one class per service, one method per operation (named by its
operationId), TypedDicts for the schemas. Nothing here is hand-edited in the generated files.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVICES = ("plans", "campaigns", "compliance")
CLASS_NAMES = {"plans": "PlansClient", "campaigns": "CampaignsClient", "compliance": "ComplianceClient"}
METHODS = ("get", "post", "put", "patch", "delete")


# --- the documents --------------------------------------------------------------------------------------------


def documents() -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document, as its app builds it (no database is touched)."""
    sys.path.insert(0, str(ROOT))
    from services.campaigns.app import create_app as campaigns_app
    from services.campaigns.settings import CampaignsSettings
    from services.compliance.app import create_app as compliance_app
    from services.compliance.settings import ComplianceSettings
    from services.plans.app import create_app as plans_app
    from services.plans.settings import PlansSettings

    with tempfile.TemporaryDirectory() as tmp:
        common: dict[str, Any] = {"environment": "test", "data_dir": Path(tmp), "service_secret": "generate"}
        apps = {
            "plans": plans_app(PlansSettings(bootstrap_token="generate", **common)),
            "campaigns": campaigns_app(CampaignsSettings(**common)),
            "compliance": compliance_app(ComplianceSettings(**common)),
        }
        return {name: app.openapi() for name, app in apps.items()}


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- the Python client ----------------------------------------------------------------------------------------


def identifier(name: str) -> str:
    out = re.sub(r"\W", "_", name).strip("_").lower() or "value"
    if out[0].isdigit():
        out = "_" + out
    return out + "_" if keyword.iskeyword(out) or out in ("self", "headers", "body") else out


def type_name(name: str) -> str:
    out = re.sub(r"\W", "_", name)
    return "_" + out if out[0].isdigit() else out


def py_type(schema: dict[str, Any]) -> str:
    """A Python annotation for a JSON Schema, written as text (every name a forward reference)."""
    if "$ref" in schema:
        return type_name(schema["$ref"].rsplit("/", 1)[1])
    if "const" in schema:
        return f"Literal[{schema['const']!r}]"
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        literal = f"Literal[{', '.join(repr(v) for v in values)}]" if values else "None"
        return literal + (" | None" if None in schema["enum"] and values else "")
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            parts: list[str] = []
            for option in schema[combinator]:
                part = py_type(option)
                if part not in parts:
                    parts.append(part)
            if "Any" in parts:
                return "Any"
            return " | ".join(sorted(parts, key=lambda p: p == "None"))
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return py_type(schema["allOf"][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(py_type({**schema, "type": k}) for k in kind)
    if kind == "string":
        return "str"
    if kind == "integer":
        return "int"
    if kind == "number":
        return "float"
    if kind == "boolean":
        return "bool"
    if kind == "null":
        return "None"
    if kind == "array":
        return f"list[{py_type(schema.get('items', {}))}]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return f"dict[str, {py_type(extra)}]"
        return "dict[str, Any]"
    return "Any"


def enum_alias(name: str, schema: dict[str, Any]) -> str:
    """An enumeration schema (a vocabulary such as the order states): the Literal of its values."""
    doc = (schema.get("description") or "").strip().replace("\\", "\\\\")
    text = f"{type_name(name)} = {py_type(schema)}\n"
    return text + (f'"""{doc}"""\n' if doc else "")


def typed_dict(name: str, schema: dict[str, Any]) -> str:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    doc = (schema.get("description") or "").strip().replace("\\", "\\\\")
    fields = []
    for field, spec in properties.items():
        annotation = py_type(spec)
        if field not in required:
            annotation = f"NotRequired[{annotation}]"
        fields.append(f"        {field!r}: {json.dumps(annotation)},")
    body = "\n".join(fields)
    # the functional form: field names such as ``from`` are not identifiers
    text = f'{type_name(name)} = TypedDict(\n    "{type_name(name)}",\n    {{\n{body}\n    }},\n)\n' if fields else (
        f'{type_name(name)} = TypedDict("{type_name(name)}", {{}})\n'
    )
    if doc:
        text += f'"""{doc}"""\n'
    return text


def _json_schema(content: dict[str, Any]) -> dict[str, Any] | None:
    for media, spec in content.items():
        if media.endswith("json"):
            return dict(spec.get("schema", {}))
    return None


def method_source(path: str, method: str, op: dict[str, Any]) -> str:
    name = identifier(op["operationId"])
    params = op.get("parameters", [])
    path_params = [p for p in params if p["in"] == "path"]
    query_params = [p for p in params if p["in"] == "query"]
    header_params = [p for p in params if p["in"] == "header"]
    args = ["self"] + [f"{identifier(p['name'])}: str" for p in path_params]
    keyword_args: list[str] = []
    body_kind = None
    request = op.get("requestBody")
    if request is not None:
        schema = _json_schema(request.get("content", {}))
        if schema is not None:
            body_kind = "json"
            annotation = py_type(schema)
            if request.get("required"):
                args.append(f"body: {annotation}")
            else:
                keyword_args.append(f"body: {annotation} | None = None")
        else:
            body_kind = next(iter(request.get("content", {"application/octet-stream": {}})))
            args.append("body: bytes | str")
    for p in query_params:
        annotation = py_type(p.get("schema", {}))
        if p.get("required"):
            keyword_args.insert(0, f"{identifier(p['name'])}: {annotation}")
        else:
            optional = annotation if annotation.endswith("| None") or annotation == "Any" else f"{annotation} | None"
            keyword_args.append(f"{identifier(p['name'])}: {optional} = None")
    for p in header_params:
        keyword_args.append(f"{identifier(p['name'])}: str | None = None")
    keyword_args.append("headers: Mapping[str, str] | None = None")
    signature = ", ".join(args + (["*", *keyword_args] if keyword_args else []))

    returns = "None"
    for status in ("200", "201", "202"):
        response = op.get("responses", {}).get(status)
        if response is None:
            continue
        content = response.get("content", {})
        schema = _json_schema(content)
        if schema is not None:
            returns = py_type(schema)
        elif content:
            returns = "str"
        else:
            returns = "Any"
        break

    summary = (op.get("summary") or name).strip().replace("\\", "\\\\").replace('"""', "'''")
    description = (op.get("description") or "").strip().replace("\\", "\\\\").replace('"""', "'''")
    doc = f"{summary}\n\n        {description}" if description and description != summary else summary
    path_args = ", ".join(f"{p['name']!r}: {identifier(p['name'])}" for p in path_params)
    query_args = ", ".join(f"{p['name']!r}: {identifier(p['name'])}" for p in query_params)
    header_args = ", ".join(f"{p['name']!r}: {identifier(p['name'])}" for p in header_params)
    call = (
        f"self._call({method.upper()!r}, {path!r}, path={{{path_args}}}, query={{{query_args}}}, "
        f"header={{{header_args}}}, headers=headers"
    )
    if body_kind == "json":
        call += ", json=body"
    elif body_kind is not None:
        call += f", content=body, content_type={body_kind!r}"
    call += ")"
    lines = [
        f"    def {name}({signature}) -> {returns}:",
        f'        """{doc}"""',
        f"        {call}" if returns == "None" else f"        return {call}",
    ]
    return "\n".join(lines) + "\n"


def python_client(service: str, document: dict[str, Any]) -> str:
    schemas = document.get("components", {}).get("schemas", {})
    out = [
        f'"""The {service} service of XBM: {document["info"]["title"]} {document["info"]["version"]}.\n\n'
        f"Generated by clients/generate.py from the service's OpenAPI document; do not edit.\n"
        '"""\n',
        "# ruff: noqa",
        "from __future__ import annotations\n",
        "from collections.abc import Mapping",
        "from typing import Any, Literal, NotRequired, TypedDict\n",
        "from xbm_client._base import BaseClient\n\n",
    ]
    for name in sorted(schemas):
        schema = schemas[name]
        out.append(enum_alias(name, schema) if "enum" in schema else typed_dict(name, schema))
        out.append("")
    out.append(f"\nclass {CLASS_NAMES[service]}(BaseClient):")
    out.append(f'    """{(document["info"].get("description") or service).strip()}"""\n')
    for path, item in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method in METHODS:
            if method in item:
                out.append(method_source(path, method, item[method]))
    return "\n".join(out).rstrip() + "\n"


# --- TypeScript -----------------------------------------------------------------------------------------------


def typescript(openapi_dir: Path, out_dir: Path, workdir: Path) -> dict[str, str] | None:
    """``openapi-typescript`` (pinned in clients/typescript/package-lock.json) over each document; None without
    npm."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    for name in ("package.json", "package-lock.json"):
        shutil.copy(HERE / "typescript" / name, workdir / name)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=workdir, check=True)
    binary = workdir / "node_modules" / ".bin" / "openapi-typescript"
    results = {}
    for service in SERVICES:
        target = out_dir / f"{service}.ts"
        subprocess.run([str(binary), str(openapi_dir / f"{service}.json"), "-o", str(target), "--silent"],
                       cwd=workdir, check=True)  # fmt: skip
        results[service] = target.read_text()
    return results


# --- what the generator writes --------------------------------------------------------------------------------


def generated(with_typescript: bool = True) -> dict[Path, str]:
    """Every generated file (path relative to clients/) with its content, from the code as it is now."""
    files: dict[Path, str] = {}
    docs = documents()
    for service, document in docs.items():
        files[Path("openapi") / f"{service}.json"] = dump(document)
        files[Path("python") / "xbm_client" / f"{service}.py"] = python_client(service, document)
    if with_typescript:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "openapi").mkdir()
            (work / "out").mkdir()
            for service, document in docs.items():
                (work / "openapi" / f"{service}.json").write_text(dump(document))
            ts = typescript(work / "openapi", work / "out", work)
        if ts is not None:
            for service, text in ts.items():
                files[Path("typescript") / "src" / f"{service}.ts"] = text
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--no-typescript", action="store_true", help="skip the TypeScript types")
    options = parser.parse_args()
    files = generated(with_typescript=not options.no_typescript)
    stale = []
    for relative, text in files.items():
        target = HERE / relative
        if options.check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(relative))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    if stale:
        print("out of date (run clients/generate.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
