"""MkDocs hook: each handbook page carries its own Content-Security-Policy, as a <meta> tag.

The theme puts small inline scripts in every page (``__md_scope``, which differs with the
page's depth, and the tab/palette restore). Instead of allowing every inline script
('unsafe-inline'), the page lists the SHA-256 of the inline scripts it really has, so an
injected one never runs; everything else may come from this site only. The policy travels
with the files: it holds whether the app serves them (``make run``), nginx does, or anything
else. (``frame-ancestors`` cannot be set in a meta tag: the server's header sets it.)

Registered last in ``mkdocs.yml`` so that it sees each page as finally written.
"""

from __future__ import annotations

import base64
import hashlib
import re

# Inline scripts, their attributes and text; <script type="application/json"> is data the
# theme reads, never executed, so it needs no hash.
INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<code>.*?)</script>", re.S)
DATA_TYPE = re.compile(r"""\btype=["']?application/(?:ld\+)?json""")
CHARSET = re.compile(r"<meta charset=[^>]*>")


def script_hashes(html: str) -> list[str]:
    """CSP hash sources of the page's executable inline scripts, in order, without repeats."""
    hashes = []
    for match in INLINE_SCRIPT.finditer(html):
        attrs = match.group("attrs")
        if " src=" in attrs or DATA_TYPE.search(attrs):
            continue
        digest = hashlib.sha256(match.group("code").encode("utf-8")).digest()
        source = "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
        if source not in hashes:
            hashes.append(source)
    return hashes


def with_policy(html: str) -> str:
    """The page with its policy as the first tag after <meta charset> (a policy in a meta tag
    covers only what follows it)."""
    scripts = " ".join(["script-src 'self'", *script_hashes(html)])
    policy = (
        f"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        f"{scripts}; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
    tag = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    charset = CHARSET.search(html)
    if charset is None:
        return html
    return html[: charset.end()] + tag + html[charset.end() :]


def on_post_page(output: str, **_kwargs) -> str:
    return with_policy(output)


def on_post_template(output: str, template_name: str, **_kwargs) -> str:
    # 404.html is a theme template of its own, not a page.
    return with_policy(output) if template_name.endswith(".html") else output
