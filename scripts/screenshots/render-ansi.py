#!/usr/bin/python3
"""Render a `tmux capture-pane -e -p` dump (text + ANSI SGR escapes) to a PNG.

Usage: render-ansi.py INPUT.ansi OUTPUT.png --width 120 --height 34 [--scale 2]
INPUT may be `-` for stdin.

The picture is a fixed cell grid in DejaVu Sans Mono on a dark theme. Box
drawing (U+2500-U+257F) and block elements (U+2580-U+259F) are drawn as
rectangles so that they meet the cell edges exactly; every other glyph comes
from DejaVu Sans Mono, or from DejaVu Sans (centred in its cell) when the
monospace face lacks it. Needs Pillow (Debian: python3-pil) and
fonts-dejavu-core; fontTools (python3-fonttools) is used for the glyph check
when present.
"""

import argparse
import math
import os
import re
import subprocess
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

# ---------------------------------------------------------------- theme

DEFAULT_BG = (0x1E, 0x1E, 0x1E)
DEFAULT_FG = (0xD4, 0xD4, 0xD4)

PALETTES = {
    # xterm's own defaults
    "xterm": [
        (0x00, 0x00, 0x00), (0xCD, 0x00, 0x00), (0x00, 0xCD, 0x00), (0xCD, 0xCD, 0x00),
        (0x00, 0x00, 0xEE), (0xCD, 0x00, 0xCD), (0x00, 0xCD, 0xCD), (0xE5, 0xE5, 0xE5),
        (0x7F, 0x7F, 0x7F), (0xFF, 0x00, 0x00), (0x00, 0xFF, 0x00), (0xFF, 0xFF, 0x00),
        (0x5C, 0x5C, 0xFF), (0xFF, 0x00, 0xFF), (0x00, 0xFF, 0xFF), (0xFF, 0xFF, 0xFF),
    ],
    # VS Code's integrated terminal (dark+)
    "vscode": [
        (0x00, 0x00, 0x00), (0xCD, 0x31, 0x31), (0x0D, 0xBC, 0x79), (0xE5, 0xE5, 0x10),
        (0x24, 0x72, 0xC8), (0xBC, 0x3F, 0xBC), (0x11, 0xA8, 0xCD), (0xE5, 0xE5, 0xE5),
        (0x66, 0x66, 0x66), (0xF1, 0x4C, 0x4C), (0x23, 0xD1, 0x8B), (0xF5, 0xF5, 0x43),
        (0x3B, 0x8E, 0xEA), (0xD6, 0x70, 0xD6), (0x29, 0xB8, 0xDB), (0xE5, 0xE5, 0xE5),
    ],
}


def palette256(base16):
    pal = list(base16)
    levels = [0, 95, 135, 175, 215, 255]
    for r in range(6):
        for g in range(6):
            for b in range(6):
                pal.append((levels[r], levels[g], levels[b]))
    for i in range(24):
        v = 8 + 10 * i
        pal.append((v, v, v))
    return pal


def blend(a, b, t):
    """a*(1-t) + b*t"""
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b))


# ---------------------------------------------------------------- parsing

SGR_RE = re.compile(r"\x1b\[([0-9;:?]*)([A-Za-z])")
OTHER_ESC_RE = re.compile(r"\x1b(\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])")


class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse",
                 "hidden", "strike")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None = default, int = palette index, tuple = rgb
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = False
        self.reverse = self.hidden = self.strike = False

    def copy(self):
        s = Style.__new__(Style)
        for k in Style.__slots__:
            setattr(s, k, getattr(self, k))
        return s

    def key(self):
        return tuple(getattr(self, k) for k in Style.__slots__)


def _colour_from(seq):
    """seq = [5, n] or [2, r, g, b]; return a palette index or an rgb tuple."""
    if len(seq) >= 2 and seq[0] == 5:
        return seq[1] & 0xFF
    if len(seq) >= 4 and seq[0] == 2:
        return tuple(v & 0xFF for v in seq[1:4])
    return None


