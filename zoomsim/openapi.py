"""Zoom's OpenAPI schemas read strictly, and a small validator for request bodies.

Zoom's documents put `oneOf` over open objects whose fields are all optional, so a valid
settings document matches several branches: we read `oneOf` as `anyOf`. We also close every
object that lists its properties (`additionalProperties: false`) so a misspelled field is
refused, and merge `allOf` branches first (closing each branch alone would refuse any object
that uses fields of two branches). tests/zoomspec.py applies the same reading to the whole
documents. Nothing here reads outside the repository at run time: what the simulator and the
tests need from Zoom's documents is extracted once into zoomsim/spec/ (see its SOURCE.md) by
`scripts/extract-zoom-openapi SPEC_DIR`: the request schemas the simulator validates, every
operation the portal uses (parameters, request body, responses; prose dropped from schemas),
and the keys of the account's and groups' lock settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).with_name("spec")
SCHEMAS_FILE = SPEC_DIR / "request_schemas.json"
OPERATIONS_FILE = SPEC_DIR / "operations.json"
LOCK_KEYS_FILE = SPEC_DIR / "lock_keys.json"
WEBHOOKS_FILE = SPEC_DIR / "webhooks.json"
SOURCE_FILES = ("Users.json", "Meetings.json", "Accounts.json")
# The webhook events the simulator sends and the portal receives, by spec file.
WEBHOOKS = {
    "Users.webhooks.json": ("user.settings_updated",),
    "Accounts.webhooks.json": ("account.settings_updated", "account.lock_settings_updated"),
}

# (spec file, path, method) of the request bodies the simulator validates.
VALIDATED_REQUESTS = {
    "user_settings": ("Users.json", "/users/{userId}/settings", "patch"),
    "meeting": ("Meetings.json", "/meetings/{meetingId}", "patch"),
}
# Every operation the portal, the simulator and the tests use, by spec file.
OPERATIONS = {
    "Users.json": [
        ("/users", "get"),
        ("/users/{userId}", "get"),
        ("/users/{userId}/settings", "get"),
        ("/users/{userId}/settings", "patch"),
        ("/groups", "get"),
        ("/groups/{groupId}/settings", "get"),
        ("/groups/{groupId}/lock_settings", "get"),
    ],
    "Meetings.json": [
        ("/users/{userId}/meetings", "get"),
        ("/meetings/{meetingId}", "get"),
        ("/meetings/{meetingId}", "patch"),
    ],
    "Accounts.json": [
        ("/accounts/{accountId}/settings", "get"),
        ("/accounts/{accountId}/lock_settings", "get"),
    ],
}
# Whose lock settings -> the operation that answers them (every branch of its 200 response).
LOCK_OPERATIONS = {
    "account": ("Accounts.json", "/accounts/{accountId}/lock_settings"),
    "group": ("Users.json", "/groups/{groupId}/lock_settings"),
}


def strict(schema: Any) -> Any:
    """A copy of `schema` with oneOf read as anyOf, allOf merged and objects closed."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    if "oneOf" in schema:
        schema["anyOf"] = schema.pop("oneOf")
    if "allOf" in schema and all(_is_object(branch) for branch in schema["allOf"]):
        merged = _merge_objects(schema.pop("allOf"))
        schema = {**merged, **schema, "properties": {**merged.get("properties", {})}}
        if merged.get("required"):
            schema["required"] = sorted(set(merged["required"]))
    out = {}
    for key, value in schema.items():
        if key in {"properties", "patternProperties"}:
            out[key] = {name: strict(sub) for name, sub in value.items()}
        elif key in {"items", "additionalProperties", "not"} and isinstance(value, dict):
            out[key] = strict(value)
        elif key in {"anyOf", "allOf"}:
            out[key] = [strict(sub) for sub in value]
        else:
            out[key] = value
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _is_object(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and (schema.get("type") == "object" or "properties" in schema)
        and not ({"oneOf", "anyOf"} & set(schema))
    )


def _merge_objects(branches: list[dict]) -> dict:
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for branch in branches:
        if "allOf" in branch:
            branch = _merge_objects(branch["allOf"])
        merged["properties"].update(branch.get("properties", {}))
        merged["required"].extend(branch.get("required", []))
    return merged


def request_schema(spec_dir: Path, spec_file: str, path: str, method: str) -> dict:
    document = json.loads((spec_dir / spec_file).read_text())
    operation = document["paths"][path][method]
    return strict(operation["requestBody"]["content"]["application/json"]["schema"])


def load_request_schemas() -> dict[str, dict]:
    return json.loads(SCHEMAS_FILE.read_text())


def load_operations() -> dict[str, dict]:
    """Spec file -> {"paths": {template: {method: operation}}}, as extracted (not strict)."""
    return json.loads(OPERATIONS_FILE.read_text())


def load_webhook_schemas() -> dict[str, dict]:
    """Event name -> the schema of its request body, as extracted (not strict)."""
    return json.loads(WEBHOOKS_FILE.read_text())


def load_lock_keys() -> dict[str, dict[str, frozenset[str]]]:
    """ "account" or "group" -> section -> the lock keys Zoom's lock settings hold there."""
    extracted = json.loads(LOCK_KEYS_FILE.read_text())
    return {
        whose: {section: frozenset(keys) for section, keys in sections.items()}
        for whose, sections in extracted.items()
    }


