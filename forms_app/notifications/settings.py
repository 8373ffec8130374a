"""The notification settings (their defaults are in ``forms_app/config.py``), checked: the
worker refuses at start-up what it cannot work with, such as half an SMS setup."""

from __future__ import annotations

from urllib.parse import urlsplit

SMS_REQUIRED = ("SMS_SECRET_ID", "SMS_SECRET_KEY", "SMS_APP_ID", "SMS_SIGN_NAME", "SMS_TEMPLATES")


class SettingsError(ValueError):
    """A notification setting the worker cannot work with."""


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
    msgtype = config["STAFF_WEBHOOK_MSGTYPE"]
    if msgtype not in ("text", "markdown"):
        raise SettingsError("STAFF_WEBHOOK_MSGTYPE 只能是 text 或 markdown")
    sms = None
    given = [name for name in SMS_REQUIRED if config[name]]
    if given:
        missing = [name for name in SMS_REQUIRED if not config[name]]
        if missing:
            raise SettingsError(f"短信设置不完整，缺少：{'、'.join(missing)}")
        sms = {
            "secret_id": config["SMS_SECRET_ID"],
            "secret_key": config["SMS_SECRET_KEY"],
            "app_id": config["SMS_APP_ID"],
            "sign_name": config["SMS_SIGN_NAME"],
            "templates": _templates(config["SMS_TEMPLATES"]),
            "region": config["SMS_REGION"],
            "endpoint": _http_url("SMS_ENDPOINT", config["SMS_ENDPOINT"]),
        }
    alert_channel = config.get("STAFF_ALERT_CHANNEL") or "wecom"
    if alert_channel not in ("wecom", "sms"):
        raise SettingsError("STAFF_ALERT_CHANNEL 只能是 wecom 或 sms")
    if alert_channel == "sms" and sms is None:
        raise SettingsError("STAFF_ALERT_CHANNEL=sms 需要完整的短信设置（SMS_SECRET_ID 等五项）")
    lease = float(config["NOTIFY_LEASE_SECONDS"]) or 3 * timeout + 10
    if lease <= timeout:
        raise SettingsError("NOTIFY_LEASE_SECONDS 须大于 NOTIFY_TIMEOUT_SECONDS")
    return {
        "timeout": timeout,
        "lease": lease,
        "max_attempts": int(config["NOTIFY_MAX_ATTEMPTS"]),
        "backoff": float(config["NOTIFY_BACKOFF_SECONDS"]),
        "backoff_max": float(config["NOTIFY_BACKOFF_MAX_SECONDS"]),
        "poll": float(config["NOTIFY_POLL_SECONDS"]),
        "scan": float(config["NOTIFY_SCAN_SECONDS"]),
        "webhook_url": _http_url("STAFF_WEBHOOK_URL", webhook) if webhook else "",
        "webhook_msgtype": msgtype,
        "staff_alert_channel": alert_channel,
        "sms": sms,
    }
