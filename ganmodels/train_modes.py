"""Which networks one pass of a train step updates; shared by both backends' steps."""

import enum


class Updates(enum.Enum):
    """Which networks one pass updates: D alone, G alone, or both from the same forward pass."""

    D = (True, False)
    G = (False, True)
    BOTH = (True, True)

    @property
    def d(self) -> bool:
        return self.value[0]

    @property
    def g(self) -> bool:
        return self.value[1]
