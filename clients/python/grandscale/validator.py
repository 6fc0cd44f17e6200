"""A validator for the JSON-schema subset the GrandScale OpenAPI document uses.

Covers: $ref (to #/components/schemas), type (one or a list, "null" included), enum,
const, properties / required / additionalProperties, items, minItems / maxItems,
minLength / maxLength, pattern, minimum / maximum, exclusiveMinimum / exclusiveMaximum
(3.1 numbers), format (email, date, date-time, uuid: loosely), oneOf, anyOf, allOf.
Unknown keywords are ignored (the server has the last word).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping

_FORMATS = {
    "email": re.compile(r"^[^@\s]+@[^@\s]+$"),
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "date-time": re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$"),
    "uuid": re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
}


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, (list, tuple))
    if name == "object":
        return isinstance(value, Mapping)
    return True


class Validator:
    """Validates values against schemas of one OpenAPI document (for its $refs)."""

    def __init__(self, document: Mapping[str, Any]):
        self.document = document
        self._patterns: Dict[str, "re.Pattern[str]"] = {}

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref}")
            node: Any = self.document
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
            seen += 1
            if seen > 50:
                raise ValueError(f"$ref loop at {ref}")
        return schema

    def errors(self, value: Any, schema: Mapping[str, Any], path: str = "") -> List[str]:
        """Every way `value` breaks `schema`, each as "path: message"; empty when valid."""
        schema = self.resolve(schema)
        where = path or "value"
        out: List[str] = []
        types = schema.get("type")
        if types is not None:
            names = types if isinstance(types, list) else [types]
            if not any(_is_type(value, name) for name in names):
                return [f"{where}: expected {' or '.join(names)}, got {type(value).__name__}"]
        if "enum" in schema and value not in schema["enum"]:
            out.append(f"{where}: must be one of {schema['enum']!r}")
        if "const" in schema and value != schema["const"]:
            out.append(f"{where}: must be {schema['const']!r}")
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append(f"{where}: shorter than {schema['minLength']} characters")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                out.append(f"{where}: longer than {schema['maxLength']} characters")
            if "pattern" in schema:
                pattern = self._patterns.setdefault(schema["pattern"], re.compile(schema["pattern"]))
                if not pattern.search(value):
                    out.append(f"{where}: does not match {schema['pattern']}")
            fmt = _FORMATS.get(schema.get("format", ""))
            if fmt is not None and not fmt.match(value):
                out.append(f"{where}: not a valid {schema['format']}")
        if _is_type(value, "number"):
            if "minimum" in schema and value < schema["minimum"]:
                out.append(f"{where}: less than {schema['minimum']}")
            if "maximum" in schema and value > schema["maximum"]:
                out.append(f"{where}: greater than {schema['maximum']}")
            exclusive_min = schema.get("exclusiveMinimum")
            if isinstance(exclusive_min, (int, float)) and not isinstance(exclusive_min, bool) and value <= exclusive_min:
                out.append(f"{where}: must be greater than {exclusive_min}")
            exclusive_max = schema.get("exclusiveMaximum")
            if isinstance(exclusive_max, (int, float)) and not isinstance(exclusive_max, bool) and value >= exclusive_max:
                out.append(f"{where}: must be less than {exclusive_max}")
        if isinstance(value, (list, tuple)):
            if "minItems" in schema and len(value) < schema["minItems"]:
                out.append(f"{where}: fewer than {schema['minItems']} items")
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                out.append(f"{where}: more than {schema['maxItems']} items")
            if isinstance(schema.get("items"), Mapping):
                for index, item in enumerate(value):
                    out.extend(self.errors(item, schema["items"], f"{path}[{index}]"))
        if isinstance(value, Mapping):
            properties = schema.get("properties", {})
            for name in schema.get("required", []):
                if name not in value:
                    out.append(f"{path + '.' if path else ''}{name}: required")
            additional = schema.get("additionalProperties", True)
            for name, item in value.items():
                child = f"{path}.{name}" if path else str(name)
                if name in properties:
                    out.extend(self.errors(item, properties[name], child))
                elif additional is False:
                    out.append(f"{child}: not allowed")
                elif isinstance(additional, Mapping):
                    out.extend(self.errors(item, additional, child))
        for sub in schema.get("allOf", []):
            out.extend(self.errors(value, self._without_additional(sub), path))
        if "anyOf" in schema and not any(not self.errors(value, sub, path) for sub in schema["anyOf"]):
            out.append(f"{where}: matches none of the {len(schema['anyOf'])} allowed shapes{self._closest(value, schema['anyOf'], path)}")
        if "oneOf" in schema:
            matching = sum(1 for sub in schema["oneOf"] if not self.errors(value, sub, path))
            if matching != 1:
                out.append(f"{where}: matches {matching} of the oneOf shapes, not exactly one{self._closest(value, schema['oneOf'], path)}")
        return out

    def _without_additional(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        # allOf parts each list only their own properties: additionalProperties: false on a part would refuse the others'.
        schema = self.resolve(schema)
        return {key: item for key, item in schema.items() if key != "additionalProperties"}

    def _closest(self, value: Any, options: List[Mapping[str, Any]], path: str) -> str:
        found = min((self.errors(value, sub, path) for sub in options), key=len, default=[])
        return f" (closest: {'; '.join(found[:3])})" if found else ""
