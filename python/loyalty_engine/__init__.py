"""loyalty-engine for Python: one loyalty policy document, the same answers as the ``loyalty``
CLI, Node and the browser (SPEC §7.1).

Dicts in, dicts out. Money is a decimal string (``"12.50"``), points are ``int``; pass
``decimal=True`` to get money as :class:`decimal.Decimal` (and :class:`~decimal.Decimal` values
are accepted in requests either way). Errors are raised as :class:`LoyaltyError` with the
engine's ``code``, ``message`` and ``path``.

Every answer is the engine's JSON line parsed with :func:`json.loads`, so
``json.dumps(answer, separators=(",", ":"), ensure_ascii=False)`` is byte-identical to the line
``loyalty eval`` prints for the same request (:func:`to_json` does exactly that).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources
from typing import Any, Iterable, Mapping, Optional, Union

from . import _native

__all__ = [
    "Engine",
    "LoyaltyError",
    "Simulation",
    "eval_line",
    "generate",
    "schema",
    "simulate",
    "to_json",
    "validate",
]

__version__ = "0.1.0"


class LoyaltyError(Exception):
    """An engine error: ``{"error":{"code","message","path"}}`` on the wire.

    ``code`` is one of the SPEC's error codes (``invalid_policy``, ``invalid_request``,
    ``insufficient_points``, …), ``path`` points into the request (``cart.lines[0].unit_price``;
    ``""`` for the whole input).
    """

    def __init__(self, code: str, message: str, path: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path

    def to_dict(self) -> dict:
        """The wire form, ``{"error": {"code", "message", "path"}}``."""
        return {"error": {"code": self.code, "message": self.message, "path": self.path}}

    def __repr__(self) -> str:
        return f"LoyaltyError({self.code!r}, {self.message!r}, {self.path!r})"

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.code}{where}: {self.message}"


def _error_from(body: Mapping[str, Any]) -> LoyaltyError:
    return LoyaltyError(body["code"], body["message"], body["path"])


def _reraise(e: _native.NativeError) -> LoyaltyError:
    return _error_from(json.loads(e.args[0])["error"])


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite decimal")
        # Fixed-point text, never an exponent ("1E+1" is not a decimal string to the engine).
        return format(value, "f")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> str:
    """``value`` as compact JSON text, as the engine and ``JSON.stringify`` write it: no spaces,
    non-ASCII characters unescaped, :class:`~decimal.Decimal` as a fixed-point string."""
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
    )


def _text(value: Any, code: str, what: str) -> str:
    """A request as JSON text: ``str``/``bytes`` are taken to be JSON text already."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as e:
            raise LoyaltyError(code, f"the {what} is not valid UTF-8: {e}", "") from None
    try:
        return to_json(value)
    except (TypeError, ValueError, RecursionError) as e:
        raise LoyaltyError(code, f"the {what} cannot be written as JSON: {e}", "") from None


# Response fields whose string values are decimal amounts (money, or a metric that is money):
# what ``decimal=True`` turns into Decimal. Point counts are JSON integers already.
_DECIMAL_KEYS = frozenset(
    {
        "subtotal",
        "tier_discount",
        "tier_discounts",
        "redeemed_amount",
        "paid",
        "total",
        "earn_basis",
        "liability",
        "current",
        "next_threshold",
        "remaining",
        "multiplier",
        "value",
        "amount",
        "unit_price",
        "line_total",
    }
)
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?\Z")


def _decimals(value: Any, key: Optional[str] = None) -> Any:
    if isinstance(value, dict):
        return {k: _decimals(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v, key) for v in value]
    if isinstance(value, str) and key in _DECIMAL_KEYS and _DECIMAL_TEXT.match(value):
        return Decimal(value)
    return value


def _answer(text: str, decimal: bool = False) -> Any:
    """Parses an engine answer; an ``{"error":…}`` answer is raised as a LoyaltyError."""
    value = json.loads(text)
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("error"), dict):
        raise _error_from(value["error"])
    return _decimals(value) if decimal else value


