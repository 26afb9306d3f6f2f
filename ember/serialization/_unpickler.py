"""A restricted pickle interpreter for ``weights_only=True`` loads.

NOTE [ Weights-only unpickling ]
Python's pickle is a small stack machine whose instructions can import any global and call
it (``GLOBAL`` + ``REDUCE``), create instances of any class (``NEWOBJ``, ``INST``, ``OBJ``),
and call ``__setstate__``/``setattr`` on them (``BUILD``). Overriding ``find_class`` on
:class:`pickle.Unpickler` closes the import hole but leaves the machine calling methods of
whatever objects it manages to build. This module is a separate interpreter, written for
checkpoints, in which nothing is called unless it was admitted:

* ``GLOBAL``/``STACK_GLOBAL`` look the name up in an allowlist (a dict from
  ``"module.name"`` to a value). A miss raises ``UnpicklingError`` naming the global; no
  module is imported and no attribute is looked up.
* ``REDUCE``/``NEWOBJ``/``NEWOBJ_EX`` call only callables that came from the allowlist, by
  identity; calling anything else (a string, a dtype, a tensor) is refused.
* ``BUILD`` is allowed only on instances of classes the user admitted with
  ``add_safe_globals`` (ember's own rebuild functions take their state as arguments).
* ``APPEND(S)`` only extends real lists, ``SETITEM(S)`` only fills real dicts, ``ADDITEMS``
  only real sets; ``INST``, ``OBJ``, ``EXT*``, out-of-band buffers and unknown opcodes are
  refused.
* Dict keys and set members are checked before hashing: nested tuples are depth-limited
  (deep tuples make CPython's hash recurse on the C stack) and integers must lie inside
  the range where their hash is the value itself, so a file cannot make dict insertion
  quadratic with colliding hashes.

The machine is iterative (no recursion), reads from an in-memory buffer whose length bounds
every allocation, and turns any error raised while interpreting into ``UnpicklingError``.
"""

from __future__ import annotations

import codecs
import pickle
import struct
from collections import OrderedDict

UnpicklingError = pickle.UnpicklingError

_MAX_KEY_DEPTH = 64
_HASH_MODULUS = (1 << 61) - 1  # sys.hash_info.modulus on 64-bit CPython
_FIX_IMPORTS = {"__builtin__": "builtins", "copy_reg": "copyreg"}
_unpack_d = struct.Struct(">d").unpack_from
_unpack_i = struct.Struct("<i").unpack_from
_unpack_I = struct.Struct("<I").unpack_from
_unpack_H = struct.Struct("<H").unpack_from
_unpack_Q = struct.Struct("<Q").unpack_from


def _check_key(k, what="dict key"):
    """Refuse keys whose hashing could recurse too deeply or collide on purpose."""
    t = type(k)
    if t is str or t is bytes or k is None or t is bool or t is float:
        return
    if t is int:
        if not -_HASH_MODULUS < k < _HASH_MODULUS:
            raise UnpicklingError(f"weights-only load refused an integer {what} outside "
                                  f"(-2**61+1, 2**61-1): {k}")
        return
    if t is tuple or t is frozenset:
        todo = [(k, 1)]
        while todo:
            obj, depth = todo.pop()
            if depth > _MAX_KEY_DEPTH:
                raise UnpicklingError(f"weights-only load refused a {what} nested more than "
                                      f"{_MAX_KEY_DEPTH} levels deep")
            for x in obj:
                tx = type(x)
                if tx is tuple or tx is frozenset:
                    todo.append((x, depth + 1))
                elif tx is int:
                    _check_key(x, what)
        return


