"""The one exception a plan raises to ask for Django's stock method instead."""

from __future__ import annotations


class Unsupported(Exception):
    """This operation cannot run natively; ``kind`` says why (it is reported)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind
