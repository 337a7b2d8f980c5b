"""Read the copy Penn's writers return: the text of a Copy.ai or Jasper result, a caption and its hashtags,
one email's subject, preview and body.

The shapes are the actions' results: Copy.ai's ``generate_content`` gives ``text`` (the run's first text
output) beside the run's whole ``output`` (keyed by the workflow's step names, so a workflow may answer
``{"caption": ..., "hashtags": ...}``); Jasper's ``run_command`` gives ``text`` and ``outputs``
(``[{"id", "text"}]``). Anything unusable is a :class:`UnusableCopy` that says what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_TAG = re.compile(r"#(\w{1,100})")
_TAG_LINE = re.compile(r"^\s*(?:(?:hashtags?|tags)\s*:\s*)?(?:#\w+[\s,]*)+$", re.IGNORECASE)
_LABEL = re.compile(r"^\s*\**\s*(subject(?: line)?|preview(?: text)?|preheader)\s*\**\s*:\s*(.+?)\s*$", re.IGNORECASE)
_TRAILING = re.compile(r"(?:\s+#\w+){2,}\s*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{3,}")
#: Words that make poor hashtags when they are topped up from the brief.
_STOP = frozenset({"about", "after", "also", "because", "been", "before", "being", "could", "every", "from",
                   "have", "here", "into", "just", "like", "more", "most", "only", "other", "over", "post",
                   "some", "such", "than", "that", "their", "them", "then", "there", "these", "they", "this",
                   "those", "very", "what", "when", "where", "which", "while", "will", "with", "write",
                   "would", "your", "caption", "hashtags", "hashtag", "instagram", "relevant"})


class UnusableCopy(ValueError):
    """A writer's result holds no copy Sintra can use (the message says what is missing)."""


def _strings(value: Any) -> Iterator[str]:
    """Every non-empty string in a result, depth first, in order."""
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def written_text(result: Any) -> str:
    """The main text a writer returned: ``text``, else the first output's text, else the first string."""
    if not isinstance(result, dict):
        raise UnusableCopy(f"the writer's result is {type(result).__name__}, not an object")
    outputs = result.get("outputs")
    texts = [o.get("text") for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []
    for candidate in (result.get("text"), *texts, *_strings(result.get("output"))):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    raise UnusableCopy("the writer returned no text (no 'text', 'outputs' or text 'output')")


def _unique(tags: Iterator[str]) -> list[str]:
    seen: dict[str, str] = {}
    for tag in tags:
        if not tag.isdigit() and tag.lower() not in seen:
            seen[tag.lower()] = tag
    return list(seen.values())


def brief_tags(brief: str) -> list[str]:
    """Hashtags made from the brief's significant words, in order (to top up a writer's short list)."""
    return _unique(w.lower() for w in _WORD.findall(brief) if w.lower() not in _STOP)


def caption_and_hashtags(result: Any, *, count: int, brief: str, limit: int) -> dict[str, Any]:
    """The caption (hashtag lines removed, within ``limit`` characters with the tags) and ``count`` hashtags.

    Hashtags come from the writer's hashtag lines and from any other text output (a workflow step named
    ``hashtags``); inline ``#tags`` stay in the caption and are not repeated. A short list is topped up
    from the brief's words; the report says how many the writer gave.
    """
    text = written_text(result)
    lines = text.splitlines()
    kept = [line for line in lines if not _TAG_LINE.match(line)]
    caption = "\n".join(kept).strip()
    trailing = _TRAILING.search(caption)  # "... today! #a #b": a tag run ending the caption is its hashtags
    if trailing:
        caption = caption[: trailing.start()].rstrip()
    if not caption:
        raise UnusableCopy("the writer returned hashtags but no caption text")
    inline = {t.lower() for t in _TAG.findall(caption)}
    extra = (s for s in _strings(result.get("output")) if s.strip() != text)
    tagged = [t for line in lines if _TAG_LINE.match(line) for t in _TAG.findall(line)]
    tagged += _TAG.findall(trailing.group(0)) if trailing else []
    tagged += [t for s in extra for t in _TAG.findall(s)]
    from_writer = [t for t in _unique(iter(tagged)) if t.lower() not in inline][:count]
    taken = {t.lower() for t in from_writer} | inline
    topped = [t for t in brief_tags(brief) if t.lower() not in taken][: count - len(from_writer)]
    tags = from_writer + topped
    room = limit - len(" ".join(f"#{t}" for t in tags)) - 2
    return {"caption": _shorten(caption, room), "hashtags": tags, "hashtags_from_writer": len(from_writer),
            "hashtags_from_brief": len(topped)}


def _shorten(text: str, room: int) -> str:
    """``text`` within ``room`` characters, cut at the last sentence or word end that fits."""
    if len(text) <= room:
        return text
    cut = text[: max(room - 1, 0)]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[: end + 1] if end > room // 2 else cut.rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def email(result: Any, *, fallback_subject: str) -> dict[str, str]:
    """One email from a writer's text: ``Subject:``/``Preview:`` lines when given, the rest as the HTML body."""
    text = written_text(result)
    found: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        label = _LABEL.match(line)
        if label and not "".join(body).strip():  # labels head the email; later ones are body text
            found.setdefault("subject" if label.group(1).lower().startswith("s") else "preview", label.group(2))
        else:
            body.append(line)
    content = "\n".join(body).strip()
    if not content:
        raise UnusableCopy("the writer returned a subject line but no email body")
    subject = found.get("subject") or fallback_subject
    return {"subject_line": subject[:150], "preview_text": found.get("preview", "")[:150],
            "html": content if content.startswith("<") else _paragraphs(content),
            "subject_from": "writer" if "subject" in found else "plan"}


def _paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs (blank lines separate paragraphs, newlines become breaks)."""
    import html  # here, not at import: it loads html.entities (0.5 MB of every worker process, issue 12)

    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join(f"<p>{html.escape(b).replace(chr(10), '<br>')}</p>" for b in blocks)
