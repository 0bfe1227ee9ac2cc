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
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
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
_MIN_PENDING_RUN = 2  # substrings with no longer run are tested on every text
_SHORT_RUN = 3  # a run this long or shorter is likely a common word ("to", "the")
_MIN_SHARED = 4  # a shared prefix or suffix of spellings shorter than this is in too many texts


def words_of(low: str) -> list[bytes]:
    """The maximal ``[a-z0-9]`` runs of a lower-cased text, as bytes (one C-speed pass; repeats kept:
    a set of them would cost more to build than the set lookups it saves)."""
    return low.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split()


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
            out += _spelled_clauses(spellings, _ends_nonword(ops[:k], left), _starts_nonword(ops[end:], right), words)
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


def _spelled_clauses(spellings: list[str], left: bool, right: bool, words: bool) -> list[Clause]:
    """Clauses of a stretch with these spellings: one per whole word when there is a single spelling
    (all of them are needed), else one naming, for every spelling, its longest whole word or itself."""
    distinct = list(dict.fromkeys(spellings))
    if len(distinct) == 1:
        text = distinct[0]
        whole = _whole_words(text, left, right) if words else []
        if whole:
            clauses = [(frozenset({w.encode()}), frozenset[str]()) for w in whole]
            if whole != [text]:  # the words may be common ("to" in "ship-to-ship"): need the text too
                clauses.append((frozenset(), frozenset({text})))
            return clauses
    # what every spelling starts or ends with is needed by itself ("sanctioned " of "sanctioned
    # (?:by|under) ..."), and is often rarer than the best word of each spelling ("by", "under")
    shared: list[Clause] = []
    if len(distinct) > 1:
        prefix = _common_prefix(distinct)
        if len(prefix.strip()) >= _MIN_SHARED:
            shared += _spelled_clauses([prefix], left, False, words)
        suffix = _common_prefix([text[::-1] for text in distinct])[::-1]
        if len(suffix.strip()) >= _MIN_SHARED:
            shared += _spelled_clauses([suffix], False, right, words)
    found: list[Clause] = []
    for text in distinct:
        clause = _literal_clause(text, left, right, words)
        if clause is None:
            return shared  # this spelling needs nothing more we can look for
        found.append(clause)
    return [union(found), *shared]


def _common_prefix(texts: list[str]) -> str:
    """The longest string all of ``texts`` start with (that of the first and last in sort order)."""
    first, last = min(texts), max(texts)
    for i, char in enumerate(first):
        if char != last[i]:
            return first[:i]
    return first


def _literal_clause(text: str, left: bool, right: bool, words: bool) -> Clause | None:
    """A literal as a clause: its longest whole word when it has one, else the literal itself."""
    if words:
        whole = _whole_words(text, left, right)
        if whole:
            return frozenset({max(whole, key=len).encode()}), frozenset()
    if len(text) >= 2 or not text.isascii():  # one CJK character is a usable literal
        return frozenset(), frozenset({text})
    return None


def _whole_words(text: str, left: bool, right: bool) -> list[str]:
    """The runs of [a-z0-9] in a literal that stand as whole words (non-alphanumerics on both sides)."""
    return [m.group() for m in _PIECE.finditer(text) if (m.start() > 0 or left) and (m.end() < len(text) or right)]


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


