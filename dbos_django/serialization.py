"""How values, inputs and errors become text in the database, and back.

JSON first: a value made only of ``None``, bools, ints, finite floats, strings, lists and
str-keyed dicts is stored as plain JSON, readable by any tool. Anything else is pickled
and stored as ``pickle:<base64>`` (unless the JSON-only serializer is configured). Reading
a value for display never unpickles it.
"""

from __future__ import annotations

import base64
import json
import math
import pickle
import pickletools
from typing import Any

from .error import DBOSPayloadTooLargeError, DBOSSerializationError, PortableWorkflowError

PICKLE_PREFIX = "pickle:"
UTF8_MAX_BYTES = 4  # per character: a text this many times shorter than the limit fits without measuring


def _is_plain_json(value: Any, depth: int = 0) -> bool:
    """Tell whether ``value`` survives a JSON round trip with the same types."""
    if depth > 200:
        return False
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is str:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_is_plain_json(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) is str and _is_plain_json(v, depth + 1) for k, v in value.items())
    return False


class Serializer:
    """Turn Python values into text and back. Subclass to plug in your own format."""

    def name(self) -> str:
        """Return the tag stored with every value this serializer writes (``"custom_serializer"`` by default).

        A row is read back by the serializer its tag names, so give each format a name of its own.
        """
        return "custom_serializer"

    def serialize(self, value: Any) -> str:
        """Return ``value`` as text; subclasses implement it.

        Raise ``DBOSSerializationError`` for a value the format cannot hold: the engine then refuses inputs before
        writing anything, and records an output that cannot be stored as the step's or workflow's error.
        """
        raise NotImplementedError

    def deserialize(self, text: str) -> Any:
        """Return the value :meth:`serialize` turned into ``text``; subclasses implement it."""
        raise NotImplementedError

    def serialize_error(self, error: BaseException) -> str:
        """Return an exception as text: by default, :meth:`serialize` of the exception."""
        return self.serialize(error)

    def deserialize_error(self, text: str) -> BaseException:
        """Return the exception :meth:`serialize_error` turned into ``text``: by default, :meth:`deserialize`."""
        return self.deserialize(text)


class JSONSerializer(Serializer):
    """JSON only: other values are refused, errors come back as ``PortableWorkflowError``."""

    def name(self) -> str:
        return "json"

    def serialize(self, value: Any) -> str:
        if not _is_plain_json(value):
            raise DBOSSerializationError(
                f"Cannot store a value of type {type(value).__name__} with the JSON serializer: "
                "only None, bool, int, float, str, list and dict with string keys are allowed"
            )
        return json.dumps(value, separators=(",", ":"))

    def deserialize(self, text: str) -> Any:
        if text.startswith(PICKLE_PREFIX):
            raise DBOSSerializationError("This value was pickled, but the JSON serializer is configured")
        return json.loads(text)

    def serialize_error(self, error: BaseException) -> str:
        if isinstance(error, PortableWorkflowError):
            return json.dumps({"name": error.name, "message": error.message})
        return json.dumps({"name": type(error).__name__, "message": str(error)})

    def deserialize_error(self, text: str) -> BaseException:
        data = self.deserialize(text)
        return PortableWorkflowError(data.get("message", ""), data.get("name", "Exception"))


class DefaultSerializer(JSONSerializer):
    """JSON for JSON values, pickle (tagged) for every other Python value and for errors."""

    def name(self) -> str:
        return "json+pickle"

    def serialize(self, value: Any) -> str:
        if _is_plain_json(value):
            return json.dumps(value, separators=(",", ":"))
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise DBOSSerializationError(
                f"Cannot store a value of type {type(value).__name__}: it is neither JSON nor picklable ({exc})"
            ) from exc
        return PICKLE_PREFIX + base64.b64encode(data).decode("ascii")

    def deserialize(self, text: str) -> Any:
        if text.startswith(PICKLE_PREFIX):
            return pickle.loads(base64.b64decode(text[len(PICKLE_PREFIX) :]))
        return json.loads(text)

    def serialize_error(self, error: BaseException) -> str:
        try:
            text = self.serialize(error)
            # An exception whose constructor takes other arguments pickles but cannot be rebuilt.
            self.deserialize(text)
            return text
        except Exception:
            return self.serialize(Exception(f"{type(error).__name__}: {error}"))

    def deserialize_error(self, text: str) -> BaseException:
        if text.startswith(PICKLE_PREFIX):
            value = self.deserialize(text)
            if isinstance(value, BaseException):
                return value
            return Exception(repr(value))
        return super().deserialize_error(text)


def within_limit(text: str, what: str) -> str:
    """Return ``text`` if it fits ``DBOS["MAX_PAYLOAD_BYTES"]``; raise ``DBOSPayloadTooLargeError`` naming ``what``."""
    from . import conf

    limit = conf.get().max_payload_bytes
    if limit is None or len(text) * UTF8_MAX_BYTES <= limit:
        return text
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise DBOSPayloadTooLargeError(what, size, limit)
    return text


def store_value(serializer: Serializer, value: Any, what: str) -> str:
    """Serialize a value for storage; raise ``DBOSSerializationError`` (or its subclass for size) naming ``what``."""
    return within_limit(serializer.serialize(value), what)


def store_error(serializer: Serializer, error: BaseException, what: str) -> tuple[str, BaseException]:
    """Serialize an error for storage; return the text and the error it stands for.

    An error too large to store is replaced by a ``DBOSPayloadTooLargeError`` naming it, so the
    execution that raised it and a later replay raise the same kind of error.
    """
    text = serializer.serialize_error(error)
    try:
        return within_limit(text, f"{what} ({type(error).__name__})"), error
    except DBOSPayloadTooLargeError as too_large:
        return serializer.serialize_error(too_large), too_large


def _peek(data: bytes) -> str | None:
    """The class and first strings of a pickle, read from its opcodes: nothing is imported or run."""
    strings: list[str] = []
    names: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("GLOBAL", "INST") and isinstance(arg, str):
                names.append(arg.replace(" ", "."))
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
                del strings[-2:]
            elif isinstance(arg, str) and "UNICODE" in op.name:
                strings.append(arg)
    except Exception:
        return None
    return f"<pickled {names[0]}: {', '.join(map(repr, strings[:3]))}>" if names else None


def describe(text: str | None) -> str:
    """Render a stored value for people (admin, commands) without ever unpickling it."""
    if text is None:
        return ""
    if text.startswith(PICKLE_PREFIX):
        size = len(text) - len(PICKLE_PREFIX)
        try:
            peeked = _peek(base64.b64decode(text[len(PICKLE_PREFIX) :]))
        except ValueError:
            peeked = None
        return peeked or f"<pickled Python object, {size * 3 // 4 - text[-2:].count('=')} bytes>"
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def for_tag(tag: str | None, configured: Serializer) -> Serializer:
    """The serializer that reads a row written under ``tag`` (the row's tag wins over the setting).

    Under ``SERIALIZER = "json"`` every row is read as JSON: a pickle is refused whatever the row's tag says,
    so that whoever can write the tables cannot make this process unpickle.
    """
    if tag is None or tag == configured.name() or configured.name() == "json":
        return configured
    if tag in ("json", "json+pickle"):
        return DefaultSerializer() if tag == "json+pickle" else JSONSerializer()
    raise TypeError(f"Serialization {tag} is not available")
