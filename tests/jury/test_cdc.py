"""R16, the CPF register: every flux built is valid against the Caisse des Dépôts' XSD (tests/data/cdc/cpf.xsd),
carries each `valide` holder of a published session on a registered CQP once, from the frozen identity;
incomplete identities are listed, never written; the CDC's report marks passages accepted or rejected
(rejected ones go again, accepted never); bad reports change nothing; 409s; the page and the API."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from app.core.clock import now
from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.files.models import FileStatus
from app.jury import cdc, record
from app.jury.cdc_models import CdcExport, CdcPassage
from tests.factories import get_cqp, make_candidate, make_session
from tests.jury.helpers import decide, make_file

XSD_PATH = Path(__file__).resolve().parents[1] / "data" / "cdc" / "cpf.xsd"
SCHEMA = etree.XMLSchema(etree.parse(str(XSD_PATH)))
NS = {"cpf": cdc.CPF_NS}
JURY_DAY = date(2027, 6, 15)


def assert_valid(xml: bytes) -> etree._Element:
    doc = etree.fromstring(xml)
    assert SCHEMA.validate(doc), SCHEMA.error_log
    return doc


@pytest.fixture
def configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "CDC_ID_CLIENT", "03VML243")
    monkeypatch.setitem(app.config, "CDC_ID_CONTRAT", "MCFCER000209")


@pytest.fixture
def registered(app_ctx):
    cqp = get_cqp("FAB-OPF")
    cqp.repertoire, cqp.repertoire_code = "RNCP", "RNCP35842"
    db.session.commit()
    return cqp


@pytest.fixture
def jury_session(app_ctx, today_is):
    today_is("2027-05-01")
    jury_session = make_session(on=JURY_DAY)
    today_is(JURY_DAY)
    return jury_session


IDENTITY = {"sex": "F", "birth_place_code": "69123", "birth_place": "Lyon"}


def holder(jury_session, secretariat, *, publish=True, status=True, **identity):
    """A `valide` file of the session (published unless said), its candidate of this identity."""
    values = {**IDENTITY, **identity}
    first_name = values.pop("first_name", None)
    candidate = make_candidate(first_name=first_name, **values)
    file = make_file(FileStatus.INSCRIPTION_JURY, session=jury_session, candidate=candidate)
    decide(file, secretariat, status)
    if publish:
        jury_session.published_at = now()
    db.session.commit()
    return file


def flux_of(export: CdcExport) -> bytes:
    return cdc.flux_path(export).read_bytes()


def report(flux_id: str, ok=(), ko=(), *, prefix: str | None = "r", report_id: str = "T-1") -> bytes:
    ns = cdc.REPORT_NS
    tag = (lambda n: f"{prefix}:{n}") if prefix else (lambda n: n)
    xmlns = f'xmlns:{prefix}="{ns}"' if prefix else f'xmlns="{ns}"'
    oks = "".join(f"<{tag('idTechnique')}>{n}</{tag('idTechnique')}>" for n in ok)
    kos = "".join(f"<{tag('passage')}><{tag('idTechnique')}>{n}</{tag('idTechnique')}><{tag('messageErreur')}>{m}"
                  f"</{tag('messageErreur')}></{tag('passage')}>" for n, m in ko)
    return (f'<?xml version="1.0" encoding="UTF-8"?><{tag("rapport")} {xmlns}><{tag("idFlux")}>{flux_id}'
            f'</{tag("idFlux")}><{tag("idTraitement")}>{report_id}</{tag("idTraitement")}><{tag("PassagesOK")}>{oks}'
            f'</{tag("PassagesOK")}><{tag("PassagesKO")}>{kos}</{tag("PassagesKO")}></{tag("rapport")}>').encode()


# ---------------------------------------------------------------- the flux, against the XSD


def test_the_flux_is_valid_and_carries_the_frozen_identity(configured, registered, jury_session, secretariat):
    file = holder(jury_session, secretariat, sex="M")
    frozen_last = file.candidate.last_name
    file.candidate.set_names("Renommé", "Ailleurs")  # the live row: never what the flux says
    db.session.commit()
    export, incomplete = cdc.create_export(secretariat)
    db.session.commit()
    assert incomplete == [] and export.passages_count == 1
    doc = assert_valid(flux_of(export))
    [passage] = doc.findall(".//cpf:passageCertification", NS)
    number = file.parchment.number
    assert passage.findtext("cpf:idTechnique", namespaces=NS) == number
    assert passage.findtext("cpf:urlPreuve", namespaces=NS) == f"http://certifia.test/verifier/{number}"
    assert passage.findtext("cpf:dateDebutValidite", namespaces=NS) == "2027-06-15"
    assert passage.findtext("cpf:obtentionCertification", namespaces=NS) == "PAR_ADMISSION"
    t = passage.find(".//cpf:titulaire", NS)
    assert t.findtext("cpf:nomNaissance", namespaces=NS) == frozen_last
    assert t.findtext("cpf:prenom1", namespaces=NS) == "Camille"
    assert t.find("cpf:nomUsage", NS).get(f"{{{cdc.XSI_NS}}}nil") == "true"
    assert (t.findtext("cpf:anneeNaissance", namespaces=NS), t.findtext("cpf:moisNaissance", namespaces=NS),
            t.findtext("cpf:jourNaissance", namespaces=NS)) == ("1990", "5", "17")
    assert t.findtext("cpf:sexe", namespaces=NS) == "M"
    assert t.findtext(".//cpf:codeInsee", namespaces=NS) == "69123"
    assert doc.findtext(".//cpf:certification/cpf:code", namespaces=NS) == "RNCP35842"
    assert doc.findtext(".//cpf:certification/cpf:type", namespaces=NS) == "RNCP"
    assert doc.findtext("cpf:emetteur/cpf:idClient", namespaces=NS) == "03VML243"


def test_edge_identities_are_valid(configured, registered, jury_session, secretariat):
    abroad = holder(jury_session, secretariat, birth_place_code="99109", birth_place="Berlin",
                    birth_country="Allemagne")
    three = holder(jury_session, secretariat, first_name="Marie-Hélène", other_first_names=["Zoé", "Anaïs"],
                   usage_name="D'Artagnan-Lefèvre")
    accents = holder(jury_session, secretariat, first_name="Ærwan", birth_place_code="2A004",
                     birth_place="Ajaccio")
    for file, scheme in ((abroad, "vae"), (three, "contrat_professionnalisation"), (accents, None)):
        file.training_scheme = scheme
    db.session.commit()
    export, _ = cdc.create_export(secretariat)
    doc = assert_valid(flux_of(export))
    by_number = {p.findtext("cpf:idTechnique", namespaces=NS): p for p in doc.iterfind(".//cpf:passageCertification", NS)}
    p = by_number[abroad.parchment.number]
    assert p.findtext(".//cpf:codeInsee", namespaces=NS) == "99109"
    assert p.findtext(".//cpf:libellePaysNaissance", namespaces=NS) == "Allemagne"
    assert p.findtext(".//cpf:modaliteAcces", namespaces=NS) == "VAE"
    p = by_number[three.parchment.number]
    assert [p.findtext(f".//cpf:prenom{i}", namespaces=NS) for i in (1, 2, 3)] == ["Marie-Hélène", "Zoé", "Anaïs"]
    assert p.findtext(".//cpf:nomUsage", namespaces=NS) == "D'Artagnan-Lefèvre"
    assert p.findtext(".//cpf:modaliteAcces", namespaces=NS) == "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION"
    p = by_number[accents.parchment.number]
    assert p.find(".//cpf:modaliteAcces", NS).get(f"{{{cdc.XSI_NS}}}nil") == "true"


def test_incomplete_identities_are_listed_never_written(configured, registered, jury_session, secretariat):
    good = holder(jury_session, secretariat)
    long_name = holder(jury_session, secretariat, first_name="A" * 61)
    no_sex = holder(jury_session, secretariat, sex=None)
    unknown = holder(jury_session, secretariat, birth_place_code="00000")
    export, incomplete = cdc.create_export(secretariat)
    assert {i.file_id: i.missing for i in incomplete} == {
        long_name.id: ["first_name"], no_sex.id: ["sex"], unknown.id: ["birth_place_code"]}
    doc = assert_valid(flux_of(export))
    assert [p.text for p in doc.iterfind(".//cpf:idTechnique", NS)] == [good.parchment.number]


def test_only_valide_published_registered_files(configured, registered, jury_session, secretariat, today_is):
    holder(jury_session, secretariat, status=[True, False, True])  # partiel: partial results are not sent
    other = make_session(on=JURY_DAY)
    holder(other, secretariat, publish=False)  # not published
    with pytest.raises(Conflict, match="Aucun titulaire"):
        cdc.create_export(secretariat)
    sent = holder(jury_session, secretariat)
    export, _ = cdc.create_export(secretariat)
    assert [p.file_id for p in export.passages] == [sent.id]


def test_unregistered_cqp_is_not_sent(configured, app_ctx, jury_session, secretariat):
    holder(jury_session, secretariat)
    with pytest.raises(Conflict):
        cdc.create_export(secretariat)


def test_missing_settings_409_naming_them(app, registered, jury_session, secretariat, monkeypatch):
    monkeypatch.setitem(app.config, "CDC_ID_CLIENT", None)
    monkeypatch.setitem(app.config, "CDC_ID_CONTRAT", "")
    holder(jury_session, secretariat)
    with pytest.raises(Conflict, match="CDC_ID_CLIENT et CDC_ID_CONTRAT"):
        cdc.create_export(secretariat)
    assert db.session.query(CdcExport).count() == 0


# ---------------------------------------------------------------- never twice, reports


def test_never_twice_then_report_ok_ko(configured, registered, jury_session, secretariat):
    a = holder(jury_session, secretariat)
    b = holder(jury_session, secretariat)
    export, _ = cdc.create_export(secretariat)
    db.session.commit()
    with pytest.raises(Conflict):  # awaiting its report: nothing new
        cdc.create_export(secretariat)
    counts = cdc.import_report(export, report(export.flux_id, ok=[a.parchment.number],
                                              ko=[(b.parchment.number, "Nom de naissance invalide")]))
    db.session.commit()
    assert counts == {"accepted": 1, "rejected": 1}
    assert cdc.cpf_of_file(a)["status"] == "accepte"
    assert cdc.cpf_of_file(b) == {"status": "rejete", "deadline": "2027-09-15", "error": "Nom de naissance invalide"}
    # the secretariat corrects b's identity: a new version; the next flux carries b only, as corrected
    record.rectify_identity(b.candidate, {"last_name": "Corrigé"}, "Acte de naissance reçu", secretariat)
    db.session.commit()
    second, _ = cdc.create_export(secretariat)
    db.session.commit()
    doc = assert_valid(flux_of(second))
    assert [p.text for p in doc.iterfind(".//cpf:idTechnique", NS)] == [b.parchment.number]
    assert doc.findtext(".//cpf:nomNaissance", namespaces=NS) == "Corrigé"
    assert second.passages[0].version == 2
    cdc.import_report(second, report(second.flux_id, ok=[b.parchment.number], prefix=None))
    db.session.commit()
    with pytest.raises(Conflict):  # accepted: never sent again
        cdc.create_export(secretariat)


def test_a_mixed_report_without_prefix_and_unnamed_passages(configured, registered, jury_session, secretariat):
    a, b, c = (holder(jury_session, secretariat) for _ in range(3))
    export, _ = cdc.create_export(secretariat)
    counts = cdc.import_report(export, report(export.flux_id, ok=[a.parchment.number],
                                              ko=[(b.parchment.number, "Sexe incohérent")], prefix=None))
    assert counts == {"accepted": 1, "rejected": 2}
    assert cdc.cpf_of_file(c)["status"] == "rejete"
    assert (export.accepted, export.rejected, export.report_id) == (1, 2, "T-1")


@pytest.mark.parametrize("content, message", [
    (b"<rapport><idFlux>", "pas un fichier XML lisible"),
    (b"<autre xmlns='urn:cdc:cpf:pc5:rapport:schema'/>", "rapport de traitement"),
    (b"", "pas un fichier XML lisible"),
])
def test_malformed_reports_change_nothing(configured, registered, jury_session, secretariat, content, message):
    holder(jury_session, secretariat)
    export, _ = cdc.create_export(secretariat)
    db.session.commit()
    with pytest.raises(ValidationFailed) as error:
        cdc.import_report(export, content)
    assert message in " ".join(m for ms in error.value.errors.values() for m in ms)
    db.session.rollback()
    assert {p.status for p in db.session.query(CdcPassage)} == {"transmis"}


def test_another_flux_report_is_refused(configured, registered, jury_session, secretariat):
    file = holder(jury_session, secretariat)
    export, _ = cdc.create_export(secretariat)
    with pytest.raises(ValidationFailed) as error:
        cdc.import_report(export, report("un-autre-flux", ok=[file.parchment.number]))
    assert "un-autre-flux" in str(error.value.errors)
    assert export.passages[0].status == "transmis"


def test_an_xxe_reads_no_file(configured, registered, jury_session, secretariat, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    file = holder(jury_session, secretariat)
    export, _ = cdc.create_export(secretariat)
    evil = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
            f'<rapport xmlns="{cdc.REPORT_NS}"><idFlux>{export.flux_id}</idFlux><PassagesKO><passage>'
            f'<idTechnique>{file.parchment.number}</idTechnique><messageErreur>&x;</messageErreur></passage>'
            f'</PassagesKO></rapport>').encode()
    cdc.import_report(export, evil)
    assert "SECRET-CONTENT" not in (export.passages[0].error or "")


# ---------------------------------------------------------------- API, page, CLI


def test_api(configured, registered, jury_session, secretariat, api_as):
    file = holder(jury_session, secretariat)
    incomplete = holder(jury_session, secretariat, sex=None)
    api = api_as(secretariat)
    answer = api.post("/cdc-exports")
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["passages"] == 1 and body["excluded"] == [{"file_id": incomplete.id, "missing": ["sex"]}]
    assert api.post("/cdc-exports").status_code == 409
    flux = api.get(f"/cdc-exports/{body['id']}/flux.xml")
    assert flux.status_code == 200 and flux.mimetype == "application/xml"
    assert_valid(flux.get_data())
    flux.close()
    [listed] = api.get("/cdc-exports").get_json()
    assert listed["flux_id"] == body["flux_id"] and listed["report_received_at"] is None
    seen = api.get(f"/files/{file.id}").get_json()
    assert seen["cpf"] == {"status": "transmis", "deadline": "2027-09-15", "error": None}
    with db.session.no_autoflush:
        number = db.session.get(type(file), file.id).parchment.number
    bad = api.post(f"/cdc-exports/{body['id']}/report", data={"file": (io.BytesIO(b"<nope"), "r.xml")},
                   content_type="multipart/form-data")
    assert bad.status_code == 422 and "XML" in bad.get_json()["detail"] + str(bad.get_json().get("errors"))
    other = api.post(f"/cdc-exports/{body['id']}/report", data={"file": (io.BytesIO(report("x", ok=[number])), "r.xml")},
                     content_type="multipart/form-data")
    assert other.status_code == 422
    good = api.post(f"/cdc-exports/{body['id']}/report",
                    data={"file": (io.BytesIO(report(body["flux_id"], ok=[number])), "r.xml")},
                    content_type="multipart/form-data")
    assert good.status_code == 200 and good.get_json() == {"accepted": 1, "rejected": 0}


def test_api_409_without_settings(app, registered, jury_session, secretariat, api_as, monkeypatch):
    monkeypatch.setitem(app.config, "CDC_ID_CLIENT", None)
    monkeypatch.setitem(app.config, "CDC_ID_CONTRAT", None)
    holder(jury_session, secretariat)
    answer = api_as(secretariat).post("/cdc-exports")
    assert answer.status_code == 409 and "CDC_ID_CLIENT" in answer.get_json()["detail"]


def test_the_page(app, configured, registered, jury_session, secretariat, login_as, today_is):
    holder(jury_session, secretariat)
    holder(jury_session, secretariat, sex=None)
    today_is("2027-10-01")  # past the deadline (2027-09-15)
    client = login_as(secretariat)
    page = client.get("/secretariat/registre-cpf").get_data(as_text=True)
    assert "Registre CPF" in page and "en retard" in page and "manque : sexe" in page
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "<strong>2</strong> titulaires en retard pour le <a" in home


def test_the_page_banner_without_settings(app, registered, jury_session, secretariat, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "CDC_ID_CLIENT", None)
    monkeypatch.setitem(app.config, "CDC_ID_CONTRAT", None)
    page = login_as(secretariat).get("/secretariat/registre-cpf").get_data(as_text=True)
    assert "Configuration manquante : CDC_ID_CLIENT et CDC_ID_CONTRAT" in page


def test_cli(configured, registered, jury_session, secretariat, runner, tmp_path):
    file = holder(jury_session, secretariat)
    out = tmp_path / "flux.xml"
    result = runner.invoke(args=["cdc", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 titulaire" in result.output
    doc = assert_valid(out.read_bytes())
    flux_id = doc.findtext("cpf:idFlux", namespaces=NS)
    again = runner.invoke(args=["cdc", "export"])
    assert again.exit_code == 1 and "Aucun titulaire" in again.output
    rep = tmp_path / "rapport.xml"
    rep.write_bytes(report(flux_id, ko=[(file.parchment.number, "Date de naissance invalide")]))
    result = runner.invoke(args=["cdc", "report", str(rep)])
    assert result.exit_code == 0, result.output
    assert "1 passage rejeté" in result.output


def test_the_demo_flux_is_valid(configured, app_ctx, runner, tmp_path):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    ready, incomplete = cdc.pending()
    if not ready:
        pytest.skip("la démo n'a aucun titulaire d'un CQP enregistré dans une session publiée")
    export, _ = cdc.create_export(None)
    doc = assert_valid(flux_of(export))
    assert len(doc.findall(".//cpf:passageCertification", NS)) == len(ready) == export.passages_count
    (tmp_path / "demo.xml").write_bytes(flux_of(export))


def test_the_page_builds_a_flux_and_imports_its_report(app, configured, registered, jury_session, secretariat,
                                                       login_as):
    from tests.conftest import csrf_token

    file = holder(jury_session, secretariat)
    client = login_as(secretariat)
    token = csrf_token(client, "/secretariat/registre-cpf")
    built = client.post("/secretariat/registre-cpf/flux", data={"csrf_token": token}, follow_redirects=True)
    assert built.status_code == 200 and "Flux construit : 1 titulaire" in built.get_data(as_text=True)
    again = client.post("/secretariat/registre-cpf/flux", data={"csrf_token": token})
    assert again.status_code == 409 and "Aucun titulaire" in again.get_data(as_text=True)
    export = db.session.query(CdcExport).one()
    flux = client.get(f"/secretariat/registre-cpf/flux/{export.id}.xml")
    assert flux.status_code == 200 and flux.mimetype == "application/xml"
    assert_valid(flux.get_data())
    flux.close()
    url = f"/secretariat/registre-cpf/flux/{export.id}/rapport"
    bad = client.post(url, data={"csrf_token": token, "file": (io.BytesIO(b"<pas du xml"), "r.xml")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "pas un fichier XML lisible" in bad.get_data(as_text=True)
    content = report(export.flux_id, ko=[(file.parchment.number, "Sexe incohérent")])
    done = client.post(url, data={"csrf_token": token, "file": (io.BytesIO(content), "r.xml")},
                       content_type="multipart/form-data", follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Rapport importé : 0 passage accepté, 1 passage rejeté" in page
    assert "Sexe incohérent" in page and f"/secretariat/candidats/{file.candidate_id}/rectification" in page


def test_passages_recorded_in_chunks_while_the_flux_streams(configured, registered, jury_session, secretariat,
                                                            monkeypatch):
    """yield_per and the chunked inserts interleave (as with thousands of holders): each holder once."""
    monkeypatch.setattr(cdc, "CHUNK", 2)
    files = [holder(jury_session, secretariat) for _ in range(5)]
    export, _ = cdc.create_export(secretariat)
    db.session.commit()
    doc = assert_valid(flux_of(export))
    assert sorted(p.text for p in doc.iterfind(".//cpf:idTechnique", NS)) == sorted(f.parchment.number for f in files)
    assert sorted(p.file_id for p in export.passages) == sorted(f.id for f in files) and export.passages_count == 5