class ClauseIndex:
    """Which numbered clauses hold in a lower-cased text, found mostly at C speed through its words.

    Testing hundreds of substrings with ``in`` per item costs more than the regexes they guard. Each
    distinct word of the text is mapped, once (memoised: news vocabulary repeats), to the clauses it
    satisfies by itself: its own entry as a whole word, and the substrings of only ``[a-z0-9]`` that
    it contains. A substring with other characters ("north korea", "sanctions-hit") is filed under
    one of its runs (see ``_filing_run``) and confirmed with ``in`` only when a word holding that run
    as the substring needs (containing, starting or ending with it, or being it) is present.
    Substrings without such a run (Japanese, Korean) are filed under one of their non-ASCII
    characters and only tested when the text has that character.
    """

    _MEMO_LIMIT = 200_000

    def __init__(self, numbered: Mapping[Clause, int]) -> None:
        by_word: dict[bytes, set[int]] = {}
        by_text: dict[str, set[int]] = {}
        for (clause_words, clause_texts), number in numbered.items():
            for word in clause_words:
                by_word.setdefault(word, set()).add(number)
            # a substring holding another of the clause's ("-17" and "17") adds nothing to test
            for text in clause_texts:
                if not any(other != text and other in text for other in clause_texts):
                    by_text.setdefault(text, set()).add(number)
        self._by_word = {w: frozenset(ids) for w, ids in by_word.items()}
        runs_of = {text: _PIECE.findall(text) for text in by_text}
        sharing: dict[str, int] = {}
        for runs in runs_of.values():
            for run in set(runs):
                sharing[run] = sharing.get(run, 0) + 1
        by_run: dict[bytes, set[int]] = {}  # run -> clauses holding whenever the run is in a word
        # run -> (how a word must hold it, index in _pending) of the substrings to confirm
        pending_by_run: dict[bytes, list[tuple[int, int]]] = {}
        pending: list[tuple[str, frozenset[int]]] = []
        by_char: dict[str, list[tuple[str, frozenset[int]]]] = {}
        loose: list[tuple[str, frozenset[int]]] = []
        foreign = {text: [c for c in text if not c.isascii()] for text, runs in runs_of.items() if not runs}
        char_sharing: dict[str, int] = {}
        for chars in foreign.values():
            for char in set(chars):
                char_sharing[char] = char_sharing.get(char, 0) + 1
        for text, runs in runs_of.items():
            ids = frozenset(by_text[text])
            if not runs:
                chars = foreign[text]
                if chars:
                    by_char.setdefault(min(chars, key=lambda c: (char_sharing[c], c)), []).append((text, ids))
                else:
                    loose.append((text, ids))
            elif runs == [text]:
                by_run.setdefault(text.encode(), set()).update(ids)
            else:
                # the run least shared with other literals (a topic's core word such as "missile" is
                # in many, and in most texts of the topic), but not a short one ("n" of "n.", "s" of
                # "u.s."), which is in most words of any text
                long_runs = [r for r in runs if len(r) >= _MIN_PENDING_RUN] or runs
                run = min(long_runs, key=lambda r: (sharing[r] + (r.encode() in self._by_word), -len(r)))
                if not text.isascii() and len(run) < _MIN_PENDING_RUN + 1:
                    char = min((c for c in text if not c.isascii()), key=lambda c: (char_sharing.get(c, 0), c))
                    by_char.setdefault(char, []).append((text, ids))
                elif len(run) >= _MIN_PENDING_RUN:
                    filed, fit = _filing_run(text, lambda r: sharing[r] + (r.encode() in self._by_word))
                    pending_by_run.setdefault(filed.encode(), []).append((fit, len(pending)))
                    pending.append((text, ids))
                else:
                    loose.append((text, ids))
        self._by_run = {run: frozenset(ids) for run, ids in by_run.items()}
        self._pending_by_run = {run: tuple(entries) for run, entries in pending_by_run.items()}
        self._pending = tuple(pending)
        self._loose = tuple(loose)
        self._by_char = {char: tuple(entries) for char, entries in by_char.items()}
        self._chars = frozenset(by_char)
        # one C-speed scan tells whether any of those characters is there (dashes and accents are not)
        self._char_probe = re.compile("[" + "".join(map(re.escape, sorted(by_char))) + "]" if by_char else "(?!)")
        lengths: dict[int, set[bytes]] = {}
        for run in {*self._by_run, *self._pending_by_run}:
            lengths.setdefault(len(run), set()).add(run)
        self._runs_by_length = tuple(sorted((n, frozenset(runs)) for n, runs in lengths.items()))
        self._memo = _WordMemo()

    def satisfied(self, low: str, non_ascii: bool | None = None) -> set[int]:
        """Ids of the clauses that hold in the lower-cased text ``low``.

        ``non_ascii``: whether ``low`` has non-ASCII characters besides ones no literal holds (the
        engine's separator), when the caller knows it; None: found here.
        """
        words = words_of(low)
        memo = self._memo
        # every known word has an entry (mostly the empty set): one C-speed pass over the words
        # (itemgetter fetches them all in one call; with the empty word, known to all memos, it
        # always has two or more items and so returns a tuple)
        fetch = itemgetter(b"", *words)
        try:
            out: set[int] = set().union(*fetch(memo.ids))
        except KeyError:  # a word not seen yet
            memo = self._learn(words)
            out = set().union(*fetch(memo.ids))
        # a substring is tested only when some clause it would satisfy does not hold yet ("in" is
        # slow for short substrings; many are alternatives of a clause held already); they are found
        # by index: a set of ints is cheaper to build than one of (text, ids) tuples
        pending = self._pending
        for k in set().union(*map(memo.pending.__getitem__, memo.with_pending.intersection(words))):
            text, ids = pending[k]
            if not ids <= out and text in low:
                out |= ids
        for text, ids in self._loose:
            if not ids <= out and text in low:
                out |= ids
        if non_ascii is None:
            non_ascii = not low.isascii()
        if non_ascii and self._char_probe.search(low):
            for char in self._chars.intersection(low):
                for text, ids in self._by_char[char]:
                    if not ids <= out and text in low:
                        out |= ids
        return out

    def _learn(self, words: list[bytes]) -> _WordMemo:
        """Memoise the words not seen yet; returns the memo holding all of ``words``."""
        memo = self._memo
        if len(memo.ids) >= self._MEMO_LIMIT:
            # bounded memory: start afresh (a thread still reading the old memo keeps it intact)
            memo = self._memo = _WordMemo()
        for word in set(words).difference(memo.ids):
            size = len(word)
            runs = {
                word[i : i + n] for n, runs in self._runs_by_length if n <= size for i in range(size - n + 1)
                if word[i : i + n] in runs
            }  # fmt: skip
            ids = set(self._by_word.get(word, ()))
            pending: set[int] = set()
            for run in runs:
                ids.update(self._by_run.get(run, ()))
                pending.update(i for fit, i in self._pending_by_run.get(run, ()) if _fits(word, run, fit))
            # pending first: a thread that finds the word in ``with_pending`` must find it in the map,
            # and one that finds it in ``ids`` takes it as fully known
            if pending:
                memo.pending[word] = frozenset(pending)
                memo.with_pending.add(word)
            memo.ids[word] = frozenset(ids) if ids else _NO_IDS
        return memo


