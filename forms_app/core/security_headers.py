"""Response headers that keep pages on this site and out of other sites' frames.

Scripts: the Content-Security-Policy runs only files from this site and inline scripts that
carry this response's nonce, ``<script nonce="{{ csp_nonce() }}">`` (better still: a file in
``static/``). Inline event handlers (``onclick=``) never run. The handbook's pages carry their
own script policy with the hashes of their inline scripts (``handbook_hooks/script_policy.py``);
their header keeps the rest. With ``HTTPS=1`` browsers are told to use HTTPS only (HSTS).
"""

import secrets

from flask import current_app, g, request

# The parts of the policy every response shares; scripts are added per response.
BASE_POLICY = "object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'"
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " + BASE_POLICY
)
HSTS = "max-age=31536000"


def private(response):
    """Headers of a page behind an owner's secret link (status, permit, booking, invitation).

    Never cached or indexed; and its links and stylesheet requests send only the site as
    Referer, so the secret link stays out of other requests and server logs. The origin is
    still enough for Flask-WTF's HTTPS Referer check of a form on the page.
    """
    no_store(response)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "strict-origin"
    return response


def no_store(response):
    """Never keep the response in any cache (a form's one-time nonce, live slot counts)."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csp_nonce() -> str:
    """This response's script nonce (a template global): the one inline script it allows."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy() -> str:
    """The policy of a page rendered by the app: scripts from this site or with the nonce."""
    scripts = "script-src 'self'"
    if "csp_nonce" in g:
        scripts += f" 'nonce-{g.csp_nonce}'"
    return f"{PAGE_POLICY}; {scripts}"


def _handbook_file(response) -> bool:
    """A page of the built handbook (``handbook/`` serves it in local runs), not an error page."""
    return request.blueprint == "handbook" and response.status_code < 400


def init_app(app) -> None:
    app.add_template_global(csp_nonce)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        # Not no-referrer: Flask-WTF's HTTPS CSRF check needs a same-origin Referer.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if current_app.config.get("HTTPS"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if response.mimetype == "text/html":
            policy = BASE_POLICY if _handbook_file(response) else content_security_policy()
            response.headers.setdefault("Content-Security-Policy", policy)
        return response
