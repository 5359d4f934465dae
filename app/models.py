"""Imports every model so that metadata (and Alembic) see the whole schema."""

from app.accounts.models import *  # noqa: F403
from app.core.models import *  # noqa: F403
from app.files.carry_over_models import *  # noqa: F403
from app.files.exchange_models import *  # noqa: F403
from app.files.models import *  # noqa: F403
from app.files.webhook_models import *  # noqa: F403
from app.jury.cdc_models import *  # noqa: F403
from app.jury.models import *  # noqa: F403
from app.referential.habilitation_models import *  # noqa: F403
from app.referential.models import *  # noqa: F403
from app.referential.training_org_models import *  # noqa: F403
from app.stats.models import *  # noqa: F403
