"""Masking of personal data: names, ID numbers, phones and addresses shown in part.

Framework-free, so the lists (reports) and the casework selectors mask the same way.
"""

from __future__ import annotations

MASK = "*"


def mask_middle(value: str | None, keep_start: int, keep_end: int) -> str | None:
    """``value`` with only its first ``keep_start`` and last ``keep_end`` characters shown."""
    # A value too short to keep anything hidden is masked whole; a missing value stays missing.
    if value is None:
        return None
    text = value.strip()
    if not text:
        return text
    if len(text) <= keep_start + keep_end:
        return MASK * len(text)
    tail = text[len(text) - keep_end :] if keep_end else ""
    return text[:keep_start] + MASK * (len(text) - keep_start - keep_end) + tail


def mask_name(value: str | None) -> str | None:
    """A name keeps its first character: 王小明 → 王**; a one-character name is masked whole."""
    return mask_middle(value, 1, 0)


def mask_id_number(value: str | None) -> str | None:
    """An ID number keeps its first 6 (the region) and last 4 characters, 18 or 15 long."""
    return mask_middle(value, 6, 4)


def mask_phone(value: str | None) -> str | None:
    """A phone number keeps its first 3 and last 4 characters: 138****0000."""
    return mask_middle(value, 3, 4)


def mask_address(value: str | None) -> str | None:
    """An address keeps its first 6 characters (the city or county), the rest is hidden."""
    return mask_middle(value, 6, 0)
