"""Query-string helpers for what Composio's clients send."""

from __future__ import annotations


def comma_separated(value: str | None) -> list[str] | None:
    """Composio's client joins array parameters with commas (`user_ids=u1,u2`)."""
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or None
