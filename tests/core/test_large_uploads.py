"""An upload over the size limit gets the Chinese 413 page on every owner form that takes files,
from one handler of the app, which reads the rest of the body first (bounded): answering while
the phone is still sending would show it a broken connection instead of the page."""

import io

import pytest
import requests

# 53 MB: over the request limit of the defaults (five attachments of 10 MB, 2 MB for the rest).
OVERSIZED = b"%PDF-1.4\n" + b"0" * (53 * 1024 * 1024)


@pytest.mark.parametrize(
    "path", ["/forms/renovation/apply", "/forms/service/repair", "/forms/service/complaint"]
)
def test_an_oversized_upload_gets_the_chinese_page(live_server, path):
    response = requests.post(
        live_server.url + path,
        timeout=60,
        files={"attachments": ("巨大的图纸.pdf", OVERSIZED, "application/pdf")},
    )
    assert response.status_code == 413
    assert "文件太大" in response.text and "每个附件不超过 10 MB" in response.text


def test_the_rest_of_an_oversized_body_is_read_before_the_answer_up_to_a_bound(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    for size, read in ((3000, 3000), (9000, 4000)):  # at most four times the limit
        body = io.BytesIO(b"x" * size)
        response = client.post(
            "/forms/service/repair",
            input_stream=body,
            content_length=size,
            content_type="multipart/form-data; boundary=x",
        )
        assert response.status_code == 413 and "文件太大" in response.get_data(as_text=True)
        assert body.tell() == read