def apply_sgr(style, raw):
    """Apply one SGR parameter string (the part between ESC[ and m)."""
    groups = []
    for part in raw.split(";"):
        groups.append([int(x) if x.isdigit() else 0 for x in part.split(":")])
    i = 0
    while i < len(groups):
        g = groups[i]
        p = g[0]
        if len(g) > 1:
            # colon form: 38:5:n, 38:2:r:g:b, 38:2:cs:r:g:b, 4:n
            if p in (38, 48, 58):
                rest = g[1:]
                if rest[0] == 2 and len(rest) == 5:
                    rest = [2] + rest[2:]
                c = _colour_from(rest)
                if c is not None and p == 38:
                    style.fg = c
                elif c is not None and p == 48:
                    style.bg = c
            elif p == 4:
                style.underline = g[1] != 0
            i += 1
            continue
        if p in (38, 48, 58):
            # semicolon form: 38;5;n or 38;2;r;g;b
            mode = groups[i + 1][0] if i + 1 < len(groups) else None
            n = 2 if mode == 5 else 4 if mode == 2 else 0
            seq = [x[0] for x in groups[i + 1:i + 1 + n]]
            c = _colour_from(seq) if n and len(seq) == n else None
            if c is not None and p == 38:
                style.fg = c
            elif c is not None and p == 48:
                style.bg = c
            i += 1 + n
            continue
        if p == 0:
            style.reset()
        elif p == 1:
            style.bold = True
        elif p == 2:
            style.dim = True
        elif p == 3:
            style.italic = True
        elif p in (4, 21):
            style.underline = True
        elif p == 7:
            style.reverse = True
        elif p == 8:
            style.hidden = True
        elif p == 9:
            style.strike = True
        elif p == 22:
            style.bold = style.dim = False
        elif p == 23:
            style.italic = False
        elif p == 24:
            style.underline = False
        elif p == 27:
            style.reverse = False
        elif p == 28:
            style.hidden = False
        elif p == 29:
            style.strike = False
        elif 30 <= p <= 37:
            style.fg = p - 30
        elif p == 39:
            style.fg = None
        elif 40 <= p <= 47:
            style.bg = p - 40
        elif p == 49:
            style.bg = None
        elif 90 <= p <= 97:
            style.fg = p - 90 + 8
        elif 100 <= p <= 107:
            style.bg = p - 100 + 8
        i += 1


def char_width(ch):
    if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufe0f\ufe0e":
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


def parse(text, width, height):
    """Return rows of cells; a cell is (text, Style) or None (the right half of
    a wide character). The SGR state carries over line ends, as tmux emits it
    that way; cells that tmux left out (trailing blanks) are default cells."""
    blank = Style()
    rows = []
    style = Style()
    lines = text.split("\n")
    for line in lines[:height]:
        line = OTHER_ESC_RE.sub("", line)
        row = []
        # split into text runs and escape sequences: odd items are (params, final)
        parts = SGR_RE.split(line)
        for k in range(0, len(parts), 3):
            for ch in parts[k]:
                if ch == "\t":
                    n = 8 - len(row) % 8
                    for _ in range(n):
                        if len(row) < width:
                            row.append((" ", style.copy()))
                    continue
                if ch < " " or "\x7f" <= ch < "\xa0":
                    continue  # other C0/C1 controls
                w = char_width(ch)
                if w == 0:
                    # combining mark: attach to the previous cell
                    for j in range(len(row) - 1, -1, -1):
                        if row[j] is not None:
                            row[j] = (row[j][0] + ch, row[j][1])
                            break
                    continue
                if len(row) + w > width:
                    continue
                row.append((ch, style.copy()))
                if w == 2:
                    row.append(None)
            if k + 2 < len(parts) and parts[k + 2] == "m":
                apply_sgr(style, parts[k + 1])
        while len(row) < width:
            row.append((" ", blank))
        rows.append(row)
    while len(rows) < height:
        rows.append([(" ", blank)] * width)
    return rows


# ---------------------------------------------------------------- fonts

FONT_DIRS = [
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
    os.path.expanduser("~/.local/share/fonts"),
]


def find_font(filename, family=None):
    for d in FONT_DIRS:
        p = os.path.join(d, filename)
        if os.path.exists(p):
            return p
    if family:
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", family],
                                 capture_output=True, text=True, timeout=10).stdout
            if out and os.path.exists(out) and os.path.basename(out) == filename:
                return out
        except (OSError, subprocess.SubprocessError):
            pass
    return None


