/* symgraph's runtime library: the C that every compiled function shares, built once.
 *
 * pip builds this file into the extension module symgraph._sgrt (pyproject.toml); generated
 * code that starts with `#define SG_RT_LINKED 1` declares these functions instead of
 * compiling them again and is linked against this library (symgraph/backends/c/runtime.py).
 * It holds the larger functions of symgraph_runtime.h (allocation, the workspace, shape
 * formatting, strided copies, the reduction planner) and the sum kernels of the dtypes
 * training graphs use, with their threaded drivers. Python reads the SG_DEFINE_SUM lines
 * below to know which sums are here: a line is all it takes to prebuild one more.
 *
 * The Python module around it is a token: nothing in it is called from Python.
 */
#include <Python.h>

#define SG_RT_BUILD 1
#include "symgraph_runtime.h"

/* name, input type, type each value is converted to (the accumulator dtype), C type summed
 * in; as backends/c/emit/reduce.py names and types them */
SG_DEFINE_SUM(sg_sum_float32_float32, float, float, double)
SG_DEFINE_SUM(sg_sum_float64_float64, double, double, double)
SG_DEFINE_SUM(sg_sum_float32_float64, float, double, double)
SG_DEFINE_SUM(sg_sum_int64_int64, int64_t, int64_t, uint64_t)
SG_DEFINE_SUM(sg_sum_int32_int64, int32_t, int64_t, uint64_t)
SG_DEFINE_SUM(sg_sum_bool_int64, uint8_t, int64_t, uint64_t)
SG_DEFINE_SUM(sg_sum_uint8_uint64, uint8_t, uint64_t, uint64_t)

static struct PyModuleDef sg_rt_module = {
    PyModuleDef_HEAD_INIT, "_sgrt",
    "symgraph's C runtime library, linked by generated code (symgraph/backends/c/runtime.py)",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__sgrt(void) { return PyModule_Create(&sg_rt_module); }
