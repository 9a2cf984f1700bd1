"""Identifiers people write: Chinese numerals, standard numbers, clause and article references."""

from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def cn_to_int(s: str) -> int | None:
    """'五十四' → 54, '一百零二' → 102, '十' → 10, '26' → 26; None if not a number."""
    s = s.strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    total, section, num = 0, 0, 0
    for ch in s:
        if ch in _DIGITS:
            num = _DIGITS[ch]
        elif ch in _UNITS:
            unit = _UNITS[ch]
            if unit == 10000:
                section = (section + num) * unit
                total += section
                section = 0
            else:
                section += (num or 1) * unit
            num = 0
        else:
            return None
    return total + section + num


def int_to_cn(n: int) -> str:
    """54 → '五十四', 10 → '十', 102 → '一百零二', 1010 → '一千零一十' (as law articles are written)."""
    if n < 0:
        raise ValueError(n)
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    out = ""
    units = [(1000, "千"), (100, "百"), (10, "十")]
    zero = False
    rest = n
    for value, name in units:
        d, rest = divmod(rest, value)
        if d:
            if zero:
                out += "零"
                zero = False
            out += digits[d] + name
        elif out:
            zero = True
    if rest:
        if zero:
            out += "零"
        out += digits[rest]
    return out
