"""OpenCL C source templates: elementwise, reduction, scan, indexing and matmul kernels.

Every builder returns the source of one program whose kernel is named ``k``.
Strided kernels take sizes and element strides as ``long`` arguments, so one
compiled kernel serves every shape of the same rank. Dim ``r - 1`` (the
innermost) maps to ``get_global_id(0)``, dim ``r - 2`` to ``get_global_id(1)``,
and the rest are folded into ``get_global_id(2)``.
"""

from __future__ import annotations

import numpy as np

from ._cl import c_type

__all__ = [
    "helpers", "strided_index", "elementwise_flat", "elementwise_vector", "elementwise_strided",
    "reduction", "scan", "gather", "scatter", "matmul", "nonzero",
]

_SIGNED_HELPERS = """
inline T mg_floor_div(T a, T b) {
    if (b == (T)0) return (T)0;
    if (b == (T)-1) return -a;
    T q = a / b;
    if ((a % b != (T)0) && ((a < (T)0) != (b < (T)0))) q -= (T)1;
    return q;
}
inline T mg_trunc_div(T a, T b) { return b == (T)0 ? (T)0 : (b == (T)-1 ? -a : a / b); }
inline T mg_fmod(T a, T b) { return (b == (T)0 || b == (T)-1) ? (T)0 : a % b; }
inline T mg_remainder(T a, T b) {
    T r = mg_fmod(a, b);
    return (r != (T)0 && ((r < (T)0) != (b < (T)0))) ? r + b : r;
}
"""

_UNSIGNED_HELPERS = """
inline T mg_floor_div(T a, T b) { return b == (T)0 ? (T)0 : a / b; }
inline T mg_trunc_div(T a, T b) { return b == (T)0 ? (T)0 : a / b; }
inline T mg_fmod(T a, T b) { return b == (T)0 ? (T)0 : a % b; }
inline T mg_remainder(T a, T b) { return b == (T)0 ? (T)0 : a % b; }
"""

# Integer power by squaring. NOTE: NumPy raises for negative integer
# exponents; here 1**b and (-1)**b are exact and every other base gives 0.
_INT_POW = """
inline T mg_int_pow(T a, T b) {
    if (b < (T)0) return a == (T)1 ? (T)1 : (a == (T)-1 ? ((b & (T)1) ? (T)-1 : (T)1) : (T)0);
    T result = (T)1;
    while (b != (T)0) {
        if (b & (T)1) result *= a;
        a *= a;
        b >>= 1;
    }
    return result;
}
"""

# Float floor division and remainder with NumPy's sign rules (npy_divmod).
_FLOAT_HELPERS = """
inline T mg_floor_div(T a, T b) {
    if (b == (T)0) return a / b;
    T mod = fmod(a, b);
    T div = (a - mod) / b;
    if (mod != (T)0 && ((b < (T)0) != (mod < (T)0))) div -= (T)1;
    if (div == (T)0) return copysign((T)0, a / b);
    T floordiv = floor(div);
    if (div - floordiv > (T)0.5) floordiv += (T)1;
    return floordiv;
}
inline T mg_remainder(T a, T b) {
    if (b == (T)0) return fmod(a, b);
    T mod = fmod(a, b);
    if (mod == (T)0) return copysign((T)0, b);
    return ((b < (T)0) != (mod < (T)0)) ? mod + b : mod;
}
"""


def helpers(compute: np.dtype, vector: bool = False) -> str:
    """Return the preamble that defines ``T`` and the ``mg_*`` helpers for one compute dtype.

    ``mg_select(a, b, c)`` is ``c ? b : a``: OpenCL's ``select`` on vectors, a
    ternary on scalars, where ``select`` would need a condition as wide as the type.
    """
    lines = ["#define mg_select(a, b, c) select(a, b, c)" if vector else "#define mg_select(a, b, c) ((c) ? (b) : (a))"]
    if compute == np.float64:
        lines.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable")
    lines.append(f"typedef {c_type(compute)} T;")
    if compute.kind == "f":
        lines.append(_FLOAT_HELPERS)
    elif compute.kind == "i":
        lines.append(_SIGNED_HELPERS + _INT_POW)
    else:
        lines.append(_UNSIGNED_HELPERS + _INT_POW)
    return "\n".join(lines)


def fp64_pragma(*dtypes: np.dtype) -> str:
    """Return the fp64 pragma line when any of ``dtypes`` is float64."""
    return "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n" if any(d == np.float64 for d in dtypes) else ""


