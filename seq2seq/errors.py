"""Turning exceptions into the one-line messages users see."""

from __future__ import annotations


def first_line(e: BaseException, limit: int | None = None, with_type: bool = False) -> str:
    """The first line of an exception's message, cut to `limit` characters, prefixed by
    the exception's type name if `with_type`; the type name alone for an empty message."""
    text = str(e).strip()
    message = text.splitlines()[0][:limit] if text else ""
    if not message:
        return type(e).__name__
    return f"{type(e).__name__}: {message}" if with_type else message
