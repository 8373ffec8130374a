"""Reading and checking the inspection form.

The form is built from the checklist, so its field names carry data ids: ``areas`` (the
areas inspected), ``result-<item id>`` (pass / fail / na), ``note-<item id>`` and
``photos-<item id>``. Anything naming an id the checklist does not have is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from werkzeug.datastructures import FileStorage, MultiDict

from ..core.tokens import is_nonce
from ..files.uploads import (
    AttachmentError,
    CheckedUpload,
    check_upload,
    chosen_files,
    upload_limits,
)
from ..web.typed_input import (
    UNREADABLE_MESSAGE,
    clean_line,
    clean_text,
    is_unreadable,
    select_number,
)
from .checklist import Area, Checklist, Item
from .scoring import FAIL, NOT_APPLICABLE, PASS

ITEM_FIELD = re.compile(r"^(result|note|photos)-(.+)$")
MAX_NOTE = 500
# Paper records may be entered late, but a date years back is a typo.
MAX_AGE_DAYS = 366
MAX_SPOT = 60
MAX_PHOTOS_PER_ITEM = 3
PHOTO_TYPES = ("image/jpeg", "image/png")


class InspectionError(ValueError):
    """Input the form refuses: ``errors`` maps field keys to Chinese messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class CheckedItem:
    area: Area
    item: Item
    result: str
    note: str
    photos: list[CheckedUpload] = field(default_factory=list)


@dataclass
class CheckedInspection:
    inspected_on: date
    building: int | None
    spot: str
    items: list[CheckedItem]
    nonce: str

    @property
    def photos(self) -> list[CheckedUpload]:
        return [photo for item in self.items for photo in item.photos]


def item_key(item_id: str) -> str:
    """The error key (and page anchor) of one item."""
    return f"item-{item_id}"


def _date(raw: str, today: date, errors: dict) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        errors["inspected_on"] = "请填写检查日期。"
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors["inspected_on"] = "检查日期格式应为 年-月-日，例如 2026-05-01。"
        return None
    if value > today:
        errors["inspected_on"] = "检查日期不能晚于今天。"
        return None
    if value < today - timedelta(days=MAX_AGE_DAYS):
        errors["inspected_on"] = f"检查日期不能早于 {MAX_AGE_DAYS} 天前，请核对年份。"
        return None
    return value


def _building(raw: str, buildings, areas: list[Area], errors: dict) -> int | None:
    raw = (raw or "").strip()
    if raw:
        if select_number(raw) in buildings:
            return select_number(raw)
        errors["building"] = "请选择列表中的楼栋。"
        return None
    bound = [area.name for area in areas if area.needs_building]
    if bound:
        errors["building"] = f"检查{'、'.join(bound)}时请选择楼栋。"
    return None


def _forged_fields(form: MultiDict, files: MultiDict, checklist: Checklist) -> bool:
    """True when the post names an item the checklist does not have."""
    for name in list(form.keys()) + list(files.keys()):
        match = ITEM_FIELD.match(name)
        if match and match.group(2) not in checklist.items:
            return True
    return False


def check_photos(uploads: list[FileStorage]) -> list[CheckedUpload]:
    """The photos of one item (a failure, or its 整改): JPG or PNG, at most three."""
    if len(uploads) > MAX_PHOTOS_PER_ITEM:
        raise AttachmentError(f"每项照片最多 {MAX_PHOTOS_PER_ITEM} 张。")
    checked = []
    for upload in uploads:
        photo = check_upload(upload)
        if photo.content_type not in PHOTO_TYPES:
            raise AttachmentError(f"「{photo.original_name}」不是 JPG 或 PNG 照片。")
        checked.append(photo)
    return checked


def _item(
    area: Area, item: Item, form: MultiDict, files: MultiDict, errors: dict
) -> CheckedItem | None:
    key = item_key(item.id)
    result = form.get(f"result-{item.id}", "")
    note = clean_text(form.get(f"note-{item.id}") or "")
    uploads = chosen_files(files.getlist(f"photos-{item.id}"))
    allowed = (PASS, FAIL, NOT_APPLICABLE) if item.optional else (PASS, FAIL)
    if result not in allowed:
        if result == NOT_APPLICABLE:
            errors[key] = "此项不能选「不适用」，请选择合格或不合格。"
        else:
            errors[key] = (
                "请选择合格或不合格。" if not item.optional else "请选择合格、不合格或不适用。"
            )
        return None
    if result != FAIL:
        # The note and photo fields show only for 不合格; anything left in them is not meant.
        return CheckedItem(area, item, result, "")
    if not note:
        errors[key] = "不合格时请写明问题（位置、情况）。"
        return None
    if len(note) > MAX_NOTE:
        errors[key] = f"问题说明不超过 {MAX_NOTE} 字。"
        return None
    if is_unreadable(note):
        errors[key] = UNREADABLE_MESSAGE
        return None
    try:
        photos = check_photos(uploads)
    except AttachmentError as error:
        errors[key] = str(error)
        return None
    return CheckedItem(area, item, result, note, photos)


def check_inspection(
    form: MultiDict, files: MultiDict, checklist: Checklist, buildings, today: date
) -> CheckedInspection:
    """Validate a posted inspection; the checked values, or InspectionError with every problem.

    Results of areas that were not ticked are ignored (the inspector may have filled an area
    and then left it out); results naming unknown items are refused.
    """
    errors: dict[str, str] = {}
    nonce = form.get("nonce", "")
    if not is_nonce(nonce):
        errors["form"] = "表单已失效，请刷新页面后重新填写。"
    if _forged_fields(form, files, checklist):
        errors["form"] = "表单中有不存在的检查项（检查标准可能已更新），请刷新页面后重新填写。"
    inspected_on = _date(form.get("inspected_on", ""), today, errors)
    area_ids = form.getlist("areas")
    areas = [checklist.areas[a] for a in dict.fromkeys(area_ids) if a in checklist.areas]
    if any(a not in checklist.areas for a in area_ids):
        errors["areas"] = "所选区域不在检查标准中，请刷新页面后重新选择。"
    elif not areas:
        errors["areas"] = "请至少选择一个检查区域。"
    building = _building(form.get("building", ""), buildings, areas, errors)
    spot = clean_line(form.get("spot") or "")
    if len(spot) > MAX_SPOT:
        errors["spot"] = f"具体位置不超过 {MAX_SPOT} 字。"
    items = []
    for area in areas:
        for item in area.items:
            checked = _item(area, item, form, files, errors)
            if checked:
                items.append(checked)
    max_photos = upload_limits().max_files
    if sum(len(i.photos) for i in items) > max_photos:
        errors["photos"] = f"一次检查的照片合计最多 {max_photos} 张。"
    if errors:
        raise InspectionError(errors)
    return CheckedInspection(inspected_on, building, spot, items, nonce)
