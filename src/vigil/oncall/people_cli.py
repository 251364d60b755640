"""``vigil people``: people, contact methods and their verification, notification rules,
test pages, personal tokens and paging statistics."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vigil.cli_output import JsonFlag, print_fields, print_records, print_table
from vigil.cli_support import echo_json, get_store

__all__ = ["people_app"]

people_app = typer.Typer(
    help="People who can be paged, and how to reach them.", no_args_is_help=True
)
contact_app = typer.Typer(help="A person's contact methods.", no_args_is_help=True)
rule_app = typer.Typer(help="A person's notification rules per urgency.", no_args_is_help=True)
people_app.add_typer(contact_app, name="contact")
people_app.add_typer(rule_app, name="rule")

_TZ = typer.Option("--tz", help="IANA time zone, e.g. Europe/Berlin.")
_HOURS = typer.Option("--working-hours", help="e.g. 'mon-fri 09:00-17:00' (own time zone).")
_QUIET = typer.Option("--quiet-hours", help="e.g. '22:00-07:00': no low-urgency pages ('none').")
_TEST = typer.Option("--test-page-days", help="Send a test page every N days (0: never).")


@people_app.command("add")
def add(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="Short lowercase name, e.g. ann.")],
    name: Annotated[str, typer.Argument(help="Full name.")],
    time_zone: Annotated[str, _TZ] = "UTC",
    working_hours: Annotated[str, _HOURS] = "mon-fri 09:00-17:00",
    quiet_hours: Annotated[str | None, _QUIET] = None,
    test_page_days: Annotated[int, _TEST] = 0,
) -> None:
    """Add a person."""
    from vigil.oncall import people

    with get_store(ctx).write() as session:
        p = people.add_person(
            session=session, handle=handle, name=name, time_zone=time_zone,
            working_hours=working_hours, quiet_hours=quiet_hours, test_page_days=test_page_days,
        )  # fmt: skip
        typer.echo(f"added {p.handle} ({p.name}, {p.time_zone})")


@people_app.command("update")
def update(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    name: Annotated[str | None, typer.Option("--name")] = None,
    time_zone: Annotated[str | None, _TZ] = None,
    working_hours: Annotated[str | None, _HOURS] = None,
    quiet_hours: Annotated[str | None, _QUIET] = None,
    test_page_days: Annotated[int | None, _TEST] = None,
) -> None:
    """Change a person's name, time zone, hours or test-page interval."""
    from vigil.oncall import people

    with get_store(ctx).write() as session:
        p = people.update_person(
            session=session, handle=handle, name=name, time_zone=time_zone,
            working_hours=working_hours, quiet_hours=quiet_hours, test_page_days=test_page_days,
        )  # fmt: skip
        typer.echo(f"updated {p.handle}")


@people_app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List people with their contact methods."""
    from vigil.oncall import people
    from vigil.oncall.schemas import PersonRead

    with get_store(ctx).read() as session:
        rows = [PersonRead.build(session, p) for p in people.list_people(session=session)]
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_table(
        ["Handle", "Name", "Time zone", "Working hours", "Contact methods"],
        [
            [
                r.handle,
                r.name,
                r.time_zone,
                r.working_hours,
                ", ".join(
                    f"{c.label} ({c.kind}{'' if c.verified else ', unverified'})"
                    for c in r.contacts
                )
                or "(none)",
            ]
            for r in rows
        ],
    )


@people_app.command("show")
def show(
    ctx: typer.Context, handle: Annotated[str, typer.Argument()], as_json: JsonFlag = False
) -> None:
    """Show a person, their contact methods and notification rules."""
    from vigil.oncall import people
    from vigil.oncall.schemas import PersonRead

    with get_store(ctx).read() as session:
        person = PersonRead.build(session, people.get_person(session=session, handle=handle))
    if as_json:
        echo_json(person.model_dump(mode="json"))
        return
    record = person.model_dump()
    contacts, rules = record.pop("contacts"), record.pop("rules")
    print_fields(record.items())
    typer.echo()
    print_records(contacts, title="Contact methods")
    typer.echo()
    print_records(rules, title="Notification rules")


@people_app.command("remove")
def remove(ctx: typer.Context, handle: Annotated[str, typer.Argument()]) -> None:
    """Remove a person and their contact methods."""
    from vigil.oncall import people

    with get_store(ctx).write() as session:
        people.remove_person(session=session, handle=handle)
    typer.echo(f"removed {handle}")


@people_app.command("set-password")
def set_password(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    role: Annotated[
        str | None,
        typer.Option("--role", help="viewer, responder or admin (default: keep; new: viewer)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set the password (and role) a person logs in to the web pages with."""
    from vigil.auth import set_password as set_login

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_store(ctx).write() as session:
        given = set_login(session=session, handle=handle, password=password, role=role)
    typer.echo(f"{handle} can log in as {given}; their other sessions were signed out")


