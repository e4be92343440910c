"""Which layers a working size can reach: every 2x2 pooling halves the side (rounding down).

A layer after ``k`` poolings (a pooling layer counting itself) needs an input side of at
least ``2**k`` pixels; below that the backbone would pool a 1x1 map to nothing. Dream and
Stylize refuse such a layer up front, naming it and the side it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from oneiros_server.errors import FieldError


def min_side(layer_names: Sequence[str], layer: str) -> int:
    """The smallest input side (px) from which ``layer`` still has at least one cell."""
    upto = layer_names[: layer_names.index(layer) + 1]
    return 2 ** sum(1 for name in upto if name.endswith("_pool"))


def check_reach(
    layer_names: Sequence[str], layers: Iterable[tuple[str, str]], size: tuple[int, int], what: str
) -> None:
    """FieldError for the first ``(field, layer)`` that an image of ``size`` (h, w) cannot reach."""
    for field, layer in layers:
        need = min_side(layer_names, layer)
        if min(size) < need:
            raise FieldError(
                field,
                f"layer {layer} needs a working side of at least {need} px, but {what} is worked at "
                f"{size[1]}x{size[0]}; raise max_side, send a larger image or use a shallower layer",
            )
