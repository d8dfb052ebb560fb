"""Staff commands for contact requests (run as `scripts/leads.sh <command>`):

  list [--all]                 requests not yet handled (--all: every request), with each channel's
                               notification status (email, webhook)
  export [FILE.csv] [--all]    the same as CSV (to stdout without a file name)
  handled ID                   mark a request handled
  retry                        send the staff notifications that failed before
  purge --older-than DAYS      delete requests and conversations older than DAYS days
"""
import argparse
import csv
import sys
from datetime import timedelta
from typing import IO, List, Optional

import sqlalchemy as sa

from clinic.lead_store import CHANNELS, FAILED, NOT_CONFIGURED, PENDING, Lead, LeadStore, now
from clinic.notify import retry_pending

# "notification" is the overall state (pending while any channel is not yet sent), then each
# channel's own, named so they cannot be mistaken for the visitor's email address.
CHANNEL_COLUMNS = {
    f"{channel}_notification{suffix}": f"{channel}_{field}"
    for channel in CHANNELS for suffix, field in (("", "state"), ("_attempts", "attempts"), ("_error", "error"))
}
CSV_COLUMNS = ["id", "created_at", "status", "name", "phone", "email", "preferred_time", "reason",
               "notification", *CHANNEL_COLUMNS, "handled_at", "conversation_id"]


def row_of(lead: Lead) -> dict:
    values = {column: getattr(lead, CHANNEL_COLUMNS.get(column, column)) for column in CSV_COLUMNS}
    for column in ("created_at", "handled_at"):
        values[column] = values[column].isoformat(timespec="seconds") if values[column] else ""
    return {k: "" if v is None else v for k, v in values.items()}


def write_csv(leads: List[Lead], out: IO[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for lead in leads:
        writer.writerow(row_of(lead))


def channel_status(lead: Lead, channel: str) -> str:
    """E.g. "webhook failed (3 attempts: webhook answered HTTP 500)"."""
    state, attempts, error = lead.state(channel), lead.attempts(channel), lead.error(channel)
    if state in (PENDING, FAILED) and (attempts or error):
        tried = f"{attempts} attempt{'' if attempts == 1 else 's'}"
        return f"{channel} {state} ({tried}: {error})" if error else f"{channel} {state} ({tried})"
    return f"{channel} {state}"


def notification_status(lead: Lead) -> str:
    """Each configured channel's state; channels never configured for this lead are left out."""
    configured = [channel for channel in CHANNELS if lead.state(channel) != NOT_CONFIGURED]
    return ", ".join(channel_status(lead, channel) for channel in configured) or NOT_CONFIGURED


def print_table(leads: List[Lead], out: IO[str]) -> None:
    if not leads:
        print("No contact requests.", file=out)
        return
    for lead in leads:
        contact = ", ".join(d for d in (lead.phone, lead.email) if d)
        print(f"#{lead.id}  {lead.created_at:%Y-%m-%d %H:%M} UTC  {lead.status:<7}  {lead.name}  ({contact})  "
              f"time: {lead.preferred_time}  notification: {notification_status(lead)}", file=out)


def delete_conversations_older_than(days: float, url: Optional[str] = None) -> int:
    """Deletes whole conversations whose last event is older than DAYS days (Rasa's `events` table)."""
    store = LeadStore(url)
    cutoff = (now() - timedelta(days=days)).timestamp()
    events = sa.Table("events", sa.MetaData(), autoload_with=store.engine) if sa.inspect(store.engine).has_table("events") else None
    if events is None:
        return 0
    last_event = sa.select(events.c.sender_id).group_by(events.c.sender_id).having(sa.func.max(events.c.timestamp) < cutoff)
    with store.engine.begin() as connection:
        senders = [row[0] for row in connection.execute(last_event)]
        for start in range(0, len(senders), 500):
            connection.execute(events.delete().where(events.c.sender_id.in_(senders[start:start + 500])))
    return len(senders)


def main(argv: Optional[List[str]] = None, out: IO[str] = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="scripts/leads.sh", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list")
    listing.add_argument("--all", action="store_true")
    export = commands.add_parser("export")
    export.add_argument("file", nargs="?")
    export.add_argument("--all", action="store_true")
    commands.add_parser("handled").add_argument("id", type=int)
    commands.add_parser("retry")
    purge = commands.add_parser("purge")
    purge.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    args = parser.parse_args(argv)

    store = LeadStore()
    if args.command in ("list", "export"):
        leads = store.list(include_handled=args.all)
        if args.command == "list":
            print_table(leads, out)
        elif args.file:
            with open(args.file, "w", newline="", encoding="utf-8") as handle:
                write_csv(leads, handle)
            print(f"Wrote {len(leads)} contact requests to {args.file}", file=out)
        else:
            write_csv(leads, out)
    elif args.command == "handled":
        if not store.mark_handled(args.id):
            print(f"There is no contact request #{args.id}.", file=out)
            return 1
        print(f"Contact request #{args.id} marked handled.", file=out)
    elif args.command == "retry":
        outcomes = retry_pending(store)
        print(f"Retried {sum(outcomes.values())} notifications: {outcomes or 'none pending'}", file=out)
    elif args.command == "purge":
        leads = store.delete_older_than(args.older_than)
        conversations = delete_conversations_older_than(args.older_than)
        print(f"Deleted {leads} contact requests and {conversations} conversations older than "
              f"{args.older_than:g} days.", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
