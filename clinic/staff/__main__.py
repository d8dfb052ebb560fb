"""Staff commands (run as `scripts/staff.sh <command>`; `scripts/staff.sh <command> --help` for options):

  check                      check the content: plain-words problems with file and line
  retrain                    check, train if the content changed (a minute or two), and load the new model
                             into the running assistant without a restart
  rollback                   go back to the model used before the last retrain
  status                     which model the assistant uses, and whether the content changed since
  unanswered [--days 30]     report of visitor questions the assistant could not answer (CSV + HTML)
  quality [--folds 3]        content quality report: which topics the assistant mixes up (slow: 15-30 min)

See docs/staff-guide.md for worked examples.
"""
import argparse
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import List, Optional

from clinic.settings import PROJECT_ROOT
from clinic.staff.models import Project, Server, StaffError, retrain, rollback, status

REPORTS_DIR = PROJECT_ROOT / "var" / "reports"


def run_check(project: Project, rasa: bool = True) -> int:
    from clinic import content_check

    argv = ["--data", str(project.root / "data"), "--domain", str(project.root / "domain.yml"),
            "--config", str(project.root / "config.yml")]
    if (project.root / "sources" / "articles.yml").is_file():
        argv += ["--articles", str(project.root / "sources" / "articles.yml")]
    return content_check.main(argv + ([] if rasa else ["--no-rasa"]))


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-11-25")


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="scripts/staff.sh", description="Staff tools for the assistant's content.",
                                          epilog="Options of a command: scripts/staff.sh <command> --help. "
                                                 "Worked examples: docs/staff-guide.md")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="command", title="commands")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--project", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
        return sub

    check = command("check", "check the content (data/, domain.yml) and report problems in plain words")
    check.add_argument("--no-rasa", action="store_true", help="skip Rasa's own check (saves about 15 s)")
    for name, help_text in (("retrain", "train if the content changed and load the model into the running assistant"),
                            ("rollback", "go back to the model used before the last retrain"),
                            ("status", "which model is in use and whether the content changed since")):
        sub = command(name, help_text)
        sub.add_argument("--url", help="the assistant's address (default: from clinic.yml, e.g. http://127.0.0.1:5005)")
        if name == "retrain":
            sub.add_argument("--no-check", action="store_true", help="do not check the content first")

    unanswered = command("unanswered", "report the visitor questions the assistant could not answer")
    period = unanswered.add_mutually_exclusive_group()
    period.add_argument("--days", type=float, default=None, help="the last N days (default 30)")
    period.add_argument("--since", type=day, help="first day, e.g. 2026-11-01 (with --until: last day)")
    unanswered.add_argument("--until", type=day, help="last day included (default: today)")
    unanswered.add_argument("--out", type=Path, default=REPORTS_DIR, help="folder for the CSV and HTML (default var/reports)")
    unanswered.add_argument("--database", help="conversation store URL (default: DATABASE_URL / clinic.yml)")
    unanswered.add_argument("--min-confidence", type=float, default=0.6,
                            help="answers given with less confidence than this count as unsure (default 0.6)")
    unanswered.add_argument("--similarity", type=float, default=0.75,
                            help="how alike two questions must be to be grouped, 0-1 (default 0.75)")

    quality = command("quality", "cross-validation report: per-topic precision/recall and the topic confusion picture")
    quality.add_argument("--folds", type=int, default=3, help="number of folds (default 3; each trains once)")
    quality.add_argument("--out", type=Path, default=REPORTS_DIR, help="folder for the report (default var/reports)")
    quality.add_argument("--from-results", type=Path, help="only build the HTML from an existing results folder")
    return main_parser


def period_of(args: argparse.Namespace) -> "tuple[datetime, datetime]":
    now = datetime.now(timezone.utc)
    if args.since:
        start = datetime.combine(args.since, time.min).astimezone(timezone.utc)
        end_day = args.until or date.today()
        end = datetime.combine(end_day + timedelta(days=1), time.min).astimezone(timezone.utc)
        return start, min(end, now + timedelta(seconds=1))
    if args.until:
        end = datetime.combine(args.until + timedelta(days=1), time.min).astimezone(timezone.utc)
        return end - timedelta(days=args.days or 30), end
    return now - timedelta(days=args.days if args.days is not None else 30), now + timedelta(seconds=1)


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    project = Project(args.project)
    try:
        if args.command == "check":
            return run_check(project, rasa=not args.no_rasa)
        if args.command in ("retrain", "rollback", "status"):
            server = Server(args.url)
            if args.command == "status":
                status(project, server)
            elif args.command == "rollback":
                rollback(project, server)
            else:
                if not args.no_check and run_check(project) != 0:
                    print("Nothing was trained: fix the problems above, then run `scripts/staff.sh retrain` again.")
                    return 1
                retrain(project, server)
            return 0
        if args.command == "unanswered":
            from clinic.staff.unanswered import write_report

            start, end = period_of(args)
            csv_path, html_path, groups = write_report(
                args.out, start, end, database=args.database, min_confidence=args.min_confidence,
                similarity=args.similarity, faq_dir=project.root / "data" / "faq",
            )
            print(f"{sum(g.count for g in groups)} unanswered messages in {len(groups)} groups, "
                  f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC.")
            print(f"  {html_path}\n  {csv_path}")
            return 0
        if args.command == "quality":
            from clinic.staff.quality import build_report, run_cross_validation

            results = args.from_results or run_cross_validation(project.root, args.folds, args.out)
            html_path = build_report(results, args.out / "quality.html", folds=None if args.from_results else args.folds)
            print(f"Quality report: {html_path}")
            return 0
    except StaffError as error:
        print(error, file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
