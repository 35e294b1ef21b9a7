"""`migrate` as the role that owns the tables (MIGRATION_DATABASE_URL), while the web and the
workers connect with DATABASE_URL's role, which may only read and append to the audit log."""

from __future__ import annotations

from typing import Any

import dj_database_url
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections


class Command(migrate.Command):
    help = migrate.Command.help + " Connects as MIGRATION_DATABASE_URL's role when it is set."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MIGRATION_DATABASE_URL and options["database"] == DEFAULT_DB_ALIAS:
            owner = dj_database_url.parse(settings.MIGRATION_DATABASE_URL)
            connection = connections[DEFAULT_DB_ALIAS]
            if owner["NAME"] != connection.settings_dict["NAME"]:
                raise CommandError(
                    f"MIGRATION_DATABASE_URL names the database {owner['NAME']!r}, "
                    f"DATABASE_URL {connection.settings_dict['NAME']!r}: they must be the same"
                )
            connection.close()
            for key in ("USER", "PASSWORD", "HOST", "PORT"):
                connection.settings_dict[key] = owner[key]
        super().handle(*args, **options)
