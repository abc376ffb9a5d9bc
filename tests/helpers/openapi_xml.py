"""XML answers read by the ``xml`` objects of an OpenAPI 3 document, so that a JSON-Schema validator can check them.

:func:`from_xml` turns an XML body into the structure its schema describes, by OpenAPI's rules:

- an array with ``xml: {wrapped: true}`` is an element (``xml.name``, else the property's name)
  wrapping one element per item, named by the items' ``xml.name``; an unwrapped array's items
  are repeated elements of its parent;
- an object's properties are its child elements, each named by the property (or its ``xml.name``);
  a child no property names is kept under its own tag, for ``additionalProperties`` to judge;
- a scalar is the element's text, read as the schema's type (``"true"`` a boolean, ``"12"`` an
  integer, ``"34.07"`` a number; text that is not one stays text, for the validator to refuse);
- an empty element is ``null`` where the schema is ``nullable``, else the empty string, list or object.

A root, item or property element of the wrong name therefore comes out as a missing or unknown
property, or raises :class:`XmlShapeError`: either way the answer fails.
:func:`deserialize_xml` is the same conversion as a schemathesis deserializer, so that
``validate_response`` (the validator schemathesis applies to JSON) checks XML answers too.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_COMBINATIONS = ("allOf", "anyOf", "oneOf", "not")


class XmlShapeError(ValueError):
    """The XML has an element where the schema has none of that name, or no element where it needs one."""


def from_xml(body: bytes, schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """The XML ``body`` as the data ``schema`` (of ``document``, whose ``$ref`` it may use) describes."""
    root = ET.fromstring(body)
    resolved, component = _resolve(schema, document)
    expected = _xml(resolved).get("name") or component
    if expected is None:
        raise XmlShapeError("The root schema has no xml.name (nor a component name): the root element is unknown.")
    if root.tag != expected:
        raise XmlShapeError(f"The root element is <{root.tag}>; the schema names <{expected}>.")
    if resolved.get("type") == "array" and not _xml(resolved).get("wrapped"):
        raise XmlShapeError(f"<{expected}>: a root array must be wrapped (xml.wrapped: true).")
    return _value(root, resolved, document, root.tag)


def deserialize_xml(ctx: Any, response: Any) -> Any:
    """A schemathesis deserializer of XML answers: the body read by its operation's schema for its status."""
    operation = ctx.operation
    responses = operation.definition.raw["responses"]
    documented = responses.get(str(response.status_code)) or responses.get("default")
    if documented is None:
        raise XmlShapeError(f"Status {response.status_code} is not documented for {operation.label}.")
    content = documented.get("content", {})
    media_type = next((m for m in content if m.endswith("xml")), None)
    if media_type is None:
        raise XmlShapeError(f"{operation.label} documents no XML answer for status {response.status_code}.")
    return from_xml(response.content, content[media_type]["schema"], operation.schema.raw_schema)


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The schema a ``$ref`` points at (followed to the end), and the name of the last component referenced."""
    component = None
    while "$ref" in schema:
        reference = schema["$ref"]
        if not reference.startswith("#/"):
            raise XmlShapeError(f"Only local references are read, not {reference!r}.")
        node: Any = document
        for part in reference[2:].split("/"):
            node = node[part]
        schema, component = node, reference.rsplit("/", 1)[-1]
    for keyword in _COMBINATIONS:
        if keyword in schema:
            raise XmlShapeError(f"{keyword} is not read by this converter: describe the XML without it.")
    return schema, component


def _xml(schema: dict[str, Any]) -> dict[str, Any]:
    return schema.get("xml") or {}


def _is_empty(element: ET.Element) -> bool:
    return len(element) == 0 and not element.text


def _value(element: ET.Element, schema: dict[str, Any], document: dict[str, Any], path: str) -> Any:
    kind = schema.get("type")
    if _is_empty(element) and schema.get("nullable"):
        return None
    if kind == "array":
        return _array(element, schema, document, path)
    if kind == "object" or "properties" in schema:
        return _object(element, schema, document, path)
    if len(element):
        raise XmlShapeError(f"<{path}> holds elements (<{element[0].tag}>); the schema has a {kind or 'value'}.")
    return _scalar(element.text or "", kind)


def _array(element: ET.Element, schema: dict[str, Any], document: dict[str, Any], path: str) -> list[Any]:
    """A wrapped array: every child is an item, of the items' element name."""
    _no_text(element, path)
    items, component = _resolve(schema.get("items", {}), document)
    name = _xml(items).get("name") or component or element.tag
    values = []
    for index, child in enumerate(element, start=1):
        if child.tag != name:
            raise XmlShapeError(f"<{path}> holds <{child.tag}>; its items are <{name}>.")
        values.append(_value(child, items, document, f"{path}/{name}[{index}]"))
    return values


def _object(element: ET.Element, schema: dict[str, Any], document: dict[str, Any], path: str) -> dict[str, Any]:
    _no_text(element, path)
    children: dict[str, list[ET.Element]] = {}
    for child in element:
        children.setdefault(child.tag, []).append(child)
    data: dict[str, Any] = {}
    for key, declared in schema.get("properties", {}).items():
        prop, _ = _resolve(declared, document)
        if prop.get("type") == "array" and not _xml(prop).get("wrapped"):
            items, component = _resolve(prop.get("items", {}), document)
            name = _xml(items).get("name") or _xml(prop).get("name") or key
            found = children.pop(name, [])
            if found:
                data[key] = [_value(c, items, document, f"{path}/{name}[{i}]") for i, c in enumerate(found, start=1)]
            continue
        name = _xml(prop).get("name") or key
        found = children.pop(name, [])
        if len(found) > 1:
            raise XmlShapeError(f"<{path}> holds {len(found)} <{name}> elements; the schema has one.")
        if found:
            data[key] = _value(found[0], prop, document, f"{path}/{name}")
    for tag, extra in children.items():  # no property names them: additionalProperties decides
        data[tag] = [_untyped(e) for e in extra] if len(extra) > 1 else _untyped(extra[0])
    return data


def _untyped(element: ET.Element) -> Any:
    if len(element):
        return {child.tag: _untyped(child) for child in element}
    return element.text or ""


def _no_text(element: ET.Element, path: str) -> None:
    if (element.text or "").strip() or any((child.tail or "").strip() for child in element):
        raise XmlShapeError(f"<{path}> holds text; the schema has elements there.")


def _scalar(text: str, kind: str | None) -> Any:
    """``text`` as the schema's type; text that is not one is left as it is (and fails validation)."""
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    if kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if kind == "number" and _NUMBER.fullmatch(text):
        return float(text) if any(c in text for c in ".eE") else int(text)
    return text
