"""The files blueprint and what its pages share: the status label filter, the template helpers, the current user,
the refused form's status, the evaluation page's rendering. The routes are in views, candidate_views and
evaluation_views."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from app.core.clock import today
from app.core.errors import DomainError
from app.files import evaluation, evaluation_forms, workflow
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

def _evaluation_missing(file: CandidateFile) -> list[str]:
    """What the transmission still needs, from the saved draft; not the interview date when the planned one
    is set: the form is pre-filled with it and saves it with the draft or the transmission."""
    problems = workflow.submit_evaluation_problems(file) if file.status == FileStatus.EN_ATTENTE_EVALUATION else {}
    if file.planned_interview_date and (file.evaluation is None or file.evaluation.interview_date is None):
        problems.pop("interview_date", None)
    return list(problems.values())


def _render_evaluation(file: CandidateFile, form=None, status: int = 200, document_form=None, submit_form=None,
                       transmission_refused: bool = False):
    """The assessor's evaluation form: the draft (or what was posted), the job assessor's observations beside
    each competence, the invitation's state, the R5 window (and how a new actual interview date reopens it)."""
    interview = file.interview_date
    window = workflow.results_window(interview) if interview else None
    form = form or evaluation_forms.evaluation_form(file, formdata=None)
    for given in (document_form, submit_form):  # a refused upload or transmission posted from elsewhere
        if given is not None:
            for name, messages in given.errors.items():
                target = form.guide if name in {"file", "kind"} else None
                if target is not None:
                    target.errors = [*target.errors, *messages]
                else:
                    form.form_errors.extend(m for m in messages if m not in form.form_errors)
            form.form_errors.extend(m for m in given.form_errors if m not in form.form_errors)
    return render_template(
        "files/evaluation_form.html", f=file, form=form,
        resend_form=evaluation_forms.ResendInvitationForm(formdata=None),
        missing=_evaluation_missing(file), window=window,
        window_state=None if window is None else
        "à venir" if today() < window[0] else "close" if today() > window[1] else "ouverte",
        observations=file.job_assessor_observations, invitation=evaluation.invitation_state(file),
        transmission_refused=transmission_refused,
    ), status