def strided_index(rank: int, operands: list[str]) -> tuple[list[str], str]:
    """Return kernel parameters and code that compute ``p_<name>`` for each operand.

    Parameters are ``long n<d>`` per dim and ``long st_<name>_<d>`` per operand
    and dim; each operand also needs ``long off_<name>``, declared by the caller.
    Work-items outside the shape return early, so global sizes may be padded.
    """
    params = [f"long n{d}" for d in range(rank)]
    for name in operands:
        params += [f"long st_{name}_{d}" for d in range(rank)]
    code = []
    if rank >= 1:
        code.append(f"long i{rank - 1} = get_global_id(0); if (i{rank - 1} >= n{rank - 1}) return;")
    if rank >= 2:
        code.append(f"long i{rank - 2} = get_global_id(1); if (i{rank - 2} >= n{rank - 2}) return;")
    if rank == 3:
        code.append("long i0 = get_global_id(2); if (i0 >= n0) return;")
    elif rank > 3:
        total = " * ".join(f"n{d}" for d in range(rank - 2))
        code.append(f"long rest = get_global_id(2); if (rest >= {total}) return;")
        for d in range(rank - 3, 0, -1):
            code.append(f"long i{d} = rest % n{d}; rest /= n{d};")
        code.append("long i0 = rest;")
    for name in operands:
        terms = "".join(f" + i{d} * st_{name}_{d}" for d in range(rank))
        code.append(f"long p_{name} = off_{name}{terms};")
    return params, "\n    ".join(code)


def _operand_params(inputs: list[np.dtype | None], compute: np.dtype) -> list[str]:
    params = []
    for k, dtype in enumerate(inputs):
        if dtype is None:
            params.append(f"T s{k}")
        else:
            params += [f"__global const {c_type(dtype)}* in{k}", f"long off_in{k}"]
    return params


def _loads(inputs: list[np.dtype | None], names: list[str], index: str) -> str:
    lines = []
    for k, (dtype, name) in enumerate(zip(inputs, names)):
        source = f"s{k}" if dtype is None else f"(T)in{k}[{index.format(k=k)}]"
        lines.append(f"T {name} = {source};")
    return "\n    ".join(lines)


def _store(out: np.dtype, expression: str) -> str:
    if out == np.bool_:
        return f"(uchar)(({expression}) != 0)"
    return f"({c_type(out)})({expression})"


def elementwise_flat(expression: str, names: list[str], inputs: list[np.dtype | None],
                     compute: np.dtype, out: np.dtype) -> str:
    """Return a kernel over contiguous operands of one shape: one work-item per element."""
    params = [f"__global {c_type(out)}* out", "long off_out"] + _operand_params(inputs, compute) + ["long n"]
    return f"""{helpers(compute)}
{fp64_pragma(out, *[d for d in inputs if d is not None])}
__kernel void k({", ".join(params)}) {{
    long i = get_global_id(0);
    if (i >= n) return;
    {_loads(inputs, names, "off_in{k} + i")}
    out[off_out + i] = {_store(out, expression)};
}}
"""


def elementwise_vector(expression: str, names: list[str], inputs: list[np.dtype | None],
                       compute: np.dtype, width: int) -> str:
    """Return a kernel over contiguous operands that handles ``width`` elements per work-item.

    All array operands and the output have the compute dtype, which is a float.
    The last work-item finishes a partial vector one element at a time.
    """
    scalar = c_type(compute)
    params = [f"__global {scalar}* out", "long off_out"] + _operand_params(inputs, compute) + ["long n"]
    vector_loads, scalar_loads = [], []
    for k, (dtype, name) in enumerate(zip(inputs, names)):
        if dtype is None:
            vector_loads.append(f"V {name} = (V)(s{k});")
            scalar_loads.append(f"S {name} = s{k};")
        else:
            vector_loads.append(f"V {name} = vload{width}(0, in{k} + off_in{k} + i);")
            scalar_loads.append(f"S {name} = in{k}[off_in{k} + i];")
    return f"""{helpers(compute, vector=True)}
#define mg_select_scalar(a, b, c) ((c) ? (b) : (a))
typedef {scalar}{width} V;
typedef {scalar} S;
__kernel void k({", ".join(params)}) {{
    long i = get_global_id(0) * {width};
    if (i >= n) return;
    if (i + {width} <= n) {{
        {" ".join(vector_loads)}
        vstore{width}({expression.replace("(T)", "(V)")}, 0, out + off_out + i);
        return;
    }}
    for (; i < n; ++i) {{
        {" ".join(scalar_loads)}
        out[off_out + i] = {expression.replace("(T)", "(S)").replace("mg_select", "mg_select_scalar")};
    }}
}}
"""


