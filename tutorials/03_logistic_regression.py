"""Tutorial 3: logistic regression trained with gradient descent.

The model lives in shared variables (weights ``w`` and bias ``b``); one compiled
``train`` function computes the cost, its gradients and the new parameter values, and
``updates`` writes them back after every call. We look at the graph as written and as
compiled, and at the rewrites that turned the textbook formulas into stable ones and
fused chains of elementwise operations into single loops.
A second part trains by mini-batches, with the data set held in shared variables and the
batch chosen with ``givens``.

Every function is compiled with ``mode=MODE``, here 'py', the NumPy reference backend, so
the tutorial runs without a C compiler; the default mode, 'c' (generated C, built by gcc),
runs the same rewritten graph and gives the same results.
Run it with ``python tutorials/03_logistic_regression.py``; it asserts what it shows.
"""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.elemwise import Elemwise

MODE = "py"


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def scalar_ops_in(fn: sg.Function) -> set[str]:
    """Names of the elementwise scalar ops in a compiled function's graph, looking inside
    the fused loops (composites) that the fuse phase makes."""
    names = set()
    for node in fn.maker.fgraph.apply_nodes:
        if isinstance(node.op, Elemwise):
            sop = node.op.scalar_op
            names.update(step.name for step, _ in sop.steps) if hasattr(sop, "steps") else names.add(sop.name)
    return names


# ----------------------------------------------------------------------------------------
section("Synthetic data")
rng = np.random.default_rng(0)
n_samples, n_features = 400, 20
true_w = rng.normal(size=n_features)
true_b = 0.5
data_x = rng.normal(size=(n_samples, n_features))
data_y = (data_x @ true_w + true_b > 0).astype("float64")  # linearly separable labels
print(f"{n_samples} samples, {n_features} features, {data_y.mean():.0%} positive")

# ----------------------------------------------------------------------------------------
section("The model, written as in a textbook")
x = T.dmatrix("x")
y = T.dvector("y")
w = sg.shared(rng.normal(size=n_features) * 0.01, name="w")
b = sg.shared(0.0, name="b")

p_1 = 1 / (1 + T.exp(-(T.dot(x, w) + b)))  # probability that the label is 1
p_1.name = "p_1"  # a name makes printed graphs shorter: pp shows it instead of its formula
prediction = p_1 > 0.5
xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # cross-entropy per sample
cost = xent.mean() + 0.01 * (w**2).sum()  # plus a little weight decay
gw, gb = T.grad(cost, [w, b])
print("p_1  =", sg.pp(p_1))
print("xent =", sg.pp(xent))

learning_rate = 0.5
train = sg.compile_function(
    [x, y], [prediction, xent.mean()],
    updates=[(w, w - learning_rate * gw), (b, b - learning_rate * gb)],
    name="train", mode=MODE,
)
predict = sg.compile_function([x], prediction, name="predict", mode=MODE)

# ----------------------------------------------------------------------------------------
section("The prediction graph as written (debugprint of the variable)")
sg.debugprint(prediction)

section("The prediction graph as compiled (debugprint of the function)")
sg.debugprint(predict)
# 1 / (1 + exp(-z)) became sigmoid(z): no exp is left to overflow for large -z. The fuse
# phase then made the elementwise chain one loop: a node printed as
# Elemwise{composite{add,sigmoid,gt}} computes add, sigmoid and gt per element.
assert predict.rewrites_applied["logistic_to_sigmoid"] == 1
assert "sigmoid" in scalar_ops_in(predict) and "exp" not in scalar_ops_in(predict)

section("How it got there: predict.explain()")
print(predict.explain())

section("Rewrites applied to the training function")
for rule, count in train.rewrites_applied.most_common():
    print(f"  {rule:40s} x{count}")
# log(1 - sigmoid(z)) and log(sigmoid(z)) became softplus forms, finite for any z.
assert train.rewrites_applied["log_of_sigmoid_to_softplus"] >= 1
assert train.rewrites_applied["one_minus_sigmoid_to_sigmoid_neg"] >= 1

# ----------------------------------------------------------------------------------------
section("Training (full batch)")
initial_error = float(train(data_x, data_y)[1])
for step in range(1, 301):
    pred, error = train(data_x, data_y)
    if step % 100 == 0:
        print(f"step {step:4d}: mean cross-entropy {float(error):.4f}")
accuracy = float((predict(data_x) == data_y).mean())
print(f"cross-entropy {initial_error:.4f} -> {float(error):.4f}; training accuracy {accuracy:.1%}")
assert float(error) < 0.5 * initial_error
assert accuracy >= 0.95

# The compiled predictor agrees with the same formula in NumPy.
w_val, b_val = w.get_value(), b.get_value()
numpy_prediction = 1 / (1 + np.exp(-(data_x @ w_val + b_val))) > 0.5
assert np.array_equal(predict(data_x), numpy_prediction)
cosine = w_val @ true_w / (np.linalg.norm(w_val) * np.linalg.norm(true_w))
print(f"learned weights point the same way as the true ones: cosine {cosine:.3f}")
assert cosine > 0.9

# ----------------------------------------------------------------------------------------
section("Mini-batches: the data in shared variables, the batch chosen by givens")
shared_x = sg.shared(data_x, name="data_x")
shared_y = sg.shared(data_y, name="data_y")
batch_size = 50
index = T.lscalar("index")
w.set_value(np.zeros(n_features))
b.set_value(0.0)
batch = slice(index * batch_size, (index + 1) * batch_size)
train_batch = sg.compile_function(
    [index], xent.mean(),
    updates=[(w, w - learning_rate * gw), (b, b - learning_rate * gb)],
    givens={x: shared_x[batch], y: shared_y[batch]},  # x and y are no longer inputs
    name="train_batch", mode=MODE,
)
n_batches = n_samples // batch_size
for epoch in range(1, 31):
    losses = [float(train_batch(i)) for i in range(n_batches)]
    if epoch % 10 == 0:
        print(f"epoch {epoch:3d}: mean cross-entropy {np.mean(losses):.4f}")
accuracy = float((predict(data_x) == data_y).mean())
print(f"training accuracy after mini-batch training: {accuracy:.1%}")
assert accuracy >= 0.95

print("\n03_logistic_regression: all checks passed")
