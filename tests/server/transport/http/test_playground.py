"""The playground page in a real browser (Debian's Chromium under Playwright) against a real
server on port 0 with tiny models: every section end to end, driven by the page's data-testid
hooks, with no console errors; screenshots go to the test artifacts folder."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from playwright.sync_api import Browser, expect

from oneiros_server.app import OneirosServer
from oneiros_server.settings import Settings
from tests.conftest import REPO_ROOT
from tests.latent_models import make_latent_model
from tests.server.transport.http.browser import PHONE, Session, chromium
from tests.server.transport.http.helpers import b64, digit_png, png, tiny_repository
from tests.server.transport.http.test_streams import requests_total
from tests.waiting import wait_until


def photo(width: int = 64, height: int = 48) -> bytes:
    """A small colour gradient, as PNG bytes."""
    y, x = np.mgrid[0:height, 0:width]
    return png(np.stack([x * 255 // width, y * 255 // height, 128 + 0 * x], axis=-1).astype(np.uint8), "RGB")


def off_playwright_loop(work):
    """Run ``work()`` in a thread of its own: the server sets itself up with its own event loop,
    which cannot run in a thread where Playwright's loop is running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def start(repository: Path, **overrides) -> OneirosServer:
    options = dict(host="127.0.0.1", port=0, metrics_port=0, http_port=0, log_json=False, model_repository=repository)

    def build() -> OneirosServer:
        server = OneirosServer(Settings(**(options | overrides)))
        server.start()
        return server

    return off_playwright_loop(build)