def elementwise_strided(expression: str, names: list[str], inputs: list[np.dtype | None],
                        compute: np.dtype, out: np.dtype, rank: int) -> str:
    """Return a kernel over operands with any strides (0 for broadcast dims) and rank ``rank``."""
    arrays = ["out"] + [f"in{k}" for k, d in enumerate(inputs) if d is not None]
    index_params, index_code = strided_index(rank, arrays)
    params = ([f"__global {c_type(out)}* out", "long off_out"] + _operand_params(inputs, compute)
              + index_params)
    return f"""{helpers(compute)}
{fp64_pragma(out, *[d for d in inputs if d is not None])}
__kernel void k({", ".join(params)}) {{
    {index_code}
    {_loads(inputs, names, "p_in{k}")}
    out[p_out] = {_store(out, expression)};
}}
"""


def arange(compute: np.dtype, out: np.dtype) -> str:
    """Return a kernel that writes ``start + i * step`` computed in ``compute``."""
    return f"""{fp64_pragma(compute, out)}
typedef {c_type(compute)} C;
__kernel void k(__global {c_type(out)}* out, C start, C step, long n) {{
    long i = get_global_id(0);
    if (i < n) out[i] = {_store(out, "start + (C)i * step")};
}}
"""


def reduction(op: str, source: np.dtype, accumulator: np.dtype, out: np.dtype,
              kept_rank: int, reduced_rank: int, chunked: bool, init: str) -> str:
    """Return a kernel that reduces ``reduced_rank`` dims for each output element.

    The kept dims are indexed like an elementwise kernel over ``out`` and ``x``;
    the reduced dims (sizes ``rn<d>``, strides ``rs<d>``) are walked by nested
    loops. When ``chunked``, the last kept dim is a chunk number that selects
    ``chunk`` consecutive steps of reduced dim 0, so one output row is split
    over many work-items and a second pass combines the partial results.
    """
    index_params, index_code = strided_index(kept_rank, ["out", "x"])
    params = [f"__global {c_type(out)}* out", "long off_out", f"__global const {c_type(source)}* x", "long off_x"]
    params += index_params + [f"long rn{d}" for d in range(reduced_rank)] + [f"long rs{d}" for d in range(reduced_rank)]
    if chunked:
        params.append("long chunk")
    loops, closers = [], []
    for d in range(reduced_rank):
        bound = f"rn{d}"
        if d == 0 and chunked:
            bound = f"min(chunk, rn0 - i{kept_rank - 1} * chunk)"
        parent = "p_x" if d == 0 else f"q{d - 1}"
        loops.append(f"for (long j{d} = 0; j{d} < {bound}; ++j{d}) {{ long q{d} = {parent} + j{d} * rs{d};")
        closers.append("}")
    last = f"q{reduced_rank - 1}" if reduced_rank else "p_x"
    step = {
        "sum": "acc += (A)x[{q}];",
        "prod": "acc *= (A)x[{q}];",
        "amax": "{{ A v = x[{q}]; if (v > acc || v != v) acc = v; }}",
        "amin": "{{ A v = x[{q}]; if (v < acc || v != v) acc = v; }}",
        "all": "acc = acc && (x[{q}] != 0);",
        "any": "acc = acc || (x[{q}] != 0);",
        "argmax": "{{ A v = x[{q}]; if (flat == 0 || v > acc || (v != v && acc == acc)) {{ acc = v; best = flat; }} ++flat; }}",
        "argmin": "{{ A v = x[{q}]; if (flat == 0 || v < acc || (v != v && acc == acc)) {{ acc = v; best = flat; }} ++flat; }}",
    }[op].format(q=last)
    result = "best" if op in ("argmax", "argmin") else "acc"
    return f"""{fp64_pragma(source, accumulator, out)}
typedef {c_type(accumulator)} A;
__kernel void k({", ".join(params)}) {{
    {index_code}
    A acc = {init};
    long best = 0, flat = 0;
    {" ".join(loops)}
        {step}
    {" ".join(closers)}
    out[p_out] = {_store(out, result)};
}}
"""


