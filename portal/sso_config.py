"""Identity providers from configuration: a JSON or TOML file (or inline JSON) named by
PORTAL_IDP_CONFIG, turned into allauth's SOCIALACCOUNT_PROVIDERS, the CSP form-action origins
and the role map. Pure functions of their input, so settings.py and the tests share them.

The format, with worked examples for a Shibboleth IdP and Microsoft Entra ID, is in README.md.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from portal import dn
from portal.env import ConfigurationError

# eduPerson and friends, by the urn:oid names a Shibboleth IdP releases.
OID = {
    "mail": "urn:oid:0.9.2342.19200300.100.1.3",
    "givenName": "urn:oid:2.5.4.42",
    "sn": "urn:oid:2.5.4.4",
    "displayName": "urn:oid:2.16.840.1.113730.3.1.241",
    "ou": "urn:oid:2.5.4.11",
    "eduPersonPrincipalName": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
    "eduPersonAffiliation": "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
    "eduPersonScopedAffiliation": "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
    "eduPersonEntitlement": "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
    "isMemberOf": "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
    "subject-id": "urn:oasis:names:tc:SAML:attribute:subject-id",
}

SAML_ATTRIBUTES = {
    # A stable identifier: never a transient NameID, or every sign-in makes a new account.
    "uid": [OID["subject-id"], OID["eduPersonPrincipalName"]],
    "email": [OID["mail"]],
    "first_name": [OID["givenName"]],
    "last_name": [OID["sn"]],
    "department": [OID["ou"]],
    "affiliation": [OID["eduPersonScopedAffiliation"], OID["eduPersonAffiliation"]],
    "groups": [OID["isMemberOf"], OID["eduPersonEntitlement"]],
}
OIDC_ATTRIBUTES = {
    "uid": ["sub"],
    "email": ["email"],
    "first_name": ["given_name"],
    "last_name": ["family_name"],
    "department": ["department"],
    "affiliation": ["eduperson_scoped_affiliation", "eduperson_affiliation"],
    "groups": ["groups", "roles", "eduperson_entitlement"],
}
ATTRIBUTE_KEYS = frozenset(SAML_ATTRIBUTES)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
ROLE_TARGET = re.compile(r"^(host|helpdesk|portal_admin|dept_admin:.+)$")


@dataclass
class IdpConfig:
    providers: dict[str, Any] = field(default_factory=dict)
    form_action_origins: list[str] = field(default_factory=list)
    role_map: dict[str, str] = field(default_factory=dict)


def read_config_source(value: str) -> dict[str, Any]:
    """PORTAL_IDP_CONFIG: inline JSON, or the path of a .json or .toml file."""
    if not value:
        return {}
    if value.lstrip().startswith("{"):
        return _loads_json(value, "PORTAL_IDP_CONFIG")
    path = Path(value)
    if not path.is_file():
        raise ConfigurationError(f"PORTAL_IDP_CONFIG names {value}, which is not a file")
    text = path.read_text()
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    return _loads_json(text, str(path))


def _loads_json(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where}: must be an object with 'saml' and/or 'oidc' lists")
    return data


def parse_role_map(value: Any, where: str) -> dict[str, str]:
    """{group or entitlement: "host" | "helpdesk" | "portal_admin" | "dept_admin:<dept>"}."""
    if isinstance(value, str):
        value = _loads_json(value, where) if value.strip() else {}
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: the role map must be an object")
    for group, role in value.items():
        if not isinstance(role, str) or not ROLE_TARGET.match(role):
            raise ConfigurationError(
                f"{where}: {group!r} maps to {role!r}; use host, helpdesk, portal_admin "
                "or dept_admin:<department>"
            )
    return {str(group).strip(): role.strip() for group, role in value.items()}


def _role_map_dns(role_map: dict[str, str], base: Any) -> dict[str, str]:
    """Group DNs compared whole and normalised; a short form only under role_map_base."""
    if not isinstance(base, str) or (base and not dn.looks_like_dn(base)):
        raise ConfigurationError(f"PORTAL_IDP_CONFIG role_map_base: {base!r} is not a DN")
    try:
        return dn.role_map_keys(role_map, base.strip())
    except ValueError as exc:
        raise ConfigurationError(f"PORTAL_IDP_CONFIG role_map: {exc}") from None


def build(data: dict[str, Any], *, env_role_map: str = "") -> IdpConfig:
    """Turn the parsed configuration into allauth's providers, CSP origins and the role map."""
    unknown = set(data) - {"saml", "oidc", "role_map", "role_map_base"}
    if unknown:
        raise ConfigurationError(f"PORTAL_IDP_CONFIG: unknown keys {sorted(unknown)}")
    config = IdpConfig()
    config.role_map = parse_role_map(data.get("role_map", {}), "PORTAL_IDP_CONFIG role_map")
    config.role_map.update(parse_role_map(env_role_map, "PORTAL_ROLE_MAP"))
    config.role_map = _role_map_dns(config.role_map, data.get("role_map_base", ""))
    slugs: set[str] = set()
    saml_apps = [_saml_app(entry, slugs, config) for entry in _entries(data, "saml")]
    oidc_apps = [_oidc_app(entry, slugs, config) for entry in _entries(data, "oidc")]
    if saml_apps:
        config.providers["saml"] = {"APPS": saml_apps}
    if oidc_apps:
        config.providers["openid_connect"] = {"APPS": oidc_apps, "OAUTH_PKCE_ENABLED": True}
    return config


