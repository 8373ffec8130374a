"""WSGI entry point for gunicorn: ``gunicorn forms_app.wsgi:app``."""

import gc

from . import create_app

app = create_app()
# The app's start-up objects (modules, URL map, templates, community data) live as long as the
# process: moved out of the collector's generations, no later collection walks them again.
gc.freeze()