@contact_app.command("add")
def contact_add(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Argument(help="e.g. chat, email, phone.")],
    kind: Annotated[str, typer.Argument(help="email, sms, voice, apprise or webhook.")],
    address: Annotated[
        str,
        typer.Argument(
            help="An email address, a phone number (+4915...), an apprise URL or a webhook "
            "URL; `-` reads it from standard input (keeps tokens out of shell history)."
        ),
    ],
) -> None:
    """Add a contact method; verify it with `vigil people verify` before pages use it."""
    from vigil.oncall import people

    if address == "-":
        address = sys.stdin.readline().strip()
    with get_store(ctx).write() as session:
        made = people.add_contact(
            session=session, settings=get_store(ctx).settings, handle=handle, label=label,
            kind=kind, address=address,
        )  # fmt: skip
    if made.signing_secret:
        typer.echo(made.signing_secret)
        typer.echo("the webhook signing secret above is shown only this once", err=True)
    typer.echo(
        f"contact method {label!r} added to {handle}; verify it: vigil people verify {handle} {label}",
        err=True,
    )


@contact_app.command("remove")
def contact_remove(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Argument()],
) -> None:
    """Remove a contact method and the rules that use it."""
    from vigil.oncall import people

    with get_store(ctx).write() as session:
        people.remove_contact(session=session, handle=handle, label=label)
    typer.echo(f"contact method {label!r} of {handle} removed")


@people_app.command("verify")
def verify(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Argument()],
) -> None:
    """Send a verification code through a contact method."""
    from vigil.oncall.flows import send_verification

    answer = send_verification(get_store(ctx), handle, label)
    if not answer.ok:
        typer.echo(f"error: the code could not be sent: {answer.detail}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"code sent to {handle}'s {label}: confirm with `vigil people confirm {handle} {label} CODE`"
    )


@people_app.command("confirm")
def confirm(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Argument()],
    code: Annotated[str, typer.Argument()],
) -> None:
    """Confirm the code a contact method received; pages use it from now on."""
    from vigil.oncall import people

    store = get_store(ctx)
    with store.write() as session:
        people.confirm_contact(
            session=session, settings=store.settings, handle=handle, label=label, code=code
        )
    typer.echo(f"{handle}'s {label} is verified")


@rule_app.command("add")
def rule_add(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    urgency: Annotated[str, typer.Option("--urgency", help="high or low.")],
    contact: Annotated[str, typer.Option("--contact", help="The contact method's label.")],
    delay: Annotated[float, typer.Option("--delay", help="Minutes after the page starts.")] = 0,
    repeat: Annotated[
        float, typer.Option("--repeat", help="Repeat every N minutes (0: once).")
    ] = 0,
) -> None:
    """Add a notification rule: for URGENCY pages use CONTACT after DELAY minutes."""
    from vigil.oncall import people

    with get_store(ctx).write() as session:
        rule = people.add_rule(
            session=session, handle=handle, urgency=urgency, contact=contact,
            delay_minutes=delay, repeat_minutes=repeat,
        )  # fmt: skip
        typer.echo(f"rule {rule.id} added")


@rule_app.command("remove")
def rule_remove(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    rule_id: Annotated[int, typer.Argument()],
) -> None:
    """Remove a notification rule (its number is in `vigil people show`)."""
    from vigil.oncall import people

    with get_store(ctx).write() as session:
        people.remove_rule(session=session, handle=handle, rule_id=rule_id)
    typer.echo(f"rule {rule_id} removed")


@people_app.command("test-page")
def test_page(ctx: typer.Context, handle: Annotated[str, typer.Argument()]) -> None:
    """Send a test page through each verified contact method now."""
    from vigil.oncall.flows import send_test_page

    failed = 0
    for label, answer in send_test_page(get_store(ctx), handle):
        typer.echo(f"{label}: {'delivered' if answer.ok else 'FAILED'}: {answer.detail}")
        failed += not answer.ok
    if failed:
        raise typer.Exit(1)


@people_app.command("token")
def token(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument(help="The token's name.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read, write or admin.")
    ] = None,
) -> None:
    """Create an API token that belongs to a person: writes with it name them."""
    from vigil.oncall import people

    with get_store(ctx).write() as session:
        _token, secret = people.create_person_token(
            session=session, handle=handle, name=name, scopes=scope or ["read"]
        )
    typer.echo(secret)
    typer.echo(f"token {name!r} of {handle} created; store it now, it is not shown again", err=True)


@people_app.command("stats")
def stats(
    ctx: typer.Context,
    window: Annotated[str, typer.Option("--window", help="e.g. 30d, 12w.")] = "30d",
    as_json: JsonFlag = False,
) -> None:
    """Paging statistics per person: pages, off-hours pages, time to acknowledge."""
    from vigil.analytics import parse_window
    from vigil.db import utcnow
    from vigil.oncall import paging_stats

    end = utcnow()
    with get_store(ctx).read() as session:
        rows = paging_stats(session=session, start=end - parse_window(window), end=end)
    data = [
        {"person": r.person, "pages": r.pages, "off_hours_pages": r.off_hours_pages,
         "incidents": r.incidents, "acknowledged": r.acknowledged,
         "median_ack_seconds": r.median_ack_seconds}
        for r in rows
    ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    for d in data:
        ack = "—" if d["median_ack_seconds"] is None else f"{d['median_ack_seconds']:.0f} s"
        typer.echo(
            f"{d['person']}: {d['pages']} page(s), {d['off_hours_pages']} off hours, "
            f"{d['acknowledged']}/{d['incidents']} acknowledged, median time to acknowledge {ack}"
        )
