"""``vigil escalation``, ``vigil assign`` and ``vigil role``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vigil.cli_output import JsonFlag, print_fields, print_records, print_table
from vigil.cli_support import actor, echo_json, get_store, parse_labels

if TYPE_CHECKING:
    from vigil.oncall.policies import StepSpec

__all__ = ["escalation_app", "role_app"]

escalation_app = typer.Typer(
    help="Escalation policies and incidents' climbs.", no_args_is_help=True
)
role_app = typer.Typer(
    help="Incident roles: commander, communications, scribe.", no_args_is_help=True
)


def _steps(values: list[str]) -> list[StepSpec]:
    from vigil.errors import ValidationError
    from vigil.oncall.policies import StepSpec

    out: list[StepSpec] = []
    for value in values:
        delay, _, targets = value.strip().partition(" ")
        try:
            minutes = float(delay)
        except ValueError:
            raise ValidationError(
                f"step {value!r}: write the delay in minutes, then the targets, e.g. "
                "'5 schedule:primary person:bob'",
                field="step",
            ) from None
        out.append(StepSpec(targets=targets.split(), delay_minutes=minutes))
    return out


@escalation_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    step: Annotated[
        list[str],
        typer.Option(
            "--step",
            help="'MINUTES TARGET...': page the targets, wait MINUTES for an "
            "acknowledgement. Targets: person:H schedule:N channel:N. Repeatable, in order.",
        ),
    ],
    repeat: Annotated[int, typer.Option("--repeat", help="Run all steps again N times.")] = 0,
    priority: Annotated[int, typer.Option("--priority", help="Lower is matched first.")] = 100,
    service: Annotated[list[str] | None, typer.Option("--service", help="Repeatable.")] = None,
    category: Annotated[list[str] | None, typer.Option("--category", help="Repeatable.")] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="KEY=VALUE; repeatable.")
    ] = None,
    min_severity: Annotated[str | None, typer.Option("--min-severity")] = None,
) -> None:
    """Add an escalation policy; incidents it matches climb it from when they open."""
    from vigil.oncall import policies

    spec = policies.PolicySpec(
        name=name, steps=_steps(step), repeat=repeat, priority=priority,
        services=service or (), categories=category or (), labels=parse_labels(label) or {},
        min_severity=min_severity,
    )  # fmt: skip
    with get_store(ctx).write() as session:
        policies.add_policy(session=session, spec=spec)
    typer.echo(f"escalation policy {name!r} added")


@escalation_app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List policies in match order."""
    from vigil.oncall import policies
    from vigil.oncall.schemas import PolicyRead

    with get_store(ctx).read() as session:
        rows = [PolicyRead.of(p) for p in policies.list_policies(session=session)]
    if as_json:
        echo_json([r.model_dump(mode="json") for r in rows])
        return
    print_records(
        rows,
        ["name", "priority", "min_severity", "services", "categories", "labels", "repeat", "steps"],
    )


@escalation_app.command("remove")
def remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Remove a policy (incidents climbing it keep their copy)."""
    from vigil.oncall import policies

    with get_store(ctx).write() as session:
        policies.remove_policy(session=session, name=name)
    typer.echo(f"escalation policy {name!r} removed")


@escalation_app.command("escalate")
def escalate(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Incident ID.")]) -> None:
    """Fire the incident's next step now."""
    from vigil.oncall import roles

    with get_store(ctx).write() as session:
        climb = roles.escalate_now(session=session, ref=ref, actor=actor())
        typer.echo(f"{ref}: step {climb.step + 1} of policy {climb.policy} fires now")


@escalation_app.command("status")
def status(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Incident ID.")],
    as_json: JsonFlag = False,
) -> None:
    """Where an incident is on its escalation policy."""
    from vigil.oncall import roles

    with get_store(ctx).read() as session:
        climb = roles.escalation_of(session=session, ref=ref)
    if climb is None:
        if as_json:
            echo_json(None)
        else:
            typer.echo(f"{ref} is not on an escalation policy")
        return
    fields = {"policy": climb.policy, "state": climb.state, "next_step": climb.step + 1,
              "round": climb.round, "next_at": climb.next_at, "paged": climb.paged,
              "urgency": climb.urgency}  # fmt: skip
    if as_json:
        echo_json(fields)
        return
    print_fields(fields.items())


def assign(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Incident ID.")],
    person: Annotated[str, typer.Argument(help="Handle.")],
) -> None:
    """Assign an incident to a person."""
    from vigil.oncall import roles

    with get_store(ctx).write() as session:
        who = roles.assign_incident(session=session, ref=ref, person=person, actor=actor())
    typer.echo(f"{ref} assigned to {who}")


@role_app.command("take")
def take(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Incident ID.")],
    role: Annotated[str, typer.Argument(help="commander, communications or scribe.")],
    person: Annotated[str, typer.Argument(help="Handle.")],
) -> None:
    """A person takes a role (handing it over from whoever held it)."""
    from vigil.oncall import roles

    with get_store(ctx).write() as session:
        roles.take_role(session=session, ref=ref, role=role, person=person, actor=actor())
    typer.echo(f"{person} is {role} of {ref}")


@role_app.command("release")
def release(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument()],
) -> None:
    """Leave a role unheld."""
    from vigil.oncall import roles

    with get_store(ctx).write() as session:
        roles.release_role(session=session, ref=ref, role=role, actor=actor())
    typer.echo(f"the {role} role of {ref} is free")


@role_app.command("list")
def list_roles(
    ctx: typer.Context, ref: Annotated[str, typer.Argument()], as_json: JsonFlag = False
) -> None:
    """Who holds which role on an incident."""
    from vigil.oncall import roles
    from vigil.validation import rfc3339

    with get_store(ctx).read() as session:
        rows = [(r.role, r.person, r.since) for r in roles.list_roles(session=session, ref=ref)]
    if as_json:
        echo_json([{"role": r, "person": p, "since": rfc3339(s)} for r, p, s in rows])
        return
    print_table(["Role", "Person", "Since"], rows)
