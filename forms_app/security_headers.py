"""Response headers that keep pages on this site and out of other sites' frames."""


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


def init_app(app) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        # Not no-referrer: Flask-WTF's HTTPS CSRF check needs a same-origin Referer.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                "script-src 'self' 'unsafe-inline'; frame-ancestors 'self'; form-action 'self'",
            )
        return response