# how a word holding a run of a substring must hold it, from what surrounds the run in the substring
# (flags: a run that both starts and ends a word is one)
_CONTAINS, _STARTS, _ENDS, _IS = 0, 1, 2, 3
_SELECTIVITY = {_CONTAINS: 0, _STARTS: 1, _ENDS: 1, _IS: 2}


def _filing_run(text: str, sharing: Callable[[str], int]) -> tuple[str, int]:
    """The run of [a-z0-9] of a substring under which to file it, and how a word must hold that run.

    The run least shared with other literals (a topic's core word such as "missile" is in many, and
    in most texts of the topic), then the most telling: a run with a non-alphanumeric character
    after it in the substring ends a word of any text the substring is in ("co" of "co."), one with
    such a character before it starts one ("korea" of "n.korea"): far fewer words than merely
    contain it. Runs shorter than _MIN_PENDING_RUN are in most words of any text, and short words
    ("to" of "ship-to-ship", "the") in most texts: only the last resort.
    """
    best: tuple[tuple[bool, int, int, int], str, int] | None = None
    for piece in _PIECE.finditer(text):
        run = piece.group()
        if len(run) < _MIN_PENDING_RUN:
            continue
        fit = (_STARTS if piece.start() > 0 else _CONTAINS) | (_ENDS if piece.end() < len(text) else _CONTAINS)
        key = (len(run) <= _SHORT_RUN, sharing(run), -_SELECTIVITY[fit], -len(run))
        if best is None or key < best[0]:
            best = (key, run, fit)
    assert best is not None  # only called for substrings with a run of _MIN_PENDING_RUN
    return best[1], best[2]


