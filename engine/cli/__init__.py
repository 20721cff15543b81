"""The ``ossdx`` command line: the top layer, thin (parse arguments, call the layers below,
print). Each command with more than a few lines has its own module here."""

from ossdx.cli.main import main

__all__ = ["main"]