def stop(server: OneirosServer) -> None:
    off_playwright_loop(lambda: server.stop(grace=0))


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[OneirosServer]:
    """tiny-lm, tiny-vae (4-D), tiny-vae-2d (the plane), tiny-gan and VGG19 (Dream, Stylize)."""
    root = tiny_repository(tmp_path_factory.mktemp("playground"))
    make_latent_model(root, "tiny-vae-2d", 2, default_for=())
    shutil.copytree(REPO_ROOT / "models" / "vgg19-imagenet", root / "vgg19-imagenet")
    running = start(root, sample_max_tokens=1 << 20)
    yield running
    stop(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def session(browser, server) -> Iterator[Session]:
    opened = Session(browser, f"http://127.0.0.1:{server.http_port}/")
    expect(opened.page.get_by_test_id("models-list")).to_contain_text("tiny-lm")
    yield opened
    opened.close()


def test_models_are_listed_with_kind_status_and_figures(session):
    models = session.page.get_by_test_id("models-list")
    for name in ("tiny-lm", "tiny-vae", "tiny-vae-2d", "tiny-gan", "vgg19-imagenet"):
        expect(models).to_contain_text(name)
    expect(models).to_contain_text("language model")
    expect(models).to_contain_text("ready")
    expect(models).to_contain_text("neg_elbo_nats")
    session.screenshot("models")
    assert session.unexpected_errors() == []


def test_text_streams_in_and_stop_stops_the_work(session, server):
    page = session.page
    before = requests_total_of(server, "SampleStream", "CANCELLED")
    page.get_by_label("Max characters").fill("1000000")  # runs until stopped
    page.get_by_test_id("sample-prompt").fill("And God")
    page.get_by_test_id("sample-run").click()
    output = page.get_by_test_id("sample-output")
    expect(output).to_have_text(re.compile(r"\S{3}"))
    page.get_by_test_id("sample-stop").click()
    expect(page.get_by_test_id("sample-run")).to_be_enabled()
    assert wait_until(lambda: requests_total_of(server, "SampleStream", "CANCELLED") == before + 1)
    stopped = output.inner_text()
    assert page.get_by_test_id("sample-output").inner_text() == stopped
    session.screenshot("sample-stopped")
    assert session.unexpected_errors() == []


def test_a_finished_sample_and_the_temperature_comparison(session):
    page = session.page
    page.get_by_label("Max characters").fill("30")
    page.get_by_test_id("sample-temperature").fill("0.8")
    page.get_by_test_id("sample-run").click()
    expect(page.locator("#sample-stats")).to_contain_text("30 characters")
    assert len(page.get_by_test_id("sample-output").inner_text()) == 30
    page.get_by_role("button", name="Compare temperatures").click()
    columns = page.locator("#sample-compare-out article")
    expect(columns).to_have_count(4)
    for i in range(4):
        expect(columns.nth(i)).to_contain_text("mean entropy")
    session.screenshot("sample-compare")
    assert session.unexpected_errors() == []


def test_dream_shows_previews_then_the_result(session):
    page = session.page
    page.get_by_test_id("dream-image").set_input_files(files=[file("photo.png", photo())])
    page.get_by_test_id("dream-run").click()
    expect(page.get_by_test_id("dream-preview")).to_be_visible()
    expect(page.get_by_test_id("dream-result")).to_be_visible(timeout=120_000)
    assert page.get_by_test_id("dream-result").get_attribute("src").startswith("data:image/png;base64,")
    progress = page.get_by_test_id("dream-progress")
    assert progress.evaluate("p => p.value === p.max")
    session.screenshot("dream")
    assert session.unexpected_errors() == []


def test_cancel_stops_a_dream_on_the_server(session, server):
    page = session.page
    before = requests_total_of(server, "DreamStream", "CANCELLED")
    page.get_by_test_id("dream-image").set_input_files(files=[file("photo.png", photo(256, 256))])
    page.get_by_label("Steps per octave").fill("500")  # far more than can finish before Cancel is clicked
    page.get_by_test_id("dream-run").click()
    expect(page.get_by_test_id("dream-progress")).to_have_js_property("value", 1)  # the first step is in
    page.get_by_test_id("dream-cancel").click()
    expect(page.get_by_test_id("dream-run")).to_be_enabled()
    assert wait_until(lambda: requests_total_of(server, "DreamStream", "CANCELLED") == before + 1)
    expect(page.get_by_test_id("dream-result")).to_be_hidden()
    assert session.unexpected_errors() == []


def test_a_style_network_is_one_click_with_the_photo_only(session):
    """Style networks (kind STYLE_NETWORK) are offered beside Gatys; the server's answers are faked."""
    page = session.page
    network = {"name": "starry-net", "version": "1", "kind": "STYLE_NETWORK", "status": "READY", "description": "x"}
    sent: list[bytes] = []

    def models(route):
        listing = route.fetch().json()
        route.fulfill(json=listing | {"models": listing["models"] + [network]})

    def stylize(route):
        sent.append(route.request.post_data_buffer)
        result = {"result": {"image": {"data": b64(photo())}, "elapsedMs": 40}}
        route.fulfill(status=200, content_type="text/event-stream", body=f"data: {json.dumps(result)}\n\n")

    page.route("**/v1/models", models)
    page.route("**/v1/stylize/stream", stylize)
    page.reload()
    page.get_by_role("button", name="Paint it as starry-net").click()
    expect(page.get_by_test_id("stylize-result")).to_be_visible()
    expect(page.get_by_test_id("stylize-model")).to_have_value("starry-net")
    expect(page.get_by_test_id("stylize-style")).to_be_hidden()
    fields = set(re.findall(rb'name="(\w+)"', sent[0]))
    assert fields == {b"content", b"model", b"max_side", b"preview_every"}
    assert session.unexpected_errors() == []


def test_stylize_paints_the_photo(session):
    page = session.page
    page.get_by_test_id("stylize-content").set_input_files(files=[file("content.png", photo())])
    page.get_by_test_id("stylize-style").set_input_files(files=[file("style.png", photo(40, 40))])
    page.get_by_test_id("stylize-model").select_option("vgg19-imagenet")
    page.get_by_test_id("stylize-run").click()
    expect(page.get_by_test_id("stylize-result")).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stylize-progress")).to_have_js_property("value", 1)
    session.screenshot("stylize")
    assert session.unexpected_errors() == []


def test_decode_plane_click_and_edit_latent(session):
    page = session.page
    plane = page.get_by_test_id("decode-plane")
    plane.click(position={"x": 20, "y": 30})
    expect(page.get_by_test_id("decode-result")).to_have_attribute("src", re.compile("^blob:"))
    expect(page.locator("#plane-point")).to_contain_text("z = (")
    first = page.get_by_test_id("decode-result").get_attribute("src")
    plane.press("ArrowRight")
    expect(page.get_by_test_id("decode-result")).not_to_have_attribute("src", first)

    page.get_by_test_id("edit-image").set_input_files(files=[file("digit.png", digit_png())])
    page.get_by_test_id("edit-attribute").select_option("thickness")
    expect(page.get_by_test_id("edit-result")).to_have_attribute("src", re.compile("^blob:"))
    before = page.get_by_test_id("edit-result").get_attribute("src")
    page.get_by_test_id("edit-strength").fill("2")
    expect(page.get_by_test_id("edit-result")).not_to_have_attribute("src", before)
    expect(page.locator("#edit-summary")).to_contain_text("thickness +2")

    edited = page.get_by_test_id("edit-result").get_attribute("src")
    box = page.get_by_label("Drawing area").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 20, steps=5)
    page.mouse.up()
    expect(page.locator("#edit-source")).to_contain_text("your drawing")
    expect(page.get_by_test_id("edit-result")).not_to_have_attribute("src", edited)

    for button, picture in [("Sweep this attribute", "#edit-sweep-result"), ("Interpolate", "#interpolate-result")]:
        page.get_by_role("button", name=button).click()
        expect(page.locator(picture)).to_be_visible()
    prior = page.locator("#prior-result")
    for model in ("tiny-vae", "tiny-gan"):
        shown = prior.get_attribute("src") or ""
        page.locator("#prior-model").select_option(model)
        page.get_by_role("button", name="Sample", exact=True).click()
        expect(prior).not_to_have_attribute("src", shown)
        expect(prior).to_have_js_property("naturalWidth", 4 * 28 + 5 * 2)  # 16 digits, 4 x 4 with 2 px gaps
    session.screenshot("latent")
    assert session.unexpected_errors() == []


