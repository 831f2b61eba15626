#!/usr/bin/env python3
"""Writes the reference PNG files of tests/test-image.c.

An encoder independent of libpng (struct + zlib only), so that the tests
read files libpng did not write.  The pixel formulas are repeated in
tests/test-image.c; change both together.  Run from this directory.
"""

import struct
import zlib

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def pack_row(samples, depth):
    """Packs one row of samples (ints) at @depth bits, MSB first."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


def write_png(path, width, height, depth, color_type, pixel, interlace=False,
              extra=b""):
    """@pixel(x, y) gives the tuple of samples of one pixel."""
    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, width, dx), range(y0, height, dy)
        if not xs or not ys:
            continue
        for y in ys:
            samples = [s for x in xs for s in pixel(x, y)]
            raw += b"\0" + pack_row(samples, depth)   # filter type None
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0,
                       1 if interlace else 0)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


PALETTE = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30), (200, 100, 50),
           (255, 255, 255)]

# 4-bit palette with transparency for the first three entries (dropped).
write_png("palette-4bit.png", 5, 3, 4, 3, lambda x, y: ((x + 2 * y) % 6,),
          extra=chunk(b"PLTE", bytes(c for rgb in PALETTE for c in rgb))
          + chunk(b"tRNS", bytes([0, 128, 255])))
# 2-bit gray: 0, 85, 170, 255 once widened.
write_png("gray-2bit.png", 6, 2, 2, 0, lambda x, y: ((x + y) % 4,))
# 16-bit gray.
write_png("gray-16bit.png", 4, 3, 16, 0,
          lambda x, y: ((x * 16411 + y * 4933 + 127) & 0xFFFF,))
# 16-bit RGB, Adam7 interlaced.
write_png("rgb-16bit-interlaced.png", 9, 7, 16, 2,
          lambda x, y: ((x * 7919 + y * 10007) & 0xFFFF,
                        (x * 31337 + y * 271) & 0xFFFF,
                        ((x ^ y) * 4099) & 0xFFFF),
          interlace=True)
# 8-bit gray + alpha.
write_png("gray-alpha.png", 4, 3, 8, 4,
          lambda x, y: (x * 60 + y * 5, (x * y * 37) & 255))
# 8-bit RGBA, Adam7 interlaced.
write_png("rgba-interlaced.png", 7, 5, 8, 6,
          lambda x, y: (x * 30 + y, 255 - x * 20 - y * 10, (x * y * 13) & 255,
                        (x + y) * 25))