class Face:
    """One font file at one size, with a 'has this glyph' test."""

    def __init__(self, path, size):
        self.path = path
        self.font = ImageFont.truetype(path, size)
        self.cmap = None
        try:
            from fontTools.ttLib import TTFont  # optional
            self.cmap = set(TTFont(path, lazy=True).getBestCmap().keys())
        except Exception:
            self.cmap = None
        self._notdef = None
        self._cache = {}

    def has(self, ch):
        if ch in self._cache:
            return self._cache[ch]
        if self.cmap is not None:
            ok = all(ord(c) in self.cmap for c in ch)
        else:
            # compare with the .notdef box that a private-use code point gets
            if self._notdef is None:
                self._notdef = self._sig("\U0010fffd")
            ok = ch.isspace() or self._sig(ch[0]) != self._notdef
        self._cache[ch] = ok
        return ok

    def _sig(self, ch):
        m = self.font.getmask(ch)
        return (m.size, bytes(m))


class Fonts:
    def __init__(self, size):
        def need(fn, fam):
            p = find_font(fn, fam)
            if not p:
                sys.exit(f"render-ansi: font {fn} not found (apt-get install fonts-dejavu-core)")
            return p

        def opt(fn, fam, fallback):
            return find_font(fn, fam) or fallback

        mono = need("DejaVuSansMono.ttf", "DejaVu Sans Mono")
        mono_b = opt("DejaVuSansMono-Bold.ttf", "DejaVu Sans Mono:bold", mono)
        mono_i = opt("DejaVuSansMono-Oblique.ttf", "DejaVu Sans Mono:oblique", mono)
        mono_bi = opt("DejaVuSansMono-BoldOblique.ttf", "DejaVu Sans Mono:bold:oblique", mono_b)
        sans = opt("DejaVuSans.ttf", "DejaVu Sans", mono)
        sans_b = opt("DejaVuSans-Bold.ttf", "DejaVu Sans:bold", sans)
        faces = {}

        def face(p):
            if p not in faces:
                faces[p] = Face(p, size)
            return faces[p]

        # (bold, italic) -> [primary, fallbacks...]
        self.chain = {
            (False, False): [face(mono), face(sans)],
            (True, False): [face(mono_b), face(sans_b), face(mono)],
            (False, True): [face(mono_i), face(mono), face(sans)],
            (True, True): [face(mono_bi), face(mono_b), face(sans_b)],
        }
        self.primary = face(mono)
        f = self.primary.font
        self.ascent, self.descent = f.getmetrics()
        self.cell_w = max(1, round(f.getlength("M")))
        self.cell_h = self.ascent + self.descent
        self.missing = set()

    def pick(self, ch, bold, italic):
        chain = self.chain[(bold, italic)]
        for i, fc in enumerate(chain):
            if fc.has(ch):
                return fc, i > 0 and fc.path != chain[0].path and "Mono" not in fc.path
        self.missing.add(ch)
        return chain[0], False


# ---------------------------------------------------------------- drawn glyphs

# box drawing: (left, right, up, down) arm weights, 1 light, 2 heavy, 3 double
BOX = {}


def _box(chars, arms):
    for c in chars:
        BOX[c] = arms


