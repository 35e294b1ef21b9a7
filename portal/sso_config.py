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
from portal.env import ConfigurationError, not_an_origin

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


def saml_names(*names: str) -> list[str]:
    """Each name as an IdP may release it: the urn:oid form (Shibboleth's, the uri name format)
    first, then the plain name (the basic name format: SimpleSAMLphp's default, many ADFS and
    Entra set-ups). Names without a known OID are kept as they are."""
    found: list[str] = []
    for name in names:
        for form in (OID.get(name, name), name):
            if form not in found:
                found.append(form)
    return found


def friendly_name(name: str) -> str:
    """`mail` for urn:oid:0.9.2342.19200300.100.1.3: what an IdP's administrator recognises."""
    return next((friendly for friendly, oid in OID.items() if oid == name), name)


SAML_ATTRIBUTES = {
    # A stable identifier: never a transient NameID, or every sign-in makes a new account.
    "uid": saml_names("subject-id", "eduPersonPrincipalName"),
    "email": saml_names("mail"),
    "first_name": saml_names("givenName"),
    "last_name": saml_names("sn"),
    "department": saml_names("ou"),
    "affiliation": saml_names("eduPersonScopedAffiliation", "eduPersonAffiliation"),
    "groups": saml_names("isMemberOf", "eduPersonEntitlement"),
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
# Every key an entry may have: a misspelt one is refused rather than silently ignored.
SAML_KEYS = frozenset(
    {
        "slug", "name", "entity_id", "metadata_url", "metadata_file", "sso_url", "slo_url",
        "x509cert", "x509cert_file", "logout_url", "want_assertion_encrypted",
        "allow_single_label_domains", "sp", "attributes", "form_action_origins",
    }
)  # fmt: skip
SP_KEYS = frozenset({"entity_id", "x509cert", "x509cert_file", "private_key", "private_key_file"})
OIDC_KEYS = frozenset(
    {
        "slug", "name", "server_url", "client_id", "secret", "secret_env", "logout_url",
        "fetch_userinfo", "scope", "attributes", "form_action_origins",
    }
)  # fmt: skip


def _error(where: str, problem: str) -> ConfigurationError:
    """An error in PORTAL_IDP_CONFIG, naming the entry (`saml[utoronto]`) and the key."""
    return ConfigurationError("PORTAL_IDP_CONFIG", f"{where}: {problem}" if where else problem)


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
        raise _error("", f"{value} is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _error("", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _error("", f"{path} is not UTF-8 text") from None
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _error("", f"{path} is not valid TOML: {exc}") from None
    return _loads_json(text, str(path))


def _loads_json(text: str, where: str, variable: str = "PORTAL_IDP_CONFIG") -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(variable, f"{where}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(variable, f"{where}: must be a JSON object")
    return data


def parse_role_map(value: Any, where: str) -> dict[str, str]:
    """{group or entitlement: "host" | "helpdesk" | "portal_admin" | "dept_admin:<dept>"}.

    `where` is "PORTAL_ROLE_MAP" or "PORTAL_IDP_CONFIG role_map": the variable, then the key.
    """
    variable, _, key = where.partition(" ")
    where = key or "the role map"
    if isinstance(value, str):
        value = _loads_json(value, where, variable) if value.strip() else {}
    if not isinstance(value, dict):
        raise ConfigurationError(variable, f"{where}: must be an object")
    for group, role in value.items():
        if not isinstance(role, str) or not ROLE_TARGET.match(role) or not group.strip():
            raise ConfigurationError(
                variable,
                f"{where}: {group!r} maps to {role!r}; use host, helpdesk, portal_admin "
                "or dept_admin:<department>",
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


def build(
    data: dict[str, Any], *, env_role_map: str = "", require_https: bool = False
) -> IdpConfig:
    """Turn the parsed configuration into allauth's providers, CSP origins and the role map.

    With `require_https` (DEBUG off) every trust root and sign-in URL must be https.
    """
    unknown = set(data) - {"saml", "oidc", "role_map", "role_map_base"}
    if unknown:
        raise _error("", f"unknown keys {sorted(unknown)}; use saml, oidc and role_map")
    config = IdpConfig()
    config.role_map = parse_role_map(data.get("role_map", {}), "PORTAL_IDP_CONFIG role_map")
    config.role_map.update(parse_role_map(env_role_map, "PORTAL_ROLE_MAP"))
    config.role_map = _role_map_dns(config.role_map, data.get("role_map_base", ""))
    slugs: set[str] = set()
    saml_apps = [
        _saml_app(entry, _Entry(slugs, require_https, f"saml[{n}]"), config)
        for n, entry in enumerate(_entries(data, "saml"))
    ]
    oidc_apps = [
        _oidc_app(entry, _Entry(slugs, require_https, f"oidc[{n}]"), config)
        for n, entry in enumerate(_entries(data, "oidc"))
    ]
    if saml_apps:
        config.providers["saml"] = {"APPS": saml_apps}
    if oidc_apps:
        config.providers["openid_connect"] = {"APPS": oidc_apps, "OAUTH_PKCE_ENABLED": True}
    return config


@dataclass
class _Entry:
    """What checking one entry needs: the slugs seen so far, the https rule, its name."""

    slugs: set[str]
    require_https: bool
    where: str


def _entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _error(key, "must be a list of objects")
    return entries


def _known_keys(entry: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise _error(where, f"unknown keys {sorted(unknown)}")


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list"}.get(
        type(value), "an object" if isinstance(value, dict) else type(value).__name__
    )


def _string(entry: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = entry.get(key)
    if value is None or value == "":
        if required:
            raise _error(where, f"'{key}' is required")
        return ""
    if not isinstance(value, str):
        raise _error(where, f"'{key}' must be a string, not {_type_name(value)}")
    if required and not value.strip():
        raise _error(where, f"'{key}' is required")
    return value.strip()


def _boolean(entry: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = entry.get(key, default)
    # Not bool(value): the string "false" is true.
    if not isinstance(value, bool):
        raise _error(where, f"'{key}' must be true or false, not {value!r}")
    return value


def _string_list(entry: dict[str, Any], key: str, where: str, default: list[str]) -> list[str]:
    value = entry.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _error(where, f"'{key}' must be a list of strings, not {value!r}")
    return [v.strip() for v in value]


def _url(entry: dict[str, Any], key: str, context: _Entry, *, required: bool = False) -> str:
    value = _string(entry, key, context.where, required=required)
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range
    except ValueError as exc:
        raise _error(context.where, f"'{key}' {value!r} is not a valid URL: {exc}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _error(context.where, f"'{key}' {value!r} is not an http(s) URL")
    if context.require_https and parts.scheme != "https":
        raise _error(context.where, f"'{key}' must use https when DEBUG is off (got {value!r})")
    return value


def _slug(entry: dict[str, Any], context: _Entry) -> str:
    slug = _string(entry, "slug", context.where, required=True)
    if not SLUG.match(slug):
        raise _error(context.where, f"slug {slug!r}: use lower-case letters, digits, '-'")
    if slug in context.slugs:
        raise _error(context.where, f"slug {slug!r} is used twice")
    context.slugs.add(slug)
    # From here on the entry is named by its slug.
    context.where = f"{context.where.split('[')[0]}[{slug}]"
    return slug


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _form_action_origins(entry: dict[str, Any], where: str) -> list[str]:
    origins = _string_list(entry, "form_action_origins", where, [])
    for origin in origins:
        problem = not_an_origin(origin)
        if problem:
            raise _error(where, f"form_action_origins: {origin!r} {problem}")
    return origins


def _attributes(
    entry: dict[str, Any], defaults: dict[str, list[str]], where: str, *, saml: bool = False
) -> dict:
    given = entry.get("attributes", {})
    if not isinstance(given, dict) or set(given) - ATTRIBUTE_KEYS:
        raise _error(where, f"'attributes' keys must be among {sorted(ATTRIBUTE_KEYS)}")
    merged = dict(defaults)
    for key, names in given.items():
        names = [names] if isinstance(names, str) else names
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n.strip() for n in names)
        ):
            raise _error(where, f"attributes.{key} must be a name or a list of names")
        # SAML: a friendly eduPerson name stands for its urn:oid form and for itself.
        names = [name.strip() for name in names]
        merged[key] = saml_names(*names) if saml else names
    return merged


def _read_file_setting(entry: dict[str, Any], key: str, where: str) -> str | None:
    """A value given inline as `key`, or read from the file named by `key_file`."""
    inline = _string(entry, key, where)
    if inline:
        return inline
    path = _string(entry, f"{key}_file", where)
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _error(where, f"cannot read {key}_file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _error(where, f"{key}_file {path} is not UTF-8 (PEM) text") from None


def _secret(entry: dict[str, Any], where: str) -> str:
    variable = _string(entry, "secret_env", where)
    if variable:
        secret = os.environ.get(variable, "")
        if not secret:
            raise _error(where, f"environment variable {variable} (secret_env) is empty")
        return secret
    return _string(entry, "secret", where, required=True)


def _saml_idp(entry: dict[str, Any], context: _Entry) -> dict[str, str]:
    where = context.where
    entity_id = _string(entry, "entity_id", where, required=True)
    metadata_url = _url(entry, "metadata_url", context)
    if metadata_url:
        return {"entity_id": entity_id, "metadata_url": metadata_url}
    metadata_file = _string(entry, "metadata_file", where)
    if metadata_file:
        from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

        try:
            xml = Path(metadata_file).read_text(encoding="utf-8")
            parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id)["idp"]
            idp = {
                "entity_id": entity_id,
                "sso_url": parsed["singleSignOnService"]["url"],
                "x509cert": parsed.get("x509cert") or parsed["x509certMulti"]["signing"][0],
            }
        except OSError as exc:
            raise _error(
                where, f"cannot read metadata_file {metadata_file}: {exc.strerror}"
            ) from None
        except UnicodeDecodeError:
            raise _error(where, f"metadata_file {metadata_file} is not UTF-8 XML") from None
        except Exception as exc:  # the parser raises anything from lxml, KeyError, ValueError
            raise _error(where, f"metadata_file {metadata_file}: {exc!r}") from None
        if parsed.get("singleLogoutService", {}).get("url"):
            idp["slo_url"] = parsed["singleLogoutService"]["url"]
        _url(idp, "sso_url", context)
        return idp
    x509cert = _read_file_setting(entry, "x509cert", where)
    sso_url = _url(entry, "sso_url", context)
    if not sso_url or not x509cert:
        raise _error(where, "give metadata_url, metadata_file, or sso_url with x509cert(_file)")
    idp = {"entity_id": entity_id, "sso_url": sso_url, "x509cert": x509cert}
    slo_url = _url(entry, "slo_url", context)
    if slo_url:
        idp["slo_url"] = slo_url
    return idp


def _saml_app(entry: dict[str, Any], context: _Entry, config: IdpConfig) -> dict[str, Any]:
    slug = _slug(entry, context)
    where = context.where
    _known_keys(entry, SAML_KEYS, where)
    idp = _saml_idp(entry, context)
    attributes = _attributes(entry, SAML_ATTRIBUTES, where, saml=True)
    sp = entry.get("sp", {})
    if not isinstance(sp, dict):
        raise _error(where, f"'sp' must be an object (entity_id, x509cert_file, ...), not {sp!r}")
    _known_keys(sp, SP_KEYS, where + " sp")
    advanced: dict[str, Any] = {
        "strict": True,
        "want_assertion_signed": True,
        "want_assertion_encrypted": _boolean(entry, "want_assertion_encrypted", where, False),
        "reject_idp_initiated_sso": True,
        "allow_single_label_domains": _boolean(entry, "allow_single_label_domains", where, False),
    }
    sp_cert = _read_file_setting(sp, "x509cert", where + " sp")
    sp_key = _read_file_setting(sp, "private_key", where + " sp")
    if sp_cert and sp_key:
        advanced.update({"x509cert": sp_cert, "private_key": sp_key})
    elif advanced["want_assertion_encrypted"]:
        raise _error(where, "encrypted assertions need sp.x509cert and sp.private_key")
    # With metadata_url the sign-in URL is known only from the metadata, read when the sign-in
    # page is served (sign_in_origins); the metadata's own origin is no form's target.
    origins = [_origin(idp["sso_url"])] if idp.get("sso_url") else []
    origins += _form_action_origins(entry, where)
    logout_url = _url(entry, "logout_url", context) or idp.get("slo_url", "")
    if logout_url:
        origins.append(_origin(logout_url))
    _add_origins(config, origins)
    app_settings: dict[str, Any] = {
        "attribute_mapping": {
            key: attributes[key] for key in ("uid", "email", "first_name", "last_name")
        },
        "idp": idp,
        "advanced": advanced,
        "portal": {"attributes": attributes, "logout_url": logout_url},
    }
    sp_entity_id = _string(sp, "entity_id", where + " sp")
    if sp_entity_id:
        app_settings["sp"] = {"entity_id": sp_entity_id}
    return {
        "name": _string(entry, "name", where) or slug,
        "provider_id": idp["entity_id"],
        "client_id": slug,
        "settings": app_settings,
    }


def _oidc_app(entry: dict[str, Any], context: _Entry, config: IdpConfig) -> dict[str, Any]:
    slug = _slug(entry, context)
    where = context.where
    _known_keys(entry, OIDC_KEYS, where)
    server_url = _url(entry, "server_url", context, required=True).rstrip("/")
    if server_url.endswith(("/common/v2.0", "/organizations/v2.0")):
        raise _error(
            where,
            "Entra ID needs the tenant-specific issuer "
            "(https://login.microsoftonline.com/<tenant-id>/v2.0), not /common or /organizations",
        )
    attributes = _attributes(entry, OIDC_ATTRIBUTES, where)
    logout_url = _url(entry, "logout_url", context)
    _add_origins(
        config,
        [
            _origin(server_url),
            *_form_action_origins(entry, where),
            *([_origin(logout_url)] if logout_url else []),
        ],
    )
    return {
        "provider_id": slug,
        "name": _string(entry, "name", where) or slug,
        "client_id": _string(entry, "client_id", where, required=True),
        "secret": _secret(entry, where),
        "settings": {
            "server_url": server_url,
            "fetch_userinfo": _boolean(entry, "fetch_userinfo", where, True),
            "uid_field": attributes["uid"][0],
            "scope": _string_list(entry, "scope", where, ["openid", "profile", "email"]),
            "portal": {"attributes": attributes, "logout_url": logout_url},
        },
    }


def _add_origins(config: IdpConfig, origins: list[str]) -> None:
    for origin in origins:
        if origin not in config.form_action_origins:
            config.form_action_origins.append(origin)


def load(value: str, *, env_role_map: str = "", require_https: bool = False) -> IdpConfig:
    return build(read_config_source(value), env_role_map=env_role_map, require_https=require_https)


# --- SAML metadata_url: fetched when a SAML view needs it, cached, failures cached too ------
METADATA_TIMEOUT = 5.0
METADATA_FRESH_SECONDS = 4 * 3600
# A host that hangs or fails costs one slow request a minute, not every request.
METADATA_FAILURE_SECONDS = 60
# The last good metadata serves while the host is down, for up to a week.
METADATA_STALE_SECONDS = 7 * 24 * 3600


class MetadataUnavailable(RuntimeError):
    """The IdP's metadata could not be fetched, and no earlier copy is kept."""


def sign_in_origins(providers: dict[str, Any]) -> list[str]:
    """The origins of the sign-in and logout URLs in the metadata of every SAML entry that has a
    metadata_url: the sign-in button posts to the portal, which redirects there, so the page's
    CSP form-action must allow them. An IdP whose metadata cannot be had is left out (its
    button then leads to the sign-in error page, which says so)."""
    origins: list[str] = []
    for app in providers.get("saml", {}).get("APPS", []):
        idp = app.get("settings", {}).get("idp", {})
        if not idp.get("metadata_url"):
            continue
        try:
            parsed = fetch_metadata(idp)["idp"]
        except MetadataUnavailable:
            continue
        for service in ("singleSignOnService", "singleLogoutService"):
            url = parsed.get(service, {}).get("url")
            if url and _origin(url) not in origins:
                origins.append(_origin(url))
    return origins


def fetch_metadata(idp: dict[str, Any]) -> dict[str, Any]:
    """Stands in for allauth's fetch_metadata_url_config (installed by portal.apps).

    Called only by allauth's SAML views (sign-in, ACS, SLS, SP metadata), never by other pages
    or /healthz. Same answer as allauth's: OneLogin's parsed settings with an "idp" key.
    """
    import hashlib

    from django.core.cache import cache
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    url, entity_id = idp["metadata_url"], idp["entity_id"]
    key = "portal.saml.metadata." + hashlib.sha256(f"{url} {entity_id}".encode()).hexdigest()
    fresh = cache.get(key)
    if fresh is not None:
        return fresh
    failure = cache.get(f"{key}.failed")
    if failure is None:
        try:
            parsed = OneLogin_Saml2_IdPMetadataParser.parse_remote(
                url, entity_id=entity_id, timeout=METADATA_TIMEOUT
            )
            if not parsed.get("idp", {}).get("singleSignOnService", {}).get("url"):
                raise ValueError(f"no IdP {entity_id} with a redirect sign-in URL in it")
        except Exception as exc:  # urllib, lxml and the parser each raise their own
            failure = f"IdP metadata {url} is unavailable: {exc}"
            cache.set(f"{key}.failed", failure, METADATA_FAILURE_SECONDS)
        else:
            cache.set(key, parsed, METADATA_FRESH_SECONDS)
            cache.set(f"{key}.stale", parsed, METADATA_STALE_SECONDS)
            return parsed
    stale = cache.get(f"{key}.stale")
    if stale is not None:
        return stale
    raise MetadataUnavailable(failure)
