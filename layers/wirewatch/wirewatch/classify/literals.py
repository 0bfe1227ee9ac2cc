"""A prefilter for regexes: what every match of a regex must contain, read from its source text.

Python's ``re`` spends most of its time trying patterns at positions where they cannot match, so the
classifier only runs a regex on an item when the item holds one of the literals that every match of
the regex contains. Reading a regex gives *clauses*; a clause is a set of literals at least one of
which is in every match. A literal is either

- a whole **word** (a maximal run of ``[a-z0-9]``, when the regex has a word boundary, ``\\s``, a
  class without letters or digits, or a non-alphanumeric character on both sides of it), looked up
  in the item's set of words, or
- a **text**, tested with ``in``.

The reader knows the documented regex syntax that rules.toml uses (groups, alternation, classes,
escapes, quantifiers, lookarounds) and nothing of ``re``'s internals. It only has to find literals
that are *necessary*, so it is conservative: a construct it does not know, or a regex compiled with
``re.IGNORECASE``, gives no clause, and that regex always runs. Skipping a regex whose clause does
not hold never changes a result; tests/unit/classifier/test_prefilter.py checks that on every case
file and every real item.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# (whole words, texts): at least one of them is in every match
Clause = tuple[frozenset[str], frozenset[str]]

_WORD = re.compile(r"[a-z0-9]+")
_QUANTIFIER = re.compile(r"\?|\*|\+|\{(\d*)(?:,(\d*))?\}")
_NOT_WORD_LOOKAROUND = ("(?!\\w)", "(?<!\\w)")
_MIN_TEXT = 3  # a shorter ASCII text ("to", "n") is in nearly every item: not worth testing
_MIN_WORD = 4  # a shorter word inside a longer literal is a worse test than the literal


def words_of(low: str) -> set[str]:
    """The maximal ``[a-z0-9]`` runs of a lower-cased text."""
    return set(_WORD.findall(low))


def required_literals(regex: re.Pattern[str]) -> tuple[Clause, ...]:
    """Clauses that every match of ``regex`` satisfies, the most selective first; () when unsure."""
    if regex.flags & re.IGNORECASE:
        return ()
    try:
        branches, end = _parse(regex.pattern, 0)
    except _Unsure:
        return ()
    if end != len(regex.pattern):
        return ()
    found = {c for c in _either([_clauses(b, False, False) for b in branches]) if _useful(c)}
    return tuple(sorted(found, key=_selectivity, reverse=True))


class Prefilter:
    """Which regexes of a list can match a text: those whose most selective clause holds in it."""

    __slots__ = ("_always", "_by_text", "_by_word", "_words")

    def __init__(self, needs: Sequence[tuple[Clause, ...]]) -> None:
        """``needs``: per regex, its clauses (from ``required_literals``), most selective first."""
        always: list[int] = []
        by_word: dict[str, list[int]] = {}
        by_text: dict[str, list[int]] = {}
        for number, clauses in enumerate(needs):
            if not clauses:
                always.append(number)
                continue
            words, texts = clauses[0]
            for word in words:
                by_word.setdefault(word, []).append(number)
            for text in texts:
                by_text.setdefault(text, []).append(number)
        self._always = frozenset(always)
        self._by_word = by_word
        self._words = frozenset(by_word)
        self._by_text = tuple(by_text.items())

    def candidates(self, low: str, words: set[str]) -> list[int]:
        """The numbers, in order, of the regexes that can match ``low`` (whose words are ``words``)."""
        found = set(self._always)
        for word in self._words.intersection(words):
            found.update(self._by_word[word])
        for text, numbers in self._by_text:
            if text in low:
                found.update(numbers)
        return sorted(found)


class _Unsure(Exception):
    """A construct the reader does not know: the regex gets no clause."""


@dataclass(frozen=True)
class _Atom:
    """One parsed element of a regex and its quantifier."""

    kind: str  # "char", "boundary" (zero-width), "nonword" (consumes no letter or digit), "other", "group"
    minimum: int  # 1 when there is no quantifier
    quantified: bool
    char: str = ""
    branches: tuple[tuple[_Atom, ...], ...] = ()

    @property
    def bounds_words(self) -> bool:
        """No letter or digit on this side of it (it is there, and is a boundary or a non-word)."""
        return self.kind in ("boundary", "nonword") and self.minimum > 0


def _parse(source: str, at: int) -> tuple[list[tuple[_Atom, ...]], int]:
    """The branches from ``at`` up to an unmatched ``)`` or the end, and where they stop."""
    branches: list[tuple[_Atom, ...]] = []
    atoms: list[_Atom] = []
    while at < len(source) and source[at] != ")":
        char = source[at]
        if char == "|":
            branches.append(tuple(atoms))
            atoms = []
            at += 1
            continue
        kind, text = "other", ""
        inner: tuple[tuple[_Atom, ...], ...] = ()
        if char == "(":
            kind, inner, at = _group(source, at)
        elif char == "[":
            kind, at = _class(source, at)
        elif char == "\\":
            kind, text, at = _escape(source, at)
        elif char in ".^$":
            kind, at = ("other" if char == "." else "zero"), at + 1
        elif char in "?*+{":
            raise _Unsure  # a quantifier with nothing to repeat
        else:
            kind, text, at = "char", char, at + 1
        minimum, quantified, at = _quantifier(source, at)
        atoms.append(_Atom(kind, minimum, quantified, text, inner))
    branches.append(tuple(atoms))
    return branches, at


def _group(source: str, at: int) -> tuple[str, tuple[tuple[_Atom, ...], ...], int]:
    for lookaround in _NOT_WORD_LOOKAROUND:
        if source.startswith(lookaround, at):
            return "boundary", (), at + len(lookaround)
    start = at + 1
    kind = "group"
    if source.startswith("?:", start):
        start += 2
    elif source.startswith("?P<", start):
        start = source.index(">", start) + 1
    elif source.startswith(("?=", "?!"), start):
        start, kind = start + 2, "zero"
    elif source.startswith(("?<=", "?<!"), start):
        start, kind = start + 3, "zero"
    elif source.startswith("?", start):
        raise _Unsure  # flags, conditionals, back-references, comments
    branches, end = _parse(source, start)
    if end >= len(source):
        raise _Unsure
    return kind, (tuple(branches) if kind == "group" else ()), end + 1


def _class(source: str, at: int) -> tuple[str, int]:
    """A character class: "nonword" when it holds no letter or digit (``[\\s-]``), else "other"."""
    i = at + 1
    negated = source[i : i + 1] == "^"
    i += negated
    members: list[str] = []
    if source[i : i + 1] == "]":
        members.append("]")
        i += 1
    while i < len(source) and source[i] != "]":
        if source[i] == "\\":
            members.append(source[i : i + 2])
            i += 2
        else:
            members.append(source[i])
            i += 1
    if i >= len(source):
        raise _Unsure
    ranges = "-" in members[1:-1]  # "a-z": a "-" first or last is itself
    nonword = not negated and not ranges and all(m in ("\\s", "\\W") or not m[-1].isalnum() for m in members)
    return ("nonword" if nonword else "other"), i + 1


def _escape(source: str, at: int) -> tuple[str, str, int]:
    if at + 1 >= len(source):
        raise _Unsure
    char = source[at + 1]
    if char == "b":
        return "boundary", "", at + 2
    if char in "sW":
        return "nonword", "", at + 2
    if char in "BAZ":
        return "zero", "", at + 2
    if char in "dDwS":
        return "other", "", at + 2
    if char.isascii() and char.isalnum():
        raise _Unsure  # \n, \u0041, \1 ...
    return "char", char, at + 2


def _quantifier(source: str, at: int) -> tuple[int, bool, int]:
    """The minimum count of the quantifier at ``at`` (1 when there is none), whether there is one,
    and where it ends."""
    found = _QUANTIFIER.match(source, at)
    if found is None:
        return 1, False, at
    text = found.group(0)
    if text.startswith("{") and not found.group(1):
        raise _Unsure  # "{,n}" and "{}" are not read
    minimum = 0 if text in ("?", "*") else 1 if text == "+" else int(found.group(1))
    end = found.end()
    if source[end : end + 1] in ("?", "+"):
        end += 1  # lazy or possessive
    return minimum, True, end


def _clauses(atoms: Sequence[_Atom], left: bool, right: bool) -> list[Clause]:
    """Clauses of one branch; ``left``/``right``: no letter or digit lies just before/after it."""
    out: list[Clause] = []
    run, run_left, bounded = "", False, left  # bounded: no letter or digit just before the next atom
    for k, atom in enumerate(atoms):
        if atom.kind == "char" and atom.minimum > 0:
            if not run:
                run_left = bounded
            run += atom.char
            if not atom.quantified:
                continue  # the run goes on
            out.append(_literal(run, run_left, False))  # what follows may repeat the character
            run, bounded = "", False
            continue
        if run:
            out.append(_literal(run, run_left, atom.bounds_words))
            # a letter or digit just before the next atom: a group after "f" in "f(?:ired|iring)" holds no
            # whole word of its own
            bounded = not _WORD.fullmatch(run[-1])
            run = ""
        if atom.kind == "group" and atom.minimum > 0:
            after = atoms[k + 1].bounds_words if k + 1 < len(atoms) else right
            if atom.quantified:
                after = False  # a repeated group is followed by itself
            out += _either([_clauses(b, bounded, after) for b in atom.branches])
        if atom.kind != "zero":
            bounded = atom.bounds_words
    if run:
        out.append(_literal(run, run_left, right))
    return out


def _literal(text: str, left: bool, right: bool) -> Clause:
    """A literal's clause: its longest whole word (a set lookup) unless that is a short one in a longer
    text ("of" in "panel of experts"), else the text itself."""
    whole = [
        found.group(0)
        for found in _WORD.finditer(text)
        if (found.start() > 0 or left) and (found.end() < len(text) or right)
    ]
    word = max(whole, key=len, default="")
    if len(word) >= _MIN_WORD or (word and len(word) >= len(text.strip())):
        return frozenset({word}), frozenset()
    return frozenset(), frozenset({text})


def _either(branches: list[list[Clause]]) -> list[Clause]:
    """Clauses of an alternation: a branch's own, or one clause joining the best clause of each branch."""
    if len(branches) == 1:
        return branches[0]
    words: set[str] = set()
    texts: set[str] = set()
    for clauses in branches:
        useful = [c for c in clauses if _useful(c)]
        if not useful:
            return []
        best_words, best_texts = max(useful, key=_selectivity)
        words |= best_words
        texts |= best_texts
    return [(frozenset(words), frozenset(texts))]


def _useful(clause: Clause) -> bool:
    """Not held by nearly every item: no one-letter word, no short ASCII text."""
    words, texts = clause
    return all(len(w) > 1 for w in words) and all(len(t) >= _MIN_TEXT or not t.isascii() for t in texts)


def _selectivity(clause: Clause) -> tuple[int, int]:
    """Rare first: whole words over texts, long literals, few alternatives."""
    words, texts = clause
    lengths = [len(w) + 3 for w in words] + [len(t.strip()) for t in texts]
    return (min(min(lengths), 8), -len(lengths))
