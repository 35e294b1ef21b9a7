"""Zoom's OpenAPI schemas read strictly, and a small validator for request bodies.

Zoom's documents put `oneOf` over open objects whose fields are all optional, so a valid
settings document matches several branches: we read `oneOf` as `anyOf`. We also close every
object that lists its properties (`additionalProperties: false`) so a misspelled field is
refused, and merge `allOf` branches first (closing each branch alone would refuse any object
that uses fields of two branches). tests/zoomspec.py applies the same reading to the whole
documents; the simulator ships the two request schemas it validates in request_schemas.json,
extracted by `python -m zoomsim.openapi SPEC_DIR`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCHEMAS_FILE = Path(__file__).with_name("request_schemas.json")

# (spec file, path, method) of the request bodies the simulator validates.
VALIDATED_REQUESTS = {
    "user_settings": ("Users.json", "/users/{userId}/settings", "patch"),
    "meeting": ("Meetings.json", "/meetings/{meetingId}", "patch"),
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
    """The schema less descriptions and examples: the simulator needs only the rules."""
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


def extract(spec_dir: Path) -> None:
    """Write the strict request schemas the simulator validates to request_schemas.json."""
    schemas = {
        name: _without_prose(request_schema(spec_dir, *where))
        for name, where in VALIDATED_REQUESTS.items()
    }
    SCHEMAS_FILE.write_text(json.dumps(schemas, separators=(",", ":"), sort_keys=True) + "\n")


if __name__ == "__main__":
    extract(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/zoom-openapi"))
    print(f"wrote {SCHEMAS_FILE}")
