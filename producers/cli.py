"""The ``sintra`` command: API keys, migrations, Vault provisioning, and the API commands of ``cli_api``."""

from __future__ import annotations

import argparse
import sys

from config.settings import get_settings
from producers.cli_api import add_api_parsers
from producers.mcp.cli import add_mcp_parser


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
        key = create_key(session=session, workspace=args.workspace,
                         scope="operator" if args.operator else "workspace")
        record_event(session=session, actor="cli", kind="api", outcome="key_created", workspace=args.workspace,
                     detail={"key_prefix": key[:10]})
    kind = "an operator API key" if args.operator else "an API key"
    print(f"Created {kind} for workspace {args.workspace!r}. It is shown once; store it now:")
    print(key)
    return 0


def _keys_manage(args: argparse.Namespace) -> int:
    """``sintra keys list|revoke|rotate``: straight on the database, like ``create``."""
    from workers.store import keys as key_store
    from workers.store.audit import record_event
    from workers.store.db import build_engine, migrate, session_scope

    settings = get_settings()
    migrate(settings.db_url)
    with session_scope(build_engine(settings.db_url)) as session:
        if args.keys_command == "list":
            rows = key_store.list_keys(session=session, workspace=args.workspace)
            for row in rows:
                view = key_store.key_view(row)
                state = "active" if view["active"] else f"revoked {view['revoked_at']}"
                print(f"{view['id']:>5}  {view['prefix']:<12} {view['workspace']:<24} {view['scope']:<10} "
                      f"{view['created_at']}  {state}")
            return 0
        key = key_store.find_key(session=session, prefix=args.key)
        if key is None:
            print(f"sintra: no single API key with id or prefix {args.key!r} (see `sintra keys list`)", file=sys.stderr)
            return 2
        if args.keys_command == "revoke":
            key_store.revoke_key(session=session, key=key)
            record_event(session=session, actor="cli", kind="api", outcome="key_revoked", workspace=key.workspace_id,
                         detail={"key_prefix": key.prefix})
            session.commit()
            print(f"Revoked API key {key.prefix} of workspace {key.workspace_id!r}.")
            return 0
        new = key_store.rotate_key(session=session, key=key)
        record_event(session=session, actor="cli", kind="api", outcome="key_rotated", workspace=key.workspace_id,
                     detail={"key_prefix": key.prefix, "new_prefix": new[:10]})
        print(f"Revoked {key.prefix}; its replacement for workspace {key.workspace_id!r} is shown once:")
        print(new)
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
    identities = bootstrap(args.addr or settings.vault_addr, settings.state_dir, agents=[a.id for a in agents()],
                           approle_dir=settings.approle_dir, bound_cidrs=settings.vault_bound_cidrs)
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
    create.add_argument("--operator", action="store_true",
                        help="an operator key: may manage every workspace's keys")
    create.set_defaults(func=_keys_create)
    listing = keys.add_parser("list", help="list API keys (prefix, workspace, created, revoked; never the key)")
    listing.add_argument("--workspace", default=None, help="only this workspace's keys")
    listing.set_defaults(func=_keys_manage)
    for verb, what in (("revoke", "revoke an API key at once"),
                       ("rotate", "revoke an API key and print its replacement on the last line")):
        p = keys.add_parser(verb, help=what)
        p.add_argument("key", help="the key's id or prefix, as `sintra keys list` shows them")
        p.set_defaults(func=_keys_manage)
    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.set_defaults(func=_migrate)
    vault = sub.add_parser("vault", help="OpenBao/Vault operations").add_subparsers(dest="vault_command",
                                                                                    required=True)
    boot = vault.add_parser("bootstrap", help="initialise (first time), unseal and provision a running server")
    boot.add_argument("--addr", default=None, help="server address (default: SINTRA_VAULT_ADDR)")
    boot.set_defaults(func=_vault_bootstrap)
    add_api_parsers(sub)
    add_mcp_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sintra`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
