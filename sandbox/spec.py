"""The Bot API specification: which methods and fields exist, and what a well-formed value is."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

from sandbox.errors import bad_request

FieldKind = Literal["int", "float", "bool", "str", "int_or_str", "json", "file"]

_INT_RE = re.compile(r"-?\d+")
_TRUE_WORDS = frozenset({"true", "1"})
_FALSE_WORDS = frozenset({"false", "0"})
# Telegram's own wording for a missing required parameter, where it differs from "<name> is empty".
_MISSING_WORDING = {"text": "message text is empty"}
# How the spec names the one value a union member's discriminating field takes:
# 'status ... always "kicked"', 'Scope type, must be default'.
_ALWAYS_RE = re.compile(r"""\balways [“"]([^”"]+)[”"]|, must be ([a-z_]+)$""")


_HERE = "\x00"  # placeholder for the path, filled in only when a problem is reported


class _Mismatch(Exception):
    """A value that does not fit its type; ``where`` gathers the path while unwinding."""

    def __init__(self, template: str) -> None:
        super().__init__(template)
        self.template = template
        self.where: list[str] = []

    def render(self, root: str) -> str:
        """The problem with the full path, e.g. ``reply_markup.inline_keyboard[0][0]``."""
        return self.template.replace(_HERE, root + "".join(reversed(self.where)))


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One parameter of a method: its name, allowed types and how a form string is decoded."""

    name: str
    types: tuple[str, ...]
    required: bool
    kind: FieldKind


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """One Bot API method with its parameters precomputed for the request hot path."""

    name: str
    fields: Mapping[str, FieldSpec]
    required: tuple[str, ...]
    returns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _TypeSpec:
    fields: Mapping[str, tuple[str, ...]]
    required: frozenset[str]
    subtypes: tuple[str, ...]
    constants: Mapping[str, str]


def _constants(type_: Mapping[str, Any]) -> dict[str, str]:
    """String fields whose description fixes their value (``type``/``status`` of union members).

    Without them ``{"status": "kicked"}`` would pass as a ``ChatMemberLeft``, since the members
    of a union are told apart only by that value.
    """
    out: dict[str, str] = {}
    if not type_.get("subtype_of"):
        return out
    for field in type_.get("fields", []):
        description = field.get("description", "")
        if isinstance(description, list):
            description = " ".join(description)
        match = _ALWAYS_RE.search(description)
        if match is not None and list(field["types"]) == ["String"]:
            out[field["name"]] = match.group(1) or match.group(2)
    return out


def _kind(types: Sequence[str]) -> FieldKind:
    """How a value of these types arrives in a form-encoded request."""
    kinds = set(types)
    if "InputFile" in kinds:
        return "file"
    if kinds == {"Integer"}:
        return "int"
    if kinds == {"Float"} or kinds == {"Float", "Integer"}:
        return "float"
    if kinds <= {"Boolean", "True"}:
        return "bool"
    if kinds == {"String"}:
        return "str"
    if kinds == {"Integer", "String"}:
        return "int_or_str"
    return "json"


class BotApiSpec:
    """The parsed ``bot_api_spec.json``: method lookup, request decoding, answer validation."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.version = str(raw.get("version", "?"))
        self._methods: dict[str, MethodSpec] = {}
        for name, method in raw["methods"].items():
            fields = {
                f["name"]: FieldSpec(f["name"], tuple(f["types"]), f["required"], _kind(f["types"]))
                for f in method.get("fields", [])
            }
            required = tuple(n for n, f in fields.items() if f.required)
            spec = MethodSpec(name, fields, required, tuple(method.get("returns", [])))
            self._methods[name.lower()] = spec
        self._types: dict[str, _TypeSpec] = {}
        for name, type_ in raw["types"].items():
            tfields = {f["name"]: tuple(f["types"]) for f in type_.get("fields", [])}
            treq = frozenset(f["name"] for f in type_.get("fields", []) if f["required"])
            self._types[name] = _TypeSpec(
                tfields,
                treq,
                tuple(type_.get("subtypes", [])),
                _constants(type_),
            )

    @classmethod
    def load(cls) -> BotApiSpec:
        """Read the copy of the spec shipped inside the ``sandbox`` package."""
        text = resources.files("sandbox").joinpath("bot_api_spec.json").read_text("utf-8")
        return cls(json.loads(text))

    def method(self, name: str) -> MethodSpec | None:
        """The method called ``name``, matched case-insensitively as Telegram does."""
        return self._methods.get(name.lower())

    def type_fields(self, type_name: str) -> frozenset[str]:
        """Every field name a type may carry (empty for unknown or union types)."""
        spec = self._types.get(type_name)
        return frozenset(spec.fields) if spec else frozenset()

    def parse_params(self, method: MethodSpec, raw: Mapping[str, object]) -> dict[str, object]:
        """Decode and check one request's parameters; raise ``ApiError`` like Telegram would."""
        params: dict[str, object] = {}
        fields = method.fields
        for name, value in raw.items():
            field = fields.get(name)
            if field is None:
                raise bad_request(
                    f'unknown field "{name}" for method {method.name} '
                    "(not in the Bot API spec; the sandbox rejects it to catch bot bugs)"
                )
            params[name] = self._decode(field, value)
        for name in method.required:
            value = params.get(name)
            if value is None or value == "":
                raise bad_request(_MISSING_WORDING.get(name, f"{name} is empty"))
        return params

    def _decode(self, field: FieldSpec, value: object) -> object:
        kind = field.kind
        if kind == "str":
            if isinstance(value, str):
                return value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
        elif kind == "int_or_str":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str):
                return int(value) if _INT_RE.fullmatch(value) else value
        elif kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
                return int(value)
        elif kind == "bool":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in _TRUE_WORDS or word in _FALSE_WORDS:
                return word in _TRUE_WORDS
        elif kind == "float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            try:
                return float(str(value))
            except ValueError:
                pass
        elif kind == "json":
            return self._decode_json(field, value)
        else:  # "file": uploads and file ids pass through untouched
            return value
        raise bad_request(f'field "{field.name}" must be of type {" or ".join(field.types)}')

    def _decode_json(self, field: FieldSpec, value: object) -> object:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {field.name} JSON object") from None
        problem = self.check_value(field.types, value, field.name)
        if problem is not None:
            raise bad_request(f"can't parse {field.name}: {problem}")
        return value

    def check_value(self, types: Sequence[str], value: object, path: str) -> str | None:
        """``None`` when ``value`` matches one of ``types``, else the first problem found."""
        try:
            self._match(types, value)
        except _Mismatch as mismatch:
            return mismatch.render(path)
        return None

    def _match(self, types: Sequence[str], value: object) -> None:
        if len(types) == 1:
            self._match_one(types[0], value)
            return
        failures: list[tuple[str, _Mismatch]] = []
        for type_name in types:
            try:
                self._match_one(type_name, value)
            except _Mismatch as mismatch:
                failures.append((type_name, mismatch))
            else:
                return
        # Report the problem of the alternative the value most looks like: the one whose
        # discriminating value (type/status) it carries, else the one sharing most field names.
        raise max(failures, key=lambda tm: self._likeness(tm[0], value))[1]

    def _likeness(self, type_name: str, value: object) -> tuple[int, int]:
        if not isinstance(value, dict):
            return (0, 0)
        spec = self._types.get(type_name)
        constants = spec.constants if spec is not None else {}
        same = sum(1 for k, v in constants.items() if value.get(k) == v)
        return (same, len(value.keys() & self.type_fields(type_name)))

    def _match_one(self, type_name: str, value: object) -> None:
        scalar = _SCALAR_CHECKS.get(type_name)
        if scalar is not None:
            if not scalar(value):
                raise _Mismatch(f"{_HERE} must be of type {type_name}")
            return
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                raise _Mismatch(f"{_HERE} must be an Array")
            inner = (type_name[len("Array of ") :],)
            for i, item in enumerate(value):
                try:
                    self._match(inner, item)
                except _Mismatch as mismatch:
                    mismatch.where.append(f"[{i}]")
                    raise
            return
        spec = self._types.get(type_name)
        if spec is None:
            raise _Mismatch(f"{_HERE}: unknown type {type_name}")
        if spec.subtypes:
            self._match(spec.subtypes, value)
            return
        if not isinstance(value, dict):
            raise _Mismatch(f"{_HERE} must be an object of type {type_name}")
        fields = spec.fields
        for key, item in value.items():
            ftypes = fields.get(key)
            if ftypes is None:
                raise _Mismatch(f'unknown field "{key}" in {_HERE} ({type_name})')
            try:
                self._match(ftypes, item)
            except _Mismatch as mismatch:
                mismatch.where.append(f".{key}")
                raise
        if not spec.required <= value.keys():
            missing = sorted(spec.required - value.keys())[0]
            raise _Mismatch(f'{_HERE} ({type_name}) lacks required field "{missing}"')
        for key, constant in spec.constants.items():
            if key in value and value[key] != constant:
                raise _Mismatch(f'{_HERE}.{key} must be "{constant}" in {type_name}')

    def check_result(self, method: MethodSpec, result: object) -> str | None:
        """``None`` when a method's answer has one of the shapes the spec promises."""
        return self.check_value(method.returns, result, "result")

    def check_object(self, type_name: str, value: object) -> str | None:
        """``None`` when ``value`` is a well-formed object of the named type."""
        return self.check_value((type_name,), value, type_name)


_SCALAR_CHECKS: Mapping[str, Callable[[object], bool]] = MappingProxyType(
    {
        "String": lambda v: isinstance(v, str),
        "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
        "True": lambda v: v is True,
        "InputFile": lambda v: True,  # an upload or a file id string
    }
)


@functools.cache
def shipped_spec() -> BotApiSpec:
    """The spec shipped in the package, parsed once per process (it is never modified)."""
    return BotApiSpec.load()
