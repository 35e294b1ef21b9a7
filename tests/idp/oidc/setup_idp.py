"""Create the test users and the portal's client (skip_consent) in the OpenID provider."""

from __future__ import annotations

import json
import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.idp.oidc.settings")
    django.setup()
    from allauth.idp.oidc.models import Client
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    client_id, secret, redirect_uri = sys.argv[1:4]
    users = json.loads((settings.RUN_DIR / "users.json").read_text())
    for username, user in users.items():
        account, _ = get_user_model().objects.get_or_create(username=username)
        account.set_password(user["password"])
        account.save()
    client = Client(id=client_id, name="Portal under test", skip_consent=True)
    client.set_secret(secret)
    client.set_redirect_uris([redirect_uri])
    client.set_scopes(["openid", "profile", "email"])
    client.save()


if __name__ == "__main__":
    main()
