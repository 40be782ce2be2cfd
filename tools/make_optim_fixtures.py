#!/usr/bin/env python3
"""Reference parameter values for tests/test_optim.cpp, computed with torch.optim in float64.

Two parameters, a = [1.0, -2.0, 0.5] and b = [0.3, -0.7], get the same fixed gradients
ga = [0.1, -0.3, 2.0], gb = [-1.5, 0.25] before each of 3 optimizer steps. The script prints the
parameter values after step 3 (and Adam's state) with 17 significant digits, ready to paste
into the test as C++ initializers.

Run: /usr/bin/python3 tools/make_optim_fixtures.py
"""
import torch

torch.set_default_dtype(torch.float64)

A0 = [1.0, -2.0, 0.5]
B0 = [0.3, -0.7]
GA = [0.1, -0.3, 2.0]
GB = [-1.5, 0.25]
STEPS = 3


def run(make_opt):
    a = torch.tensor(A0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    opt = make_opt([a, b])
    for _ in range(STEPS):
        opt.zero_grad()
        a.grad = torch.tensor(GA)
        b.grad = torch.tensor(GB)
        opt.step()
    return a, b, opt


def fmt(t):
    return "{" + ", ".join("%.17g" % v for v in t.detach().tolist()) + "}"


CASES = [
    ("sgd_plain lr=0.1", lambda ps: torch.optim.SGD(ps, lr=0.1)),
    ("sgd_momentum lr=0.1 momentum=0.9 dampening=0", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0)),
    ("sgd_nesterov lr=0.1 momentum=0.9", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)),
    ("sgd_weight_decay lr=0.1 weight_decay=0.05", lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.05)),
    ("adam lr=0.1", lambda ps: torch.optim.Adam(ps, lr=0.1)),
    ("adam_l2 lr=0.1 weight_decay=0.5", lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=0.5)),
    ("adamw lr=0.1 weight_decay=0.5", lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.5)),
]

if __name__ == "__main__":
    print("# torch", torch.__version__)
    for name, make in CASES:
        a, b, opt = run(make)
        print(name)
        print("  a =", fmt(a))
        print("  b =", fmt(b))
        if name.startswith("adam"):
            for p, label in ((a, "a"), (b, "b")):
                st = opt.state[p]
                print("  exp_avg[%s] =" % label, fmt(st["exp_avg"]))
                print("  exp_avg_sq[%s] =" % label, fmt(st["exp_avg_sq"]))
