"""How the newsroom API shows an article's story: version, past versions, updates, retraction."""

from __future__ import annotations

import json
from typing import Any

from bot.store import Store


async def story_fields(store: Store, article_id: str) -> dict[str, Any]:
    """``version``, ``versions`` (what corrections replaced), ``updates`` and the retraction."""
    state = await store.stories.state(article_id)
    versions = []
    for past in await store.stories.versions(article_id):
        versions.append(
            {
                "version": past.version,
                "title": past.article.title,
                "lead": past.article.lead(),
                "replaced_at": past.replaced_at.isoformat(),
                "replaced_by": past.replaced_by,
                "changed": past.changed,
            }
        )
    retraction = state.retraction
    return {
        "version": state.version,
        "revised_at": state.revised_at.isoformat() if state.revised_at else None,
        "revised_by": state.revised_by,
        "versions": versions,
        "updates": [json.loads(u.model_dump_json()) for u in state.updates],
        "retracted": retraction is not None,
        "retraction": json.loads(retraction.model_dump_json()) if retraction else None,
    }
