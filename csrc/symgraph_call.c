/* symgraph's call path: NumPy arrays in, one generated segment called, NumPy arrays out.
 *
 * This is the only C in symgraph that includes Python.h. Generated code stays plain C
 * loaded by cffi; this small CPython extension (built once per Python/NumPy version into
 * the compile cache) replaces the per-call Python marshalling, which otherwise costs
 * ~10 us per call: for each input it reads the data pointer, shape and strides straight
 * from the ndarray, calls the segment's entry point and wraps each malloc'd output in an
 * ndarray that frees it (no copy).
 *
 * Caller(fn, n_in, in_typenums, out_typenums, ws, n_slots)(arrays) returns
 *   - a list of output arrays on success (an output computed in place over an input's
 *     buffer is that input object),
 *   - a tuple (node_index, message) when the segment reports an error,
 *   - NotImplemented when an input cannot be passed as is (not an ndarray, wrong dtype
 *     or ndim, misaligned, strides not a multiple of the item size): the Python side then
 *     converts it and uses its slow path, so nothing unsafe ever reaches the C code.
 *
 * Workspace: the segment's slots are shared by calls; a call that finds them busy (another
 * thread is inside) runs with a private, temporary workspace instead.
 *
 * Output slots and recycling: each output the segment allocates comes from a workspace
 * slot of its own (out_slots[k]; -1: none), emptied after every successful call since the
 * buffer is then the returned array's. The Caller keeps the last SG_RECYCLE_KEEP results
 * of at least SG_RECYCLE_BYTES per output; when one of them is referenced by nothing else
 * (the user has dropped it, and no view of it lives), its buffer goes back into the output
 * slot before the next call, so a big result is written into pages that are already
 * mapped instead of fresh ones the kernel must fault in and zero (a 128 MB softmax paid
 * ~30% of its time for that). Two per output, so `y = f(x)` in a loop recycles too; all
 * Callers together keep at most SG_RECYCLE_TOTAL bytes (kept_bytes() says how many).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "symgraph_runtime.h"

typedef int (*sg_entry_fn)(sg_array *, sg_array *, sg_error *, sg_ws_slot *);
typedef void (*sg_release_fn)(sg_ws_slot *, int64_t);

#define SG_STACK_ARRAYS 8
/* release the GIL around calls that touch at least this many elements */
#define SG_NOGIL_ELEMENTS 16384

typedef struct {
    PyObject_HEAD
    sg_entry_fn fn;
    sg_release_fn release;
    Py_ssize_t n_in, n_out;
    int *in_typenums;
    int *in_ndims;
    int *out_typenums;
    sg_ws_slot *ws;
    int64_t n_slots;
    int busy;
    /* for call_args (set by set_args): the static length of each input axis (-1: any),
     * and whether to return the single output itself rather than a list */
    int64_t *static_shapes;
    int single;
    int *out_slots;        /* per output: its workspace slot, or -1 */
    PyObject **keep;       /* per output, SG_RECYCLE_KEEP recent big results (or NULL) */
} Caller;

#define SG_RECYCLE_BYTES ((npy_intp)4 << 20)
#define SG_RECYCLE_KEEP 2
/* all Callers together keep results of at most this many bytes (a process with many
 * compiled functions returning big arrays must not hold two dead results for each) */
#define SG_RECYCLE_TOTAL ((npy_intp)512 << 20)
static npy_intp sg_kept_bytes = 0;  /* changed only with the GIL held */

/* Stop keeping a result. */
static void let_go(PyObject *a) {
    sg_kept_bytes -= PyArray_NBYTES((PyArrayObject *)a);
    Py_DECREF(a);
}

