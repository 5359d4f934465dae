"""Found by the fuzz (issue 17): a 5,000-character comment quoted in an email made a line longer than SMTP
allows (998 characters, RFC 5321) and the loopback server refused the email (« Line too long »). Bodies are
now quoted-printable: long lines travel as soft-broken lines and arrive whole."""

from __future__ import annotations

from app.core.clock import utcnow
from app.core.mail import send_pending
from app.core.models import OutboxEmail
from app.extensions import db


def test_an_email_with_a_5000_character_line_is_delivered_whole(app_ctx, mailbox):
    comment = "Très bien, " + "é" * 2500 + "x" * 2500
    db.session.add(OutboxEmail(kind="message", recipients="rh@exemple.fr", subject="Nouveau message",
                               body_text=f"Message :\n{comment}\n", body_html=f"<p>{comment}</p>",
                               next_attempt_at=utcnow()))
    db.session.commit()
    assert send_pending()["sent"] == 1
    message = mailbox.last_to("rh@exemple.fr")
    assert comment in mailbox.text_of(message)
    assert max(len(line) for line in message.as_bytes().splitlines()) <= 998
