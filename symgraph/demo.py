"""The demo: ``python -m symgraph.demo``.

Builds a small logistic-regression model on synthetic data, shows its graph as written
and after rewriting, trains it with gradient descent, and prints what it learned.
"""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T


def main(steps: int = 300, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    n_samples, n_features = 2000, 5
    true_w = 2 * rng.normal(size=n_features)
    true_b = -0.5
    data = rng.normal(size=(n_samples, n_features))
    labels = (rng.random(n_samples) < 1 / (1 + np.exp(-(data @ true_w + true_b)))).astype("float64")

    x = T.dmatrix("x")
    y = T.dvector("y")
    w = sg.shared(np.zeros(n_features), name="w")
    b = sg.shared(0.0, name="b")

    # written the way a textbook writes it; the rewriter makes it stable
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.001 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])

    print("== the model as written ==")
    print("p_1 =", sg.pp(p_1))
    print()
    print(sg.debugprint(cost, file="str"))

    # the default mode compiles generated C (or, without gcc, warns once and uses NumPy)
    train = sg.function([x, y], [cost, xent.mean()], updates=[(w, w - 0.5 * gw), (b, b - 0.5 * gb)],
                        name="train")
    predict = sg.function([x], p_1 > 0.5, name="predict")

    print()
    print("== the training step after rewriting ==")
    print(sg.debugprint(train, file="str"))
    print()
    print("rewrites applied:", dict(train.rewrites_applied))
    print(train.explain().splitlines()[-1])
    print()

    for step in range(steps + 1):
        c, loss = train(data, labels)
        if step % 100 == 0:
            print(f"step {step:4d}  cost {float(c):.4f}  cross-entropy {float(loss):.4f}")

    accuracy = float(np.mean(predict(data) == (labels > 0.5)))
    bayes = float(np.mean(((data @ true_w + true_b) > 0) == (labels > 0.5)))
    print()
    print("== what it learned ==")
    print("true weights:   ", np.array2string(true_w, precision=2))
    print("learned weights:", np.array2string(w.get_value(), precision=2))
    print(f"true bias {true_b:.2f}, learned bias {float(b.get_value()):.2f}")
    print(f"training accuracy {accuracy:.3f} (the true model scores {bayes:.3f})")
    return {"accuracy": accuracy, "bayes_accuracy": bayes, "final_cost": float(c)}


if __name__ == "__main__":
    main()
