"""The whole text of a long answer, compactly, addressed in UTF-16 code units (what Qt counts
positions in).

Kept as UTF-16 it costs 2 bytes a character (and a growing bytearray's slack on top); most
answers are mostly ASCII. Here the text is cut into blocks of about `BLOCK` code units, each
kept as UTF-8: ~1 byte a character for English however many dashes, quotes and emoji it
holds. A block never splits a surrogate pair. Reading a range decodes only the blocks it
touches: an all-ASCII block is sliced directly, any other goes through UTF-16 (a page of
the view, a few hundred KB, in a millisecond or two). Full blocks are 256 KiB or more, so
each is its own mmap (see `core.heap`) and is returned whole when the text is cleared.
A million mock tokens (about 5.5 M characters): ~5.6 MB, not ~11.8 MB as UTF-16.
"""

from __future__ import annotations

__all__ = ["BLOCK", "TextStore"]

BLOCK = 1 << 18  # code units a full block holds (one more if it would split a pair)


def _is_low_surrogate(units: bytes, i: int) -> bool:
    return 0xDC <= units[2 * i + 1] <= 0xDF


class TextStore:
    def __init__(self, block: int = BLOCK) -> None:
        self._block = block
        self.clear()

    def clear(self) -> None:
        self._full: list[tuple[int, int, bytes, bool]] = []  # start, units, UTF-8, ascii
        self._open = bytearray()  # the block being filled, UTF-8
        self._open_units = 0
        self._open_ascii = True
        self._len = 0  # code units in all
        self._wide_cache: tuple[int, int, bytes] | None = None  # start, units, UTF-16-LE

    def __len__(self) -> int:
        """The length in UTF-16 code units."""
        return self._len

    @property
    def nbytes(self) -> int:
        return sum(len(b[2]) for b in self._full) + len(self._open)

    def append(self, text: str) -> None:
        while text:
            room = self._block - self._open_units
            if text.isascii():
                head, text = text[:room], text[room:]
                self._open += head.encode("ascii")
                units = len(head)
            else:
                all_units = text.encode("utf-16-le", "surrogatepass")
                if len(all_units) // 2 <= room:
                    head, text, units = text, "", len(all_units) // 2
                else:
                    cut = room + (1 if _is_low_surrogate(all_units, room) else 0)
                    head = all_units[: 2 * cut].decode("utf-16-le", "surrogatepass")
                    text = all_units[2 * cut :].decode("utf-16-le", "surrogatepass")
                    units = cut
                self._open += head.encode("utf-8", "surrogatepass")
                self._open_ascii = False
            self._open_units += units
            self._len += units
            if self._open_units >= self._block:
                start = self._len - self._open_units
                self._full.append((start, self._open_units, bytes(self._open), self._open_ascii))
                self._open, self._open_units, self._open_ascii = bytearray(), 0, True

    def _pieces(self, start: int, end: int) -> list[tuple[bytes, bool]]:
        """Units [start, end), block by block: (ASCII bytes, False) or (UTF-16-LE, True)."""
        start, end = max(0, start), min(end, self._len)
        if end <= start:
            return []
        blocks = [
            *self._full,
            (self._len - self._open_units, self._open_units, self._open, self._open_ascii),
        ]
        # full blocks hold `_block` units, or one more: find the first by its start
        i = min(start // self._block, len(blocks) - 1)
        while i and blocks[i][0] > start:
            i -= 1
        while blocks[i][0] + blocks[i][1] <= start:
            i += 1
        pieces: list[tuple[bytes, bool]] = []
        while i < len(blocks) and blocks[i][0] < end:
            first, units, data, ascii = blocks[i]
            lo, hi = max(start - first, 0), min(end - first, units)
            if ascii:
                pieces.append((bytes(data[lo:hi]), False))
            else:
                pieces.append((self._wide(first, units, data)[2 * lo : 2 * hi], True))
            i += 1
        return pieces

    def _wide(self, first: int, units: int, data: bytes | bytearray) -> bytes:
        """A non-ASCII block as UTF-16-LE, the last one kept: a page shown with heat
        colouring reads thousands of short runs from the same block, and decoding it whole
        for each took ~1 ms (seconds for a page)."""
        if self._wide_cache is None or self._wide_cache[:2] != (first, units):
            wide = bytes(data).decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass")
            self._wide_cache = (first, units, wide)
        return self._wide_cache[2]

    def utf16(self, start: int, end: int) -> bytes:
        """Code units [start, end) as UTF-16-LE bytes."""
        parts = [
            data if wide else data.decode("ascii").encode("utf-16-le")
            for data, wide in self._pieces(start, end)
        ]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def text(self, start: int, end: int, errors: str = "replace") -> str:
        """Code units [start, end) as a str; a surrogate pair cut by the range (or a lone
        surrogate) decodes per `errors`, as the UTF-16 of the whole text would."""
        parts: list[str] = []
        wide_run: list[bytes] = []  # a cut pair can only sit between two UTF-16 pieces
        for data, wide in self._pieces(start, end):
            if wide:
                wide_run.append(data)
                continue
            if wide_run:
                parts.append(b"".join(wide_run).decode("utf-16-le", errors))
                wide_run = []
            parts.append(data.decode("ascii"))
        if wide_run:
            parts.append(b"".join(wide_run).decode("utf-16-le", errors))
        return parts[0] if len(parts) == 1 else "".join(parts)
