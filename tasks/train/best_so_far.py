"""The best-checkpoint rule: which evaluated epoch's generator becomes generator.keras."""

from dataclasses import dataclass


@dataclass
class BestSoFar:
    """The best-checkpoint rule, the one place it is decided: the lowest score wins, strictly.

    score = SWD / SWD_ref + colour / colour_ref, where the references are the first evaluation's figures
    (floored at REF_FLOOR, so a lucky first figure near 0 cannot make one term dominate). SWD normalises
    colours away, so an epoch whose colours collapsed can have the lowest SWD; its colour figure then
    grows and it loses to a colourful epoch of similar SWD. A record from before the colour figure (only
    epoch and SWD) keeps its epoch: the references become its SWD and the first colour figure offered,
    and its own colour counts as that reference (score 2).
    """

    epoch: int | None = None
    swd: float | None = None
    colour: float | None = None
    score: float | None = None
    swd_ref: float | None = None
    colour_ref: float | None = None

    REF_FLOOR = 1e-3

    def score_of(self, swd: float, colour: float) -> float:
        swd_ref, colour_ref = max(self.swd_ref, self.REF_FLOOR), max(self.colour_ref, self.REF_FLOOR)
        return swd / swd_ref + colour / colour_ref

    def offer(self, epoch: int, swd: float, colour: float) -> bool:
        """Take this evaluation if it scores better than the best so far; True when it does."""
        if self.swd_ref is None:
            self.swd_ref = self.swd if self.swd is not None else swd
        if self.colour_ref is None:
            self.colour_ref = colour
        if self.epoch is not None and self.score is None:  # a record from before the colour figure
            self.score = self.score_of(self.swd, self.colour_ref)
        score = self.score_of(swd, colour)
        if self.score is None or score < self.score:
            self.epoch, self.swd, self.colour, self.score = epoch, swd, colour, score
            return True
        return False

    def record(self) -> dict[str, float | int | None]:
        """What checkpoints/best/best.json keeps, so a resumed run goes on with the same rule and references."""
        return {k: getattr(self, k) for k in ("epoch", "swd", "colour", "score", "swd_ref", "colour_ref")}
