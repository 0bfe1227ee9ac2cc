"""Literal prefilters for regexes: which words or substrings every match of a regex must contain.

Python's ``re`` spends most of its time trying patterns at positions where they cannot match, so the
classifier only runs a regex when the text holds what every match of it needs. Parsing a regex gives
*clauses*: each clause is a set of literals of which at least one occurs in any match, and every
clause must hold. A literal is either

- a whole **word** (a maximal run of ``[a-z0-9]``, when the regex puts a non-alphanumeric character,
  ``\\b``, a string edge or ``(?!\\w)`` on both sides of it), looked up in the item's set of words, or
- a **substring**, tested with ``in``.

Skipping a regex whose clauses fail can never change a result: such a regex has no match. So every
test here only has to be *necessary* for a match; whenever the analysis is unsure it finds nothing,
and the regex simply always runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

# (whole words as ASCII bytes, substrings): at least one of them is in every match
Clause = tuple[frozenset[bytes], frozenset[str]]

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM_CODES = frozenset(map(ord, _ALNUM))
_DIGIT_CODES = frozenset(map(ord, "0123456789"))
_PIECE = re.compile(r"[a-z0-9]+")
# every byte that is not [a-z0-9] becomes a space, so bytes.split() yields the text's words (UTF-8
# multi-byte characters are all >= 0x80 and so separate words, like any other non-alphanumeric)
_WORD_BYTES = bytes(c if c in _ALNUM_CODES else 0x20 for c in range(256))
_NONWORD_AFTER = (sre_c.AT_BOUNDARY, sre_c.AT_END, sre_c.AT_END_STRING)
_NONWORD_BEFORE = (sre_c.AT_BOUNDARY, sre_c.AT_BEGINNING, sre_c.AT_BEGINNING_STRING)
_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT)
_MAX_SPELLINGS = 64
_ASSERTS = (sre_c.ASSERT, sre_c.ASSERT_NOT)


def words_of(low: str) -> set[bytes]:
    """The maximal ``[a-z0-9]`` runs of a lower-cased text, as bytes (one C-speed pass)."""
    return set(low.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split())


def clauses_of(regex: re.Pattern[str], words: bool = True) -> list[Clause]:
    """Clauses every match of ``regex`` satisfies, best first; [] when none can be found.

    ``words=False`` for regexes run on text as written (case-sensitive): only substrings are used.
    """
    if regex.flags & re.IGNORECASE:
        return []
    try:
        parsed = sre_parse.parse(regex.pattern, regex.flags)
    except (re.error, TypeError, ValueError):
        return []
    found: list[Clause] = []
    for clause in _clauses(list(parsed), False, False, words):
        if clause not in found:
            found.append(clause)
    found.sort(key=clause_quality, reverse=True)
    return found


def clause_quality(clause: Clause) -> tuple[int, int]:
    """Prefer clauses rare in text: whole words over substrings, long literals, few alternatives."""
    word_set, texts = clause
    lengths = [len(w) + 3 for w in word_set] + [len(t.strip()) for t in texts]
    return (min(min(lengths), 8), -len(lengths))


def union(clauses: Iterable[Clause]) -> Clause:
    """One clause that holds when any of the given clauses holds."""
    word_set: set[bytes] = set()
    texts: set[str] = set()
    for clause_words, clause_texts in clauses:
        word_set |= clause_words
        texts |= clause_texts
    return frozenset(word_set), frozenset(texts)


def _clauses(ops: list[Any], left: bool, right: bool, words: bool) -> list[Clause]:
    """Clauses of a parsed sequence; ``left``/``right``: the characters around it are not [a-z0-9]."""
    out: list[Clause] = []
    k = 0
    while k < len(ops):
        # a stretch of parts with few spellings ("missiles?", "kim jong[- ]?un") as its spelled-out strings
        end, spellings = k, [""]
        while end < len(ops):
            part = _spellings(ops[end : end + 1])
            if part is None or len(spellings) * len(part) > _MAX_SPELLINGS:
                break
            spellings = [a + b for a in spellings for b in part]
            end += 1
        if end > k:
            clause = _spelled_clause(spellings, _ends_nonword(ops[:k], left), _starts_nonword(ops[end:], right), words)
            if clause is not None:
                out.append(clause)
            k = end
            continue
        op, arg = ops[k]
        before = _ends_nonword(ops[:k], left)
        after = _starts_nonword(ops[k + 1 :], right)
        if op is sre_c.SUBPATTERN and not arg[1] & re.IGNORECASE:
            out += _clauses(list(arg[-1]), before, after, words)
        elif op is sre_c.BRANCH:
            best: list[Clause] = []
            for branch in arg[1]:
                sub = _clauses(list(branch), before, after, words)
                if not sub:
                    best = []
                    break
                best.append(max(sub, key=clause_quality))
            if best:
                out.append(union(best))
        elif op in _REPEATS and arg[0] >= 1:
            # a repeated part may sit next to itself, so its edges are only known for a single copy
            single = arg[1] == 1
            out += _clauses(list(arg[2]), before and single, after and single, words)
        k += 1
    return out


def _spellings(ops: list[Any]) -> list[str] | None:
    """Every string a small literal sequence can match (None when it is not small or literal)."""
    out = [""]
    for op, arg in ops:
        part: list[str] | None
        if op is sre_c.LITERAL:
            part = [chr(arg)]
        elif op is sre_c.IN and all(item_op is sre_c.LITERAL for item_op, _ in arg) and len(arg) <= 4:
            part = [chr(code) for _, code in arg]
        elif op is sre_c.SUBPATTERN and not arg[1] & re.IGNORECASE:
            part = _spellings(list(arg[-1]))
        elif op is sre_c.BRANCH:
            part = []
            for branch in arg[1]:
                sub = _spellings(list(branch))
                if sub is None:
                    return None
                part += sub
        elif op in _REPEATS and arg[1] <= 2:
            sub = _spellings(list(arg[2]))
            if sub is None:
                return None
            part = []
            for count in range(arg[0], arg[1] + 1):
                copies = [""]
                for _ in range(count):
                    copies = [a + b for a in copies for b in sub]
                part += copies
        else:
            return None
        if part is None or len(out) * len(part) > _MAX_SPELLINGS:
            return None
        out = [a + b for a in out for b in part]
    return out


def _spelled_clause(spellings: list[str], left: bool, right: bool, words: bool) -> Clause | None:
    """A clause naming, for every spelling, its longest whole word or else the spelling itself."""
    found: list[Clause] = []
    for text in dict.fromkeys(spellings):
        clause = _literal_clause(text, left, right, words)
        if clause is None:
            return None  # this spelling needs nothing we can look for
        found.append(clause)
    return union(found)


def _literal_clause(text: str, left: bool, right: bool, words: bool) -> Clause | None:
    """A literal run as a clause: its longest whole word when it has one, else the run itself."""
    if words:
        whole = [m.group() for m in _PIECE.finditer(text) if (m.start() > 0 or left) and (m.end() < len(text) or right)]
        if whole:
            return frozenset({max(whole, key=len).encode()}), frozenset()
    if len(text) >= 2:
        return frozenset(), frozenset({text})
    return None


def _starts_nonword(ops: list[Any], after: bool) -> bool:
    """Whether what follows an [a-z0-9] character here (``ops``, then ``after``) is not [a-z0-9]."""
    for k, (op, arg) in enumerate(ops):
        if op is sre_c.LITERAL:
            return chr(arg) not in _ALNUM
        if op is sre_c.IN:
            return _excludes_alnum(arg)
        if op is sre_c.AT:
            return arg in _NONWORD_AFTER
        if op is sre_c.ASSERT_NOT and arg[0] == 1 and _covers_alnum(arg[1]):
            return True  # (?!\w)
        if op in _ASSERTS:
            continue  # zero-width: the next character is decided further on
        rest = _starts_nonword(ops[k + 1 :], after)
        if op is sre_c.SUBPATTERN:
            return not arg[1] & re.IGNORECASE and _starts_nonword(list(arg[-1]), rest)
        if op is sre_c.BRANCH:
            return all(_starts_nonword(list(branch), rest) for branch in arg[1])
        if op in _REPEATS:
            first = _starts_nonword(list(arg[2]), rest)
            return first if arg[0] >= 1 else first and rest
        return False
    return after


def _ends_nonword(ops: list[Any], before: bool) -> bool:
    """Whether what precedes an [a-z0-9] character here (``before``, then ``ops``) is not [a-z0-9]."""
    for k in range(len(ops) - 1, -1, -1):
        op, arg = ops[k]
        if op is sre_c.LITERAL:
            return chr(arg) not in _ALNUM
        if op is sre_c.IN:
            return _excludes_alnum(arg)
        if op is sre_c.AT:
            return arg in _NONWORD_BEFORE
        if op is sre_c.ASSERT_NOT and arg[0] == -1 and _covers_alnum(arg[1]):
            return True  # (?<!\w)
        if op in _ASSERTS:
            continue
        rest = _ends_nonword(ops[:k], before)
        if op is sre_c.SUBPATTERN:
            return not arg[1] & re.IGNORECASE and _ends_nonword(list(arg[-1]), rest)
        if op is sre_c.BRANCH:
            return all(_ends_nonword(list(branch), rest) for branch in arg[1])
        if op in _REPEATS:
            last = _ends_nonword(list(arg[2]), rest)
            return last if arg[0] >= 1 else last and rest
        return False
    return before


def _excludes_alnum(items: list[Any]) -> bool:
    """Whether a character class ([...], \\s, \\W) matches no [a-z0-9] character."""
    for op, arg in items:
        if op is sre_c.LITERAL:
            if arg in _ALNUM_CODES:
                return False
        elif op is sre_c.RANGE:
            if any(arg[0] <= code <= arg[1] for code in _ALNUM_CODES):
                return False
        elif op is sre_c.CATEGORY:
            if arg not in (sre_c.CATEGORY_SPACE, sre_c.CATEGORY_NOT_WORD):
                return False
        else:  # NEGATE and anything rarer: unsure
            return False
    return True


def _covers_alnum(pattern: Any) -> bool:
    """Whether a one-character pattern (the body of a lookaround) matches every [a-z0-9] character."""
    ops = list(pattern)
    if len(ops) != 1 or ops[0][0] is not sre_c.IN:
        return False
    covered: set[int] = set()
    for op, arg in ops[0][1]:
        if op is sre_c.LITERAL:
            covered.add(arg)
        elif op is sre_c.RANGE:
            covered.update(code for code in _ALNUM_CODES if arg[0] <= code <= arg[1])
        elif op is sre_c.CATEGORY and arg == sre_c.CATEGORY_WORD:
            return True
        elif op is sre_c.CATEGORY and arg == sre_c.CATEGORY_DIGIT:
            covered |= _DIGIT_CODES
        elif op is sre_c.NEGATE:
            return False
    return covered >= _ALNUM_CODES


class TextIndex:
    """Which of many ASCII substrings occur in a lower-cased text, found through the text's words.

    Testing hundreds of substrings with ``in`` costs more than the regexes they guard. Every substring
    with a ``[a-z0-9]`` run lies inside one of the text's words, so each substring is filed under one
    of its runs (the one shared by the fewest substrings), and each distinct word is mapped once to the
    runs it contains (memoised: news vocabulary repeats). Only substrings filed under a run found that
    way are confirmed with ``in``; a substring that is exactly its run needs no confirming.
    Substrings without such a run (Japanese, Korean) are filed under one of their non-ASCII
    characters and only tested when the text has that character.
    """

    _MEMO_LIMIT = 200_000

    def __init__(self, texts: Iterable[str]) -> None:
        keys = sorted(set(texts))
        runs_of = {key: _PIECE.findall(key) for key in keys}
        sharing: dict[str, int] = {}
        for runs in runs_of.values():
            for run in set(runs):
                sharing[run] = sharing.get(run, 0) + 1
        by_run: dict[bytes, list[tuple[str, bool]]] = {}
        loose: list[str] = []
        foreign = {key: [c for c in key if not c.isascii()] for key, runs in runs_of.items() if not runs}
        char_sharing: dict[str, int] = {}
        for chars in foreign.values():
            for char in set(chars):
                char_sharing[char] = char_sharing.get(char, 0) + 1
        by_char: dict[str, list[str]] = {}
        for key, runs in runs_of.items():
            if not runs:
                chars = foreign[key]
                if chars:
                    by_char.setdefault(min(chars, key=lambda c: (char_sharing[c], c)), []).append(key)
                else:
                    loose.append(key)
                continue
            run = min(runs, key=lambda r: (sharing[r], -len(r)))
            by_run.setdefault(run.encode(), []).append((key, key == run))
        self._by_run = {run: tuple(keys) for run, keys in by_run.items()}
        self._loose = tuple(loose)
        self._by_char = {char: tuple(keys) for char, keys in by_char.items()}
        self._chars = frozenset(by_char)
        lengths: dict[int, set[bytes]] = {}
        for run in self._by_run:
            lengths.setdefault(len(run), set()).add(run)
        self._runs_by_length = tuple(sorted((n, frozenset(runs)) for n, runs in lengths.items()))
        self._runs_in: dict[bytes, frozenset[bytes]] = {}

    def found(self, low: str, words: set[bytes]) -> set[str]:
        """The indexed substrings that occur in ``low`` (``words``: ``words_of(low)``)."""
        runs_in = self._runs_in
        runs: set[bytes] = set()
        for word in words:
            inside = runs_in.get(word)
            if inside is None:
                inside = self._runs_inside(word)
            if inside:
                runs |= inside
        out = {key for key in self._loose if key in low}
        by_run = self._by_run
        for run in runs:
            for key, is_run in by_run[run]:
                if is_run or key in low:
                    out.add(key)
        if not low.isascii():
            for char in self._chars.intersection(low):
                out.update(key for key in self._by_char[char] if key in low)
        return out

    def _runs_inside(self, word: bytes) -> frozenset[bytes]:
        size = len(word)
        inside = frozenset(
            word[i : i + n] for n, runs in self._runs_by_length if n <= size for i in range(size - n + 1)
            if word[i : i + n] in runs
        )  # fmt: skip
        if len(self._runs_in) >= self._MEMO_LIMIT:
            self._runs_in.clear()  # bounded memory; a racing thread at worst recomputes
        self._runs_in[word] = inside
        return inside
