"""The README's pictures of the playground (docs/img/playground-*.png), taken in Debian's Chromium
against a running server with the default models (`make serve`):

    .venv/bin/python docs/playground_screenshots.py --url http://localhost:8080/

Each section is run as a person would (the bundled photos and digits, a few clicks), then
photographed at a laptop's width; the top of the page is also taken at a phone's width.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARGS += ["--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
JOB_TIMEOUT_MS = 15 * 60 * 1000  # Dream and Stylize on a busy 2-core machine


def text(page: Page) -> None:
    page.get_by_test_id("sample-temperature").fill("0.8")
    page.get_by_label("Max characters").fill("400")
    page.get_by_label("Seed").first.fill("1")
    page.get_by_test_id("sample-run").click()
    expect(page.locator("#sample-stats")).to_contain_text("entropy", timeout=60_000)


def temperatures(page: Page) -> None:
    page.get_by_label("Seed").first.fill("0")
    page.get_by_role("button", name="Compare temperatures").click()
    expect(page.locator("#sample-stats")).to_contain_text("entropy rises", timeout=60_000)


def dream(page: Page) -> None:
    page.locator("#dream").get_by_role("button", name="Use Chelsea the cat").click()
    page.get_by_test_id("dream-run").click()
    expect(page.get_by_test_id("dream-result")).to_be_visible(timeout=JOB_TIMEOUT_MS)


def stylize(page: Page, steps: str) -> None:
    section = page.locator("#stylize")
    section.get_by_role("button", name="Use A cup of coffee").click()
    section.get_by_role("button", name="Use Van Gogh, The Starry Night").click()
    page.locator("#stylize-steps").fill(steps)
    page.get_by_test_id("stylize-run").click()
    expect(page.get_by_test_id("stylize-result")).to_be_visible(timeout=JOB_TIMEOUT_MS)


def latent(page: Page) -> None:
    plane = page.get_by_test_id("decode-plane")
    expect(page.locator("#plane-grid")).to_have_attribute("src", re.compile("^blob:"))
    box = plane.bounding_box()
    plane.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
    expect(page.get_by_test_id("decode-result")).to_be_visible()
    page.get_by_role("button", name="Sample", exact=True).click()
    expect(page.locator("#prior-result")).to_be_visible()
    page.get_by_test_id("edit-attribute").select_option("thickness")
    page.get_by_test_id("edit-strength").fill("2")
    expect(page.locator("#edit-summary")).to_contain_text("thickness +2")
    page.get_by_role("button", name="Sweep this attribute").click()
    expect(page.locator("#edit-sweep-result")).to_be_visible()
    page.get_by_role("button", name="Interpolate").click()
    expect(page.locator("#interpolate-result")).to_be_visible()


SECTIONS = {"text": temperatures, "dream": dream, "latent": latent}  # picture name -> what to do first
SECTION_IDS = {"text": "sample"}  # where the picture's section id differs from its name


def shrink(path: Path) -> None:
    """256 colours (dithered): a third of the bytes, and the README stays light."""
    picture = Image.open(path).convert("RGB")
    picture.quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8080/")
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--stylize-steps", default="30", help="L-BFGS steps of the Stylize picture")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=ARGS)
        page = browser.new_page(viewport=LAPTOP)
        page.goto(args.url)
        expect(page.get_by_test_id("models-list")).to_contain_text("charlm-kjv")
        page.evaluate("document.querySelector('header').style.position = 'static'")  # not over the sections
        for name, run in SECTIONS.items():
            run(page)
            page.locator(f"#{SECTION_IDS.get(name, name)}").screenshot(path=args.out / f"playground-{name}.png")
        stylize(page, args.stylize_steps)
        page.locator("#stylize").screenshot(path=args.out / "playground-stylize.png")
        phone = browser.new_page(viewport=PHONE)
        phone.goto(args.url)
        expect(phone.get_by_test_id("models-list")).to_contain_text("charlm-kjv")
        text(phone)
        phone.screenshot(path=args.out / "playground-phone.png")
        browser.close()
    for name in [*SECTIONS, "stylize", "phone"]:
        shrink(args.out / f"playground-{name}.png")
    print(f"wrote {args.out}/playground-{{text,dream,stylize,latent,phone}}.png")


if __name__ == "__main__":
    main()
