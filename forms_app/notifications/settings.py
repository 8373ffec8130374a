"""Notification settings from the environment, each with a default for local runs.

Read into the app config when the app is created (an instance ``config.py`` or a test's
config can override them); the worker checks them at start-up and refuses half an SMS setup.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

SMS_REQUIRED = ("SMS_SECRET_ID", "SMS_SECRET_KEY", "SMS_APP_ID", "SMS_SIGN_NAME", "SMS_TEMPLATES")
DEFAULT_SMS_ENDPOINT = "https://sms.tencentcloudapi.com"

# name: (type, default)
NUMBERS = {
    "NOTIFY_TIMEOUT_SECONDS": (float, 10.0),      # one HTTP call to a channel
    "NOTIFY_MAX_ATTEMPTS": (int, 8),              # then the message is shown as failed
    "NOTIFY_BACKOFF_SECONDS": (float, 30.0),      # wait after the first failure, doubled each time
    "NOTIFY_BACKOFF_MAX_SECONDS": (float, 3600.0),
    "NOTIFY_POLL_SECONDS": (float, 2.0),          # the worker's look at the outbox when idle
    "NOTIFY_SCAN_SECONDS": (float, 300.0),        # overdue patrols and other periodic scans
    "NOTIFY_LEASE_SECONDS": (float, 0.0),         # 0: three timeouts and ten seconds
}
TEXTS = ("STAFF_WEBHOOK_URL", "STAFF_WEBHOOK_MSGTYPE", "PUBLIC_BASE_URL", "SMS_REGION",
         "SMS_ENDPOINT", *SMS_REQUIRED)


class SettingsError(ValueError):
    """A notification setting the worker cannot work with."""


def from_environment() -> dict:
    """The notification settings present in the environment, for ``app.config``."""
    found = {}
    for name, (kind, default) in NUMBERS.items():
        raw = os.environ.get(name)
        try:
            found[name] = kind(raw) if raw else default
        except ValueError:
            raise SettingsError(f"{name}={raw!r} 不是数字") from None
    for name in TEXTS:
        found[name] = os.environ.get(name, "").strip()
    return found


def _templates(raw: str) -> dict[str, str]:
    """``renovation.approved=123456,move_in.confirmed=123457`` (``*=id`` for every kind)."""
    templates = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        kind, _, template = part.partition("=")
        if not kind.strip() or not template.strip():
            raise SettingsError(f"SMS_TEMPLATES 的「{part}」应写成 消息类型=模板ID")
        templates[kind.strip()] = template.strip()
    return templates


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} 应是 http:// 或 https:// 开头的地址")
    return value


def notification_settings(config) -> dict:
    """Checked settings for the worker and its channels."""
    timeout = float(config["NOTIFY_TIMEOUT_SECONDS"])
    if timeout <= 0 or config["NOTIFY_MAX_ATTEMPTS"] < 1:
        raise SettingsError("NOTIFY_TIMEOUT_SECONDS 与 NOTIFY_MAX_ATTEMPTS 须为正数")
    webhook = config["STAFF_WEBHOOK_URL"]
    msgtype = config["STAFF_WEBHOOK_MSGTYPE"] or "text"
    if msgtype not in ("text", "markdown"):
        raise SettingsError("STAFF_WEBHOOK_MSGTYPE 只能是 text 或 markdown")
    sms = None
    given = [name for name in SMS_REQUIRED if config[name]]
    if given:
        missing = [name for name in SMS_REQUIRED if not config[name]]
        if missing:
            raise SettingsError(f"短信设置不完整，缺少：{'、'.join(missing)}")
        sms = {"secret_id": config["SMS_SECRET_ID"], "secret_key": config["SMS_SECRET_KEY"],
               "app_id": config["SMS_APP_ID"], "sign_name": config["SMS_SIGN_NAME"],
               "templates": _templates(config["SMS_TEMPLATES"]),
               "region": config["SMS_REGION"] or "ap-guangzhou",
               "endpoint": _http_url("SMS_ENDPOINT",
                                     config["SMS_ENDPOINT"] or DEFAULT_SMS_ENDPOINT)}
    lease = float(config["NOTIFY_LEASE_SECONDS"]) or 3 * timeout + 10
    if lease <= timeout:
        raise SettingsError("NOTIFY_LEASE_SECONDS 须大于 NOTIFY_TIMEOUT_SECONDS")
    return {
        "timeout": timeout, "lease": lease,
        "max_attempts": int(config["NOTIFY_MAX_ATTEMPTS"]),
        "backoff": float(config["NOTIFY_BACKOFF_SECONDS"]),
        "backoff_max": float(config["NOTIFY_BACKOFF_MAX_SECONDS"]),
        "poll": float(config["NOTIFY_POLL_SECONDS"]),
        "scan": float(config["NOTIFY_SCAN_SECONDS"]),
        "webhook_url": _http_url("STAFF_WEBHOOK_URL", webhook) if webhook else "",
        "webhook_msgtype": msgtype, "sms": sms,
    }
