"""Marketing campaigns in the console (customer service): defined, started, paused, resumed
and cancelled, with their reach and response; and the public unsubscribe page the link
in every campaign message opens."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response
from temporalio.common import WorkflowIDReusePolicy

from domain.access import Locale, Permission
from domain.campaigns import (
    CAMPAIGN_WORKFLOW_TYPE,
    CANCEL_CAMPAIGN,
    PAUSE_CAMPAIGN,
    RESUME_CAMPAIGN,
    CampaignAction,
    CampaignDefinition,
    CampaignStart,
    campaign_workflow_id,
)
from domain.orders import TASK_QUEUE
from domain.segments import Abc, Segment
from domain.wording import N_
from ops.staff import StaffAction
from persistence.keys import link_secrets
from persistence.transactions.campaigns import (
    campaign_view,
    campaigns,
    create_campaign,
    unsubscribe,
    unsubscribe_link_valid,
)

from .i18n import translations
from .rendering import render
from .security import FormChecked, RowNumber, Staff, database, requires, settings_of, temporal
from .stock import act_on_workflow, reasons_of

router = APIRouter()

Marketer = Annotated[Staff, Depends(requires(Permission.EDIT_CUSTOMERS))]
ACTIONS = {"pause": PAUSE_CAMPAIGN, "resume": RESUME_CAMPAIGN, "cancel": CANCEL_CAMPAIGN}


@router.get("/customers/campaigns")
async def campaigns_page(request: Request, user: Marketer) -> Response:
    """Every campaign with its reach and response, and the form for a new one."""
    return await _campaigns(request, user, {}, None)


@router.post("/customers/campaigns")
async def start_campaign(request: Request, user: Marketer, _form: FormChecked) -> Response:
    """Define a campaign and start its workflow."""
    form = await request.form()
    values = {name: str(value).strip() for name, value in form.items() if name != "csrf_token"}
    try:
        definition = CampaignDefinition.model_validate_strings(
            {name: value for name, value in values.items() if value}
        )
    except ValidationError as invalid:
        return await _campaigns(request, user, values, reasons_of(invalid, user.account.locale))
    db = database(request)
    campaign_id = await db.run(create_campaign, db, definition, user.account.username)
    await (await temporal(request)).start_workflow(
        CAMPAIGN_WORKFLOW_TYPE,
        CampaignStart(
            campaign_id=campaign_id,
            rate_per_minute=definition.rate_per_minute,
            response_days=definition.response_days,
        ),
        id=campaign_workflow_id(campaign_id),
        task_queue=TASK_QUEUE,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=f"Campaign {campaign_id}: {definition.name}",
    )
    return RedirectResponse(f"/customers/campaigns/{campaign_id}", status_code=303)


@router.get("/customers/campaigns/{campaign_id}")
async def campaign_page(request: Request, campaign_id: RowNumber, user: Marketer) -> Response:
    """One campaign: what it sends to whom, how far it is, and what it did."""
    db = database(request)
    view = await db.run(campaign_view, db, campaign_id, datetime.now(UTC))
    if view is None:
        return render(
            "problem.html",
            user.account.locale,
            404,
            status=404,
            reason=translations(user.account.locale).gettext(N_("no campaign %(id)s"))
            % {"id": campaign_id},
            back="/customers/campaigns",
        )
    return render(
        "campaign.html",
        user.account.locale,
        user=user,
        campaign=view,
        done=request.query_params.get("done"),
    )


@router.post("/customers/campaigns/{campaign_id}/{action}")
async def act(
    request: Request, campaign_id: RowNumber, action: str, user: Marketer, _form: FormChecked
) -> Response:
    """Pause, resume or cancel: an update on the campaign's workflow."""
    back = f"/customers/campaigns/{campaign_id}"
    if action not in ACTIONS:
        return RedirectResponse(back, status_code=303)
    return await act_on_workflow(
        request,
        user,
        StaffAction(campaign_workflow_id(campaign_id), ACTIONS[action], f"campaign {campaign_id}"),
        lambda: CampaignAction(actor=user.account.username),
        back=back,
        done=action,
    )


@router.get("/unsubscribe/{customer_id}/{token}")
async def unsubscribe_page(request: Request, customer_id: str, token: str) -> Response:
    """The page an unsubscribe link opens: one button (a link prefetched by a mail
    scanner changes nothing); a link that is not ours gets the "not valid" page."""
    secrets = link_secrets(settings_of(request).load_key_ring())
    if not unsubscribe_link_valid(secrets, customer_id, token):
        return _invalid_link(request)
    return render(
        "unsubscribe.html",
        customer_locale(request),
        customer_id=customer_id,
        token=token,
        done=False,
    )


@router.post("/unsubscribe/{customer_id}/{token}")
async def unsubscribe_now(request: Request, customer_id: str, token: str) -> Response:
    """Withdraw the marketing consent at once (audited as ``unsubscribe link``)."""
    db = database(request)
    secrets = link_secrets(settings_of(request).load_key_ring())
    done = await db.run(unsubscribe, db, secrets, customer_id, token)
    if not done:
        return _invalid_link(request)
    return render("unsubscribe.html", customer_locale(request), customer_id=customer_id, done=True)


def _invalid_link(request: Request) -> Response:
    locale = customer_locale(request)
    return render(
        "problem.html",
        locale,
        404,
        status=404,
        reason=translations(locale).gettext(N_("this unsubscribe link is not valid")),
        back=None,
    )


def customer_locale(request: Request) -> Locale:
    """The customer's language as their browser asks (no one is logged in here)."""
    wanted = request.headers.get("accept-language", "").lower()
    return Locale.TRADITIONAL_CHINESE if wanted.startswith("zh") else Locale.ENGLISH


async def _campaigns(
    request: Request, user: Staff, values: dict[str, str], problem: str | None
) -> Response:
    db = database(request)
    rows = await db.run(functools.partial(campaigns, now=datetime.now(UTC)), db)
    return render(
        "campaigns.html",
        user.account.locale,
        422 if problem else 200,
        user=user,
        rows=rows,
        values=values,
        problem=problem,
        segments=list(Segment),
        classes=list(Abc),
    )
