"""公告: notices staff write from a template (停水, 停电, 停气, 电梯维保, 施工/装修温馨提示, 收费公示,
社区活动, 其他) for the whole community, buildings or units; published by a 客服主管 or 经理 (an
urgent one by whoever is on duty, with the reason), corrected in the open or withdrawn, never
edited in silence; on the owner guide's home page (public ones), in 我的办理 (the household's
own), by message through the outbox to each household's 主要联系人, and on paper for the 告示栏.

Renovation's approval puts the 装修温馨提示 on its unit's board through the domain-event hook:
renovation never imports notices.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask, url_prefix: str) -> None:
    from . import section

    section.init_app(app, url_prefix)
