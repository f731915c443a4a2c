"""Masking of e-mail addresses, phone numbers and long numbers; the inbox's grouping key."""

from __future__ import annotations

import pytest

from bot.analytics.masking import GROUP_KEY_MAX, group_key, mask


@pytest.mark.parametrize("text, expected", [
    ("écrivez à jean.dupont@example.fr svp", "écrivez à [e-mail] svp"),
    ("JEAN-PIERRE_2@Asso-Lyon.ORG", "[e-mail]"),
    ("contact+alliance@mairie.paris.fr, merci", "[e-mail], merci"),
    ("jean @ example . com", "[e-mail]"),
    ("jean(at)example(dot)fr", "[e-mail]"),
    ("06 12 34 56 78", "[téléphone]"),
    ("0612345678", "[téléphone]"),
    ("06.12.34.56.78", "[téléphone]"),
    ("01-23-45-67-89", "[téléphone]"),
    ("+33 6 12 34 56 78", "[téléphone]"),
    ("+33612345678", "[téléphone]"),
    ("+33 (0)6 12 34 56 78", "[téléphone]"),
    ("0033 6 12 34 56 78", "[téléphone]"),
    ("appelez le 09 87 65 43 21 demain", "appelez le [téléphone] demain"),
    ("mon numéro: 07 98-76.54 32", "mon numéro: [téléphone]"),
    ("siret 123456789", "siret [nombre]"),
    ("siret 123 456 789 00012", "siret [nombre]"),
    ("dossier 12-345-678", "dossier [nombre]"),
    ("code postal 69001", "code postal 69001"),
    ("on est 12 salariés", "on est 12 salariés"),
    ("entre 10 et 49 personnes", "entre 10 et 49 personnes"),
    ("de 2024 à 2025", "de 2024 à 2025"),
    ("2024 2025", "2024 2025"),
    ("1 200 salariés", "1 200 salariés"),
    ("né le 12.05.1980", "né le [nombre]"),
    ("IBAN FR76 3000 6000 0112 3456 7890 189", "IBAN FR[nombre]"),
    ("KTR-482", "KTR-482"),
    ("", ""),
    ("mail a@b.fr et tel 0612345678", "mail [e-mail] et tel [téléphone]"),
])
def test_mask(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_masked_text_keeps_no_digit_run_of_six() -> None:
    import re

    for text in ("n° 1234567", "IBAN FR76 3000 6000 0112 3456 7890 189", "tel : 06 12 34 56 78 / 07.12.34.56.78"):
        assert not re.search(r"\d{6}", mask(text).replace(" ", "").replace(".", ""))


@pytest.mark.parametrize("text, expected", [
    ("  Ça, c’est TROP   général !! ", "ca c est trop general"),
    ("Écoles, collèges & lycées", "ecoles colleges lycees"),
    ("l'impact_social?", "l impact social"),
    ("ÉTÉ", "ete"),
])
def test_group_key(text: str, expected: str) -> None:
    assert group_key(text) == expected


def test_group_key_is_bounded_and_groups_variants() -> None:
    assert len(group_key("mot " * 200)) <= GROUP_KEY_MAX
    assert group_key("Je ne comprends pas !") == group_key("je ne comprends pas") == group_key("JE NE  COMPRENDS PAS?")
