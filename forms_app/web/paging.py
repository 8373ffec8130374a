"""Page-by-page lists for the back office."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..core.extensions import db

PER_PAGE = 20


@dataclass
class Page:
    items: list
    number: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(query, page_arg: str | None, per_page: int = PER_PAGE) -> Page:
    """One page of a select(); a missing or nonsensical page number means page 1."""
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    pages = max(1, -(-total // per_page))
    try:
        number = min(max(1, int(page_arg or 1)), pages)
    except ValueError:
        number = 1
    items = (
        db.session.execute(query.limit(per_page).offset((number - 1) * per_page)).scalars().all()
    )
    return Page(items=items, number=number, pages=pages, total=total)