def scan(op: str, source: np.dtype, out: np.dtype, kept_rank: int) -> str:
    """Return a kernel that writes the running sum or product along one dim, one work-item per line."""
    index_params, index_code = strided_index(kept_rank, ["out", "x"])
    params = ([f"__global {c_type(out)}* out", "long off_out", f"__global const {c_type(source)}* x", "long off_x"]
              + index_params + ["long length", "long step_out", "long step_x"])
    combine = "acc += (A)x[p_x + j * step_x];" if op == "cumsum" else "acc *= (A)x[p_x + j * step_x];"
    return f"""{fp64_pragma(source, out)}
typedef {c_type(out)} A;
__kernel void k({", ".join(params)}) {{
    {index_code}
    A acc = (A){0 if op == "cumsum" else 1};
    for (long j = 0; j < length; ++j) {{
        {combine}
        out[p_out + j * step_out] = acc;
    }}
}}
"""


def gather(dtype: np.dtype, index_dtype: np.dtype, rank: int) -> str:
    """Return a kernel that reads ``x[p_x + index * gather_stride]`` for each output element.

    An index outside ``[-gather_size, gather_size)`` sets ``*error`` to 1 and
    skips the element; negative indices count from the end.
    """
    index_params, index_code = strided_index(rank, ["out", "index", "x"])
    t, ti = c_type(dtype), c_type(index_dtype)
    params = [f"__global {t}* out", "long off_out", f"__global const {ti}* index", "long off_index",
              f"__global const {t}* x", "long off_x", "long gather_stride", "long gather_size",
              "__global int* error"] + index_params
    return f"""{fp64_pragma(dtype)}
__kernel void k({", ".join(params)}) {{
    {index_code}
    long j = (long)index[p_index];
    if (j < 0) j += gather_size;
    if (j < 0 || j >= gather_size) {{ *error = 1; return; }}
    out[p_out] = x[p_x + j * gather_stride];
}}
"""


def scatter(dtype: np.dtype, index_dtype: np.dtype, rank: int, accumulate: bool, scalar_source: bool) -> str:
    """Return a kernel that writes along one dim, one work-item per line, so duplicates never race.

    Each work-item walks ``length`` index entries of its line in order, so with
    repeated indices the last write wins (or every value is added when
    ``accumulate``). Out-of-range indices set ``*error`` to 1.
    """
    arrays = ["out", "index"] + ([] if scalar_source else ["src"])
    index_params, index_code = strided_index(rank, arrays)
    t, ti = c_type(dtype), c_type(index_dtype)
    source_params = [f"{t} value"] if scalar_source else [f"__global const {t}* src", "long off_src", "long step_src"]
    params = ([f"__global {t}* out", "long off_out", f"__global const {ti}* index", "long off_index"]
              + source_params + ["long length", "long step_index", "long step_out", "long scatter_size",
                                 "__global int* error"] + index_params)
    value = "value" if scalar_source else "src[p_src + n * step_src]"
    write = "+=" if accumulate else "="
    return f"""{fp64_pragma(dtype)}
__kernel void k({", ".join(params)}) {{
    {index_code}
    for (long n = 0; n < length; ++n) {{
        long j = (long)index[p_index + n * step_index];
        if (j < 0) j += scatter_size;
        if (j < 0 || j >= scatter_size) {{ *error = 1; continue; }}
        out[p_out + j * step_out] {write} {value};
    }}
}}
"""


