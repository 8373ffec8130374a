"""A 12 MB phone photo attached to the renovation application at 1.6 Mbit/s: bytes sent and
time, before (the file as chosen: page script off) and after (shrunk on the phone by
forms_app/static/photo_shrink.js).

Runs gunicorn and Debian's Chromium on a phone viewport, the phone reaching the server
through a relay that passes 1.6 Mbit/s each way (the bandwidth of Lighthouse's "slow 4G").
Prints the bytes the phone sent (request line, headers and body), the time from choosing the file to the page answering, and the
answer: before, the server refuses the photo after receiving all of it (over its 10 MB limit);
after, the application is filed.

    .venv/bin/python scripts/bench_photo_upload.py [--megabytes 12]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.browser import CHROMIUM, LAUNCH_ARGS, PHONE  # noqa: E402
from tests.support.photos import camera_photo  # noqa: E402
from tests.support.server import LiveServer  # noqa: E402

BITS_PER_SECOND = 1_600_000
APPLY = "/forms/renovation/apply"


class SlowLink:
    """A TCP relay between the browser and gunicorn that lets BITS_PER_SECOND through each way
    and counts the bytes the phone sends. (DevTools' own upload throttling stalls on bodies of
    this size, so the link is slowed here instead.)"""

    CHUNK = 8 * 1024

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source, target, counted: bool) -> None:
        started, passed = time.monotonic(), 0
        try:
            while chunk := source.recv(self.CHUNK):
                passed += len(chunk)
                if counted:
                    with self.lock:
                        self.sent += len(chunk)
                due = started + passed * 8 / BITS_PER_SECOND
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:  # an idle pause does not earn a burst later
                    started, passed = time.monotonic(), 0
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


def fill(page, room: str, script: bool) -> None:
    """A valid application; with page script the values are set directly (steps hide fields)."""
    start = date.today() + timedelta(days=5)
    values = {
        "building": "3",
        "unit": "1",
        "room": room,
        "owner_name": "王美华",
        "owner_mobile": "13800138000",
        "contractor_company": "金陵家装有限公司",
        "site_lead_name": "陈工",
        "site_lead_mobile": "13912345678",
        "workers": "4",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=40)).isoformat(),
    }
    if script:
        page.evaluate(
            """values => {
            for (const [id, value] of Object.entries(values)) {
                document.getElementById(id).value = value;
            }
            document.querySelector('input[name=work_items][value=walls_floors]').checked = true;
            document.getElementById('includes_prohibited-no').checked = true;
            document.querySelectorAll('.ack input[type=checkbox]').forEach(box => { box.checked = true; });
        }""",
            values,
        )
        return
    for field in ("building", "unit", "room"):
        page.select_option(f"#{field}", values.pop(field))
    for field, value in values.items():
        page.fill(f"#{field}", value)
    page.check("input[name=work_items][value=walls_floors]")
    page.check("#includes_prohibited-no")
    for box in page.locator(".ack input[type=checkbox]").all():
        box.check()


def run(browser, server: LiveServer, photo: Path, script: bool, room: str) -> dict:
    context = browser.new_context(**PHONE, java_script_enabled=script)
    link = SlowLink(server.port)
    try:
        page = context.new_page()
        page.set_default_timeout(600_000)
        page.goto(f"http://127.0.0.1:{link.port}{APPLY}")
        fill(page, room, script)
        with link.lock:
            link.sent = 0
        started = time.monotonic()
        page.set_input_files(
            "#attachments",
            [{"name": photo.name, "mimeType": "image/jpeg", "buffer": photo.read_bytes()}],
        )
        shrunk_after = None
        if script:
            page.locator("#shrink-status", has_text="照片已压缩").wait_for(state="attached")
            shrunk_after = time.monotonic() - started
        with page.expect_navigation():
            if script:  # the submit button sits in the last step, hidden until reached
                page.evaluate(
                    "document.getElementById('renovation-form')"
                    ".requestSubmit(document.getElementById('submit-application'))"
                )
            else:
                page.get_by_role("button", name="提交申请").click(no_wait_after=True)
        elapsed = time.monotonic() - started
        filed = "/status/" in page.url
        answer = "已提交" if filed else page.locator(".field-error").first.inner_text()
        with link.lock:
            on_the_wire = link.sent
        return {
            "wire": on_the_wire,
            "elapsed": elapsed,
            "shrink": shrunk_after,
            "answer": answer,
            "filed": filed,
        }
    finally:
        context.close()
        link.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        photo = camera_photo(Path(folder) / "IMG_20261128_101500.jpg", args.megabytes)
        photo_bytes = photo.stat().st_size
        # A sync worker is killed after gunicorn's 30 s timeout while a slow client is still
        # sending; in production nginx receives the whole body first. Here gunicorn faces the
        # throttled phone directly, so it waits longer.
        server = LiveServer(
            Path(folder) / "instance", extra_env={"GUNICORN_CMD_ARGS": "--timeout 600"}
        ).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                before = run(browser, server, photo, script=False, room="101")
                after = run(browser, server, photo, script=True, room="102")
                browser.close()
        finally:
            server.stop()
    mb = 1024 * 1024
    print(f"photo: {photo_bytes / mb:.1f} MB JPEG; link: {BITS_PER_SECOND / 1e6} Mbit/s")
    for name, result in (("before (as chosen)", before), ("after (shrunk on the phone)", after)):
        shrink = f", of which shrinking {result['shrink']:.1f} s" if result["shrink"] else ""
        print(
            f"{name:28} sent {result['wire'] / mb:6.2f} MB in {result['elapsed']:6.1f} s{shrink}; "
            f"answer: {result['answer']}"
        )
    ideal = photo_bytes * 8 / BITS_PER_SECOND
    print(f"(the photo's bytes alone take {ideal:.1f} s at {BITS_PER_SECOND / 1e6} Mbit/s)")
    if not after["filed"] or after["wire"] > 1.1 * mb:
        sys.exit(1)


if __name__ == "__main__":
    main()
