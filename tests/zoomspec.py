"""Zoom's OpenAPI documents, read strictly, for validating requests and responses.

`oneOf` is read as `anyOf` and every object that lists its properties is closed (see
zoomsim/openapi.py), so a misspelled field fails. Later tests validate the hardening PATCH
bodies with `request_errors`. The operations come from zoomsim/spec/operations.json, extracted
from Zoom's published documents (zoomsim/spec/SOURCE.md): nothing outside the repository is read.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema

from zoomsim.openapi import load_operations, strict


@cache
def _documents() -> dict[str, dict]:
    return load_operations()


def _pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


def _operation_for(method: str, path: str) -> dict[str, Any]:
    # Concrete paths are cached by their template so each schema is made strict once.
    for document in _documents().values():
        for template, operations in document["paths"].items():
            if _pattern(template).match(path) and method.lower() in operations:
                return _strict_operation(template, method.lower())
    raise AssertionError(f"no operation in Zoom's documents serves {method} {path}")


@cache
def _strict_operation(template: str, method: str) -> dict[str, Any]:
    """The operation with every schema in it (parameters, body, responses) read strictly."""
    for document in _documents().values():
        if template in document["paths"] and method in document["paths"][template]:
            return _strict_schemas(document["paths"][template][method])
    raise KeyError(template)


def _strict_schemas(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict_schemas(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {k: strict(v) if k == "schema" else _strict_schemas(v) for k, v in node.items()}


def _messages(schema: dict, value: Any) -> list[str]:
    out = []
    for error in jsonschema.Draft4Validator(schema).iter_errors(value):
        if error.context:  # anyOf: report the branch that came closest
            error = jsonschema.exceptions.best_match(error.context)
        where = ".".join(str(p) for p in error.absolute_path) or "(body)"
        out.append(f"{where}: {error.message[:300]}")
    return out


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """Why `body` is not a valid `status` answer of the operation (empty when it is)."""
    responses = _operation_for(method, path)["responses"]
    if str(status) not in responses:
        return [f"{method} {path} does not document status {status}"]
    content = responses[str(status)].get("content", {}).get("application/json")
    if content is None:
        return [] if body in (None, b"", "") else [f"status {status} documents no body"]
    return _messages(content["schema"], body)


def request_errors(
    method: str, path: str, query: dict[str, str] | None = None, body: Any = None
) -> list[str]:
    """Why a request is not one the operation accepts: unknown parameters, values or fields."""
    op = _operation_for(method, path)
    problems = []
    parameters = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
    for name, value in (query or {}).items():
        if name not in parameters:
            problems.append(f"query parameter {name} is not documented")
            continue
        schema = dict(parameters[name].get("schema", {}))
        if schema.get("type") == "integer":
            try:
                value = int(value)
            except ValueError:
                problems.append(f"query parameter {name}={value!r} is not an integer")
                continue
        problems += [f"query {m}" for m in _messages(schema, value)]
    request_body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        if request_body is None:
            problems.append(f"{method} {path} takes no body")
        else:
            problems += _messages(request_body["schema"], body)
    return problems
