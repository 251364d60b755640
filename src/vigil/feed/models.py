"""Where each follower of each log has read up to."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db import Base, UTCDateTime, utcnow

__all__ = ["FeedPosition"]


class FeedPosition(Base):
    """A follower's position in one log: the last (transaction id, row id) it handled."""

    __tablename__ = "feed_positions"

    follower: Mapped[str] = mapped_column(String(64), primary_key=True)
    log: Mapped[str] = mapped_column(String(64), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    row_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
