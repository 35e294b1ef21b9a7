"""LDAP distinguished names compared as the directory compares them, for the role map.

`normalise` turns a DN into one spelling (RFC 4514): attribute types in lower case (and the
usual OIDs by name), spaces around separators dropped, escapes decoded and written again one
way, the AVAs of a multi-valued RDN sorted. Values keep their case: "cn=Zoom-Helpdesk" is not
"cn=zoom-helpdesk", since an exact configured group is what grants a role.
"""

from __future__ import annotations

import re

ATTRIBUTE_TYPE = re.compile(r"^(?:[a-z][a-z0-9-]*|\d+(?:\.\d+)+)$")
HEX = "0123456789abcdefABCDEF"
SPECIAL = ' "#+,;<=>\\'
TYPE_NAMES = {
    "2.5.4.3": "cn",
    "2.5.4.10": "o",
    "2.5.4.11": "ou",
    "0.9.2342.19200300.100.1.1": "uid",
    "0.9.2342.19200300.100.1.25": "dc",
}

Rdn = tuple[tuple[str, str], ...]


def parse(text: str) -> list[Rdn]:
    """The RDNs of a DN, most specific first; ValueError when it is not a DN."""
    rdns: list[Rdn] = []
    avas: list[tuple[str, str]] = []
    kind: str | None = None
    value = bytearray()
    kept = 0  # length of value up to its last escaped or non-space byte
    i = 0

    def end_ava() -> None:
        nonlocal kind, value, kept
        name = (kind or "").strip().lower()
        if not ATTRIBUTE_TYPE.match(name):
            raise ValueError(f"{text!r} is not a valid DN")
        try:
            decoded = bytes(value[:kept]).decode()
        except UnicodeDecodeError:
            raise ValueError(f"{text!r} is not a valid DN") from None
        avas.append((TYPE_NAMES.get(name, name), decoded))
        kind, value, kept = None, bytearray(), 0

    while i < len(text):
        char = text[i]
        if kind is None:
            if char == "=":
                kind = value.decode().strip()
                value = bytearray()
            elif char in ",;+":
                raise ValueError(f"{text!r} is not a valid DN")
            else:
                value += char.encode()
        elif char == "\\":
            pair = text[i + 1 : i + 3]
            if len(pair) == 2 and all(c in HEX for c in pair):
                value.append(int(pair, 16))
                i += 2
            elif pair[:1] and pair[0] in SPECIAL:
                value += pair[0].encode()
                i += 1
            else:
                raise ValueError(f"{text!r} is not a valid DN")
            kept = len(value)
        elif char in ",;+":
            end_ava()
            if char != "+":
                rdns.append(tuple(sorted(avas)))
                avas = []
        elif char != " " or value:  # spaces before a value are not part of it
            value += char.encode()
            if char != " ":
                kept = len(value)
        i += 1
    if kind is None:
        raise ValueError(f"{text!r} is not a valid DN")
    end_ava()
    rdns.append(tuple(sorted(avas)))
    return rdns


def _escape(value: str) -> str:
    escaped = "".join(f"\\{c}" if c in '"+,;<>\\=' else c for c in value)
    if escaped[:1] in {" ", "#"}:
        escaped = "\\" + escaped
    if escaped.endswith(" ") and not escaped.endswith("\\ "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def join(rdns: list[Rdn]) -> str:
    return ",".join("+".join(f"{kind}={_escape(value)}" for kind, value in rdn) for rdn in rdns)


def normalise(text: str) -> str:
    return join(parse(text))


def looks_like_dn(text: str) -> bool:
    """A group written as a DN (isMemberOf), rather than an entitlement URN or a role name."""
    try:
        parse(text)
    except ValueError:
        return False
    return True


def role_map_keys(role_map: dict[str, str], base: str = "") -> dict[str, str]:
    """The role map with every DN key normalised and a short form ("cn=zoom-helpdesk", one RDN)
    placed under `base`; other keys (entitlement URNs, role names) stay exactly as given.
    ValueError names the key that is not a DN, or a short form without a base."""
    base_rdns = parse(base) if base else []
    resolved: dict[str, str] = {}
    for key, target in role_map.items():
        if "=" not in key:
            resolved[key] = target
            continue
        rdns = parse(key)
        if len(rdns) == 1:
            if not base_rdns:
                raise ValueError(
                    f"{key!r} is one RDN: give the group's whole DN, or role_map_base (the DN "
                    "the short forms sit under)"
                )
            rdns += base_rdns
        resolved[join(rdns)] = target
    return resolved
