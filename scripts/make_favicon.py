"""Draw assets/favicon.png, the browser-tab icon: a pixelated white 7 (a 7×6 MNIST-like glyph) on the
app's blue, in a rounded square.

The app ships its own icon so that no page asks another host for one: a Material-symbol page icon
(":material/psychology:") makes the browser fetch the glyph from Google's font host on every rerun,
which fails offline. Run `python scripts/make_favicon.py` to redraw it (PIL only).
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "assets" / "favicon.png"
SIZE = 64
BLUE = (0, 114, 178, 255)        # ui/views/palette.py BLUE (Okabe–Ito)
GLYPH = ["0111110",
         "0000110",
         "0001100",
         "0001100",
         "0011000",
         "0011000"]


def draw(size: int = SIZE) -> Image.Image:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=BLUE)
    cell = size // 9
    x0, y0 = (size - len(GLYPH[0]) * cell) // 2, (size - len(GLYPH) * cell) // 2
    for r, row in enumerate(GLYPH):
        for c, on in enumerate(row):
            if on == "1":
                d.rectangle((x0 + c * cell, y0 + r * cell, x0 + (c + 1) * cell - 1, y0 + (r + 1) * cell - 1),
                            fill=(255, 255, 255, 255))
    return img


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw().save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
