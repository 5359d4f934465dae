"""Single-use links sent by email (choose or reset a password, the candidate's invitation, the job
assessor's invitation): one rule for all of them.

A link is a random token (32 bytes, URL-safe) of which only the SHA-256 is stored, with an expiry. It
is live while it is neither spent (`used_at`), nor replaced by a newer link (`replaced_at`), nor
expired (`expires_at` not after now, on the business clock). It is spent once, by ONE conditional
UPDATE: of two simultaneous submissions exactly one matches the row, the other gets a 410.

Generic over the model class handed in (core imports no area): any table with the columns `id`,
`token_hash`, `created_at`, `expires_at`, `used_at` and `replaced_at`. Each caller words its own
messages. Operations flush, never commit: the request commits once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.sql.elements import ColumnElement

from app.core.clock import now
from app.core.errors import Gone, NotFound
from app.core.tokens import hash_token, new_token
from app.extensions import db


@dataclass(frozen=True)
class SingleUseLinks:
    """One kind of link: its table and the French messages of a link that cannot serve: `unknown`
    (404), `used`, `replaced`, `expired` (410), and `lost_race` (410, another submission spent it
    between the check and the UPDATE; `used` when not given)."""

    model: type
    unknown: str
    used: str
    replaced: str
    expired: str
    lost_race: str | None = None

    def issue(self, lifetime: timedelta, replacing: Iterable[ColumnElement[bool]], **values) -> tuple[Any, str]:
        """A new link (`values` are its other columns), flushed, and its raw token for the email. The
        unspent links that `replacing` selects (the same person or file, the same purpose) are marked
        replaced: only the last email works."""
        model, moment = self.model, now()
        db.session.execute(
            update(model)
            .where(*replacing, model.used_at.is_(None), model.replaced_at.is_(None))
            .values(replaced_at=moment)
        )
        token = new_token(32)
        link = model(token_hash=hash_token(token), created_at=moment, expires_at=moment + lifetime, **values)
        db.session.add(link)
        db.session.flush()
        return link, token

    def find(self, token: str | None, *criteria: ColumnElement[bool]) -> Any:
        """The live link behind a token (`criteria` narrow the rows, e.g. to a purpose): unknown
        NotFound (404); spent, replaced or expired Gone (410)."""
        model = self.model
        link = db.session.scalar(select(model).where(model.token_hash == hash_token(token or ""), *criteria))
        if link is None:
            raise NotFound(self.unknown)
        if link.used_at is not None:
            raise Gone(self.used)
        if link.replaced_at is not None:
            raise Gone(self.replaced)
        if link.expires_at <= now():
            raise Gone(self.expired)
        return link

    def spend(self, link: Any, **values) -> None:
        """Spends a link found live, with `values` written in the same UPDATE. The UPDATE repeats the
        live conditions, so a link spent (or replaced) meanwhile by another request is refused here."""
        model, moment = self.model, now()
        spent = db.session.execute(
            update(model)
            .where(model.id == link.id, model.used_at.is_(None), model.replaced_at.is_(None),
                   model.expires_at > moment)
            .values(used_at=moment, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if spent != 1:
            raise Gone(self.lost_race or self.used)
        db.session.refresh(link)
