"""JSON Schema checks of config and migration documents, every problem with key path and line.

A document is first checked by a compiled validator (jsonschema-rs, built from the same
schemas): about a hundred times faster, and enough to say "valid". Only a document it
does not pass (or one it cannot take, a YAML date, say) goes to jsonschema, which names
every problem. The schemas' patterns are written so both regex engines read them alike
(an explicit whitespace class, end anchors that exclude a trailing newline);
tests/unit/test_quick_validator.py holds them to agreeing. Neither is imported when a
document is already known to be valid (see ``cache``).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable

_SCHEMA_DIR = Path(__file__).with_name("schemas")


@lru_cache(maxsize=None)
def schema_bytes(name: str) -> bytes:
    """The raw bytes of a shipped schema (``config`` or ``migration``)."""
    return (_SCHEMA_DIR / f"{name}.schema.json").read_bytes()


# The schemas' "not blank" pattern: no character that either engine calls whitespace.
NOT_BLANK = "[^\t\n\x0b\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"


@lru_cache(maxsize=None)
def _quick(name: str) -> Any:
    """The compiled validator of schema ``name``; None where jsonschema-rs is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.Draft202012Validator(json.loads(schema_bytes(name)))


def passes(name: str, instance: Any) -> bool:
    """Whether the compiled validator finds ``instance`` valid (False: ask jsonschema)."""
    quick = _quick(name)
    try:
        return quick is not None and bool(quick.is_valid(instance))
    except (ValueError, TypeError, OverflowError):  # not a JSON value (a date, an int key): jsonschema decides
        return False


@lru_cache(maxsize=None)
def _validator(name: str) -> Any:
    import jsonschema

    schema = json.loads(schema_bytes(name))
    # jsonschema resolves each $ref at every use, which costs more than the rest of the
    # validation; our schemas have no cycles, so their local refs are inlined once.
    return jsonschema.Draft202012Validator(_inline_refs(schema, schema.get("$defs", {})))


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/") and len(node) == 1:
            return _inline_refs(defs[ref[len("#/$defs/"):]], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def format_path(parts: Iterable[Any]) -> str:
    """Render a JSON path like ``up[0].sql`` (``<top>`` for the document itself)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top>"


def line_of(text: str | None, parts: list[Any]) -> int | None:
    """The 1-based line where the YAML node at ``parts`` starts, when the text gives it."""
    if text is None:
        return None
    import yaml

    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:
        return None
    mark = node.start_mark if node is not None else None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if getattr(k, "value", None) == str(part)]
            if not match:
                break
            mark, node = match[0][0].start_mark, match[0][1]  # the key's line reads best
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return mark.line + 1 if mark is not None else None


def schema_problems(name: str, instance: Any, *, text: str | None = None) -> list[str]:
    """Every way ``instance`` breaks schema ``name``, each as ``key.path: message (line N)``."""
    if passes(name, instance):
        return []
    from jsonschema.exceptions import best_match

    validator = _validator(name)
    if validator.is_valid(instance):
        return []
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        if error.context and "description" in error.schema:
            shown = error.instance if isinstance(error.instance, (str, int, float, bool)) else type(error.instance).__name__
            parts = list(error.absolute_path)
            problems.append(_problem(parts, f"{shown!r} {error.schema['description']}", line_of(text, parts)))
            continue
        if error.context:
            error = best_match(error.context)
        parts = list(error.absolute_path)
        message = error.message
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            for extra_key in extra:
                line = line_of(text, parts + [extra_key])
                problems.append(_problem(parts + [extra_key], "unknown key", line))
            continue
        if error.validator == "minItems" and error.validator_value == 1:
            message = "must hold at least one step" if parts and parts[-1] in ("up", "down") else "must not be empty"
        elif error.validator in ("minProperties", "maxProperties") and error.schema.get("maxProperties") == 1:
            message = "a step must have exactly one of the keys sql or python"
        elif error.validator == "pattern" and error.schema.get("pattern") == NOT_BLANK:
            message = "must not be empty"
        elif error.validator == "pattern" and "description" in error.schema:
            message = f"{error.instance!r} {error.schema['description']}"
        problems.append(_problem(parts, message, line_of(text, parts)))
    return problems


def _problem(parts: list[Any], message: str, line: int | None) -> str:
    where = f" (line {line})" if line else ""
    return f"{format_path(parts)}: {message}{where}"
