"""The playground's files as served (no browser): GET / and its assets, from this origin only."""

from __future__ import annotations

import re

import httpx
import pytest

from oneiros_server.transport.http.page import FOLDER
from tests.server.transport.http.helpers import tiny_repository


@pytest.fixture
def base(serve, tmp_path) -> str:
    return serve(tiny_repository(tmp_path)).http_url


def test_root_serves_the_page_with_a_same_origin_policy(base):
    page = httpx.get(base + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for testid in (
        "sample-prompt",
        "dream-run",
        "stylize-model",
        "decode-plane",
        "edit-strength",
        "models-list",
        "auth-token",
    ):
        assert f'data-testid="{testid}"' in page.text


def test_every_asset_the_page_names_is_served_with_its_type(base):
    html = (FOLDER / "index.html").read_text()
    named = set(re.findall(r'(?:src|href)="(/playground/[^"]+)"', html))
    for script in FOLDER.glob("*.js"):
        named |= {f"/playground/{name}" for name in re.findall(r'from "\./([\w.]+)"', script.read_text())}
    bundled = re.findall(r'\["([\w-]+\.(?:jpg|png))"', (FOLDER / "pictures.js").read_text())
    named |= {f"/playground/samples/{name}" for name in bundled}
    assert {"/playground/main.js", "/playground/style.css", "/playground/samples/chelsea.jpg"} <= named
    types = {
        ".js": "text/javascript",
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".jpg": "image/jpeg",
        ".png": "image/png",
    }
    for path in sorted(named):
        answer = httpx.get(base + path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith(types[path[path.rindex(".") :]]), path


def test_nothing_is_loaded_from_another_host():
    for path in FOLDER.glob("*.*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text()
            # Links for people to follow are fine; nothing the browser would fetch by itself.
            assert not re.search(r'(src|href|url\(|import|fetch\()\s*=?\s*["\']?(https?:)?//', text), path.name


def test_only_the_playground_folder_is_served(base):
    assert httpx.get(base + "/playground/../page.py").status_code == 404
    assert httpx.get(base + "/playground/%2e%2e/page.py").status_code == 404
    assert httpx.get(base + "/playground/nothing.js").status_code == 404
    assert httpx.post(base + "/").status_code == 405