class Engine:
    """A validated policy ready to answer requests (SPEC §6).

    ``Engine(policy)`` takes the policy document as a dict (or JSON text) and raises
    :class:`LoyaltyError` (``invalid_policy``, paths ``policy.…``) if it is not valid. Methods
    take a request dict (or JSON text) and return the response dict.
    """

    __slots__ = ("_raw", "_decimal")

    def __init__(self, policy: Union[Mapping[str, Any], str, bytes], *, decimal: bool = False):
        try:
            self._raw = _native.RawEngine(_text(policy, "invalid_policy", "policy"))
        except _native.NativeError as e:
            raise _reraise(e) from None
        self._decimal = decimal

    @property
    def policy_digest(self) -> str:
        """``"sha256:<hex>"`` of the canonical policy (SPEC §7.2)."""
        return self._raw.policy_digest

    def validate(self) -> dict:
        """``{"policy_digest", "warnings"}`` of this policy."""
        return _answer(self._raw.validate())

    def quote(self, request: Union[Mapping[str, Any], str]) -> dict:
        """Prices one order (SPEC §2)."""
        return self._call("quote", request)

    def replay(self, request: Union[Mapping[str, Any], str]) -> dict:
        """Replays a member's history up to ``as_of`` (SPEC §3)."""
        return self._call("replay", request)

    def progress(self, request: Union[Mapping[str, Any], str]) -> dict:
        """What a storefront widget shows (SPEC §4), from the same request as a replay."""
        return self._call("progress", request)

    def verify(self, request: Union[Mapping[str, Any], str]) -> dict:
        """Recomputes a till's quote and lists what differs."""
        return self._call("verify", request)

    def _call(self, op: str, request: Any) -> dict:
        text = self._raw.call(op, _text(request, "invalid_request", "request"))
        return _answer(text, self._decimal)


def validate(policy: Union[Mapping[str, Any], str, bytes]) -> dict:
    """Validates a policy document: ``{"policy_digest", "warnings"}``; raises
    :class:`LoyaltyError` (``invalid_policy``) for an invalid one."""
    return _answer(_native.validate(_text(policy, "invalid_policy", "policy")))


def simulate(request: Union[Mapping[str, Any], str, bytes], *, decimal: bool = False) -> dict:
    """What a draft policy would have done to real histories (SPEC §5): ``request`` is
    ``{"policy", "baseline", "members", "as_of", "expected_redemption"}``."""
    return _answer(_native.simulate(_text(request, "invalid_request", "request")), decimal)


def eval_line(line: str) -> Optional[str]:
    """The CLI contract (``loyalty eval``): one request line in, the exact response line out;
    ``None`` for a blank line. Never raises for bad input: errors are answer lines."""
    if not isinstance(line, str):
        raise TypeError(f"eval_line expects a str, got {type(line).__name__}")
    return _native.eval_line(line)


def generate(options: Union[Mapping[str, Any], str]) -> str:
    """Synthetic member histories as NDJSON text, identical to ``loyalty generate``'s output:
    ``{"members", "seed", "months", "profile", "as_of"?}`` (at most 100,000 members)."""
    text = _native.generate(_text(options, "invalid_request", "options"))
    if text.startswith('{"error":'):
        _answer(text)
    return text


MemberLike = Union[Mapping[str, Any], str]