class SafeUnpickler:
    """Interpret one pickle from ``data`` starting at ``pos``, admitting only allowed globals.

    Args:
        data: the bytes holding the pickle (possibly followed by other data).
        find_global: ``(module, name) -> value``; raises ``UnpicklingError`` to refuse.
        is_callable: ``value -> bool``: may REDUCE/NEWOBJ call this admitted value?
        can_build: ``instance -> bool``: may BUILD set the state of this object?
        persistent_load: ``pid -> object`` for ``PERSID``/``BINPERSID``.
        encoding: how to decode Python 2 ``str`` objects ("bytes" keeps them as bytes).
    """

    def __init__(self, data, *, find_global, is_callable, can_build, persistent_load,
                 pos=0, encoding="utf-8"):
        self._data = data if isinstance(data, bytes) else bytes(data)
        self.pos = pos
        self._find_global = find_global
        self._is_callable = is_callable
        self._can_build = can_build
        self._persistent_load = persistent_load
        self._encoding = encoding

    # ------------------------------------------------------------------ input
    def _read(self, n):
        p = self.pos
        end = p + n
        if n < 0 or end > len(self._data):
            raise UnpicklingError("pickle data was truncated")
        self.pos = end
        return self._data[p:end]

    def _readline(self):
        data = self._data
        p = self.pos
        i = data.find(b"\n", p)
        if i < 0:
            raise UnpicklingError("pickle data was truncated (no end of line)")
        self.pos = i + 1
        return data[p:i]

    # ------------------------------------------------------------------ main loop
    def load(self):
        """Run until ``STOP``; return the object on top of the stack."""
        try:
            return self._run()
        except RecursionError:
            raise UnpicklingError("weights-only load: object nesting too deep") from None
        except (UnpicklingError, RuntimeError):
            raise  # RuntimeError: bad tensor metadata, archive or device (documented)
        except MemoryError:
            raise UnpicklingError("weights-only load: out of memory building the object "
                                  "(hostile or corrupt pickle?)") from None
        except Exception as e:
            raise UnpicklingError(f"weights-only load: malformed pickle ({type(e).__name__}: "
                                  f"{e})") from None

    def _run(self):
        read = self._read
        readline = self._readline
        stack = []
        metastack = []
        memo = {}
        append = stack.append

        def pop_mark():
            nonlocal stack, append
            items = stack
            if not metastack:
                raise UnpicklingError("pickle has an unmatched MARK")
            stack = metastack.pop()
            append = stack.append
            return items

        def pop():
            if not stack:
                raise UnpicklingError("pickle stack underflow")
            return stack.pop()

        def top():
            if not stack:
                raise UnpicklingError("pickle stack underflow")
            return stack[-1]

        while True:
            op = read(1)[0]
            if op == 0x80:  # PROTO
                proto = read(1)[0]
                if proto > pickle.HIGHEST_PROTOCOL:
                    raise UnpicklingError(f"unsupported pickle protocol: {proto}")
            elif op == 0x95:  # FRAME: the framed bytes follow inline
                read(8)
            elif op == 0x2E:  # STOP
                if metastack:
                    raise UnpicklingError("pickle has an unmatched MARK at STOP")
                return pop()
            # ---- constants
            elif op == 0x4E:  # NONE
                append(None)
            elif op == 0x88:
                append(True)
            elif op == 0x89:
                append(False)
            elif op == 0x4B:  # BININT1
                append(read(1)[0])
            elif op == 0x4D:  # BININT2
                append(_unpack_H(read(2))[0])
            elif op == 0x4A:  # BININT
                append(_unpack_i(read(4))[0])
            elif op == 0x49:  # INT (text; "00"/"01" are False/True)
                line = readline()
                if line == b"00":
                    append(False)
                elif line == b"01":
                    append(True)
                else:
                    append(int(line))
            elif op == 0x4C:  # LONG (text, trailing L)
                line = readline()
                append(int(line[:-1] if line.endswith(b"L") else line))
            elif op == 0x8A:  # LONG1
                n = read(1)[0]
                append(int.from_bytes(read(n), "little", signed=True))
            elif op == 0x8B:  # LONG4
                n = _unpack_i(read(4))[0]
                if n < 0:
                    raise UnpicklingError("LONG4 with a negative byte count")
                append(int.from_bytes(read(n), "little", signed=True))
            elif op == 0x47:  # BINFLOAT
                append(_unpack_d(read(8))[0])
            elif op == 0x46:  # FLOAT (text)
                append(float(readline()))
            # ---- strings and bytes
            elif op == 0x58:  # BINUNICODE
                n = _unpack_I(read(4))[0]
                append(str(read(n), "utf-8", "surrogatepass"))
            elif op == 0x8C:  # SHORT_BINUNICODE
                n = read(1)[0]
                append(str(read(n), "utf-8", "surrogatepass"))
            elif op == 0x8D:  # BINUNICODE8
                n = _unpack_Q(read(8))[0]
                append(str(read(n), "utf-8", "surrogatepass"))
            elif op == 0x56:  # UNICODE (text, raw-unicode-escape)
                append(str(readline(), "raw-unicode-escape"))
            elif op == 0x42:  # BINBYTES
                append(bytes(read(_unpack_I(read(4))[0])))
            elif op == 0x43:  # SHORT_BINBYTES
                append(bytes(read(read(1)[0])))
            elif op == 0x8E:  # BINBYTES8
                append(bytes(read(_unpack_Q(read(8))[0])))
            elif op == 0x96:  # BYTEARRAY8
                append(bytearray(read(_unpack_Q(read(8))[0])))
            elif op == 0x54:  # BINSTRING (Python 2 str)
                n = _unpack_i(read(4))[0]
                if n < 0:
                    raise UnpicklingError("BINSTRING with a negative length")
                append(self._py2str(bytes(read(n))))
            elif op == 0x55:  # SHORT_BINSTRING
                append(self._py2str(bytes(read(read(1)[0]))))
            elif op == 0x53:  # STRING (text, quoted)
                line = readline()
                if len(line) < 2 or line[0] != line[-1] or line[:1] not in (b"'", b'"'):
                    raise UnpicklingError("the STRING opcode argument must be quoted")
                append(self._py2str(codecs.escape_decode(line[1:-1])[0]))
            # ---- containers
            elif op == 0x5D:  # EMPTY_LIST
                append([])
            elif op == 0x29:  # EMPTY_TUPLE
                append(())
            elif op == 0x7D:  # EMPTY_DICT
                append({})
            elif op == 0x8F:  # EMPTY_SET
                append(set())
            elif op == 0x85:  # TUPLE1
                append((pop(),))
            elif op == 0x86:  # TUPLE2
                b = pop()
                a = pop()
                append((a, b))
            elif op == 0x87:  # TUPLE3
                c = pop()
                b = pop()
                a = pop()
                append((a, b, c))
            elif op == 0x28:  # MARK
                metastack.append(stack)
                stack = []
                append = stack.append
            elif op == 0x74:  # TUPLE
                items = pop_mark()
                append(tuple(items))
            elif op == 0x6C:  # LIST
                items = pop_mark()
                append(items)
            elif op == 0x64:  # DICT
                items = pop_mark()
                if len(items) % 2:
                    raise UnpicklingError("DICT with an odd number of items")
                d = {}
                for i in range(0, len(items), 2):
                    _check_key(items[i])
                    d[items[i]] = items[i + 1]
                append(d)
            elif op == 0x91:  # FROZENSET
                items = pop_mark()
                for x in items:
                    _check_key(x, "set member")
                append(frozenset(items))
            elif op == 0x61:  # APPEND
                v = pop()
                lst = top()
                if type(lst) is not list:
                    raise UnpicklingError(f"weights-only load: APPEND to a "
                                          f"{type(lst).__name__} is not allowed")
                lst.append(v)
            elif op == 0x65:  # APPENDS
                items = pop_mark()
                lst = top()
                if type(lst) is not list:
                    raise UnpicklingError(f"weights-only load: APPENDS to a "
                                          f"{type(lst).__name__} is not allowed")
                lst.extend(items)
            elif op == 0x73:  # SETITEM
                v = pop()
                k = pop()
                d = top()
                self._check_dict(d)
                _check_key(k)
                d[k] = v
            elif op == 0x75:  # SETITEMS
                items = pop_mark()
                d = top()
                self._check_dict(d)
                if len(items) % 2:
                    raise UnpicklingError("SETITEMS with an odd number of items")
                for i in range(0, len(items), 2):
                    _check_key(items[i])
                    d[items[i]] = items[i + 1]
            elif op == 0x90:  # ADDITEMS
                items = pop_mark()
                s = top()
                if type(s) is not set:
                    raise UnpicklingError(f"weights-only load: ADDITEMS to a "
                                          f"{type(s).__name__} is not allowed")
                for x in items:
                    _check_key(x, "set member")
                s.update(items)
            # ---- stack and memo
            elif op == 0x30:  # POP
                if stack:
                    stack.pop()
                else:
                    pop_mark()
            elif op == 0x31:  # POP_MARK
                pop_mark()
            elif op == 0x32:  # DUP
                append(top())
            elif op == 0x71:  # BINPUT
                memo[read(1)[0]] = top()
            elif op == 0x72:  # LONG_BINPUT
                memo[_unpack_I(read(4))[0]] = top()
            elif op == 0x70:  # PUT
                memo[int(readline())] = top()
            elif op == 0x94:  # MEMOIZE
                memo[len(memo)] = top()
            elif op == 0x68:  # BINGET
                append(self._memo_get(memo, read(1)[0]))
            elif op == 0x6A:  # LONG_BINGET
                append(self._memo_get(memo, _unpack_I(read(4))[0]))
            elif op == 0x67:  # GET
                append(self._memo_get(memo, int(readline())))
            # ---- globals, calls, persistent ids
            elif op == 0x63:  # GLOBAL
                module = readline().decode("utf-8")
                name = readline().decode("utf-8")
                append(self._global(module, name))
            elif op == 0x93:  # STACK_GLOBAL
                name = pop()
                module = pop()
                if type(module) is not str or type(name) is not str:
                    raise UnpicklingError("STACK_GLOBAL requires two str arguments")
                append(self._global(module, name))
            elif op == 0x52:  # REDUCE
                args = pop()
                func = pop()
                if type(args) is not tuple:
                    raise UnpicklingError("REDUCE arguments must be a tuple")
                self._check_callable(func, "REDUCE")
                append(func(*args))
            elif op == 0x81:  # NEWOBJ
                args = pop()
                cls = pop()
                if type(args) is not tuple:
                    raise UnpicklingError("NEWOBJ arguments must be a tuple")
                self._check_callable(cls, "NEWOBJ")
                append(_new_object(cls, args, {}))
            elif op == 0x92:  # NEWOBJ_EX
                kwargs = pop()
                args = pop()
                cls = pop()
                if type(args) is not tuple or type(kwargs) is not dict or not all(
                        type(k) is str for k in kwargs):
                    raise UnpicklingError("NEWOBJ_EX needs a tuple and a dict of str keys")
                self._check_callable(cls, "NEWOBJ_EX")
                append(_new_object(cls, args, kwargs))
            elif op == 0x62:  # BUILD
                state = pop()
                inst = top()
                if type(inst) is OrderedDict:
                    # state_dicts carry a ``_metadata`` attribute (module versions).
                    _build_attrs(inst, state)
                    continue
                if not self._can_build(inst):
                    raise UnpicklingError(
                        f"weights-only load: BUILD (setting object state) on a "
                        f"{type(inst).__module__}.{type(inst).__qualname__} is not allowed; "
                        "admit its class with ember.serialization.add_safe_globals")
                _build(inst, state)
            elif op == 0x51:  # BINPERSID
                append(self._persistent_load(pop()))
            elif op == 0x50:  # PERSID
                append(self._persistent_load(readline().decode("ascii")))
            elif op in _REFUSED:
                raise UnpicklingError(f"weights-only load: the {_REFUSED[op]} opcode is not "
                                      "allowed")
            else:
                raise UnpicklingError(f"weights-only load: invalid or unsupported pickle "
                                      f"opcode {op!r} at byte {self.pos - 1}")

    # ------------------------------------------------------------------ helpers
    def _py2str(self, b):
        if self._encoding == "bytes":
            return b
        return b.decode(self._encoding)

    @staticmethod
    def _memo_get(memo, i):
        try:
            return memo[i]
        except KeyError:
            raise UnpicklingError(f"pickle memo has no entry {i}") from None

    @staticmethod
    def _check_dict(d):
        t = type(d)
        if t is not dict and t is not OrderedDict:
            raise UnpicklingError(f"weights-only load: SETITEM on a {t.__name__} is not "
                                  "allowed")

    def _global(self, module, name):
        module = _FIX_IMPORTS.get(module, module)
        return self._find_global(module, name)

    def _check_callable(self, func, opname):
        if not self._is_callable(func):
            what = (f"{type(func).__module__}.{type(func).__qualname__}"
                    if not isinstance(func, type) else f"{func.__module__}.{func.__qualname__}")
            raise UnpicklingError(f"weights-only load: {opname} on {what} is not allowed (only "
                                  "admitted constructors can be called)")


