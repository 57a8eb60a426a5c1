/* symgraph's runtime library: the C that every compiled function shares, built once.
 *
 * pip builds this file into the extension module symgraph._sgrt (pyproject.toml); generated
 * code that starts with `#define SG_RT_LINKED 1` declares these functions instead of
 * compiling them again and is linked against this library (symgraph/backends/c/runtime.py).
 * It holds the larger functions of symgraph_runtime.h (allocation, the workspace, shape
 * formatting, strided copies, the reduction planner) and the sum kernels of the dtypes
 * training graphs use, with their threaded drivers, the softmax line kernels and the matrix
 * product nodes (symgraph_blas.h; BLAS itself is reached through the caller's table). Python
 * reads the SG_DEFINE_* lines below to know which kernels are here: a line is all it takes
 * to prebuild one more.
 *
 * The Python module around it is a token: nothing in it is called from Python.
 */
#include <Python.h>

#define SG_RT_BUILD 1
#include "symgraph_runtime.h"
#include "symgraph_nnet.h"
#include "symgraph_blas.h" /* the product nodes, which reach BLAS through a table */

/* name, input type, type each value is converted to (the accumulator dtype), C type summed
 * in; as backends/c/emit/reduce.py names and types them */
SG_DEFINE_SUM(sg_sum_float32_float32, float, float, double)
SG_DEFINE_SUM(sg_sum_float64_float64, double, double, double)
SG_DEFINE_SUM(sg_sum_float32_float64, float, double, double)
SG_DEFINE_SUM(sg_sum_int64_int64, int64_t, int64_t, uint64_t)
SG_DEFINE_SUM(sg_sum_int32_int64, int32_t, int64_t, uint64_t)
SG_DEFINE_SUM(sg_sum_bool_int64, uint8_t, int64_t, uint64_t)
SG_DEFINE_SUM(sg_sum_uint8_uint64, uint8_t, uint64_t, uint64_t)

/* softmax and log-softmax lines (backends/c/emit/nnet.py: name, line type, output type,
 * log, exp, exp of arguments <= 0, whether to use it, elements per cache line) */
SG_DEFINE_SOFTMAX_ROW(sg_softmax_row_float32_float32, float, float, 0, sg_vexp_f32, sg_vexp_f32, 0, 16)
SG_DEFINE_SOFTMAX_ROW(sg_softmax_row_float64_float64, double, double, 0, sg_vexp_f64, sg_shifted_exp_f64, 1, 8)
SG_DEFINE_SOFTMAX_ROW(sg_log_softmax_row_float32_float32, float, float, 1, sg_vexp_f32, sg_vexp_f32, 0, 16)
SG_DEFINE_SOFTMAX_ROW(sg_log_softmax_row_float64_float64, double, double, 1, sg_vexp_f64, sg_shifted_exp_f64, 1, 8)

/* crossentropy of a coding distribution and integer labels (backends/c/emit/nnet.py: name,
 * distribution, label and output types, the log of the output type) */
SG_DEFINE_XENT_1HOT(sg_xent_1hot_float32_int32_float32, float, int32_t, float, logf)
SG_DEFINE_XENT_1HOT(sg_xent_1hot_float64_int32_float64, double, int32_t, double, log)
SG_DEFINE_XENT_1HOT(sg_xent_1hot_float32_int64_float32, float, int64_t, float, logf)
SG_DEFINE_XENT_1HOT(sg_xent_1hot_float64_int64_float64, double, int64_t, double, log)

static struct PyModuleDef sg_rt_module = {
    PyModuleDef_HEAD_INIT, "_sgrt",
    "symgraph's C runtime library, linked by generated code (symgraph/backends/c/runtime.py)",
    -1, NULL,
};

#define SG_STRINGIFY_(x) #x
#define SG_STRINGIFY(x) SG_STRINGIFY_(x)

PyMODINIT_FUNC PyInit__sgrt(void) {
    PyObject *m = PyModule_Create(&sg_rt_module);
#ifdef SG_SOURCES_HASH
    /* which C sources this was built from (csrc/build_backend.py) */
    if (m && PyModule_AddStringConstant(m, "SOURCES_HASH", SG_STRINGIFY(SG_SOURCES_HASH)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