def matmul(dtype: np.dtype, rows: int, width: int, batch_rank: int) -> str:
    """Return a register-blocked matmul kernel for contiguous row-major operands.

    Each work-item computes a ``rows`` x ``width`` block of C: ``rows``
    accumulators of vector type, each updated with one row of B (a vector load)
    times one element of A per step of k. Work-items on the right edge, where
    fewer than ``width`` columns remain, take a scalar loop; rows past M read
    row M - 1 and skip their stores. ``get_global_id(2)`` is the flattened batch index.
    """
    t = c_type(dtype)
    batch_params = [f"long bn{d}" for d in range(batch_rank)]
    batch_params += [f"long bs_{name}{d}" for name in ("c", "a", "b") for d in range(batch_rank)]
    batch_code = ["long rest = get_global_id(2);"]
    for d in range(batch_rank - 1, -1, -1):
        batch_code.append(f"long bi{d} = rest % bn{d}; rest /= bn{d};")
    for name in ("c", "a", "b"):
        terms = "".join(f" + bi{d} * bs_{name}{d}" for d in range(batch_rank))
        batch_code.append(f"long base_{name} = off_{name}{terms};")
    declare = "\n        ".join(f"V acc{r} = (V)(0);" for r in range(rows))
    row_ptrs = "\n    ".join(
        f"__global const S* a{r} = A + base_a + min(i + {r}, M - 1) * K;" for r in range(rows))
    vector_update = "\n            ".join(f"acc{r} += a{r}[k] * bk;" for r in range(rows))
    vector_store = "\n        ".join(
        f"if (i + {r} < M) vstore{width}(acc{r}, 0, C + base_c + (i + {r}) * N + j);" for r in range(rows))
    scalar_body = "\n            ".join(
        f"if (i + {r} < M) {{ S s = 0; for (long k = 0; k < K; ++k) s += a{r}[k] * B[base_b + k * N + jj]; "
        f"C[base_c + (i + {r}) * N + jj] = s; }}" for r in range(rows))
    params = ["__global S* C", "long off_c", "__global const S* A", "long off_a", "__global const S* B", "long off_b",
              "long M", "long N", "long K"] + batch_params
    return f"""{fp64_pragma(dtype)}
typedef {t} S;
typedef {t}{width} V;
__kernel void k({", ".join(params)}) {{
    long j = get_global_id(0) * {width};
    long i = get_global_id(1) * {rows};
    if (j >= N || i >= M) return;
    {chr(10).join("    " + line for line in batch_code).strip()}
    {row_ptrs}
    if (j + {width} <= N) {{
        {declare}
        __global const S* bcol = B + base_b + j;
        for (long k = 0; k < K; ++k) {{
            V bk = vload{width}(0, bcol + k * N);
            {vector_update}
        }}
        {vector_store}
        return;
    }}
    for (long jj = j; jj < N; ++jj) {{
            {scalar_body}
    }}
}}
"""


def nonzero(rank: int) -> str:
    """Return a kernel that writes the coordinates of each nonzero element of a contiguous mask.

    ``position`` is the inclusive running count of nonzero elements, so the
    element at flat index ``i`` writes row ``position[i] - 1`` of the output
    (``rank`` int64 coordinates per row), in C order as NumPy's argwhere does.
    """
    params = ["__global long* out", "__global const uchar* mask", "__global const long* position", "long n"]
    params += [f"long n{d}" for d in range(rank)]
    unravel = "\n        ".join(
        f"out[row + {d}] = rest % n{d}; rest /= n{d};" for d in range(rank - 1, -1, -1))
    return f"""__kernel void k({", ".join(params)}) {{
    long i = get_global_id(0);
    if (i >= n || !mask[i]) return;
    long row = (position[i] - 1) * {rank};
    long rest = i;
    {unravel}
}}
"""


def argsort_rows(dtype: np.dtype, descending: bool) -> str:
    """Return a kernel where work-item ``r`` writes the stable sorting order of row ``r`` of a contiguous array.

    Each work-item runs an insertion sort over its row's indices, so a row of
    length n costs O(n^2) comparisons: meant for the rows of losses and
    small top-k selections, not for sorting millions of elements. NaN sorts as
    the largest value, as in NumPy and PyTorch.
    """
    t = c_type(dtype)
    if dtype.kind == "f":
        nan_a, nan_b = "isnan((double)a)", "isnan((double)b)"
    else:
        nan_a = nan_b = "0"
    # before(a, b) is true when key a must come before key b in the output order.
    if descending:
        rule = f"({nan_a} && !{nan_b}) || (!{nan_a} && !{nan_b} && a > b)"
    else:
        rule = f"(!{nan_a} && {nan_b}) || (!{nan_a} && !{nan_b} && a < b)"
    return f"""{fp64_pragma(dtype)}
int before({t} a, {t} b) {{ return {rule}; }}

__kernel void k(__global long* out, __global const {t}* x, long rows, long n) {{
    long r = get_global_id(0);
    if (r >= rows) return;
    __global const {t}* row = x + r * n;
    __global long* order = out + r * n;
    for (long j = 0; j < n; j++) {{
        {t} key = row[j];
        long i = j;
        // Shift earlier entries right while the new key must come before them; equal keys keep their order.
        while (i > 0 && before(key, row[order[i - 1]])) {{
            order[i] = order[i - 1];
            i--;
        }}
        order[i] = j;
    }}
}}
"""