def _fits(word: bytes, run: bytes, fit: int) -> bool:
    """Whether ``word`` (which contains ``run``) holds it as ``fit`` requires."""
    if fit == _IS:
        return word == run
    if fit == _STARTS:
        return word.startswith(run)
    if fit == _ENDS:
        return word.endswith(run)
    return True


_NO_IDS: frozenset[int] = frozenset()


class _WordMemo:
    """Per distinct word: the clause ids it satisfies and the pending substrings it may complete.

    Every word seen has its clause ids (most have none); only words with pending substrings are in
    ``pending`` (few are), so finding those of a text's words is one C-speed set intersection.
    """

    __slots__ = ("ids", "pending", "with_pending")

    def __init__(self) -> None:
        self.ids: dict[bytes, frozenset[int]] = {b"": _NO_IDS}  # every word seen (and the empty one)
        self.pending: dict[bytes, frozenset[int]] = {}  # substrings to confirm (indexes in ClauseIndex._pending)
        self.with_pending: set[bytes] = set()


def start_literals(regex: re.Pattern[str]) -> list[tuple[str, Clause]] | None:
    """For a regex that opens with an alternation ("\\b(?:north korea|pyongyang|kim)..."): the literals
    one of which every match starts with, each with a clause that holds when it occurs; None for any
    other regex.

    ``re`` tries such a regex at every position of the text, each time trying every alternative.
    Where none of these literals occurs, no match can start, so the classifier tries the regex
    only at their occurrences (see ``engine``), and only for those whose clause holds.
    """
    if regex.flags & re.IGNORECASE:
        return None
    try:
        ops = list(sre_parse.parse(regex.pattern, regex.flags))
    except (re.error, TypeError, ValueError):
        return None
    k = 0
    while k < len(ops) and (ops[k][0] is sre_c.AT or ops[k][0] in _ASSERTS):
        k += 1  # zero-width: \b, lookarounds
    if k >= len(ops) or ops[k][0] not in (sre_c.SUBPATTERN, sre_c.BRANCH):
        return None  # ``re`` finds a literal prefix fast by itself
    prefixes = _prefixes(ops[k:])
    if not prefixes:
        return None
    shortest = sorted(set(prefixes), key=len)
    kept: list[str] = []
    for text in shortest:
        if not any(text.startswith(other) for other in kept):
            kept.append(text)  # occurrences of a longer one are occurrences of this one
    out: list[tuple[str, Clause]] = []
    for text in kept:
        # its longest [a-z0-9] run, which some word of the text contains when it occurs: known from
        # the words alone (see ClauseIndex), where a longer substring would need testing with ``in``
        runs = _PIECE.findall(text)
        piece = max(runs, key=len) if runs else text
        if len(piece) < 2:
            piece = text  # a single letter is in most words: the literal itself, tested with ``in``
        out.append((text, (frozenset[bytes](), frozenset({piece}))))
    return out


def _prefixes(ops: list[Any]) -> list[str] | None:
    """Non-empty literal strings one of which every match of ``ops`` starts with (None: unknown)."""
    k = 0
    while k < len(ops) and ops[k][0] in _ASSERTS:
        k += 1
    if k >= len(ops):
        return None
    op, arg = ops[k]
    if op is sre_c.SUBPATTERN and not arg[1] & re.IGNORECASE:
        return _prefixes(list(arg[-1]))
    if op is sre_c.BRANCH:
        out: list[str] = []
        for branch in arg[1]:
            sub = _prefixes(list(branch))
            if sub is None:
                return None
            out += sub
        return out if len(out) <= _MAX_SPELLINGS else None
    if op in _REPEATS and arg[0] >= 1:
        return _prefixes(list(arg[2]))
    # the longest spelled-out stretch from here (a literal, a small class, a short optional part)
    best: list[str] | None = None
    for end in range(k + 1, len(ops) + 1):
        spelled = _spellings(ops[k:end])
        if spelled is None:
            break
        if all(spelled):
            best = spelled
    return best
