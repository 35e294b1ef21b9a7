"""Claims for the test users from users.json, read at every request so a test can change a
user's department or groups between two sign-ins."""

from __future__ import annotations

import json
from typing import Any

from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from django.conf import settings


class ClaimsFromFile(DefaultOIDCAdapter):
    def get_claims(self, purpose, user, client, scopes, email=None, **kwargs) -> dict[str, Any]:
        claims = super().get_claims(purpose, user, client, scopes, email=email, **kwargs)
        users = json.loads((settings.RUN_DIR / "users.json").read_text())
        claims.update(users.get(user.username, {}).get("claims", {}))
        return claims