_REFUSED = {0x69: "INST", 0x6F: "OBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
            0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER"}


def _new_object(cls, args, kwargs):
    """``cls.__new__(cls, *args, **kwargs)`` for an admitted class; admitted functions and
    ember's own constructors are plain calls."""
    if isinstance(cls, type) and cls not in (dict, list, set, frozenset, tuple, OrderedDict):
        return cls.__new__(cls, *args, **kwargs)
    return cls(*args, **kwargs)


def _build_attrs(inst, state):
    """BUILD on an OrderedDict: plain attributes (``_metadata``) into its ``__dict__``."""
    if type(state) is not dict or not all(type(k) is str and not k.startswith("__")
                                          for k in state):
        raise UnpicklingError("weights-only load: OrderedDict state must be a dict of "
                              "plain attribute names")
    inst.__dict__.update(state)


def _build(inst, state):
    """Pickle's BUILD for an instance of a user-admitted class."""
    setstate = getattr(type(inst), "__setstate__", None)
    if setstate is not None and setstate is not getattr(object, "__setstate__", None):
        inst.__setstate__(state)
        return
    slotstate = None
    if type(state) is tuple and len(state) == 2:
        state, slotstate = state
    if state:
        if type(state) is not dict:
            raise UnpicklingError("BUILD state must be a dict")
        inst_dict = inst.__dict__
        for k, v in state.items():
            if type(k) is not str:
                raise UnpicklingError("BUILD state keys must be str")
            inst_dict[k] = v
    if slotstate:
        if type(slotstate) is not dict:
            raise UnpicklingError("BUILD slot state must be a dict")
        for k, v in slotstate.items():
            if type(k) is not str or k.startswith("__"):
                raise UnpicklingError(f"BUILD refused slot attribute {k!r}")
            setattr(inst, k, v)
