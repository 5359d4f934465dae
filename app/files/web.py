"""The files blueprint and what its pages share: the status label filter, the template helpers, the current user,
the refused form's status, the evaluation page's rendering. The routes are in views, candidate_views and
evaluation_views."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from app.core.errors import DomainError
from app.files import evaluation_forms, forms, workflow
from app.files.models import (
    DOCUMENT_KINDS,
    STATUS_LABELS,
    TRAINING_PATHS,
    TRAINING_SCHEMES,
    CandidateFile,
    FileStatus,
)

bp = Blueprint("files", __name__)


@bp.app_template_filter("status_label")
def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(FileStatus(status), status) if status else ""


bp.add_app_template_global(FileStatus, "FileStatus")

FILE_READERS = ("entreprise", "evaluateur", "candidat", "secretariat", "jury")


def _me():
    return current_user._get_current_object()


def _int_arg(name: str, default: int = 1) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 7 else default


def _fail(form, error: DomainError) -> int:
    form.add_domain_errors(error)
    return error.status_code


# ---------------------------------------------------------------- template helpers


@bp.app_context_processor
def _helpers():
    return {
        "TRAINING_PATHS": TRAINING_PATHS, "TRAINING_SCHEMES": TRAINING_SCHEMES,
        "DOCUMENT_KINDS": DOCUMENT_KINDS, "EVENT_LABELS": workflow.EVENT_LABELS,
    }

def _render_evaluation(file: CandidateFile, form=None, status: int = 200, document_form=None, submit_form=None):
    return render_template(
        "files/evaluation_form.html", f=file, form=form or evaluation_forms.evaluation_form(file, formdata=None),
        document_form=document_form or forms.DocumentForm(formdata=None, kind="guide_evaluation"),
        submit_form=submit_form or evaluation_forms.SubmitEvaluationForm(formdata=None),
        missing=workflow.next_step_problems(file),
        window=workflow.results_window(file.evaluation.interview_date)
        if file.evaluation and file.evaluation.interview_date else None,
    ), status
