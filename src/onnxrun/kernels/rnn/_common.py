"""Shared machinery of the recurrent kernels (RNN, GRU, LSTM).

The three ops share everything except the cell: attribute parsing (direction, activations with
their alpha/beta, clip, layout), input validation, the input projection ``X @ W^T + bias`` done for
all time steps in one GEMM, per-batch ``sequence_lens`` handling (reverse direction reverses each
sequence's valid prefix), and the assembly of ``Y``/``Y_h``/``Y_c``. A subclass supplies the
gate count, the default activations and the cell step.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

import numpy as np

from ...errors import InvalidArgument
from ..base import OpKernel

# name -> (function(x, alpha, beta), default alpha, default beta); None: not used by the function
_ACTIVATIONS = {
    "relu": (lambda x, a, b: np.maximum(x, x.dtype.type(0)), None, None),
    "tanh": (lambda x, a, b: np.tanh(x), None, None),
    "sigmoid": (lambda x, a, b: _sigmoid(x), None, None),
    "affine": (lambda x, a, b: x * a + b, 1.0, 0.0),
    "leakyrelu": (lambda x, a, b: np.where(x >= 0, x, x * a), 0.01, None),
    "thresholdedrelu": (lambda x, a, b: np.where(x > a, x, x.dtype.type(0)), 1.0, None),
    "scaledtanh": (lambda x, a, b: np.tanh(x * b) * a, 1.0, 1.0),
    "hardsigmoid": (lambda x, a, b: np.clip(x * a + b, 0, 1).astype(x.dtype, copy=False),
                    0.2, 0.5),
    "elu": (lambda x, a, b: np.where(x >= 0, x, np.expm1(x) * a), 1.0, None),
    "softsign": (lambda x, a, b: x / (1 + np.abs(x)), None, None),
    "softplus": (lambda x, a, b: np.logaddexp(x.dtype.type(0), x), None, None),
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function; overflow of exp(-x) gives the right limit 0."""
    out = np.exp(-x)
    out += 1
    return np.reciprocal(out, out=out)


def build_activations(names: Sequence[str], alphas: Sequence[float], betas: Sequence[float]
                      ) -> List[Callable[[np.ndarray], np.ndarray]]:
    """Bind activation names to callables; alpha/beta lists are consumed in order by the
    functions that take them (other functions consume nothing)."""
    ai = bi = 0
    out = []
    for name in names:
        key = str(name).lower()
        if key not in _ACTIVATIONS:
            raise InvalidArgument(f"unsupported activation function '{name}'; expected one of "
                                  "Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, "
                                  "ScaledTanh, HardSigmoid, Elu, Softsign, Softplus")
        fn, da, db = _ACTIVATIONS[key]
        a = b = None
        if da is not None:
            a = float(alphas[ai]) if ai < len(alphas) else da
            ai += 1
        if db is not None:
            b = float(betas[bi]) if bi < len(betas) else db
            bi += 1
        out.append(_bind(fn, a, b))
    return out


def _bind(fn, a, b):
    return lambda x: fn(x, a, b)


def compute_dtype(dt: np.dtype) -> np.dtype:
    """float64 stays float64; every narrower float type computes in float32."""
    return np.dtype(np.float64) if dt == np.float64 else np.dtype(np.float32)