static void caller_dealloc(Caller *self) {
    if (self->ws && self->release) {
        self->release(self->ws, self->n_slots);
    }
    PyMem_Free(self->ws);
    PyMem_Free(self->in_typenums);
    PyMem_Free(self->in_ndims);
    PyMem_Free(self->out_typenums);
    PyMem_Free(self->static_shapes);
    if (self->keep) {
        for (Py_ssize_t k = 0; k < self->n_out * SG_RECYCLE_KEEP; ++k) {
            if (self->keep[k]) let_go(self->keep[k]);
        }
    }
    PyMem_Free(self->keep);
    PyMem_Free(self->out_slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int read_ints(PyObject *seq, Py_ssize_t n, int **out) {
    *out = PyMem_Malloc(sizeof(int) * (n ? n : 1));
    if (!*out) { PyErr_NoMemory(); return -1; }
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject *item = PySequence_GetItem(seq, k);
        if (!item) return -1;
        (*out)[k] = (int)PyLong_AsLong(item);
        Py_DECREF(item);
        if (PyErr_Occurred()) return -1;
    }
    return 0;
}

static int caller_init(Caller *self, PyObject *args, PyObject *kwds) {
    unsigned long long fn, release;
    PyObject *in_types, *in_ndims, *out_types, *out_slots = NULL;
    long long n_slots;
    if (!PyArg_ParseTuple(args, "KKOOOL|O", &fn, &release, &in_types, &in_ndims, &out_types, &n_slots, &out_slots))
        return -1;
    self->fn = (sg_entry_fn)(uintptr_t)fn;
    self->release = (sg_release_fn)(uintptr_t)release;
    self->n_in = PySequence_Size(in_types);
    self->n_out = PySequence_Size(out_types);
    if (self->n_in < 0 || self->n_out < 0) return -1;
    if (read_ints(in_types, self->n_in, &self->in_typenums) < 0) return -1;
    if (read_ints(in_ndims, self->n_in, &self->in_ndims) < 0) return -1;
    if (read_ints(out_types, self->n_out, &self->out_typenums) < 0) return -1;
    if (out_slots && out_slots != Py_None) {
        if (PySequence_Size(out_slots) != self->n_out) {
            PyErr_SetString(PyExc_ValueError, "one output slot (or -1) per output");
            return -1;
        }
        if (read_ints(out_slots, self->n_out, &self->out_slots) < 0) return -1;
        for (Py_ssize_t k = 0; k < self->n_out; ++k) {
            if (self->out_slots[k] >= n_slots) {
                PyErr_SetString(PyExc_ValueError, "an output slot is outside the workspace");
                return -1;
            }
        }
        self->keep = PyMem_Calloc((size_t)(self->n_out ? self->n_out : 1) * SG_RECYCLE_KEEP, sizeof(PyObject *));
        if (!self->keep) { PyErr_NoMemory(); return -1; }
    }
    self->n_slots = n_slots;
    self->ws = PyMem_Calloc(n_slots ? (size_t)n_slots : 1, sizeof(sg_ws_slot));
    if (!self->ws) { PyErr_NoMemory(); return -1; }
    return 0;
}

static void free_capsule(PyObject *capsule) {
    free(PyCapsule_GetPointer(capsule, NULL));
}

/* Before a call on the shared workspace: each empty output slot gets the buffer of a kept
 * result that nothing but this Caller references any more (its capsule then no longer
 * frees it: the workspace owns it). Kept results that are dead but cannot be recycled are
 * dropped. */
static void lend_buffers(Caller *self) {
    if (!self->keep) return;
    for (Py_ssize_t k = 0; k < self->n_out; ++k) {
        const int s = self->out_slots[k];
        PyObject **keep = &self->keep[k * SG_RECYCLE_KEEP];
        for (int r = 0; r < SG_RECYCLE_KEEP; ++r) {
            PyObject *a = keep[r];
            if (!a || Py_REFCNT(a) != 1) continue;
            PyObject *base = PyArray_BASE((PyArrayObject *)a);
            if (s >= 0 && !self->ws[s].ptr && base && PyCapsule_CheckExact(base) && Py_REFCNT(base) == 1
                && PyCapsule_GetDestructor(base) == free_capsule) {
                void *p = PyCapsule_GetPointer(base, NULL);
                if (p && PyCapsule_SetDestructor(base, NULL) == 0) {
                    self->ws[s].ptr = p;
                    self->ws[s].cap = (size_t)PyArray_NBYTES((PyArrayObject *)a);
                } else {
                    PyErr_Clear();
                }
            }
            keep[r] = NULL;
            let_go(a);
        }
    }
}

/* After a successful call: an output's buffer is the returned array's, not the slot's. */
static void take_outputs(Caller *self, sg_ws_slot *ws, const sg_array *out) {
    if (!self->out_slots) return;
    for (Py_ssize_t k = 0; k < self->n_out; ++k) {
        const int s = self->out_slots[k];
        if (s >= 0 && ws[s].ptr == out[k].data) { ws[s].ptr = NULL; ws[s].cap = 0; }
    }
}

/* Keep a big result of output k for recycling (the oldest kept one is let go, and so
 * is the result itself when all Callers keep SG_RECYCLE_TOTAL bytes already). */
static void keep_result(Caller *self, Py_ssize_t k, PyObject *arr) {
    if (!self->keep || self->out_slots[k] < 0 || !PyArray_CheckExact(arr)
        || PyArray_NBYTES((PyArrayObject *)arr) < SG_RECYCLE_BYTES)
        return;
    PyObject **keep = &self->keep[k * SG_RECYCLE_KEEP];
    int used = 0;  /* oldest first, no gaps */
    for (int r = 0; r < SG_RECYCLE_KEEP; ++r) {
        if (keep[r]) keep[used++] = keep[r];
    }
    for (int r = used; r < SG_RECYCLE_KEEP; ++r) keep[r] = NULL;
    const npy_intp bytes = PyArray_NBYTES((PyArrayObject *)arr);
    if (used == SG_RECYCLE_KEEP || (used > 0 && sg_kept_bytes + bytes > SG_RECYCLE_TOTAL)) {
        let_go(keep[0]);
        for (int r = 0; r + 1 < SG_RECYCLE_KEEP; ++r) keep[r] = keep[r + 1];
        keep[SG_RECYCLE_KEEP - 1] = NULL;
        used -= 1;
    }
    if (sg_kept_bytes + bytes > SG_RECYCLE_TOTAL) return;
    keep[used] = Py_NewRef(arr);
    sg_kept_bytes += bytes;
}

/* Wrap a malloc'd C-contiguous result as an ndarray that owns (frees) it. */
static PyObject *wrap_output(sg_array *a, int typenum) {
    npy_intp dims[SG_MAXDIM];
    for (int64_t d = 0; d < a->ndim; ++d) dims[d] = (npy_intp)a->shape[d];
    PyObject *arr = PyArray_New(&PyArray_Type, (int)a->ndim, dims, typenum, NULL, a->data, 0,
                                NPY_ARRAY_CARRAY, NULL);
    if (!arr) { free(a->data); return NULL; }
    PyObject *capsule = PyCapsule_New(a->data, NULL, free_capsule);
    if (!capsule) { free(a->data); Py_DECREF(arr); return NULL; }
    if (PyArray_SetBaseObject((PyArrayObject *)arr, capsule) < 0) { Py_DECREF(arr); return NULL; }
    return arr;
}

/* An output computed over an input's own buffer (an in-place update of a shared variable,
 * see backends/c/inplace.py) is that input: the input object itself, else NULL. */
static PyObject *input_itself(Caller *self, PyObject *const *items, const sg_array *in, const sg_array *o) {
    for (Py_ssize_t j = 0; j < self->n_in; ++j)
        if (in[j].data == o->data && in[j].ndim == o->ndim && PyArray_CheckExact(items[j]))
            return Py_NewRef(items[j]);
    return NULL;
}

/* Run the segment on items[0..n_in). user_args: the items are a user's call arguments, so
 * a Python float (int) is also accepted for a float64 (int64) 0-d input, static axis
 * lengths are checked, and anything else, and any error the segment reports, gives
 * NotImplemented (the caller's Python path then converts, checks and explains). */
static PyObject *run_items(Caller *self, PyObject *const *items, int user_args) {
    double scalars_f[SG_STACK_ARRAYS];
    int64_t scalars_i[SG_STACK_ARRAYS];
    sg_array in_stack[SG_STACK_ARRAYS], out_stack[SG_STACK_ARRAYS];
    sg_array *in = self->n_in > SG_STACK_ARRAYS ? PyMem_Malloc(sizeof(sg_array) * self->n_in) : in_stack;
    sg_array *out = self->n_out > SG_STACK_ARRAYS ? PyMem_Malloc(sizeof(sg_array) * self->n_out) : out_stack;
    PyObject *result = NULL;
    if (!in || !out) { PyErr_NoMemory(); goto done; }
    int64_t work = 0;
    for (Py_ssize_t k = 0; k < self->n_in; ++k) {
        PyObject *obj = items[k];
        if (user_args && self->in_ndims[k] == 0 && k < SG_STACK_ARRAYS) {
            if (PyFloat_CheckExact(obj) && self->in_typenums[k] == NPY_DOUBLE) {
                scalars_f[k] = PyFloat_AS_DOUBLE(obj);
                in[k].data = &scalars_f[k];
                in[k].ndim = 0;
                work += 1;
                continue;
            }
            if (PyLong_CheckExact(obj) && self->in_typenums[k] == NPY_INT64) {
                int overflow = 0;
                long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
                if (overflow || (v == -1 && PyErr_Occurred())) { PyErr_Clear(); goto not_implemented; }
                scalars_i[k] = (int64_t)v;
                in[k].data = &scalars_i[k];
                in[k].ndim = 0;
                work += 1;
                continue;
            }
        }
        if (!PyArray_CheckExact(obj)) goto not_implemented;
        PyArrayObject *arr = (PyArrayObject *)obj;
        int nd = PyArray_NDIM(arr);
        npy_intp item = PyArray_ITEMSIZE(arr);
        if (PyArray_TYPE(arr) != self->in_typenums[k] || nd != self->in_ndims[k] || nd > SG_MAXDIM
            || item == 0 || !PyArray_ISALIGNED(arr) || !PyArray_ISNOTSWAPPED(arr))
            goto not_implemented;
        npy_intp *shape = PyArray_DIMS(arr), *strides = PyArray_STRIDES(arr);
        in[k].data = PyArray_DATA(arr);
        in[k].ndim = nd;
        int64_t size = 1;
        for (int d = 0; d < nd; ++d) {
            if (strides[d] % item) goto not_implemented;
            if (user_args && self->static_shapes && self->static_shapes[SG_MAXDIM * k + d] >= 0
                && self->static_shapes[SG_MAXDIM * k + d] != shape[d])
                goto not_implemented;
            in[k].shape[d] = shape[d];
            in[k].strides[d] = strides[d] / item;
            size *= shape[d];
        }
        work += size;
    }
    /* the shared workspace, unless another thread is using it */
    sg_ws_slot *ws = self->ws;
    int own_ws = __atomic_exchange_n(&self->busy, 1, __ATOMIC_ACQUIRE) == 0;
    if (!own_ws) {
        ws = calloc(self->n_slots ? (size_t)self->n_slots : 1, sizeof(sg_ws_slot));
        if (!ws) { PyErr_NoMemory(); goto done; }
    } else {
        lend_buffers(self);
    }
    sg_error err;
    err.node = -1;
    err.message[0] = 0;
    int status;
    if (work >= SG_NOGIL_ELEMENTS) {
        Py_BEGIN_ALLOW_THREADS
        status = self->fn(in, out, &err, ws);
        Py_END_ALLOW_THREADS
    } else {
        status = self->fn(in, out, &err, ws);
    }
    if (!status) take_outputs(self, ws, out);
    if (own_ws) {
        __atomic_store_n(&self->busy, 0, __ATOMIC_RELEASE);
    } else {
        self->release(ws, self->n_slots);
        free(ws);
    }
    if (status) {
        if (user_args) goto not_implemented;  /* the Python path reruns it and explains */
        result = Py_BuildValue("(Ls)", (long long)err.node, err.message);
        goto done;
    }
    if (user_args && self->single) {
        result = wrap_output(&out[0], self->out_typenums[0]);
        for (Py_ssize_t j = 1; j < self->n_out; ++j) free(out[j].data);
        if (result) keep_result(self, 0, result);
        goto done;
    }
    result = PyList_New(self->n_out);
    if (!result) {
        for (Py_ssize_t k = 0; k < self->n_out; ++k) free(out[k].data);
        goto done;
    }
    for (Py_ssize_t k = 0; k < self->n_out; ++k) {
        PyObject *arr = input_itself(self, items, in, &out[k]);
        if (!arr && (arr = wrap_output(&out[k], self->out_typenums[k]))) keep_result(self, k, arr);
        if (!arr) {
            for (Py_ssize_t j = k + 1; j < self->n_out; ++j) free(out[j].data);
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, k, arr);
    }
    goto done;
not_implemented:
    result = Py_NewRef(Py_NotImplemented);
done:
    if (in != in_stack) PyMem_Free(in);
    if (out != out_stack) PyMem_Free(out);
    return result;
}

static PyObject *caller_call(Caller *self, PyObject *args, PyObject *kwds) {
    PyObject *values;
    if (!PyArg_ParseTuple(args, "O", &values)) return NULL;
    PyObject *seq = PySequence_Fast(values, "a segment takes a sequence of arrays");
    if (!seq) return NULL;
    if (PySequence_Fast_GET_SIZE(seq) != self->n_in) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_TypeError, "segment expects %zd arrays, got %zd", self->n_in,
                     PySequence_Fast_GET_SIZE(seq));
        return NULL;
    }
    PyObject *result = run_items(self, PySequence_Fast_ITEMS(seq), 0);
    Py_DECREF(seq);
    return result;
}

