"""Hand-written forwards of matrix products, einsum and diagonals."""

from __future__ import annotations

from ._tensor import Tensor, _wrap_dim


def _check_tensor(t, op: str, position: int = 1, name: str = "input") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(t).__name__}")


def mm(self, mat2):
    from ._generated._ops import matmul

    _check_tensor(self, "mm")
    _check_tensor(mat2, "mm", 2, "mat2")
    if self._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix, but got a {self._data.ndim}-D tensor")
    if mat2._data.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, but got a {mat2._data.ndim}-D tensor")
    (n, k), (k2, m) = self._data.shape, mat2._data.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    return matmul(self, mat2)


def bmm(self, mat2):
    from ._generated._ops import matmul

    _check_tensor(self, "bmm")
    _check_tensor(mat2, "bmm", 2, "mat2")
    if self._data.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, but got a {self._data.ndim}-D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor, but got a {mat2._data.ndim}-D tensor")
    a, b = self._data.shape, mat2._data.shape
    if a[0] != b[0] or a[2] != b[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a[0]}, {a[2]}] but got: [{b[0]}, {b[1]}]."
        )
    return matmul(self, mat2)


def dot(self, tensor):
    from ._generated._ops import matmul

    _check_tensor(self, "dot")
    _check_tensor(tensor, "dot", 2, "tensor")
    if self._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {self._data.ndim}D and {tensor._data.ndim}D tensors")
    n, m = self._data.shape[0], tensor._data.shape[0]
    if n != m:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number of elements, "
            f"but got {n} and {m} elements respectively"
        )
    if self.dtype is not tensor.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {_type_name(self)} and {_type_name(tensor)}"
        )
    return matmul(self, tensor)


def _type_name(t: Tensor) -> str:
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool"}.get(t._data.dtype.name, t._data.dtype.name)


def outer(self, vec2):
    from ._generated._ops import mul, reshape

    _check_tensor(self, "outer")
    _check_tensor(vec2, "outer", 2, "vec2")
    if self._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(f"outer: expected 1D tensors, but got {self._data.ndim}D and {vec2._data.ndim}D tensors")
    return mul(reshape(self, (-1, 1)), vec2)


def trace(self):
    from ._generated._ops import sum

    _check_tensor(self, "trace")
    if self._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self._data.ndim}")
    return sum(diagonal(self))


def diagonal(self, offset=0, dim1=0, dim2=1):
    from ._generated._ops import _diagonal

    _check_tensor(self, "diagonal")
    ndim = self._data.ndim
    d1, d2 = _wrap_dim(dim1, ndim), _wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise TypeError(f"diagonal(): argument 'offset' must be int, not {type(offset).__name__}")
    return _diagonal(self, offset, d1, d2)


# -- einsum ----------------------------------------------------------------------------

