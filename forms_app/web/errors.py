"""Error pages in Chinese: no request ever ends on a bare English error or a stack trace."""

from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

from ..core.extensions import db
from ..files.uploads import upload_limits
from .drafts import ERROR, EXPIRED, draft_reply, is_draft_request

# Reading at most this many times the size limit of an over-limit body before answering 413.
DRAIN_LIMIT_FACTOR = 4

MESSAGES = {
    400: ("请求无效", "提交的内容无法识别，请返回上一页重试。"),
    403: ("没有权限", "您没有权限进行此操作。"),
    404: ("页面不存在", "您访问的页面不存在或链接已失效，请核对链接。"),
    405: ("操作不支持", "此页面不支持这种操作，请从页面上的按钮进入。"),
    413: (
        "文件太大",
        "上传的内容超过了大小限制：每个附件不超过 {max_file_mb} MB，最多 {max_files} 个。"
        "请压缩或减少附件后重新提交。",
    ),
    429: ("操作太频繁", "操作太频繁，请稍后再试。"),
    500: ("服务暂时出错", "系统暂时出错，您的操作未完成。请稍后重试，或联系物业服务中心。"),
    503: ("服务暂时不可用", "系统繁忙，请稍后重试。"),
}


def render_error(code: int, message: str | None = None):
    title, default = MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])
    if code == 413:
        limits = upload_limits()
        default = default.format(max_file_mb=limits.max_file_mb, max_files=limits.max_files)
    if is_draft_request():
        return draft_reply(ERROR, message or default, status=code)
    return (
        render_template("error.html", code=code, title=title, message=message or default),
        code,
    )


def drain_body() -> None:
    """Read and discard the rest of the request body.

    A server that answers and closes while the client is still sending makes the client's
    TCP stack see a reset, and the browser shows a broken connection instead of our page.
    Reading stops after a few times the size limit so a huge body cannot hold a worker.
    """
    stream = request.environ.get("wsgi.input")
    budget = DRAIN_LIMIT_FACTOR * (current_app.config["MAX_CONTENT_LENGTH"] or 0)
    try:
        while stream is not None and budget > 0:
            chunk = stream.read(min(256 * 1024, budget))
            if not chunk:
                break
            budget -= len(chunk)
    except OSError:
        pass


# A request for a host the app does not serve (TRUSTED_HOSTS): no page of ours can be built
# for it (links need the host), so a plain one, with no link at all.
UNKNOWN_HOST_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>网址无效</title><h1>网址无效</h1>"
    "<p>本站不接受这个域名的访问，请使用物业公布的网址。</p></html>"
)


def init_app(app) -> None:
    @app.errorhandler(SecurityError)
    def _unknown_host(_error):
        """A Host header outside TRUSTED_HOSTS: refused before any view runs."""
        return UNKNOWN_HOST_PAGE, 400, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error):
        """An oversized upload (any form) gets the Chinese page, not a reset connection."""
        drain_body()
        return render_error(413)

    @app.errorhandler(CSRFError)
    def _csrf(_error):
        if is_draft_request():
            return draft_reply(EXPIRED, "页面已过期，正在重新发送。", status=400)
        return render_error(400, "页面已过期或来源无法验证，请刷新页面后重新提交。")

    @app.errorhandler(HTTPException)
    def _http(error):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error):
        db.session.rollback()
        # The route, not the path: a path holds an owner's private link token.
        route = request.url_rule.rule if request.url_rule else "(no route)"
        app.logger.exception("unhandled error on %s %s", request.method, route)
        return render_error(500)
