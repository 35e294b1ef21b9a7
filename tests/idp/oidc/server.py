"""Run the allauth OpenID provider project on 127.0.0.1 for the OIDC tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import stop_process, wait_until_serving

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class OidcIdp:
    issuer: str
    run_dir: Path

    def set_users(self, users: dict[str, dict]) -> None:
        (self.run_dir / "users.json").write_text(json.dumps(users))


@contextmanager
def oidc_provider(
    run_dir: Path, port: int, *, users: dict, client_id: str, secret: str, redirect_uri: str
) -> Iterator[OidcIdp]:
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
         "-out", str(run_dir / "oidc.key")],
        check=True, capture_output=True,
    )  # fmt: skip
    idp = OidcIdp(issuer=f"http://127.0.0.1:{port}", run_dir=run_dir)
    idp.set_users(users)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "tests.idp.oidc.settings",
        "TEST_OIDC_RUN_DIR": str(run_dir),
    }
    subprocess.run(
        [sys.executable, "-m", "tests.idp.oidc.setup_idp", client_id, secret, redirect_uri],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    log = open(run_dir / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload",
         "--skip-checks"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_serving(
            f"{idp.issuer}/.well-known/openid-configuration",
            proc,
            30,
            lambda: "OpenID provider did not start:\n" + (run_dir / "server.log").read_text(),
        )
        yield idp
    finally:
        stop_process(proc)
        log.close()