/* call_args(args): a user's positional arguments (a tuple) straight to the segment, for a
 * Function whose whole graph is this segment. NotImplemented when anything needs the
 * Python path (a conversion, a check to explain, an error to report). */
static PyObject *caller_call_args(Caller *self, PyObject *args) {
    if (!PyTuple_CheckExact(args) || PyTuple_GET_SIZE(args) != self->n_in || !self->static_shapes)
        Py_RETURN_NOTIMPLEMENTED;
    return run_items(self, &PyTuple_GET_ITEM(args, 0), 1);
}

/* set_args(static_shapes, single): enable call_args. static_shapes[k] is the input's
 * static shape, None for an axis of any length. */
static PyObject *caller_set_args(Caller *self, PyObject *args) {
    PyObject *shapes;
    int single;
    if (!PyArg_ParseTuple(args, "Op", &shapes, &single)) return NULL;
    if (PySequence_Size(shapes) != self->n_in) {
        PyErr_SetString(PyExc_ValueError, "one static shape per input");
        return NULL;
    }
    int64_t *table = PyMem_Malloc(sizeof(int64_t) * SG_MAXDIM * (self->n_in ? self->n_in : 1));
    if (!table) return PyErr_NoMemory();
    for (Py_ssize_t k = 0; k < self->n_in; ++k) {
        PyObject *shape = PySequence_GetItem(shapes, k);
        if (!shape) { PyMem_Free(table); return NULL; }
        Py_ssize_t nd = PySequence_Size(shape);
        if (nd != self->in_ndims[k] || nd > SG_MAXDIM) {
            Py_DECREF(shape);
            PyMem_Free(table);
            PyErr_SetString(PyExc_ValueError, "a static shape does not match its input's ndim");
            return NULL;
        }
        for (Py_ssize_t d = 0; d < nd; ++d) {
            PyObject *n = PySequence_GetItem(shape, d);
            table[SG_MAXDIM * k + d] = (n == Py_None || n == NULL) ? -1 : (int64_t)PyLong_AsLongLong(n);
            Py_XDECREF(n);
        }
        Py_DECREF(shape);
        if (PyErr_Occurred()) { PyMem_Free(table); return NULL; }
    }
    PyMem_Free(self->static_shapes);
    self->static_shapes = table;
    self->single = single && self->n_out >= 1;
    Py_RETURN_NONE;
}

