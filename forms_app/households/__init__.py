"""一户一档, the household registry: rooms with their 收费面积 and 交房 state, the people of each
room with their history (过户, 迁出, leases), key custody (钥匙托管), 房屋认证, and what every
domain holds for a household (``records``). The layer below the domains: they read rooms and
registered people from here; this package imports no domain.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, url_prefix: str) -> None:
    from ..events import declare
    from . import commands, staff

    commands.init_app(app)
    staff.init_app(app, url_prefix)
    # 过户, announced inside its transaction (fees keep the old owners' arrears on the room).
    declare(app, "households.transfer", "过户")
