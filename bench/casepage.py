"""Case page budget: a case with 1,000 messages and 100 attachments opens at most 5x the start page (p95).

Makes a handler and one case through the services (the report submitted as a reporter does, then 1,000
messages alternating between reporter and handler, every tenth with a small encrypted attachment), serves
the app with gunicorn and times the handler's case page (every message and file name decrypted for the
request) against the static start page, interleaved. SQLite in a temporary folder, or a private schema
of DATABASE_URL (PostgreSQL). Exits non-zero when over budget.

    .venv/bin/python bench/casepage.py [--messages 1000] [--attachments 100] [--requests 40]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fixtures import settle, staff_account  # noqa: E402
from _harness import (  # noqa: E402
    alternate_with_start_page,
    bench_environment,
    gunicorn_server,
    private_database,
    report_p95_ratio,
    temporary_instance,
)

BUDGET = 5.0
MESSAGE = "Dank voor uw bericht. Kunt u aangeven wanneer dit voor het eerst gebeurde? " * 4


def populate(messages: int, attachments: int) -> tuple[str, str]:
    """The case; returns its reference and the handler's session cookie."""
    from sqlalchemy import select

    from app import create_app
    from app.db import engine_of, session_scope
    from app.models import Case, Channel, ChannelRecipient
    from app.services import cases, storage, submission
    from app.services.clock import today

    app = create_app()
    settings = app.config["MELDKLUIS"]
    day = today()
    with app.test_request_context(), session_scope(app) as session:
        handler = staff_account(session, settings, "bench-handler", ["handler"])
        channel = session.scalar(select(Channel).where(Channel.slug == "misstand"))
        assert channel is not None
        session.add(ChannelRecipient(channel_id=channel.id, user_id=handler.user_id))
        session.commit()
        receipt = submission.submit_report(session, settings, submission.ReportInput(
            "misstand", "fraude", {"what": "Er worden facturen dubbel betaald aan een leverancier. " * 12}))
        case = session.get(Case, receipt.case_id)
        assert case is not None
        opened = cases.open_as_handler(session, case, handler.user_id, handler.private_key)
        every = max(1, messages // max(1, attachments))
        for number in range(messages):
            reporter = number % 2 == 0
            message = cases.add_message(session, opened, author_kind="reporter" if reporter else "handler",
                                        body=MESSAGE, day=day, author_user_id=None if reporter else handler.user_id)
            if number % every == 0 and number // every < attachments:
                writer = storage.begin_attachment(settings.storage_path, opened)
                writer.write(os.urandom(4096))
                writer.finish(session, name=f"bijlage-{number}.pdf", author_kind=message.author_kind, day=day,
                              message_id=message.id)
        reference = case.reference
    settle(engine_of(app))
    engine_of(app).dispose()
    return reference, handler.cookie


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--attachments", type=int, default=100)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with temporary_instance() as folder, private_database(os.environ.get("DATABASE_URL")) as url:
        env = bench_environment(Path(folder), url, MELDKLUIS_KDF="test")
        os.environ.update(env)
        with gunicorn_server(env) as base:
            reference, cookie = populate(args.messages, args.attachments)
            page = f"{base}/nl/handler/case/{reference}"
            static, measured = alternate_with_start_page(base, page, {"Cookie": f"mk_staff={cookie}"}, args.requests)
    return report_p95_ratio("case page", static, measured, BUDGET,
                            f"{args.messages} messages, {args.attachments} attachments")


if __name__ == "__main__":
    sys.exit(main())