_box("─", (1, 1, 0, 0)); _box("━", (2, 2, 0, 0))
_box("│", (0, 0, 1, 1)); _box("┃", (0, 0, 2, 2))
_box("┌╭", (0, 1, 0, 1)); _box("┐╮", (1, 0, 0, 1))
_box("└╰", (0, 1, 1, 0)); _box("┘╯", (1, 0, 1, 0))
_box("├", (0, 1, 1, 1)); _box("┤", (1, 0, 1, 1))
_box("┬", (1, 1, 0, 1)); _box("┴", (1, 1, 1, 0))
_box("┼", (1, 1, 1, 1))
_box("┏", (0, 2, 0, 2)); _box("┓", (2, 0, 0, 2)); _box("┗", (0, 2, 2, 0)); _box("┛", (2, 0, 2, 0))
_box("┣", (0, 2, 2, 2)); _box("┫", (2, 0, 2, 2)); _box("┳", (2, 2, 0, 2)); _box("┻", (2, 2, 2, 0))
_box("╋", (2, 2, 2, 2))
_box("╴", (1, 0, 0, 0)); _box("╵", (0, 0, 1, 0)); _box("╶", (0, 1, 0, 0)); _box("╷", (0, 0, 0, 1))
_box("╸", (2, 0, 0, 0)); _box("╹", (0, 0, 2, 0)); _box("╺", (0, 2, 0, 0)); _box("╻", (0, 0, 0, 2))
_box("═", (3, 3, 0, 0)); _box("║", (0, 0, 3, 3))
_box("╔", (0, 3, 0, 3)); _box("╗", (3, 0, 0, 3)); _box("╚", (0, 3, 3, 0)); _box("╝", (3, 0, 3, 0))
_box("╠", (0, 3, 3, 3)); _box("╣", (3, 0, 3, 3)); _box("╦", (3, 3, 0, 3)); _box("╩", (3, 3, 3, 0))
_box("╬", (3, 3, 3, 3))

ROUNDED = set("╭╮╰╯")


