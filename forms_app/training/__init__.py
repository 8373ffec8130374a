"""员工培训: reading paths per role through the staff handbook, quizzes, training sessions
(培训记录) and each person's record.

Paths and quizzes are data (``data/training/``) naming handbook sections by their anchors;
``handbook.py`` reads those sections from the handbook's own sources, the way the build does,
so every link points at a real section and a read mark lapses when its section's text changes.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from ..accounts.registry import HomePanel, NavLink, StaffSection, register_section


def _my_path(user, day: date) -> dict:
    """The trainee's path with progress and today's training sessions (signed in or not),
    for their staff home."""
    from .definitions import current_training
    from .records import record_for
    from .sessions import sessions_on

    return {"record": record_for(user, current_training()), "today": sessions_on(day, user)}


def _who_is_behind(_user, _day: date) -> dict:
    """How many active staff have something left to read or pass, for the 经理's home."""
    from .records import everyone

    records = everyone()
    return {"behind": sum(1 for r in records if r.behind), "total": len(records)}


def init_app(app: Flask, url_prefix: str) -> None:
    """Register the staff blueprint (training has no owner side) and its home panels."""
    from .staff_views import bp as staff_bp

    app.register_blueprint(staff_bp, url_prefix=f"{url_prefix}/staff/training")
    from . import company_figures

    company_figures.register(app)
    register_section(
        app,
        StaffSection(
            name="training",
            nav=(
                NavLink("我的培训", "training_staff.index", "training.learn"),
                NavLink("培训进度", "training_staff.people", "training.records"),
            ),
            home=(
                HomePanel("training/staff/_home.html", _my_path, "training.learn"),
                HomePanel("training/staff/_home_team.html", _who_is_behind, "training.records"),
            ),
            audit_labels={
                "training.session": "登记培训记录",
                "training.attendance": "勾选培训参加人",
            },
        ),
    )
