"""The ``sintra`` command: API keys, migrations, Vault provisioning, and the API commands of ``cli_api``."""

from __future__ import annotations

import argparse
import sys

from config.settings import get_settings
from producers.cli_api import add_api_parsers


def _keys_create(args: argparse.Namespace) -> int:
    from workers.store.db import build_engine, migrate, session_scope
    from workers.store.keys import create_key, validate_workspace

    try:
        validate_workspace(args.workspace)
    except ValueError as exc:
        print(f"sintra: {exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    migrate(settings.db_url)
    from workers.store.audit import record_event

    with session_scope(build_engine(settings.db_url)) as session:
        key = create_key(session=session, workspace=args.workspace)
        record_event(session=session, actor="cli", kind="api", outcome="key_created", workspace=args.workspace,
                     detail={"key_prefix": key[:10]})
    print(f"Created an API key for workspace {args.workspace!r}. It is shown once; store it now:")
    print(key)
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    from workers.store.db import migrate

    settings = get_settings()
    migrate(settings.db_url)
    print(f"database at revision head ({settings.db_url.split('@')[-1]})")
    return 0


def _vault_bootstrap(args: argparse.Namespace) -> int:
    from config.catalog import agents
    from workers.vault.bootstrap import bootstrap

    settings = get_settings()
    identities = bootstrap(args.addr or settings.vault_addr, settings.state_dir, agents=[a.id for a in agents()])
    print(f"OpenBao at {args.addr or settings.vault_addr} is unsealed and provisioned; AppRole files for "
          f"{', '.join(sorted(identities))} are in {settings.approle_dir}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sintra``."""
    parser = argparse.ArgumentParser(prog="sintra", description="Sintra job system administration.")
    sub = parser.add_subparsers(dest="command", required=True)
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key; the key is printed alone on the last line")
    create.add_argument("--workspace", required=True, help="workspace name (created if new)")
    create.set_defaults(func=_keys_create)
    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.set_defaults(func=_migrate)
    vault = sub.add_parser("vault", help="OpenBao/Vault operations").add_subparsers(dest="vault_command",
                                                                                    required=True)
    boot = vault.add_parser("bootstrap", help="initialise (first time), unseal and provision a running server")
    boot.add_argument("--addr", default=None, help="server address (default: SINTRA_VAULT_ADDR)")
    boot.set_defaults(func=_vault_bootstrap)
    add_api_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sintra`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
