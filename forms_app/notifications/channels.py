"""Where messages go: the 企业微信 group robot for staff, SMS for owners, the log otherwise.

Each channel is optional and configured by environment (see ``config.notification_settings``):
without ``STAFF_WEBHOOK_URL`` staff alerts are written to the log, without the SMS settings
owners' messages are; no outside host is contacted unless configured. A channel either
returns (the message was accepted) or raises ``DeliveryError`` with a Chinese reason the
back office shows.

A personal staff alert (``staff_alerts.py``) is a staff message with the person's mobile as
its recipient: the robot sends it as text mentioning that mobile (``mentioned_mobile_list``;
the robot's markdown cannot mention by mobile), or, with ``STAFF_ALERT_CHANNEL=sms``, it goes
by SMS to the mobile (audience ``staff_sms``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from .models import OWNER, STAFF, STAFF_SMS

logger = logging.getLogger("forms_app.notifications")

# Kept per attempt; a garbage answer is cut to this much.
MAX_DETAIL = 300
IDEMPOTENCY_HEADER = "X-Idempotency-Key"


class DeliveryError(Exception):
    """The channel did not accept the message; ``str()`` is the reason, in Chinese."""


@dataclass(frozen=True)
class Outgoing:
    """What a channel needs of one message (read before the claim's transaction ends)."""

    id: int
    kind: str
    audience: str
    recipient: str
    text: str
    params: tuple[str, ...]
    idempotency_key: str
    # The SMS sign of the message's community (``sms_sign_name`` in its file), else "" and
    # the deployment's SMS_SIGN_NAME.
    sign_name: str = ""


def _cut(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + "…"


class LogChannel:
    """Writes the message to the server log: local runs, and any channel not configured."""

    name = "log"
    label = "日志"

    def send(self, message: Outgoing) -> str:
        if message.audience in (OWNER, STAFF_SMS):
            to = message.recipient
        else:
            to = f"员工群 @{message.recipient}" if message.recipient else "员工群"
        logger.info("通知 #%s [%s] 发给 %s：%s", message.id, message.kind, to, message.text)
        return "已写入服务器日志"


class WeComRobot:
    """A 企业微信 group robot: POST the robot's JSON body, check its ``errcode``."""

    name = "wecom"
    label = "企业微信群"

    def __init__(self, url: str, msgtype: str, timeout: float):
        self.url = url
        self.msgtype = msgtype
        self.timeout = timeout

    def body(self, message: Outgoing) -> dict:
        """The robot's JSON: a personal alert as text mentioning the person's mobile."""
        if message.audience == STAFF and message.recipient:
            return {
                "msgtype": "text",
                "text": {"content": message.text, "mentioned_mobile_list": [message.recipient]},
            }
        return {"msgtype": self.msgtype, self.msgtype: {"content": message.text}}

    def send(self, message: Outgoing) -> str:
        # Imported here: only the worker sends, and every other process (each gunicorn start,
        # each flask command) is spared loading requests.
        import requests

        body = self.body(message)
        try:
            response = requests.post(
                self.url,
                json=body,
                timeout=self.timeout,
                headers={IDEMPOTENCY_HEADER: message.idempotency_key},
            )
        except requests.Timeout:
            raise DeliveryError(f"企业微信机器人 {self.timeout:g} 秒内没有应答") from None
        except requests.RequestException as error:
            raise DeliveryError(f"无法连接企业微信机器人：{_cut(str(error))}") from None
        if response.status_code != 200:
            raise DeliveryError(f"企业微信机器人返回 HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryError(f"企业微信机器人的应答无法识别：{_cut(response.text)}") from None
        if not isinstance(answer, dict) or "errcode" not in answer:
            raise DeliveryError(f"企业微信机器人的应答无法识别：{_cut(response.text)}")
        if answer["errcode"] != 0:
            raise DeliveryError(
                f"企业微信机器人拒绝：errcode {answer['errcode']} {_cut(answer.get('errmsg', ''))}"
            )
        return "企业微信机器人已接收"


class TencentSms:
    """SMS through Tencent Cloud's official SDK (SendSms, API version 2021-01-11).

    Each message kind is sent with the provider template registered for it
    (``SMS_TEMPLATES``); the idempotency key travels as ``SessionContext``, which the
    provider echoes back.
    """

    name = "sms"
    label = "短信"

    def __init__(self, settings: dict, timeout: float):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        endpoint = urlsplit(settings["endpoint"])
        http = HttpProfile(
            protocol=endpoint.scheme or "https", endpoint=endpoint.netloc, reqTimeout=timeout
        )
        self.client = sms_client.SmsClient(
            credential.Credential(settings["secret_id"], settings["secret_key"]),
            settings["region"],
            ClientProfile(httpProfile=http),
        )
        self.app_id = settings["app_id"]
        self.sign_name = settings["sign_name"]
        self.templates = settings["templates"]

    def send(self, message: Outgoing) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models

        template = self.templates.get(message.kind) or self.templates.get("*")
        if not template:
            raise DeliveryError(f"未配置「{message.kind}」的短信模板（SMS_TEMPLATES）")
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{message.recipient}"]
        request.SmsSdkAppId = self.app_id
        request.SignName = message.sign_name or self.sign_name
        request.TemplateId = template
        request.TemplateParamSet = list(message.params)
        request.SessionContext = message.idempotency_key
        request.headers = {IDEMPOTENCY_HEADER: message.idempotency_key}
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as error:
            detail = error.get_message() or error.get_code()
            if "timed out" in str(detail).lower():
                raise DeliveryError("短信平台没有按时应答") from None
            raise DeliveryError(f"短信平台出错：{_cut(f'{error.get_code()} {detail}')}") from None
        statuses = response.SendStatusSet or []
        if len(statuses) != 1:
            raise DeliveryError(f"短信平台的应答无法识别：{_cut(response.to_json_string())}")
        status = statuses[0]
        if status.Code != "Ok":
            raise DeliveryError(f"短信平台拒绝：{_cut(f'{status.Code} {status.Message}')}")
        return f"短信平台已接收，流水号 {_cut(status.SerialNo or '')}"


def channel_for(audience: str, channels: dict) -> object:
    """The configured channel of an audience, else the log."""
    return channels.get(audience) or channels["log"]


def build_channels(settings: dict) -> dict:
    """The channels this process delivers through, from ``notification_settings``."""
    timeout = settings["timeout"]
    channels: dict = {"log": LogChannel()}
    if settings["webhook_url"]:
        channels["staff"] = WeComRobot(
            settings["webhook_url"], settings["webhook_msgtype"], timeout
        )
    if settings["sms"]:
        # Owners' messages, and personal staff alerts with STAFF_ALERT_CHANNEL=sms.
        channels[OWNER] = channels[STAFF_SMS] = TencentSms(settings["sms"], timeout)
    return channels


def describe(settings: dict) -> str:
    """One line for the worker's start-up log: which channel serves whom."""
    staff = "企业微信机器人" if settings["webhook_url"] else "日志"
    owner = "腾讯云短信" if settings["sms"] else "日志"
    personal = "短信" if settings["staff_alert_channel"] == "sms" else f"{staff}（@本人手机号）"
    return f"员工通知 → {staff}；员工个人通知 → {personal}；业主通知 → {owner}"
