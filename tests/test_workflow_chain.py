"""Chained workflows as pure logic: reading Penn's copy from the writers' result shapes, and stage planning."""

from __future__ import annotations

from typing import Any

import pytest

from config.catalog.integrations.instagram import PublishPhoto
from config.catalog.workflows import WORKFLOWS
from config.catalog.written_copy import UnusableCopy, caption_and_hashtags, email
from workers.store.models import Job, utcnow
from workers.workflow_steps import next_stage, step_key, stored_params

BRIEF = "Our new Acme One desk lamp for late-night creators"


def test_hashtags_come_from_the_writers_tag_lines_and_other_outputs_and_inline_tags_stay_in_the_caption() -> None:
    result = {"text": "Meet Acme One! #desklamp\nLight as late as you work.\n\n#acme #lighting, #design",
              "output": {"caption": "ignored, it is the text", "hashtags": "#acme #lamp #2026"}}
    copy = caption_and_hashtags(result, count=5, brief=BRIEF, limit=2200)
    assert copy["caption"] == "Meet Acme One! #desklamp\nLight as late as you work."
    assert copy["hashtags"] == ["acme", "lighting", "design", "lamp", "desk"]  # "2026" is not a hashtag
    assert (copy["hashtags_from_writer"], copy["hashtags_from_brief"]) == (4, 1)


def test_a_short_hashtag_list_is_topped_up_from_the_brief_and_a_long_caption_is_cut_to_fit() -> None:
    result = {"outputs": [{"id": "txt_1", "text": "First sentence. " * 200 + "Buy now #acme #lamp"}]}
    copy = caption_and_hashtags(result, count=4, brief=BRIEF, limit=2200)
    assert copy["hashtags"] == ["acme", "lamp", "desk", "late"]
    published = PublishPhoto(image_url="https://cdn.acme.example/a.jpg", caption=copy["caption"],
                             hashtags=copy["hashtags"]).full_caption()
    assert len(published) <= 2200 and copy["caption"].endswith("First sentence.")


def test_an_email_takes_its_subject_and_preview_from_the_writer_or_from_the_plan() -> None:
    jasper = {"outputs": [{"id": "txt_1", "text": "Subject: Hello there\nPreview: a quick hi\n\nDear reader,\n"
                                                  "Welcome <in>.\n\nBye"}]}
    assert email(jasper, fallback_subject="Welcome: x") == {
        "subject_line": "Hello there", "preview_text": "a quick hi", "subject_from": "writer",
        "html": "<p>Dear reader,<br>Welcome &lt;in&gt;.</p><p>Bye</p>"}
    copy_ai = {"text": "Just the body.", "output": {"generated_text": "Just the body."}}
    assert email(copy_ai, fallback_subject="Welcome: x")["subject_line"] == "Welcome: x"


@pytest.mark.parametrize("result", [None, {}, {"text": "  "}, {"text": "#only #tags"}, {"output": {"n": 3}}])
def test_a_result_without_usable_copy_says_so(result: Any) -> None:
    with pytest.raises(UnusableCopy):
        caption_and_hashtags(result, count=3, brief=BRIEF, limit=2200)


def _job(parent: str, section: str, status: str, result: Any = None) -> Job:
    now = utcnow()
    return Job(id=section, workspace_id="ws", agent="penn", integration="jasper", action="run_command",
               params={}, status=status, result=result, parent_id=parent, idempotency_key=step_key(parent, section),
               created_at=now, updated_at=now)


def test_the_publish_stage_starts_only_after_the_writer_succeeded_with_usable_copy() -> None:
    spec = WORKFLOWS["instagram_post_from_brief"]
    parent = Job(id="p1", workspace_id="ws", agent="soshie", integration="workflow", action=spec.id, status="running",
                 params={"brief": BRIEF, "image_url": "https://cdn.acme.example/a.jpg", "writer": "jasper"},
                 created_at=utcnow(), updated_at=utcnow())
    params = stored_params(spec, parent)
    first = spec.stage_steps(0, params)
    assert [(s.agent, s.integration) for s in first] == [("penn", "jasper")]
    written = {"text": "Hello lamp lovers.", "outputs": [{"id": "t", "text": "Hello lamp lovers."}]}
    planned = next_stage(spec, params, [_job("p1", "caption", "succeeded", written)])
    assert planned is not None and [(s.agent, s.integration, s.action) for s, _ in planned] == [
        ("soshie", "instagram", "publish_photo")]
    # 10 asked for, none written: the brief's six usable words are all there is
    assert planned[0][1]["caption"] == "Hello lamp lovers."
    assert planned[0][1]["hashtags"] == ["acme", "desk", "lamp", "late", "night", "creators"]
    assert next_stage(spec, params, [_job("p1", "caption", "failed")]) is None
    assert next_stage(spec, params, [_job("p1", "caption", "succeeded", {"text": ""})]) is None
    assert next_stage(spec, params, [_job("p1", "caption", "succeeded", written),
                                     _job("p1", "publish", "failed")]) is None
