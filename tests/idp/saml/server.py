"""SimpleSAMLphp from Debian on PHP's built-in server, for the SAML tests.

Everything that changes per run (keys, users, the portal's address) lives in a temporary
folder; the PHP configuration in this folder reads it from the environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import stop_process, wait_until_serving

HERE = Path(__file__).resolve().parent
SSP_ROOTS = [Path(os.environ.get("PORTAL_TEST_SIMPLESAMLPHP", "/opt/simplesamlphp"))]


def simplesamlphp_root() -> Path | None:
    for root in SSP_ROOTS:
        if (root / "usr/share/simplesamlphp/www/index.php").exists():
            return root
    return None


def make_key_pair(folder: Path, name: str, subject: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
         "-subj", f"/CN={subject}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


def pem_body(path: Path) -> str:
    return "".join(line for line in path.read_text().splitlines() if "-----" not in line)


@dataclass
class SamlIdp:
    base_url: str
    entity_id: str
    sso_url: str
    run_dir: Path
    idp_key: Path
    idp_cert: Path
    sp_key: Path
    sp_cert: Path

    def set_users(self, users: dict[str, dict]) -> None:
        (self.run_dir / "users.json").write_text(json.dumps(users))

    def set_sps(self, sps: list[dict]) -> None:
        (self.run_dir / "sps.json").write_text(json.dumps(sps))

    def idp_initiated_url(self, sp_entity_id: str) -> str:
        return f"{self.base_url}/saml2/idp/SSOService.php?spentityid={sp_entity_id}"

    def log(self) -> str:
        path = self.run_dir / "log" / "simplesamlphp.log"
        return path.read_text() if path.exists() else ""


@contextmanager
def simplesamlphp(run_dir: Path, port: int) -> Iterator[SamlIdp]:
    root = simplesamlphp_root()
    if root is None:
        raise FileNotFoundError("SimpleSAMLphp is not extracted (scripts/install-system-packages)")
    for sub in ("cert", "log", "data", "tmp", "sessions"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    idp_key, idp_cert = make_key_pair(run_dir / "cert", "idp", "test-idp.127.0.0.1")
    sp_key, sp_cert = make_key_pair(run_dir / "cert", "sp", "portal-sp.localhost")
    base_url = f"http://127.0.0.1:{port}"
    idp = SamlIdp(
        base_url=base_url,
        entity_id=f"{base_url}/saml2/idp/metadata.php",
        sso_url=f"{base_url}/saml2/idp/SSOService.php",
        run_dir=run_dir,
        idp_key=idp_key,
        idp_cert=idp_cert,
        sp_key=sp_key,
        sp_cert=sp_cert,
    )
    idp.set_users({})
    idp.set_sps([])
    env = {
        **os.environ,
        "SIMPLESAMLPHP_CONFIG_DIR": str(HERE),
        "TEST_IDP_RUN_DIR": str(run_dir),
        "TEST_IDP_BASE_URL": base_url,
        "TEST_IDP_SSP_ROOT": str(root),
    }
    log = open(run_dir / "log" / "php-server.log", "w")  # noqa: SIM115
    php = shutil.which("php") or "php"
    proc = subprocess.Popen(
        [php, "-d", f"session.save_path={run_dir / 'sessions'}", "-d", "variables_order=EGPCS",
         "-S", f"127.0.0.1:{port}", "-t", str(root / "usr/share/simplesamlphp/www")],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_serving(
            idp.entity_id,
            proc,
            20,
            lambda: (
                "SimpleSAMLphp did not start:\n"
                + (run_dir / "log" / "php-server.log").read_text()
                + idp.log()
            ),
        )
        yield idp
    finally:
        stop_process(proc)
        log.close()
