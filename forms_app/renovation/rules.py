"""The renovation rules and community limits the form enforces, read from the data files."""

from __future__ import annotations

from ..core.community import cached_data

# Handbook sections the form links back to (headings written by the handbook pages).
DOCUMENTS_URL = "/owner/renovation/#所需资料"
PROHIBITIONS_URL = "/owner/renovation/rules/#禁止行为"
RULES_PAGE_URL = "/owner/renovation/rules/"


def renovation_rules() -> dict:
    """``data/renovation_rules.yml``: documents, acknowledgments, work items, prohibited changes."""
    return cached_data("renovation_rules.yml")


def documents() -> dict[str, dict]:
    """The documents to sign by id; ``covers`` names the rule lists each one contains."""
    return {document["id"]: document for document in renovation_rules()["documents"]}


def work_item_names() -> dict[str, str]:
    return {item["id"]: item["name"] for item in renovation_rules()["work_items"]}


def prohibited_changes() -> dict[str, dict]:
    return {change["id"]: change for change in renovation_rules()["prohibited_changes"]}


def prohibited_change_url(change: dict) -> str:
    """The handbook heading (``### <title>``) that explains one prohibited change."""
    return f"{RULES_PAGE_URL}#{change['title']}"


def acknowledgment_url(acknowledgment_id: str) -> str:
    """Where the owner reads what an acknowledgment accepts."""
    return PROHIBITIONS_URL if acknowledgment_id == "prohibitions" else DOCUMENTS_URL
