"""``python -m bot.console``: set the console password, export the labelled inbox as NLU data.

- ``set-password``: asks for the password twice (or reads one line from standard input when it is
  not a terminal) and writes its hash as ``ADMIN_PASSWORD_HASH`` in ``.env``;
- ``export-nlu [--out FILE]``: the labelled inbox messages as Rasa NLU YAML (standard output by default).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from bot.console import inbox, password
from bot.console.nlu_export import export_yaml
from bot.paths import REPO_ROOT
from bot.store.db import session_scope


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mot de passe de la console : ")
    second = getpass.getpass("Retapez-le : ")
    if first != second:
        raise password.WeakPassword("Les deux saisies diffèrent : rien n'a été changé.")
    return first


def set_password(env_path: Path) -> int:
    try:
        hashed = password.hash_password(_read_password())
    except password.WeakPassword as error:
        print(error, file=sys.stderr)
        return 1
    password.write_env(env_path, hashed)
    print(f"Mot de passe enregistré (son empreinte seulement) dans {env_path}. Redémarrez l'application web.")
    return 0


def export_nlu(out: Path | None) -> int:
    with session_scope() as session:
        result = export_yaml(inbox.labelled_texts(session))
    if out is None:
        sys.stdout.write(result.yaml_text)
    else:
        out.write_text(result.yaml_text, encoding="utf-8")
        print(f"{result.examples} exemples écrits dans {out}.", file=sys.stderr)
    for text, reason in result.skipped:
        print(f"Laissé de côté : « {text} » ({reason})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.console", description="La console du propriétaire.")
    commands = parser.add_subparsers(dest="command", required=True)
    setter = commands.add_parser("set-password", help="choisir le mot de passe de /admin")
    setter.add_argument("--env", type=Path, default=REPO_ROOT / ".env", help="fichier .env à modifier")
    exporter = commands.add_parser("export-nlu", help="les messages étiquetés en données NLU de Rasa")
    exporter.add_argument("--out", type=Path, default=None, help="fichier à écrire (par défaut : la sortie standard)")
    arguments = parser.parse_args(argv)
    if arguments.command == "set-password":
        return set_password(arguments.env)
    return export_nlu(arguments.out)


if __name__ == "__main__":
    sys.exit(main())