class RecurrentKernel(OpKernel):
    """Base of RNN/GRU/LSTM. Subclasses set ``n_gates``, ``default_acts``, ``has_cell`` and
    implement :meth:`prepare` (per-direction constant parameters) and :meth:`step`."""

    n_gates = 1
    default_acts: Sequence[str] = ("Tanh",)
    has_cell = False  # LSTM: a second state C (input initial_c, output Y_c)

    def __init__(self, info) -> None:
        super().__init__(info)
        direction = info.attr("direction", "forward")
        if direction == "foward":  # the typo in GRU-1's schema default
            direction = "forward"
        if direction not in ("forward", "reverse", "bidirectional"):
            raise InvalidArgument(f"direction must be forward, reverse or bidirectional, "
                                  f"got '{direction}'")
        self.direction = direction
        self.num_dir = 2 if direction == "bidirectional" else 1
        self.hidden_size = info.attr("hidden_size")
        self.layout = int(info.attr("layout", 0))
        if self.layout not in (0, 1):
            raise InvalidArgument(f"layout must be 0 or 1, got {self.layout}")
        clip = info.attr("clip")
        self.clip = None if clip is None else float(clip)
        if self.clip is not None and not self.clip > 0:
            raise InvalidArgument(f"clip must be positive, got {clip}")
        k = len(self.default_acts)
        names = info.attr("activations")
        if names is None:
            names = list(self.default_acts) * self.num_dir
        names = list(names)
        if len(names) == k and self.num_dir == 2:
            names = names * 2
        elif len(names) == 2 * k and self.num_dir == 1 and info.since_version == 1:
            names = names[:k]  # RNN-1's schema default lists two activations for any direction
        if len(names) != k * self.num_dir:
            raise InvalidArgument(f"expected {k * self.num_dir} activations for direction "
                                  f"'{direction}', got {len(names)}")
        acts = build_activations(names, info.attr("activation_alpha") or [],
                                 info.attr("activation_beta") or [])
        self.acts = [acts[d * k:(d + 1) * k] for d in range(self.num_dir)]
        self._const = None
        cin = info.const_inputs
        W = cin[1] if len(cin) > 1 else None
        R = cin[2] if len(cin) > 2 else None
        if W is not None and R is not None:
            B = cin[3] if len(cin) > 3 and info.input_names[3] else None
            P = cin[7] if len(cin) > 7 and info.input_names[7] else None
            b_ok = len(cin) <= 3 or not info.input_names[3] or B is not None
            p_ok = len(cin) <= 7 or not info.input_names[7] or P is not None
            if b_ok and p_ok:
                self._const = self._params(W, R, B, P)

    # ---- subclass hooks -------------------------------------------------------------------
    def prepare(self, W: np.ndarray, R: np.ndarray, B: Optional[np.ndarray],
                P: Optional[np.ndarray], d: int):
        """Constant per-direction parameters: (Wt [I, G*H], xbias [G*H], cell params)."""
        raise NotImplementedError

    def step(self, params, xw: np.ndarray, h: np.ndarray, c: Optional[np.ndarray], acts):
        """One time step for all batches: returns (h_new, c_new)."""
        raise NotImplementedError

    # ---- shared ---------------------------------------------------------------------------
    def _params(self, W, R, B, P):
        G = self.n_gates
        if W.ndim != 3 or R.ndim != 3:
            raise InvalidArgument(f"W and R must be 3-D, got shapes {W.shape} and {R.shape}")
        H = R.shape[2]
        if self.hidden_size is not None and int(self.hidden_size) != H:
            raise InvalidArgument(f"R has hidden size {H} but hidden_size is {self.hidden_size}")
        D = self.num_dir
        if W.shape[0] != D or R.shape[0] != D or W.shape[1] != G * H or R.shape[1] != G * H:
            raise InvalidArgument(f"expected W [{D}, {G * H}, input_size] and R [{D}, {G * H}, "
                                  f"{H}], got {W.shape} and {R.shape}")
        if B is not None and B.shape != (D, 2 * G * H):
            raise InvalidArgument(f"expected B of shape [{D}, {2 * G * H}], got {B.shape}")
        if P is not None and P.shape != (D, 3 * H):
            raise InvalidArgument(f"expected P of shape [{D}, {3 * H}], got {P.shape}")
        cd = compute_dtype(W.dtype)
        Wc, Rc = W.astype(cd), R.astype(cd)
        Bc = None if B is None else B.astype(cd)
        Pc = None if P is None else P.astype(cd)
        return H, [self.prepare(Wc[d], Rc[d], None if Bc is None else Bc[d],
                                None if Pc is None else Pc[d], d) for d in range(D)]

    def __call__(self, X, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None,
                 P=None):
        if X.ndim != 3:
            raise InvalidArgument(f"X must be 3-D, got shape {X.shape}")
        out_dtype = X.dtype
        cd = compute_dtype(X.dtype)
        H, params = self._const if self._const is not None else self._params(W, R, B, P)
        D = self.num_dir
        x = X.astype(cd, copy=False)
        if self.layout == 1:
            x = x.transpose(1, 0, 2)
        S, N, I = x.shape
        if params[0][0].shape[0] != I:
            raise InvalidArgument(f"X has input size {I} but W expects {params[0][0].shape[0]}")
        lens = None
        if sequence_lens is not None:
            lens = np.asarray(sequence_lens).astype(np.int64).reshape(-1)
            if lens.shape[0] != N:
                raise InvalidArgument(f"sequence_lens must have batch_size={N} entries, "
                                      f"got {lens.shape[0]}")
            if np.any(lens < 0) or np.any(lens > S):
                raise InvalidArgument(f"sequence_lens values must be in [0, {S}], got "
                                      f"{lens.tolist()}")
            if np.all(lens == S):
                lens = None
        states = []
        for init, want in ((initial_h, True), (initial_c, self.has_cell)):
            if not want:
                break
            if init is None:
                states.append(np.zeros((D, N, H), dtype=cd))
                continue
            s = init.astype(cd, copy=False)
            if self.layout == 1:
                s = s.transpose(1, 0, 2)
            if s.shape != (D, N, H):
                raise InvalidArgument(f"initial state must have shape {(D, N, H)} "
                                      f"(layout {self.layout}), got {init.shape}")
            states.append(s)
        want_y = self.info.output_wanted(0)
        Y = np.zeros((S, D, N, H), dtype=cd) if want_y else None
        Yh = np.empty((D, N, H), dtype=cd)
        Yc = np.empty((D, N, H), dtype=cd) if self.has_cell else None
        x2 = x.reshape(S * N, I)
        for d in range(D):
            Wt, xbias = params[d][0], params[d][1]
            xw = (x2 @ Wt).reshape(S, N, -1)
            if xbias is not None:
                xw += xbias
            reverse = self.direction == "reverse" or d == 1
            h, c = self._run(params[d], xw, states[0][d],
                             states[1][d] if self.has_cell else None, lens, reverse,
                             None if Y is None else Y[:, d], self.acts[d])
            Yh[d] = h
            if self.has_cell:
                Yc[d] = c
        if lens is not None and np.any(lens == 0):
            # like onnxruntime: an empty sequence reports zero final states, not initial ones
            Yh[:, lens == 0] = 0
            if Yc is not None:
                Yc[:, lens == 0] = 0
        outs = [Y, Yh, Yc] if self.has_cell else [Y, Yh]
        res = []
        for i, o in enumerate(outs):
            if o is None:
                res.append(None)
                continue
            if self.layout == 1:
                o = o.transpose(2, 0, 1, 3) if i == 0 else o.transpose(1, 0, 2)
            res.append(np.ascontiguousarray(o, dtype=out_dtype))
        return tuple(res)

    def _run(self, params, xw, h, c, lens, reverse, Y, acts):
        S, N = xw.shape[0], xw.shape[1]
        if lens is None:
            order = range(S - 1, -1, -1) if reverse else range(S)
            for t in order:
                h, c = self.step(params, xw[t], h, c, acts)
                if Y is not None:
                    Y[t] = h
            return h, c
        # variable lengths: step t of batch b reads time idx[t, b]; reverse walks each valid
        # prefix backwards. Finished batches keep their state and emit zeros.
        cols = np.arange(N)
        tt = np.arange(S)[:, None]
        if reverse:
            idx = np.where(tt < lens[None, :], lens[None, :] - 1 - tt, tt)
        else:
            idx = np.broadcast_to(tt, (S, N))
        steps = int(lens.max()) if N else 0
        for t in range(steps):
            active = (t < lens)[:, None]
            xt = xw[idx[t], cols] if reverse else xw[t]
            h2, c2 = self.step(params, xt, h, c, acts)
            h = np.where(active, h2, h)
            if c is not None:
                c = np.where(active, c2, c)
            if Y is not None:
                Y[idx[t], cols] = np.where(active, h2, 0)
        return h, c

    def clipped(self, x: np.ndarray) -> np.ndarray:
        """Apply the ``clip`` threshold (if any) to an activation input."""
        if self.clip is None:
            return x
        return np.clip(x, -self.clip, self.clip, out=x)
