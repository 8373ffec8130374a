"""WSGI entry point for gunicorn: ``gunicorn forms_app.wsgi:app``."""

import gc
import logging

from . import create_app
from .training.definitions import current_training

app = create_app()
# The training paths and the staff handbook they point into (read through MkDocs, the slowest
# thing the app reads) are read here, once: with --preload the workers fork after this line and
# share them, instead of each reading them again on its first staff page.
with app.app_context():
    try:
        current_training()
    except Exception:  # the staff page that needs them shows the reason, as without this
        logging.getLogger(__name__).exception("培训资料读取失败（员工培训页面会显示原因）")
# The app's start-up objects (modules, URL map, templates, community data) live as long as the
# process: moved out of the collector's generations, no later collection walks them again.
gc.freeze()