def test_errors_show_next_to_their_control(session):
    page = session.page
    page.get_by_test_id("sample-temperature").fill("-1")
    page.get_by_test_id("sample-run").click()
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("temperature")
    expect(page.get_by_test_id("sample-temperature")).to_have_attribute("aria-invalid", "true")
    page.get_by_test_id("sample-temperature").fill("0.5")
    page.get_by_test_id("sample-run").click()
    expect(error).to_have_count(0)

    page.get_by_test_id("dream-image").set_input_files(files=[file("notes.txt", b"not a picture")])
    page.get_by_test_id("dream-run").click()
    expect(page.get_by_test_id("error")).to_contain_text("image")
    session.screenshot("error")
    assert session.unexpected_errors(400) == []


def test_busy_server_says_when_to_retry(session):
    page = session.page
    busy = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "the queue is full"}}
    page.route("**/v1/decode", lambda route: route.fulfill(status=429, headers={"retry-after": "3"}, json=busy))
    page.get_by_role("button", name="Sample", exact=True).click()
    expect(page.get_by_test_id("error")).to_contain_text("busy")
    expect(page.get_by_test_id("error")).to_contain_text("3 s")
    assert session.unexpected_errors(429) == []


def test_phone_width_has_no_sideways_scrolling(browser, server):
    phone = Session(browser, f"http://127.0.0.1:{server.http_port}/", viewport=PHONE)
    try:
        expect(phone.page.get_by_test_id("models-list")).to_contain_text("tiny-lm")
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot("phone")
        assert phone.unexpected_errors() == []
    finally:
        phone.close()


def test_with_auth_tokens_the_page_asks_for_one(browser, tmp_path):
    root = tiny_repository(tmp_path)
    secured = start(root, auth_tokens="s3cret")
    try:
        session = Session(browser, f"http://127.0.0.1:{secured.http_port}/")
        token = session.page.get_by_test_id("auth-token")
        expect(token).to_be_visible()
        expect(session.page.get_by_test_id("error")).to_contain_text("access token")
        session.page.get_by_test_id("sample-run").click()  # refused too: still one message, by the token field
        expect(session.page.get_by_test_id("sample-run")).to_be_enabled()
        expect(session.page.get_by_test_id("error")).to_have_count(1)
        token.fill("s3cret")
        token.press("Enter")
        expect(session.page.get_by_test_id("models-list")).to_contain_text("tiny-vae")
        expect(session.page.get_by_test_id("error")).to_have_count(0)
        session.page.get_by_label("Max characters").fill("20")
        session.page.get_by_test_id("sample-run").click()
        expect(session.page.locator("#sample-stats")).to_contain_text("20 characters")
        session.screenshot("auth")
        assert session.unexpected_errors(401) == []
        assert session.page.evaluate("localStorage.length + sessionStorage.length + document.cookie.length") == 0
        session.close()
    finally:
        stop(secured)


def file(name: str, data: bytes) -> dict:
    mime = "image/png" if name.endswith(".png") else "text/plain"
    return {"name": name, "mimeType": mime, "buffer": data}


def requests_total_of(server: OneirosServer, rpc: str, code: str) -> float:
    return requests_total(SimpleNamespace(server=server), rpc=rpc, transport="http", code=code)
