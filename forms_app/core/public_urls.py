"""The site's own address: which ``Host`` headers the app answers, and the absolute links it
writes into messages, QR codes and pages.

A link is built from ``PUBLIC_BASE_URL`` (required with ``HTTPS=1``). Only without it — a local
``make run`` or a test — does a link take the request's host, and Flask has already refused any
host outside ``TRUSTED_HOSTS`` (by default the loopback names and the public address's host)
before a view runs, so a forged ``Host`` never becomes a link in a staff alert or an SMS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for

from .community import current_community

# The names a browser on the same machine uses; gunicorn listens on loopback only.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


class PublicUrlError(RuntimeError):
    """``PUBLIC_BASE_URL`` is missing in production or is not an address."""


def check_public_base_url(base: str, https: bool) -> None:
    """Refuse a production start without the site's address, or with a wrong one."""
    if not base:
        if https:
            raise PublicUrlError(
                "生产环境（HTTPS=1）必须设置 PUBLIC_BASE_URL（本站对外地址，例如 "
                "https://wuye.example.com）：短信和企业微信通知里的链接只用这个地址生成。"
            )
        return
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
        raise PublicUrlError(
            f"PUBLIC_BASE_URL={base!r} 不是网站地址，应形如 https://wuye.example.com"
        )
    if https and parts.scheme != "https":
        raise PublicUrlError("生产环境（HTTPS=1）的 PUBLIC_BASE_URL 必须以 https:// 开头。")


def trusted_hosts(configured: str, base: str) -> list[str]:
    """The ``Host`` names the app answers: ``TRUSTED_HOSTS`` (comma separated) or the loopback
    names, and always the public address's host."""
    names = [n.strip() for n in configured.split(",") if n.strip()] or list(LOOPBACK_HOSTS)
    host = urlsplit(base).hostname if base else None
    if host and host not in names:
        names.append(host)
    return names


def public_url(path: str) -> str:
    """An absolute link: the community's ``public_base_url`` (its file), else
    ``PUBLIC_BASE_URL``, + path; without it (never in production) the
    request's own, already trusted, host; outside a request without it, the path alone."""
    base = current_community().get("public_base_url") or current_app.config.get("PUBLIC_BASE_URL")
    base = base or ""
    if not base and has_request_context():
        base = request.host_url
    return base.rstrip("/") + path if base else path


def external_url(endpoint: str, **values) -> str:
    """``url_for(..., _external=True)`` built from the public address."""
    return public_url(url_for(endpoint, **values))
