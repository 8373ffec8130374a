"""Staff back office under ``/forms/staff``: accounts and roles, login, the audit log and
the renovation workflow screens. Account commands live in ``cli.py``."""


def staff_blueprint():
    """The staff blueprint with its routes and ``flask`` commands attached."""
    from . import cli, renovation_views, views  # noqa: F401  (they attach to bp)
    from .blueprint import bp

    return bp