static PyMethodDef caller_methods[] = {
    {"call_args", (PyCFunction)caller_call_args, METH_O,
     "call_args(args): run on a user's positional arguments; NotImplemented: use the Python path"},
    {"set_args", (PyCFunction)caller_set_args, METH_VARARGS,
     "set_args(static_shapes, single): enable call_args"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CallerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_sgcall.Caller",
    .tp_basicsize = sizeof(Caller),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)caller_init,
    .tp_dealloc = (destructor)caller_dealloc,
    .tp_call = (ternaryfunc)caller_call,
    .tp_methods = caller_methods,
    .tp_doc = "Calls one compiled segment on NumPy arrays.",
};

static PyObject *module_kept_bytes(PyObject *mod, PyObject *unused) {
    return PyLong_FromSsize_t((Py_ssize_t)sg_kept_bytes);
}

static PyMethodDef module_methods[] = {
    {"kept_bytes", module_kept_bytes, METH_NOARGS,
     "kept_bytes(): bytes of results all Callers keep for recycling (at most 512 MB)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sgcall", NULL, -1, module_methods};

PyMODINIT_FUNC PyInit__sgcall(void) {
    import_array();
    if (PyType_Ready(&CallerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&CallerType);
    if (PyModule_AddObject(m, "Caller", (PyObject *)&CallerType) < 0) {
        Py_DECREF(&CallerType);
        Py_DECREF(m);
        return NULL;
    }
#ifdef SG_SOURCES_HASH
    /* built at install: which C sources it was built from (csrc/build_backend.py) */
#define SG_STRINGIFY_(x) #x
#define SG_STRINGIFY(x) SG_STRINGIFY_(x)
    if (PyModule_AddStringConstant(m, "SOURCES_HASH", SG_STRINGIFY(SG_SOURCES_HASH)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
