"""A SAML IdP's metadata_url: fetched only by the SAML views and the sign-in page, cached, its
failures cached too, so a hanging metadata host costs one slow request a minute rather than
every request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client, override_settings

from portal import sso_config

ENTITY_ID = "https://idp.example.edu/idp"
METADATA = f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{ENTITY_ID}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>MIIC-test-only</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.example.edu/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


class MetadataHost(ThreadingHTTPServer):
    """Serves the metadata ("ok"), fails ("fail") or never answers ("hang"); counts requests."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.requests = 0
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/idp/shibboleth"


class _Handler(BaseHTTPRequestHandler):
    server: MetadataHost

    def do_GET(self) -> None:
        self.server.requests += 1
        if self.server.mode == "hang":
            self.server.release.wait(60)
            return
        if self.server.mode == "fail":
            self.send_error(502)
            return
        body = METADATA.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/samlmetadata+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def metadata_host() -> Iterator[MetadataHost]:
    host = MetadataHost()
    thread = threading.Thread(target=host.serve_forever, daemon=True)
    thread.start()
    try:
        entry = {"slug": "uni", "entity_id": ENTITY_ID, "metadata_url": host.url}
        # The test client's host, "testserver", is a single-label domain.
        entry["allow_single_label_domains"] = True
        config = sso_config.build({"saml": [entry]})
        with override_settings(SOCIALACCOUNT_PROVIDERS=config.providers):
            yield host
    finally:
        host.release.set()
        host.shutdown()
        host.server_close()


@pytest.fixture
def anonymous() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_hanging_metadata_host_is_asked_once_not_at_every_request(anonymous):
    with metadata_host() as host:
        host.mode = "hang"

        # Pages that do not sign in never fetch the metadata.
        anonymous.get("/healthz")
        anonymous.get("/")
        assert host.requests == 0
        # The sign-in page asks once (its CSP form-action needs the IdP's sign-in URL) and
        # still answers; the failure is then remembered by the SAML views too.
        assert anonymous.get("/accounts/login/").status_code == 200
        assert anonymous.get("/accounts/login/").status_code == 200

        first = anonymous.get("/accounts/saml/uni/metadata/")
        second = anonymous.get("/accounts/saml/uni/metadata/")

        assert first.status_code == second.status_code == 500
        assert host.requests == 1


@pytest.mark.django_db
def test_metadata_is_fetched_once_and_served_from_the_cache(anonymous):
    with metadata_host() as host:
        for _ in range(3):
            response = anonymous.get("/accounts/saml/uni/metadata/")
            assert response.status_code == 200
            assert b"AssertionConsumerService" in response.content
        assert host.requests == 1


@pytest.mark.django_db
def test_the_last_good_metadata_serves_while_the_host_is_down(anonymous, monkeypatch):
    # Fresh for no time at all: every request would ask the host again.
    monkeypatch.setattr(sso_config, "METADATA_FRESH_SECONDS", 0)
    with metadata_host() as host:
        assert anonymous.get("/accounts/saml/uni/metadata/").status_code == 200
        host.mode = "fail"

        assert anonymous.get("/accounts/saml/uni/metadata/").status_code == 200
        assert anonymous.get("/accounts/saml/uni/metadata/").status_code == 200
        assert host.requests == 2


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        (
            {"saml": [{"slug": "u", "entity_id": ENTITY_ID, "metadata_url": "http://i.edu/m"}]},
            "metadata_url",
        ),
        (
            {
                "saml": [
                    {
                        "slug": "u",
                        "entity_id": ENTITY_ID,
                        "sso_url": "http://i.edu/sso",
                        "x509cert": "M",
                    }
                ]
            },
            "sso_url",
        ),
        (
            {
                "oidc": [
                    {"slug": "o", "server_url": "http://i.edu", "client_id": "c", "secret": "s"}
                ]
            },
            "server_url",
        ),
    ],
)
def test_plain_http_trust_roots_are_refused_with_debug_off(entry, key):
    sso_config.build(entry)  # accepted with DEBUG on (the tests' local IdPs)

    with pytest.raises(sso_config.ConfigurationError, match=f"'{key}' must use https"):
        sso_config.build(entry, require_https=True)
