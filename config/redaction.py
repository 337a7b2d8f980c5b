"""The registry of secret values this process has seen, and a bounded matcher that hides them.

Rule: a registered secret is hidden wherever it appears whole, and wherever **8 consecutive
characters** of it that include a digit or a symbol appear (so a partial echo of 8+ characters of a
key or token is caught), in its raw form and in the forms it travels in: URL-encoded (``quote`` and
``quote_plus``), JSON-escaped, and base64 (standard and URL-safe, at each of the three byte alignments,
so it is also found inside ``base64("user:" + secret)`` of a Basic header). Fragments made of letters
only are not matched on their own: test and human-chosen secrets contain words ("sim-configured"),
and hiding "configured" in every message would destroy the logs while revealing nothing about a key.
A letters-only fragment that no word is written like is matched, though: one with a capital after its
first character and a small letter ("CANARYbe", "odPipedr"; not "Configur" or "REDACTED"), so a
partial echo of a key whose first characters after a capitalised prefix happen to be hex letters
("CANARYbebbeff3") is still caught. Only an all-small-letters fragment of a key goes unmatched.
Secrets of 4-7 characters are hidden only where they appear whole; shorter ones are not registered.
A window of fewer than :data:`MIN_DISTINCT` different characters ("00000000", "5g000000") is not matched
on its own either: it says nothing about a key, and record ids are full of such runs (a Salesforce id
``0015g000...`` or a post id ``738000...0001`` would be cut to pieces by a key that has one). A real
key's windows have 6-8 different characters, so every partial echo of it longer than a few characters
is still caught by its other windows; the whole secret is always hidden.

Cost does not grow with the number of secrets: each form is indexed as a set of hashes of its 8-char
windows, and a text is scanned once per window length (one hash lookup per position), whatever the
registry holds. Only positions that can start a match are scanned: every match lies in a run of
characters that occur in some registered form (one compiled character-class regex finds those runs at C
speed), so separators (spaces, most punctuation) and characters no secret uses cut the scan down to a
few runs. A JSON-like value is checked as one serialised text first (no secret in it: nothing to
rebuild); see :meth:`SecretIndex.scrub_value`.

The registry is bounded: at most :data:`MAX_SECRETS` secrets and :data:`MAX_WINDOWS` window hashes,
least recently registered first out, and entries expire after :data:`TTL_SECONDS` (workers register
again on every credential load, so live secrets stay).
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
import time
from collections import Counter, OrderedDict
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
#: Length of the windows a partial echo is matched on.
WINDOW = 8
#: Values shorter than this are not registered.
MIN_SECRET_LEN = 4
#: Fewest different characters a window needs to be matched as a fragment of a secret.
MIN_DISTINCT = 5
#: Longest prefix of each form that is indexed (credential values are limited to 16 KB at configure).
MAX_INDEXED = 16_384
#: Registry bounds: secrets, window hashes (about 60 bytes each), and lifetime of an entry.
MAX_SECRETS = 4096
MAX_WINDOWS = 1_000_000
TTL_SECONDS = 24 * 3600.0


def encodings(secret: str) -> set[str]:
    """The forms ``secret`` may be echoed in (raw, URL, JSON, base64 at every alignment)."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1]}
    raw = secret.encode()
    for shift in range(3):
        part = raw[shift:]
        # drop the last, padding-dependent characters: they change with what follows the secret
        usable = len(part) - len(part) % 3
        for enc in (base64.b64encode(part[:usable]), base64.urlsafe_b64encode(part[:usable])):
            text = enc.decode()
            if len(text) >= WINDOW:
                forms.add(text)
    return forms