class Simulation:
    """A simulation fed in chunks, whose exact partial sums merge across processes.

    ``Simulation(draft, baseline=None, as_of=..., expected_redemption=None)`` (or
    ``Simulation(request=dict_or_json)``), then:

    - ``add(members)``: NDJSON text, or an iterable of member dicts / JSON texts; members are
      numbered in the order added (``members[i]`` in ``rejected``), blank lines keep their number;
    - ``add_at(members, first)``: the same, the first line being number ``first`` of the whole
      input (a worker handed lines 2000..2999);
    - ``add_indexed(indexes, members)``: one JSON text per member with its own number;
    - ``partial() -> bytes``: the exact sums so far, taken out (opaque; this simulation goes on
      from empty sums);
    - ``merge(*partials)``: adds partial sums from simulations with the same policies;
    - ``finish() -> dict``: the report, byte for byte what ``simulate`` gives on all members.
    """

    __slots__ = ("_raw", "_decimal")

    def __init__(
        self,
        draft: Union[Mapping[str, Any], str, None] = None,
        baseline: Union[Mapping[str, Any], str, None] = None,
        as_of: Optional[str] = None,
        expected_redemption: Union[str, Decimal, None] = None,
        *,
        request: Union[Mapping[str, Any], str, None] = None,
        decimal: bool = False,
    ) -> None:
        if request is None:
            text = _setup_text(draft, baseline, as_of, expected_redemption)
        else:
            if draft is not None or baseline is not None or as_of is not None:
                raise TypeError("give either request= or draft/baseline/as_of, not both")
            text = _text(request, "invalid_request", "request")
        try:
            self._raw = _native.RawSimulation(text)
        except _native.NativeError as e:
            raise _reraise(e) from None
        self._decimal = decimal

    def add(self, members: Union[str, Iterable[MemberLike]]) -> int:
        """Adds members (NDJSON text or an iterable of dicts / JSON texts); returns how many."""
        return self._native(self._raw.add, _ndjson(members))

    def add_at(self, members: Union[str, Iterable[MemberLike]], first: int) -> int:
        """Adds members whose first line is line ``first`` (0-based) of the whole input."""
        return self._native(self._raw.add_at, _ndjson(members), _count(first, "first"))

    def add_indexed(self, indexes: Iterable[int], members: Iterable[Optional[MemberLike]]) -> int:
        """Adds members, each with its index in the whole input; ``None``/blank is skipped."""
        texts = [
            m if m is None or isinstance(m, str) else _text(m, "invalid_request", "member")
            for m in members
        ]
        return self._native(self._raw.add_indexed, [_count(i, "index") for i in indexes], texts)

    def partial(self) -> bytes:
        """The exact partial sums of the members added so far (taken out), as opaque bytes."""
        return self._native(self._raw.take_partial)

    def merge(self, *partials: Union[bytes, bytearray, memoryview]) -> "Simulation":
        """Adds partial sums (from :meth:`partial` of simulations with the same policies)."""
        for p in partials:
            self._native(self._raw.merge_partial, bytes(p))
        return self

    @property
    def progress(self) -> int:
        """Members added or merged so far."""
        return self._raw.progress

    def finish(self) -> dict:
        """The report; the simulation is used up."""
        return _answer(self._native(self._raw.finish), self._decimal)

    def _native(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except _native.NativeError as e:
            raise _reraise(e) from None


def _count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n > 2**53 - 1:
        raise LoyaltyError("invalid_request", f"{what} must be a whole number ≥ 0, got {n!r}", what)
    return n


def _ndjson(members: Union[str, Iterable[MemberLike]]) -> str:
    if isinstance(members, str):
        return members
    if isinstance(members, (bytes, bytearray, memoryview)):
        return _text(members, "invalid_request", "members")
    return "\n".join(
        m if isinstance(m, str) else _text(m, "invalid_request", "member") for m in members
    )


def _setup_text(
    draft: Any, baseline: Any, as_of: Optional[str], expected_redemption: Any
) -> str:
    """A simulate request without members, the policies as written (JSON text kept as is)."""
    parts = []
    if draft is not None:
        parts.append('"policy":' + _text(draft, "invalid_request", "policy"))
    if baseline is not None:
        parts.append('"baseline":' + _text(baseline, "invalid_request", "baseline"))
    if as_of is not None:
        parts.append('"as_of":' + to_json(as_of))
    if expected_redemption is not None:
        parts.append('"expected_redemption":' + to_json(expected_redemption))
    return "{" + ",".join(parts) + "}"


def schema(name: str) -> dict:
    """A JSON Schema (2020-12) shipped with the package: ``"policy"``, ``"quote-request"``, …
    (:func:`schema_names` lists them)."""
    if name not in schema_names():
        raise KeyError(f"no schema {name!r}; there are {', '.join(schema_names())}")
    return json.loads(resources.files(__name__).joinpath(f"schema/{name}.json").read_text("utf-8"))


def schema_names() -> list:
    """The names of the shipped schemas (file names without ``.json``)."""
    folder = resources.files(__name__).joinpath("schema")
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))
