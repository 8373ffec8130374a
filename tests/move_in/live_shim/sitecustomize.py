"""TEMPORARY: the conftest shim for the gunicorn processes of the live tests (they do not run
conftest). Remove with the shim once forms_app/database.py's write_transaction works with
Flask-SQLAlchemy's scoped_session on SQLAlchemy 2.1."""
from sqlalchemy.orm import scoped_session

if not hasattr(scoped_session, "in_transaction"):
    scoped_session.in_transaction = lambda self: self().in_transaction()
