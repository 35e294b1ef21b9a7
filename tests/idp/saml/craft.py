"""Tamper with a real SAML response from the test IdP, re-signing with test-only keys.

The portal never verifies by hand: python3-saml (through allauth) must refuse each of these.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}


def decode(saml_response: str) -> etree._Element:
    return etree.fromstring(base64.b64decode(saml_response))


def encode(root: etree._Element) -> str:
    return base64.b64encode(etree.tostring(root)).decode()


def _strip_signatures(root: etree._Element) -> None:
    for signature in root.findall(".//ds:Signature", NS):
        signature.getparent().remove(signature)


def _resign_assertion(root: etree._Element, key: Path, cert: Path) -> None:
    assertion = root.find("saml:Assertion", NS)
    signed = OneLogin_Saml2_Utils.add_sign(
        etree.tostring(assertion), key.read_text(), cert.read_text()
    )
    root.replace(assertion, etree.fromstring(signed))


def unsigned(saml_response: str) -> str:
    root = decode(saml_response)
    _strip_signatures(root)
    return encode(root)


def signed_by(saml_response: str, key: Path, cert: Path) -> str:
    root = decode(saml_response)
    _strip_signatures(root)
    _resign_assertion(root, key, cert)
    return encode(root)


def for_audience(saml_response: str, audience: str, key: Path, cert: Path) -> str:
    root = decode(saml_response)
    _strip_signatures(root)
    for element in root.findall(".//saml:Audience", NS):
        element.text = audience
    _resign_assertion(root, key, cert)
    return encode(root)


def expired(saml_response: str, key: Path, cert: Path) -> str:
    root = decode(saml_response)
    _strip_signatures(root)
    past = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for element in root.iter():
        if element.get("NotOnOrAfter"):
            element.set("NotOnOrAfter", past)
    _resign_assertion(root, key, cert)
    return encode(root)
