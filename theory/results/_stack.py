"""The plain Random Markov stack that Props 4-8 are stated for (shared ``applies`` reason)."""
from __future__ import annotations

__all__ = ["plain_markov"]


def plain_markov(model, *, remove_gap: int, otherwise: str) -> str | None:
    """Why ``model`` is not the plain stack ``X_l = A_l X_(l-1) W_l`` of Random
    Markov attention with ``remove_gap`` (0: the gap kept, 1: A - 11^T/n), or
    ``None`` when it is; ``otherwise`` says what applies to the other choice.

    >>> from gapcheck.theory.model import AttentionModel
    >>> plain_markov(AttentionModel(n=8), remove_gap=1, otherwise="with the gap Prop 4 applies")
    'the statement needs the gap removed, A^perp = A - 11^T/n (remove_gap = 1, got 0); with the gap Prop 4 applies'
    """
    if model.attention != "markov":
        return f"the statement is about Random Markov attention (got {model.attention!r})"
    if model.remove_gap != remove_gap:
        need = ("the statement needs the gap removed, A^perp = A - 11^T/n" if remove_gap
                else "the statement needs the gap")
        return f"{need} (remove_gap = {remove_gap}, got {model.remove_gap}); {otherwise}"
    if model.layernorm or model.skip is not None:
        return "the statement is about the plain stack X_l = A_l X_(l-1) W_l (no LayerNorm, no skip)"
    return None
