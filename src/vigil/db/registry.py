"""Import every model so ``Base.metadata`` knows the whole schema."""

from __future__ import annotations

from sqlalchemy import MetaData

from vigil.db.base import Base


def all_metadata() -> MetaData:
    """Return the metadata with every Vigil table registered."""
    import vigil.analytics.models
    import vigil.auth.models
    import vigil.feed.models
    import vigil.incidents.models
    import vigil.ingest.models
    import vigil.jobs.models
    import vigil.notify.models
    import vigil.oncall.models
    import vigil.postmortems.models  # noqa: F401

    return Base.metadata
