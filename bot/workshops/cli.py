"""``python -m bot.workshops``: the trainer's commands without the web page (creates the tables if missing)::

    python -m bot.workshops create --title "Atelier Lyon" [--hours 4]
    python -m bot.workshops close --token TOKEN
    python -m bot.workshops export --token TOKEN [--out resultats.csv]
    python -m bot.workshops keep --token TOKEN [--no]
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.settings import get_settings
from bot.store.db import get_engine
from bot.store.tables import Base
from bot.workshops.codes import (
    TRAINER_PAGE,
)
from bot.workshops.export import export_csv_bytes
from bot.workshops.repository import (
    close_workshop,
    create_workshop,
    find_by_token,
    keep_results,
)


def _token_argument(value: str) -> str:
    # Accept the whole dashboard link as well as the bare token.
    return value.strip().rstrip("/").rsplit("/", 1)[-1]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.workshops create|close|export``: the trainer's commands without the web page."""
    parser = argparse.ArgumentParser(prog="python -m bot.workshops", description="Ateliers : ouvrir, exporter, fermer.")
    parser.add_argument("--database-url", default=None, help="par défaut : DATABASE_URL des réglages")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="ouvrir un atelier")
    create.add_argument("--title", required=True, help="titre de l'atelier (120 caractères au plus)")
    create.add_argument("--hours", type=float, default=None, help="durée en heures (par défaut : WORKSHOP_HOURS)")
    close = commands.add_parser("close", help="fermer un atelier")
    close.add_argument("--token", required=True, help="jeton secret ou lien du tableau de bord")
    export = commands.add_parser("export", help="exporter les résultats anonymes en CSV")
    export.add_argument("--token", required=True, help="jeton secret ou lien du tableau de bord")
    export.add_argument("--out", default=None, help="fichier CSV à écrire (par défaut : la sortie standard)")
    keep = commands.add_parser("keep", help="conserver les résultats au-delà de la durée de conservation")
    keep.add_argument("--token", required=True, help="jeton secret ou lien du tableau de bord")
    keep.add_argument("--no", action="store_true", help="ne plus les conserver")
    args = parser.parse_args(argv)

    settings = get_settings()
    engine = get_engine(args.database_url or settings.database_url)
    Base.metadata.create_all(engine)

    if args.command == "create":
        try:
            created = create_workshop(args.title, hours=args.hours, engine=engine)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        print(f"Atelier « {created.title} » ouvert jusqu'au {created.expires_at.astimezone():%d/%m/%Y à %H:%M (%Z)}.")
        print(f"Code à donner aux participants : {created.display_code}")
        # Without PUBLIC_URL, the links point at the web app on this machine.
        site = settings.public_url or f"http://{settings.web_host}:{settings.web_port}"
        print(f"Lien pour les participants : {site}/?atelier={created.display_code}")
        print(f"Tableau de bord (lien secret, ne le diffusez pas) : {site}{created.dashboard_path}")
        print(f"Page des ateliers : {site}{TRAINER_PAGE}")
        return 0

    workshop = find_by_token(_token_argument(args.token), engine=engine)
    if workshop is None:
        print("Aucun atelier ne correspond à ce jeton : vérifiez le lien du tableau de bord.", file=sys.stderr)
        return 1
    if args.command == "keep":
        keep_results(workshop.id, not args.no, engine=engine)
        kept = "conservés au-delà de" if not args.no else "effacés, comme les autres, après"
        print(f"Résultats de l'atelier « {workshop.title} » {kept} la durée de conservation.")
        return 0
    if args.command == "close":
        closed = close_workshop(workshop.id, engine=engine)
        print(f"Atelier « {closed.title} » ({closed.display_code}) fermé : plus personne ne peut le rejoindre.")
        return 0

    from bot.diagnostic.questionnaire import QuestionnaireError, load_questionnaire
    from bot.store.loader import read_questionnaire  # the questionnaire as loaded, else the YAML file

    try:
        survey = read_questionnaire(engine)
    except QuestionnaireError:
        survey = load_questionnaire(settings.questionnaire_path)
    data = export_csv_bytes(workshop.id, survey, engine=engine)
    if args.out:
        with open(args.out, "wb") as file:
            file.write(data)
        rows = data.count(b"\r\n") - 1  # no cell holds a line break: only ids, numbers, dates and labels
        print(f"{rows} résultat(s) de l'atelier « {workshop.title} » écrit(s) dans {args.out}.")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)  # the same bytes as the file, BOM included
        sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
