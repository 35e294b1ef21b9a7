import os

from django.core.wsgi import get_wsgi_application

from portal.env import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# A bad setting stops gunicorn with one line naming it (see portal.env).
with exit_on_configuration_error():
    application = get_wsgi_application()