_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def errors(schema: dict, value: Any, path: str = "") -> list[dict[str, str]]:
    """Zoom-style validation errors ({field, message}) of `value` against a strict schema."""
    if "anyOf" in schema:
        found = [errors(branch, value, path) for branch in schema["anyOf"]]
        if any(not branch_errors for branch_errors in found):
            found = []
        else:
            return min(found, key=len)
    expected = schema.get("type")
    if expected in _TYPES:
        wrong_bool = isinstance(value, bool) and expected in {"integer", "number"}
        if not isinstance(value, _TYPES[expected]) or wrong_bool:
            return [{"field": path, "message": f"Invalid value: {expected} expected."}]
    if "enum" in schema and value not in schema["enum"]:
        return [{"field": path, "message": f"Invalid value: {value!r} is not allowed."}]
    problems: list[dict[str, str]] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name, item in value.items():
            field = f"{path}.{name}" if path else name
            if name in properties:
                problems += errors(properties[name], item, field)
            elif schema.get("additionalProperties") is False:
                problems.append({"field": field, "message": "Invalid field."})
        for name in schema.get("required", []):
            if name not in value:
                field = f"{path}.{name}" if path else name
                problems.append({"field": field, "message": "Required field missing."})
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += errors(schema["items"], item, f"{path}[{index}]")
    return problems


def _without_prose(schema: Any) -> Any:
    """The schema less descriptions and examples: validating needs only the rules."""
    if isinstance(schema, list):
        return [_without_prose(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in {"description", "example", "examples"} or key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {name: _without_prose(sub) for name, sub in value.items()}
        else:
            out[key] = _without_prose(value)
    return out


def _operation_without_prose(operation: dict) -> dict:
    """Parameters, request body and responses; schemas without prose, responses' descriptions
    kept (they hold Zoom's error codes)."""
    kept: dict[str, Any] = {"operationId": operation.get("operationId")}
    kept["parameters"] = [
        {k: _without_prose(v) for k, v in p.items() if k in {"name", "in", "required", "schema"}}
        for p in operation.get("parameters", [])
    ]
    if "requestBody" in operation:
        kept["requestBody"] = _without_prose(operation["requestBody"])
    kept["responses"] = {
        status: {
            "description": answer.get("description", ""),
            **({"content": _without_prose(answer["content"])} if "content" in answer else {}),
        }
        for status, answer in operation["responses"].items()
    }
    return kept


def _lock_keys(document: dict, path: str) -> dict[str, list[str]]:
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    keys: dict[str, set[str]] = {}
    for branch in schema["schema"].get("oneOf", [schema["schema"]]):
        for section, sub in branch.get("properties", {}).items():
            keys.setdefault(section, set()).update(sub.get("properties", {}))
    return {section: sorted(names) for section, names in sorted(keys.items())}


def _inline_refs(node: Any, document: dict) -> Any:
    """Local $refs replaced by what they point at. Zoom's webhook documents point into
    "#/paths/<event>/..." although the events live under "webhooks"."""
    if isinstance(node, list):
        return [_inline_refs(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = document
        pointer = node["$ref"][2:].replace("paths/", "webhooks/", 1).split("/")
        for part in pointer:
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return _inline_refs(target, document)
    return {key: _inline_refs(value, document) for key, value in node.items()}


def extract(spec_dir: Path) -> list[Path]:
    """Write zoomsim/spec/ from Zoom's documents in `spec_dir`; answers the files written."""
    documents = {name: json.loads((spec_dir / name).read_text()) for name in SOURCE_FILES}
    SPEC_DIR.mkdir(exist_ok=True)
    schemas = {
        name: _without_prose(request_schema(spec_dir, *where))
        for name, where in VALIDATED_REQUESTS.items()
    }
    operations = {
        name: {"info": documents[name].get("info", {}), "paths": {}} for name in OPERATIONS
    }
    for name, wanted in OPERATIONS.items():
        for path, method in wanted:
            operation = documents[name]["paths"][path][method]
            operations[name]["paths"].setdefault(path, {})[method] = _operation_without_prose(
                operation
            )
    lock_keys = {
        whose: _lock_keys(documents[name], path) for whose, (name, path) in LOCK_OPERATIONS.items()
    }
    webhooks = {}
    for name, events in WEBHOOKS.items():
        document = json.loads((spec_dir / name).read_text())["webhooks"]
        for event in events:
            body = document[event]["post"]["requestBody"]["content"]["application/json"]
            webhooks[event] = _without_prose(_inline_refs(body["schema"], {"webhooks": document}))
    for target, content in [
        (WEBHOOKS_FILE, webhooks),
        (SCHEMAS_FILE, schemas),
        (OPERATIONS_FILE, operations),
        (LOCK_KEYS_FILE, lock_keys),
    ]:
        target.write_text(json.dumps(content, separators=(",", ":"), sort_keys=True) + "\n")
    return [SCHEMAS_FILE, OPERATIONS_FILE, LOCK_KEYS_FILE, WEBHOOKS_FILE]