def draw_box(img, d, ch, x, y, w, h, colour, lw):
    left, right, up, down = BOX[ch]
    cx = x + (w - lw) // 2  # left edge of the vertical stroke
    cy = y + (h - lw) // 2  # top edge of the horizontal stroke

    if ch in ROUNDED:
        draw_rounded(img, ch, x, y, w, h, colour, lw)
        return
    if 3 in (left, right, up, down):
        draw_double(d, (left, right, up, down), x, y, w, h, cx, cy, colour, lw)
        return

    def hbar(x0, x1, weight):
        t = lw * weight
        yy = y + (h - t) // 2
        d.rectangle([x0, yy, x1 - 1, yy + t - 1], fill=colour)

    def vbar(y0, y1, weight):
        t = lw * weight
        xx = x + (w - t) // 2
        d.rectangle([xx, y0, xx + t - 1, y1 - 1], fill=colour)

    # an arm runs from the cell edge to the far side of the perpendicular
    # stroke (so joints are solid), or to just past the centre for a stub
    vw = lw * max(up, down)
    hw = lw * max(left, right)
    vx0 = x + (w - vw) // 2
    hy0 = y + (h - hw) // 2
    if left:
        hbar(x, vx0 + vw if (up or down) else x + w // 2 + 1, left)
    if right:
        hbar(vx0 if (up or down) else x + w // 2, x + w, right)
    if up:
        vbar(y, hy0 + hw if (left or right) else y + h // 2 + 1, up)
    if down:
        vbar(hy0 if (left or right) else y + h // 2, y + h, down)


def draw_double(d, arms, x, y, w, h, cx, cy, colour, lw):
    """Double lines: each arm is two strokes, gap g either side of the centre;
    at a joint the strokes stop where they meet the perpendicular ones."""
    left, right, up, down = (a != 0 for a in arms)
    g = max(lw + 1, round(min(w, h) / 5))
    ht, hb = cy - g, cy + g      # top/bottom horizontal strokes (top edge y)
    vl, vr = cx - g, cx + g      # left/right vertical strokes (left edge x)

    def hseg(yy, x0, x1):
        if x1 > x0:
            d.rectangle([x0, yy, x1 - 1, yy + lw - 1], fill=colour)

    def vseg(xx, y0, y1):
        if y1 > y0:
            d.rectangle([xx, y0, xx + lw - 1, y1 - 1], fill=colour)

    def reach(toward_first, toward_second, inner, outer, through):
        # where a stroke ends: at the inner stroke of a perpendicular arm on
        # its own side, the outer one if only the other side has an arm
        if toward_first:
            return inner
        if toward_second:
            return outer
        return through

    if left:
        hseg(ht, x, reach(up, down, vl + lw, vr + lw, x + w if right else cx + lw))
        hseg(hb, x, reach(down, up, vl + lw, vr + lw, x + w if right else cx + lw))
    if right:
        hseg(ht, reach(up, down, vr, vl, x if left else cx), x + w)
        hseg(hb, reach(down, up, vr, vl, x if left else cx), x + w)
    if up:
        vseg(vl, y, reach(left, right, ht + lw, hb + lw, y + h if down else cy + lw))
        vseg(vr, y, reach(right, left, ht + lw, hb + lw, y + h if down else cy + lw))
    if down:
        vseg(vl, reach(left, right, hb, ht, y if up else cy), y + h)
        vseg(vr, reach(right, left, hb, ht, y if up else cy), y + h)


def draw_rounded(img, ch, x, y, w, h, colour, lw):
    """Arc corners, drawn 4x larger and scaled down for antialiasing."""
    ss = 4
    mask = Image.new("L", (w * ss, h * ss), 0)
    md = ImageDraw.Draw(mask)
    t = lw * ss
    # centre line of the strokes, in supersampled pixels
    sx = ((w - lw) // 2) * ss + t / 2
    sy = ((h - lw) // 2) * ss + t / 2
    r = min(w, h) * ss * 0.45
    hd = 1 if ch in "╭╰" else -1   # horizontal arm: right (+1) or left (-1)
    vd = 1 if ch in "╭╮" else -1   # vertical arm: down (+1) or up (-1)
    ccx, ccy = sx + hd * r, sy + vd * r
    start = {"╭": 180, "╮": 270, "╯": 0, "╰": 90}[ch]
    pts = []
    for k in range(0, 33):
        a = math.radians(start + 90 * k / 32)
        pts.append((ccx + r * math.cos(a), ccy + r * math.sin(a)))
    md.line(pts, fill=255, width=t, joint="curve")
    # the straight arms, pixel-aligned, from the arc to the cell edges
    x0 = ((w - lw) // 2) * ss
    y0 = ((h - lw) // 2) * ss
    if hd > 0:
        md.rectangle([int(ccx), y0, w * ss - 1, y0 + t - 1], fill=255)
    else:
        md.rectangle([0, y0, int(ccx + 0.5), y0 + t - 1], fill=255)
    if vd > 0:
        md.rectangle([x0, int(ccy), x0 + t - 1, h * ss - 1], fill=255)
    else:
        md.rectangle([x0, 0, x0 + t - 1, int(ccy + 0.5)], fill=255)
    mask = mask.resize((w, h), Image.BOX)
    img.paste(Image.new("RGB", (w, h), colour), (x, y), mask)


# block elements: fractions of the cell (x0, y0, x1, y1)
BLOCKS = {
    "█": (0, 0, 8, 8),
    "▀": (0, 0, 8, 4), "▔": (0, 0, 8, 1),
    "▁": (0, 7, 8, 8), "▂": (0, 6, 8, 8), "▃": (0, 5, 8, 8), "▄": (0, 4, 8, 8),
    "▅": (0, 3, 8, 8), "▆": (0, 2, 8, 8), "▇": (0, 1, 8, 8),
    "▏": (0, 0, 1, 8), "▎": (0, 0, 2, 8), "▍": (0, 0, 3, 8), "▌": (0, 0, 4, 8),
    "▋": (0, 0, 5, 8), "▊": (0, 0, 6, 8), "▉": (0, 0, 7, 8),
    "▐": (4, 0, 8, 8), "▕": (7, 0, 8, 8),
}
QUADRANTS = {
    "▖": "..x.", "▗": "...x", "▘": "x...", "▝": ".x..",
    "▙": "x.xx", "▚": "x..x", "▛": "xxx.", "▜": "xx.x", "▞": ".xx.", "▟": ".xxx",
}
SHADES = {"░": 0.25, "▒": 0.5, "▓": 0.75}


def draw_block(d, ch, x, y, w, h, fg, bg):
    if ch in BLOCKS:
        a, b, c, e = BLOCKS[ch]
        x0 = x + round(w * a / 8)
        x1 = x + round(w * c / 8)
        y0 = y + round(h * b / 8)
        y1 = y + round(h * e / 8)
        if x1 > x0 and y1 > y0:
            d.rectangle([x0, y0, x1 - 1, y1 - 1], fill=fg)
    elif ch in QUADRANTS:
        hw, hh = w // 2, h // 2
        quads = [(x, y, x + hw, y + hh), (x + hw, y, x + w, y + hh),
                 (x, y + hh, x + hw, y + h), (x + hw, y + hh, x + w, y + h)]
        for on, (x0, y0, x1, y1) in zip(QUADRANTS[ch], quads):
            if on == "x":
                d.rectangle([x0, y0, x1 - 1, y1 - 1], fill=fg)
    elif ch in SHADES:
        d.rectangle([x, y, x + w - 1, y + h - 1], fill=blend(bg, fg, SHADES[ch]))


# ---------------------------------------------------------------- render

def resolve(c, pal, default):
    if c is None:
        return default
    if isinstance(c, tuple):
        return c
    return pal[c]


def render(rows, width, height, scale=1, font_size=15, padding=12, palette="xterm",
           bold_bright=False):
    pal = palette256(PALETTES[palette])
    size = max(4, round(font_size * scale))
    fonts = Fonts(size)
    cw, ch_ = fonts.cell_w, fonts.cell_h
    pad = round(padding * scale)
    lw = max(1, round(size / 14))
    img = Image.new("RGB", (width * cw + 2 * pad, height * ch_ + 2 * pad), DEFAULT_BG)
    d = ImageDraw.Draw(img)

    for r, row in enumerate(rows):
        y = pad + r * ch_
        for c, cell in enumerate(row):
            if cell is None:
                continue
            text, st = cell
            span = 2 if (c + 1 < width and row[c + 1] is None) else 1
            x = pad + c * cw
            w = cw * span
            fgc = st.fg
            if bold_bright and st.bold and isinstance(fgc, int) and fgc < 8:
                fgc += 8
            fg = resolve(fgc, pal, DEFAULT_FG)
            bg = resolve(st.bg, pal, DEFAULT_BG)
            if st.reverse:
                fg, bg = bg, fg
            if st.dim:
                fg = blend(fg, bg, 0.5)
            if bg != DEFAULT_BG:
                d.rectangle([x, y, x + w - 1, y + ch_ - 1], fill=bg)
            if st.hidden or text == " ":
                pass
            elif text in BOX:
                draw_box(img, d, text, x, y, w, ch_, fg, lw)
            elif text in BLOCKS or text in QUADRANTS or text in SHADES:
                draw_block(d, text, x, y, w, ch_, fg, bg)
            else:
                face, centre = fonts.pick(text, st.bold, st.italic)
                gx = x
                if centre or span == 2:
                    adv = face.font.getlength(text)
                    gx = x + (w - adv) / 2
                d.text((gx, y + fonts.ascent), text, font=face.font, fill=fg, anchor="ls")
            if st.underline:
                uy = y + fonts.ascent + max(1, round(fonts.descent / 3))
                d.rectangle([x, uy, x + w - 1, uy + lw - 1], fill=fg)
            if st.strike:
                sy = y + fonts.ascent - round(fonts.ascent * 0.3)
                d.rectangle([x, sy, x + w - 1, sy + lw - 1], fill=fg)
    return img, fonts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="capture-pane -e -p output, or - for stdin")
    ap.add_argument("output", help="PNG to write")
    ap.add_argument("--width", type=int, required=True, help="columns")
    ap.add_argument("--height", type=int, required=True, help="rows")
    ap.add_argument("--scale", type=float, default=1, help="pixel scale (default 1)")
    ap.add_argument("--font-size", type=float, default=15, help="font size in px at scale 1")
    ap.add_argument("--padding", type=int, default=12, help="margin around the grid in px at scale 1")
    ap.add_argument("--palette", choices=sorted(PALETTES), default="xterm")
    ap.add_argument("--bold-bright", action="store_true", help="bold turns colours 0-7 bright")
    a = ap.parse_args(argv)

    if a.input == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(a.input, "rb") as f:
            data = f.read()
    text = data.decode("utf-8", errors="replace")
    rows = parse(text, a.width, a.height)
    img, fonts = render(rows, a.width, a.height, scale=a.scale, font_size=a.font_size,
                        padding=a.padding, palette=a.palette, bold_bright=a.bold_bright)
    img.save(a.output, optimize=True)
    if fonts.missing:
        print("render-ansi: no font has " + " ".join(f"U+{ord(c[0]):04X}" for c in sorted(fonts.missing)),
              file=sys.stderr)


if __name__ == "__main__":
    main()