def _entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigurationError(f"PORTAL_IDP_CONFIG: '{key}' must be a list of objects")
    return entries


def _require(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}: '{key}' is required")
    return value.strip()


def _slug(entry: dict[str, Any], kind: str, slugs: set[str]) -> str:
    slug = _require(entry, "slug", f"PORTAL_IDP_CONFIG {kind} entry")
    if not SLUG.match(slug):
        raise ConfigurationError(f"{kind} slug {slug!r}: use lower-case letters, digits, '-'")
    if slug in slugs:
        raise ConfigurationError(f"{kind} slug {slug!r} is used twice")
    slugs.add(slug)
    return slug


def _origin(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigurationError(f"{where}: {url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def _attributes(entry: dict[str, Any], defaults: dict[str, list[str]], where: str) -> dict:
    given = entry.get("attributes", {})
    if not isinstance(given, dict) or set(given) - ATTRIBUTE_KEYS:
        raise ConfigurationError(
            f"{where}: 'attributes' keys must be among {sorted(ATTRIBUTE_KEYS)}"
        )
    merged = dict(defaults)
    for key, names in given.items():
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigurationError(f"{where}: attributes.{key} must be a name or a list")
        # A friendly eduPerson name stands for its urn:oid form.
        merged[key] = [OID.get(name, name) for name in names]
    return merged


def _read_file_setting(entry: dict[str, Any], key: str, where: str) -> str | None:
    """A value given inline as `key`, or read from the file named by `key_file`."""
    if entry.get(key):
        return str(entry[key])
    path = entry.get(f"{key}_file")
    if not path:
        return None
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ConfigurationError(f"{where}: cannot read {key}_file {path}: {exc}") from None


def _secret(entry: dict[str, Any], where: str) -> str:
    if entry.get("secret_env"):
        secret = os.environ.get(entry["secret_env"], "")
        if not secret:
            raise ConfigurationError(
                f"{where}: environment variable {entry['secret_env']} is empty"
            )
        return secret
    return _require(entry, "secret", where)


def _saml_idp(entry: dict[str, Any], where: str) -> dict[str, str]:
    entity_id = _require(entry, "entity_id", where)
    if entry.get("metadata_url"):
        return {"entity_id": entity_id, "metadata_url": entry["metadata_url"]}
    if entry.get("metadata_file"):
        from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

        try:
            xml = Path(entry["metadata_file"]).read_text()
            parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id)["idp"]
        except (OSError, KeyError, ValueError, Exception) as exc:
            raise ConfigurationError(f"{where}: metadata_file: {exc}") from None
        idp = {
            "entity_id": entity_id,
            "sso_url": parsed["singleSignOnService"]["url"],
            "x509cert": parsed.get("x509cert") or parsed["x509certMulti"]["signing"][0],
        }
        if parsed.get("singleLogoutService", {}).get("url"):
            idp["slo_url"] = parsed["singleLogoutService"]["url"]
        return idp
    x509cert = _read_file_setting(entry, "x509cert", where)
    if not entry.get("sso_url") or not x509cert:
        raise ConfigurationError(
            f"{where}: give metadata_url, metadata_file, or sso_url with x509cert(_file)"
        )
    idp = {"entity_id": entity_id, "sso_url": entry["sso_url"], "x509cert": x509cert}
    if entry.get("slo_url"):
        idp["slo_url"] = entry["slo_url"]
    return idp


def _saml_app(entry: dict[str, Any], slugs: set[str], config: IdpConfig) -> dict[str, Any]:
    slug = _slug(entry, "saml", slugs)
    where = f"PORTAL_IDP_CONFIG saml[{slug}]"
    idp = _saml_idp(entry, where)
    attributes = _attributes(entry, SAML_ATTRIBUTES, where)
    sp = entry.get("sp", {})
    advanced: dict[str, Any] = {
        "strict": True,
        "want_assertion_signed": True,
        "want_assertion_encrypted": bool(entry.get("want_assertion_encrypted", False)),
        "reject_idp_initiated_sso": True,
        "allow_single_label_domains": bool(entry.get("allow_single_label_domains", False)),
    }
    sp_cert = _read_file_setting(sp, "x509cert", where + " sp")
    sp_key = _read_file_setting(sp, "private_key", where + " sp")
    if sp_cert and sp_key:
        advanced.update({"x509cert": sp_cert, "private_key": sp_key})
    elif advanced["want_assertion_encrypted"]:
        raise ConfigurationError(f"{where}: encrypted assertions need sp.x509cert and private_key")
    sign_in_url = idp.get("sso_url") or idp["metadata_url"]
    origins = [_origin(sign_in_url, where), *entry.get("form_action_origins", [])]
    logout_url = entry.get("logout_url") or idp.get("slo_url", "")
    if logout_url:
        origins.append(_origin(logout_url, where))
    _add_origins(config, origins)
    app_settings: dict[str, Any] = {
        "attribute_mapping": {
            key: attributes[key] for key in ("uid", "email", "first_name", "last_name")
        },
        "idp": idp,
        "advanced": advanced,
        "portal": {"attributes": attributes, "logout_url": logout_url},
    }
    if sp.get("entity_id"):
        app_settings["sp"] = {"entity_id": sp["entity_id"]}
    return {
        "name": entry.get("name") or slug,
        "provider_id": idp["entity_id"],
        "client_id": slug,
        "settings": app_settings,
    }


def _oidc_app(entry: dict[str, Any], slugs: set[str], config: IdpConfig) -> dict[str, Any]:
    slug = _slug(entry, "oidc", slugs)
    where = f"PORTAL_IDP_CONFIG oidc[{slug}]"
    server_url = _require(entry, "server_url", where).rstrip("/")
    if server_url.rstrip("/").endswith(("/common/v2.0", "/organizations/v2.0")):
        raise ConfigurationError(
            f"{where}: Entra ID needs the tenant-specific issuer "
            "(https://login.microsoftonline.com/<tenant-id>/v2.0), not /common or /organizations"
        )
    attributes = _attributes(entry, OIDC_ATTRIBUTES, where)
    logout_url = entry.get("logout_url", "")
    _add_origins(
        config,
        [
            _origin(server_url, where),
            *entry.get("form_action_origins", []),
            *([_origin(logout_url, where)] if logout_url else []),
        ],
    )
    return {
        "provider_id": slug,
        "name": entry.get("name") or slug,
        "client_id": _require(entry, "client_id", where),
        "secret": _secret(entry, where),
        "settings": {
            "server_url": server_url,
            "fetch_userinfo": bool(entry.get("fetch_userinfo", True)),
            "uid_field": attributes["uid"][0],
            "scope": entry.get("scope", ["openid", "profile", "email"]),
            "portal": {"attributes": attributes, "logout_url": logout_url},
        },
    }


def _add_origins(config: IdpConfig, origins: list[str]) -> None:
    for origin in origins:
        if origin not in config.form_action_origins:
            config.form_action_origins.append(origin)


def load(value: str, *, env_role_map: str = "") -> IdpConfig:
    return build(read_config_source(value), env_role_map=env_role_map)
