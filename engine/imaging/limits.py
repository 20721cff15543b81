"""The size caps on images and the error raised when an image is not acceptable."""

from __future__ import annotations

from dataclasses import dataclass

from ossdx.core.errors import OssdxError

MIB = 2**20


@dataclass(frozen=True)
class Limits:
    """How large an image may be: one file, all the images of one case, decoded pixels."""

    file_bytes: int = 16 * MIB
    case_bytes: int = 64 * MIB
    pixels: int = 40_000_000  # decoded samples of one file (width x height x frames)
    slices: int = 600

    def describe(self) -> str:
        return (f"{self.file_bytes // MIB} MiB per file, {self.case_bytes // MIB} MiB per "
                f"case, {self.slices} slices per series")


DEFAULT_LIMITS = Limits()


class ImageError(OssdxError):
    """An image cannot be used; the message says why and what to do, never a value of an
    identifying attribute."""


def size_text(n: int) -> str:
    """'12.3 MiB' or '850 KiB'."""
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{max(1, n // 1024)} KiB"
