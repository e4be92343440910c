"""Several output images as one picture, for a client that asked for ``Accept: image/png``."""

from __future__ import annotations

import io
import math

from PIL import Image

from oneiros_server.transport.convert.images import encode_image

PADDING = 2


def columns(count: int, grid_steps: int) -> int:
    """A Decode grid keeps its rows; a short sweep is one row; anything else is near-square."""
    if grid_steps:
        return grid_steps
    return count if count <= 10 else math.ceil(math.sqrt(count))


def contact_sheet(images: list[bytes], cols: int, fmt: str) -> bytes:
    """Tile encoded images row-major (cells of the largest size, 2 px apart) and encode as ``fmt``."""
    pictures = [Image.open(io.BytesIO(data)) for data in images]
    mode = "L" if all(p.mode in ("L", "1") for p in pictures) else "RGB"
    cw, ch = max(p.width for p in pictures), max(p.height for p in pictures)
    cols = max(1, min(cols, len(pictures)))
    rows = math.ceil(len(pictures) / cols)
    sheet = Image.new(mode, (cols * cw + (cols + 1) * PADDING, rows * ch + (rows + 1) * PADDING), 0)
    for i, picture in enumerate(pictures):
        r, c = divmod(i, cols)
        sheet.paste(picture.convert(mode), (PADDING + c * (cw + PADDING), PADDING + r * (ch + PADDING)))
    return encode_image(sheet, fmt)