def einsum(equation, *operands):
    """Evaluate an einsum equation by reducing each operand alone, then contracting pairs with matmul."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not {type(equation).__name__}")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): expected Tensor as element {i} in argument 1, but got {type(t).__name__}")

    inputs, output = _parse_equation(equation, operands)
    sizes = _letter_sizes(inputs, operands)

    # Each operand alone: take diagonals of repeated letters and sum letters no one else needs.
    terms = []
    for k, (letters, t) in enumerate(zip(inputs, operands)):
        needed = set(output)
        for j, other in enumerate(inputs):
            if j != k:
                needed |= set(other)
        terms.append(_reduce_alone(t, letters, needed))

    # Contract left to right; a letter stays while the output or a later operand uses it.
    letters, t = terms[0]
    for k in range(1, len(terms)):
        later = set(output)
        for other_letters, _ in terms[k + 1:]:
            later |= set(other_letters)
        letters, t = _contract(letters, t, terms[k][0], terms[k][1], later, sizes)

    letters, t = _reduce_alone(t, letters, set(output))
    return _arrange(t, letters, output, sizes)


def _parse_equation(equation: str, operands) -> tuple[list[str], str]:
    """Return the letters of each operand and of the output, with '...' replaced by capital letters.

    Ellipsis dims are aligned from the right across operands, as in broadcasting.
    """
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        fewer = len(operands) < len(inputs)
        raise RuntimeError(
            f"einsum(): {'fewer' if fewer else 'more'} operands were provided than specified in the equation"
        )
    for i, ch in enumerate(equation):
        if not (ch.isascii() and ch.isalpha()) and ch not in ".,->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts must be in [a-zA-Z]")
    spare = [chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in equation]

    ellipsis_counts = []
    for k, (letters, t) in enumerate(zip(inputs, operands)):
        explicit = len(letters.replace("...", ""))
        if "..." in letters:
            if t._data.ndim < explicit:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({explicit}) is more than the number of "
                    f"dimensions ({t._data.ndim}) for operand {k}"
                )
            ellipsis_counts.append(t._data.ndim - explicit)
        else:
            if explicit != t._data.ndim:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({explicit}) does not match the number of "
                    f"dimensions ({t._data.ndim}) for operand {k} and no ellipsis was given"
                )
            ellipsis_counts.append(0)
    ellipsis_ndim = max(ellipsis_counts)
    broadcast = "".join(spare[:ellipsis_ndim])
    expanded = [
        letters.replace("...", broadcast[ellipsis_ndim - count:]) for letters, count in zip(inputs, ellipsis_counts)
    ]

    if arrow:
        output = rhs.replace("...", broadcast)
        for ch in output:
            if output.count(ch) > 1:
                raise RuntimeError(f"einsum(): output subscript {ch} appears more than once in the output")
            if not any(ch in letters for letters in expanded):
                raise RuntimeError(f"einsum(): output subscript {ch} does not appear in the equation for any input operand")
    else:
        # Implicit output: the ellipsis dims, then letters seen exactly once, in alphabetical order.
        counts: dict = {}
        for ch in lhs.replace("...", "").replace(",", ""):
            counts[ch] = counts.get(ch, 0) + 1
        output = broadcast + "".join(sorted(ch for ch, n in counts.items() if n == 1))
    return expanded, output


def _letter_sizes(inputs, operands) -> dict:
    sizes = {}
    for k, (letters, t) in enumerate(zip(inputs, operands)):
        for ch, size in zip(letters, t._data.shape):
            known = sizes.get(ch)
            if known is None or known == 1:
                sizes[ch] = size
            elif size != known and size != 1:
                raise RuntimeError(
                    f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                    f"subscript {ch} has size {size} for operand {k} which does not broadcast with previously seen size {known}"
                )
    return sizes


def _reduce_alone(t, letters: str, needed: set):
    """Take the diagonal of repeated letters and sum the letters not in ``needed``."""
    from ._generated._ops import sum

    while True:
        repeated = next((ch for ch in letters if letters.count(ch) > 1), None)
        if repeated is None:
            break
        first = letters.index(repeated)
        second = letters.index(repeated, first + 1)
        t = diagonal(t, 0, first, second)
        letters = letters[:first] + letters[first + 1:second] + letters[second + 1:] + repeated
    drop = tuple(i for i, ch in enumerate(letters) if ch not in needed)
    if drop:
        t = sum(t, drop)
        letters = "".join(ch for ch in letters if ch in needed)
    return letters, t


def _expand_letters(t, letters: str, chars, sizes: dict):
    """Expand the size-1 (broadcast) dims of ``chars`` in ``t`` to their full sizes."""
    shape = list(t._data.shape)
    for ch in chars:
        shape[letters.index(ch)] = sizes[ch]
    return t if tuple(shape) == t._data.shape else t.expand(tuple(shape))


def _contract(left_letters, left, right_letters, right, keep: set, sizes: dict):
    """Multiply two terms and sum their shared letters that ``keep`` lacks, as one batched matmul."""
    from ._generated._ops import matmul, permute, reshape

    shared = [ch for ch in left_letters if ch in right_letters]
    batch = [ch for ch in shared if ch in keep]
    summed = [ch for ch in shared if ch not in keep]
    left_only = [ch for ch in left_letters if ch not in right_letters]
    right_only = [ch for ch in right_letters if ch not in left_letters]

    left = _expand_letters(left, left_letters, shared, sizes)
    right = _expand_letters(right, right_letters, shared, sizes)
    a = permute(left, tuple(left_letters.index(ch) for ch in batch + left_only + summed))
    b = permute(right, tuple(right_letters.index(ch) for ch in batch + summed + right_only))
    batch_sizes = [sizes[ch] for ch in batch]

    m = _product(a._data.shape[len(batch):len(batch) + len(left_only)])
    k = _product(a._data.shape[len(batch) + len(left_only):])
    n = _product(b._data.shape[len(batch) + len(summed):])
    product = matmul(reshape(a, tuple(batch_sizes) + (m, k)), reshape(b, tuple(batch_sizes) + (k, n)))
    out_shape = tuple(batch_sizes) + a._data.shape[len(batch):len(batch) + len(left_only)] + b._data.shape[len(batch) + len(summed):]
    return "".join(batch + left_only + right_only), reshape(product, out_shape)


def _product(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _arrange(t, letters: str, output: str, sizes: dict):
    """Permute ``t`` into the output's letter order, expanding size-1 broadcast letters."""
    from ._generated._ops import permute

    if letters != output:
        t = permute(t, tuple(letters.index(ch) for ch in output))
    target = tuple(sizes[ch] for ch in output)
    if t._data.shape != target:
        t = t.expand(target)
    return t
