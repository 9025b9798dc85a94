"""Redis answers as text: the clients use ``decode_responses``, but the types say bytes or str."""

from __future__ import annotations

from collections.abc import Mapping


def as_text(value: object) -> str:
    """One Redis value as ``str``."""
    return value.decode() if isinstance(value, bytes) else str(value)


def as_text_map(value: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """A Redis hash as ``dict[str, str]``."""
    return {as_text(k): as_text(v) for k, v in value.items()}
