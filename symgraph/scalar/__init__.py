"""The scalar op library: scalar functions with their dtype rules and properties."""

from symgraph.scalar.arithmetic import *  # noqa: F403
from symgraph.scalar.comparison import *  # noqa: F403
from symgraph.scalar.composite import Composite  # noqa: F401
from symgraph.scalar.op import ScalarOp  # noqa: F401
from symgraph.scalar.special import *  # noqa: F403
from symgraph.scalar.transcendental import *  # noqa: F403
