"""Does the PostgreSQL database of this URL answer? Used by `make test` and `.ci/run`.

    python scripts/pg_available.py [--create] URL

Exit 0: it answers. Exit 1: nothing listens at that address (PostgreSQL down or unreachable).
Exit 2: the server answers but the database does not exist (with --create it is created, from the
server's `postgres` database, and the exit is 0). Exit 3: the server refuses the connection for
another reason (authentication, rights). Each failure is said in French on standard error."""

from __future__ import annotations

import argparse
import socket
import sys

import psycopg
from psycopg import sql

DOWN, MISSING, REFUSED = 1, 2, 3


def _server_answers(host: str, port: int) -> bool:
    """Something listens at that address (a TCP connection opens)."""
    if not host or host.startswith("/"):
        return True  # a Unix socket: the connection attempts below tell
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def check(url: str, create: bool = False) -> int:
    url = url.replace("postgresql+psycopg://", "postgresql://")
    info = psycopg.conninfo.conninfo_to_dict(url)
    host, port, name = info.get("host", ""), int(info.get("port") or 5432), info.get("dbname", "")
    where = f"{host or 'localhost'}:{port}"
    if not _server_answers(host, port):
        print(f"PostgreSQL ne répond pas sur {where} : serveur arrêté ou injoignable.", file=sys.stderr)
        return DOWN
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return 0
    except psycopg.Error as exc:
        refusal = str(exc).strip()
    # The server answers: is it the database that is missing? Ask the server's own `postgres` base.
    maintenance = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    try:
        with psycopg.connect(maintenance, connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists:
                print(f"PostgreSQL refuse la connexion à la base « {name} » sur {where} : {refusal}", file=sys.stderr)
                return REFUSED
            if not create:
                print(f"PostgreSQL répond sur {where}, mais la base « {name} » n'existe pas "
                      f"(createdb -h {host or 'localhost'} -U {info.get('user', 'postgres')} {name}).", file=sys.stderr)
                return MISSING
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        if f'database "{name}" does not exist' in refusal:
            print(f"La base « {name} » n'existe pas sur {where} et n'a pas pu être vérifiée ni créée : "
                  f"{str(exc).strip()}", file=sys.stderr)
            return MISSING
        print(f"PostgreSQL refuse la connexion sur {where} : {refusal}", file=sys.stderr)
        return REFUSED
    print(f"Base « {name} » créée sur {where}.", file=sys.stderr)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--create", action="store_true", help="crée la base si le serveur répond sans elle")
    parser.add_argument("url")
    args = parser.parse_args()
    sys.exit(check(args.url, args.create))


if __name__ == "__main__":
    main()