class SecretIndex:
    """Registered secrets as window hashes (long ones) and exact values (short ones), LRU + TTL bounded."""

    def __init__(self, *, max_secrets: int = MAX_SECRETS, max_windows: int = MAX_WINDOWS,
                 ttl: float = TTL_SECONDS) -> None:
        self.max_secrets, self.max_windows, self.ttl = max_secrets, max_windows, ttl
        self._lock = threading.Lock()
        #: secret -> (expires at, window hashes it added, short exact forms it added, its long forms)
        self._entries: OrderedDict[str, tuple[float, tuple[int, ...], tuple[str, ...], tuple[str, ...]]] = \
            OrderedDict()
        self._windows: Counter[int] = Counter()
        self._short: Counter[str] = Counter()
        #: hash of a long form's first window -> the whole forms starting with it (matched whole)
        self._anchors: dict[int, list[str]] = {}
        #: Every character of every form registered since the last :meth:`clear` (a superset after
        #: evictions, which is safe: it only widens the runs scanned), and the regex finding runs of them.
        self._chars: set[str] = set()
        self._shortest = WINDOW
        self._runs: re.Pattern[str] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def window_count(self) -> int:
        """How many distinct window hashes are indexed."""
        return len(self._windows)

    def add(self, secret: str) -> None:
        """Register ``secret`` (again: it moves to the young end and its lifetime restarts)."""
        if len(secret) < MIN_SECRET_LEN:
            return
        now = time.monotonic()
        with self._lock:
            if secret in self._entries:
                entry = self._entries.pop(secret)
                self._entries[secret] = (now + self.ttl, *entry[1:])
                return
            hashes_set: set[int] = set()
            short_set: set[str] = set()
            long_set: set[str] = set()
            for form in encodings(secret):
                form = form[:MAX_INDEXED]
                if len(form) < WINDOW:
                    short_set.add(form)
                    continue
                long_set.add(form)
                hashes_set.update(hash(w) for w in (form[i:i + WINDOW] for i in range(len(form) - WINDOW + 1))
                                  if _telling(w))
            hashes, short, long = tuple(hashes_set), tuple(short_set), tuple(long_set)
            self._windows.update(hashes)
            self._short.update(short)
            for form in long:
                self._anchors.setdefault(hash(form[:WINDOW]), []).append(form)
            self._entries[secret] = (now + self.ttl, hashes, short, long)
            new_chars = set().union(*long, *short) - self._chars
            shortest = min([self._shortest, *map(len, short)])
            if new_chars or shortest < self._shortest or self._runs is None:
                self._chars |= new_chars
                self._shortest = shortest
                self._runs = _run_pattern(self._chars, shortest)
            self._evict(now)

    def _evict(self, now: float) -> None:
        while self._entries and (len(self._entries) > self.max_secrets or len(self._windows) > self.max_windows
                                 or next(iter(self._entries.values()))[0] < now):
            _, (_, hashes, short, long) = self._entries.popitem(last=False)
            for form in long:
                forms = self._anchors.get(hash(form[:WINDOW]), [])
                if form in forms:
                    forms.remove(form)
                if not forms:
                    self._anchors.pop(hash(form[:WINDOW]), None)
            self._windows.subtract(hashes)
            self._short.subtract(short)
            for h in hashes:
                if self._windows[h] <= 0:
                    del self._windows[h]
            for s in short:
                if self._short[s] <= 0:
                    del self._short[s]

    def clear(self) -> None:
        """Forget every secret (tests)."""
        with self._lock:
            self._entries.clear()
            self._windows.clear()
            self._short.clear()
            self._anchors.clear()
            self._chars.clear()
            self._shortest = WINDOW
            self._runs = None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Merged ``(start, end)`` ranges of ``text`` that belong to a registered secret."""
        windows, short, anchors, runs = self._windows, self._short, self._anchors, self._runs
        if (not anchors and not short) or runs is None:
            return []
        hits: list[tuple[int, int]] = []
        lengths = {len(s) for s in list(short)} if short else ()
        # a match (window, whole form or short secret) is made only of characters of registered forms
        for run in runs.finditer(text):
            start, end = run.span()
            if anchors and end - start >= WINDOW:
                for i in range(start, end - WINDOW + 1):
                    h = hash(text[i:i + WINDOW])
                    if h in windows and not self._vocabulary(text, i, i + WINDOW):
                        hits.append((i, i + WINDOW))
                    if h in anchors:
                        hits.extend((i, i + len(f)) for f in list(anchors.get(h, ())) if text.startswith(f, i))
            for length in lengths:
                for i in range(start, end - length + 1):
                    if text[i:i + length] in short:
                        hits.append((i, i + length))
        return _merge(hits)

    def _vocabulary(self, text: str, start: int, end: int) -> bool:
        """True when ``text[start:end]`` lies inside a whole word of Sintra's own vocabulary.

        A secret such as ``goodPipedriveToken01`` shares the window ``ipedrive`` with the provider name
        ``pipedrive``: hiding the name wherever it appears would destroy logs and results, and the name
        tells nothing about the secret.
        """
        lo, hi = start, end
        while lo > 0 and (text[lo - 1].isalnum() or text[lo - 1] == "_"):
            lo -= 1
        while hi < len(text) and (text[hi].isalnum() or text[hi] == "_"):
            hi += 1
        if not all(c.isalnum() or c == "_" for c in text[start:end]):
            return False
        return text[lo:hi].lower() in vocabulary()

    def scrub(self, text: str) -> str:
        """``text`` with every registered secret's span replaced by ``[REDACTED]``."""
        spans = self.spans(text)
        if not spans:
            return text
        out, pos = [], 0
        for start, end in spans:
            out.append(text[pos:start])
            out.append(REDACTED)
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def scrub_value(self, value: Any) -> Any:
        """Scrub every string (and dict key) inside a JSON-like ``value``.

        A container is first serialised once (C speed) and that text checked: when it holds no backslash,
        every string and key of ``value`` appears in it verbatim, so no match in it means none in any of
        them and ``value`` is returned as it is. Otherwise (an escape, a match, or a value JSON cannot
        serialise) each string is scrubbed on its own, as before.
        """
        if isinstance(value, str):
            return self.scrub(value)
        if not isinstance(value, (dict, list, tuple)):
            return value
        if self._runs is None:
            return value
        try:
            text = json.dumps(value, ensure_ascii=False, check_circular=False, allow_nan=True)
        except (TypeError, ValueError, RecursionError):
            text = None
        if text is not None and "\\" not in text and not self.spans(text):
            return value
        return self._scrub_each(value)

    def _scrub_each(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {(self.scrub(k) if isinstance(k, str) else k): self._scrub_each(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._scrub_each(v) for v in value)
        return value


def _telling(window: str) -> bool:
    """Whether a window of a secret is matched on its own: varied enough, and not written like a word."""
    if len(set(window)) < MIN_DISTINCT:
        return False
    if not window.isalpha():
        return True
    return any(c.isupper() for c in window[1:]) and any(c.islower() for c in window)


def _run_pattern(chars: set[str], shortest: int) -> re.Pattern[str]:
    """A regex matching runs of at least ``shortest`` characters, each one of ``chars``."""
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + f"]{{{shortest},}}")


def _merge(hits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    hits.sort()
    merged: list[tuple[int, int]] = []
    for start, end in hits:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@functools.cache
def vocabulary() -> frozenset[str]:
    """Sintra's own words (catalog agent, integration, provider, action and credential field names)."""
    from config.catalog import agents

    words: set[str] = set()
    for a in agents():
        words.update((a.id, a.name.lower()))
        for i in a.integrations:
            words.update((i.id, i.provider, *(x.name for x in i.actions), *(f.name for f in i.credential_fields)))
            words.update(part for name in (i.id, i.provider) for part in name.split("_"))
    return frozenset(w.lower() for w in words)


#: This process's registry.
SECRETS = SecretIndex()
