"""Anonymous public POSTs are throttled, counted in the database (``core/throttle.py``) so
every worker and host shares the count; a staff session is exempt.

- Per address: every POST without a staff session (owner forms, their errors and remove
  buttons, 我的办理, 房屋认证 …) spends one of ``PUBLIC_POSTS_PER_ADDRESS_PER_HOUR``. Sized for
  carrier NAT, where many owners on 4G share one address: a filing takes one to three POSTs.
  The staff login has its own throttle (``throttle.py``) and is not counted here.
- Per room: each filing of an owner form spends one of ``PUBLIC_FILINGS_PER_ROOM_PER_DAY`` for
  that form and room (``spend_room``), so fakes cannot bury one room's real owner.

nginx's ``limit_req`` (``deploy/nginx.conf``) stands in front of both as the first line.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, request

from ..core.community import community_key
from ..core.throttle import Budget, spend_counted
from ..web.errors import render_error
from .access import current_staff

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# The staff login counts its failures itself.
EXEMPT_ENDPOINTS = frozenset({"accounts.login"})

TOO_MANY_POSTS = (
    "您所在的网络在一小时内提交次数过多，本次提交未保存。请稍后再试，或直接联系物业服务中心办理。"
)
TOO_MANY_FOR_ROOM = (
    "该房屋今天已提交过 {limit} 次{form}，本次未保存。如需补充，请联系物业服务中心，或明天再提交。"
)


def init_app(app: Flask) -> None:
    @app.before_request
    def _throttle_anonymous_posts():
        if request.method != "POST" or request.endpoint in EXEMPT_ENDPOINTS:
            return None
        if request.endpoint is None or current_staff() is not None:
            return None
        limit = current_app.config["PUBLIC_POSTS_PER_ADDRESS_PER_HOUR"]
        budget = Budget(f"post:{request.remote_addr or ''}", limit, HOUR, TOO_MANY_POSTS)
        refused = spend_counted([budget])
        if refused is not None:
            response = current_app.make_response(render_error(429, refused.message))
            response.headers["Retry-After"] = "3600"
            return response
        return None


def spend_room(form: str, form_label: str, room: str) -> str | None:
    """One filing of ``form`` for ``room`` by an owner: None when within the day's budget (and
    counted), else the Chinese message. Staff filing for an owner are not counted."""
    if current_staff() is not None:
        return None
    limit = current_app.config["PUBLIC_FILINGS_PER_ROOM_PER_DAY"]
    message = TOO_MANY_FOR_ROOM.format(limit=limit, form=form_label)
    # Two communities both have 1-1-101: the room's budget is its community's.
    key = f"room:{form}:{community_key()}:{room}"
    refused = spend_counted([Budget(key, limit, DAY, message)])
    return refused.message if refused else None
