"""What people read for roles and permissions; ``_`` in the templates translates them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain import forecasting
from domain.access import Permission, Role, SystemRole
from domain.campaigns import CampaignStatus
from domain.care import CareKind
from domain.catalogue import PaymentTerms, Sourcing, Standing
from domain.complaints import (
    CATEGORY_WORDS,
    ComplaintChannel,
    ComplaintEventKind,
    ComplaintPriority,
    ComplaintStatus,
    RemedyKind,
)
from domain.inventory import ReservationStatus, StockReason, StocktakeStatus
from domain.orders import CHANNEL_WORDS, EventKind, OrderStatus
from domain.replenishment import ProposalMethod, ProposalStatus
from domain.segments import Segment
from domain.shipping import ShipmentStatus
from domain.stock_alerts import AlertKind
from domain.supply import SupplyKind, SupplyStatus
from domain.wording import N_
from domain.worklists import OrderList

ROLE_LABELS = {
    Role.ORDER_PROCESSING: N_("Order processing"),
    Role.CUSTOMER_SERVICE: N_("Customer service"),
    Role.ANALYST: N_("Analyst"),
    Role.WAREHOUSE: N_("Warehouse"),
    Role.ADMIN: N_("Administrator"),
}

PERMISSION_LABELS = {
    Permission.VIEW_ORDERS: N_("See order lists and details"),
    Permission.ACT_ON_ORDERS: N_("Approve, reject, cancel and otherwise act on orders"),
    Permission.ENTER_ORDERS: N_("Enter phone and fax orders"),
    Permission.VIEW_PERSONAL_DATA: N_("See customers' names, e-mail addresses and addresses"),
    Permission.VIEW_CUSTOMERS: N_("See customers, their history and payments"),
    Permission.EDIT_CUSTOMERS: N_("Create, change and import customers"),
    Permission.CREDIT_AUTHORITY: N_("Decide proposed credit limits and standings"),
    Permission.VIEW_CUSTOMER_FIGURES: N_("See customers per segment and class (no names)"),
    Permission.VIEW_STOCK: N_("See stock per product and warehouse"),
    Permission.OPERATE_STOCK: N_("Receive, issue, adjust and transfer stock; count it"),
    Permission.APPROVE_STOCK: N_("See count variances, approve big ones"),
    Permission.REPLENISH: N_("Approve replenishment proposals, receive their deliveries"),
    Permission.MANAGE_CATALOGUE: N_("Keep the catalogue: products, warehouses, stock levels"),
    Permission.HANDLE_COMPLAINTS: N_("Take complaints and work the cases"),
    Permission.APPROVE_REMEDIES: N_("Approve remedies above the approval amount"),
    Permission.VIEW_COMPLAINT_ANALYSIS: N_("See the complaint analysis"),
    Permission.MANAGE_USERS: N_("Manage users"),
    Permission.MANAGE_API_KEYS: N_("Manage API keys for systems"),
}

WORKLIST_LABELS = {
    OrderList.NEW: N_("New"),
    OrderList.AWAITING_APPROVAL: N_("Awaiting approval"),
    OrderList.IN_PROGRESS: N_("In progress"),
    OrderList.NEEDS_ATTENTION: N_("Needs attention"),
    OrderList.PROCESSED: N_("Processed"),
}

CHANNEL_LABELS = CHANNEL_WORDS
"""Where an order came in, as people say it (the same words the order's timeline uses)."""

FORECAST_METHOD_LABELS = {
    forecasting.NAIVE: N_("seasonal naive (the same weekday a week before)"),
    forecasting.ETS: N_("exponential smoothing (AutoETS)"),
    forecasting.CROSTON: N_("Croston's method"),
    forecasting.TSB_NAME: N_("TSB method"),
    forecasting.RECENT_MEAN: N_("recent mean"),
}
"""The forecasting methods the inventory review chooses between, as analysts read them."""

ACTION_LABELS = {
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "cancel": N_("Cancel the order"),
    "retry": N_("Retry the failed undo steps"),
    "extend": N_("Move the deadline"),
    "pay": N_("Book the payment"),
    "receive": N_("Book the delivery"),
    "resolve": N_("Decide"),
}

RESOLUTION_LABELS = {
    "reship": N_("Send the goods again"),
    "refund": N_("Refund the order"),
    "wait": N_("Keep waiting (late parcels)"),
}

ACTION_DONE_LABELS = {
    "approve": N_("Approved."),
    "reject": N_("Rejected."),
    "cancel": N_("Cancellation asked for: the order undoes what it did."),
    "retry": N_("The undo steps run again."),
    "extend": N_("Deadline moved."),
    "pay": N_("Payment booked."),
    "receive": N_("Delivery booked."),
    "resolve": N_("Decision sent to the parcel."),
}

ADDRESS_LABELS = {
    "name": N_("Name"),
    "street": N_("Street"),
    "postal_code": N_("Postal code"),
    "city": N_("City"),
    "country": N_("Country (two letters, e.g. DE or TW)"),
}

STATUS_LABELS = {
    OrderStatus.RECEIVED: N_("Received"),
    OrderStatus.CONFIRMED: N_("Confirmed"),
    OrderStatus.REJECTED: N_("Rejected"),
    OrderStatus.AWAITING_APPROVAL: N_("Awaiting approval"),
    OrderStatus.APPROVED: N_("Approved"),
    OrderStatus.AWAITING_SUPPLY: N_("Awaiting supply"),
    OrderStatus.ALLOCATED: N_("Allocated"),
    OrderStatus.SHIPMENT_BOOKED: N_("Shipment booked"),
    OrderStatus.DELIVERED: N_("Delivered"),
    OrderStatus.INVOICED: N_("Invoiced"),
    OrderStatus.PAID: N_("Paid"),
    OrderStatus.COMPLETED: N_("Completed"),
    OrderStatus.CANCELLED: N_("Cancelled"),
    OrderStatus.NEEDS_ATTENTION: N_("Needs attention"),
    OrderStatus.FAILED: N_("Failed"),
}
"""Every status, as people read it (the API keeps the codes)."""

SYSTEM_ROLE_LABELS = {
    SystemRole.INTAKE: N_("Intake: submit orders and read them"),
    SystemRole.READER: N_("Reader: read orders only"),
    SystemRole.WAREHOUSE: N_("Warehouse: read stock, book stock operations and transfers"),
    SystemRole.CRM: N_("CRM: read and keep customer records"),
}

EVENT_LABELS = {
    EventKind.RECEIVED: N_("received"),
    EventKind.CONFIRMED: N_("confirmed"),
    EventKind.REJECTED: N_("rejected"),
    EventKind.DUPLICATE_SUBMISSION: N_("submitted again (duplicate)"),
    EventKind.CREDIT_APPROVED: N_("credit approved"),
    EventKind.CREDIT_HOLD: N_("held for credit review"),
    EventKind.APPROVED_BY_STAFF: N_("approved by staff"),
    EventKind.REJECTED_BY_STAFF: N_("rejected by staff"),
    EventKind.SIGNAL_IGNORED: N_("message ignored"),
    EventKind.ESCALATED: N_("escalated"),
    EventKind.DEADLINE_EXTENDED: N_("deadline moved"),
    EventKind.AUTO_REJECTED: N_("rejected automatically"),
    EventKind.SUPPLY_ORDERED: N_("supply ordered"),
    EventKind.SUPPLY_RECEIVED: N_("supply received"),
    EventKind.SUPPLY_CANCELLED: N_("supply cancelled"),
    EventKind.SHIPMENT_PLANNED: N_("parcels planned"),
    EventKind.SHIPMENT_CANCELLED: N_("parcel cancelled"),
    EventKind.SHIPMENT_RESHIPPED: N_("goods sent again"),
    EventKind.SHIPMENT_LOST: N_("parcel lost"),
    EventKind.PAYMENT_REFUNDED: N_("payment refunded"),
    EventKind.COMPLAINT_RECEIVED: N_("complaint received"),
    EventKind.INVOICE_VOIDED: N_("invoice voided"),
    EventKind.CANCELLATION_REQUESTED: N_("cancellation asked for"),
    EventKind.CANCELLATION_REFUSED: N_("cancellation refused"),
    EventKind.CANCELLED: N_("cancelled"),
    EventKind.NEEDS_ATTENTION: N_("needs attention"),
    EventKind.COMPENSATION_RETRIED: N_("undo steps retried"),
    EventKind.PAYMENT_AUTHORISED: N_("payment authorised"),
    EventKind.STOCK_RESERVED: N_("stock reserved"),
    EventKind.PARCEL_PACKED: N_("parcel picked and packed"),
    EventKind.SHIPMENT_BOOKED: N_("parcel booked"),
    EventKind.SHIPMENT_PICKED_UP: N_("parcel picked up"),
    EventKind.SHIPMENT_IN_TRANSIT: N_("parcel in transit"),
    EventKind.SHIPMENT_EXCEPTION: N_("parcel problem"),
    EventKind.SHIPMENT_DELIVERED: N_("parcel delivered"),
    EventKind.DELIVERED: N_("delivered"),
    EventKind.PAYMENT_CAPTURED: N_("payment captured"),
    EventKind.INVOICE_ISSUED: N_("invoice issued"),
    EventKind.PAYMENT_RECEIVED: N_("payment received"),
    EventKind.RECEIPT_ISSUED: N_("receipt issued"),
    EventKind.ARCHIVED: N_("archived"),
    EventKind.RESERVATIONS_RELEASED: N_("stock released"),
    EventKind.AUTHORISATION_VOIDED: N_("authorisation voided"),
    EventKind.FAILED: N_("failed"),
}
"""Every audit event kind, as people read it on an order's timeline."""


REASON_LABELS = {
    StockReason.SUPPLIER_DELIVERY: N_("Supplier delivery"),
    StockReason.PRODUCTION_OUTPUT: N_("Production output"),
    StockReason.CUSTOMER_RETURN: N_("Customer return"),
    StockReason.OPENING_BALANCE: N_("Opening balance"),
    StockReason.SCRAP: N_("Scrap"),
    StockReason.SAMPLE: N_("Sample"),
    StockReason.INTERNAL_USE: N_("Internal use"),
    StockReason.DAMAGED: N_("Damaged"),
    StockReason.FOUND: N_("Found"),
    StockReason.LOST: N_("Lost"),
    StockReason.CORRECTION: N_("Booking correction"),
    StockReason.STOCKTAKE: N_("Stocktake"),
    StockReason.TRANSFER: N_("Transfer"),
}
"""The stock ledger's reason codes as people read them."""

STOCKTAKE_LABELS = {
    StocktakeStatus.OPEN: N_("open"),
    StocktakeStatus.POSTED: N_("posted"),
    StocktakeStatus.CANCELLED: N_("cancelled"),
}

STOCKTAKE_DONE = {
    "count": N_("The counts are saved."),
    "approve": N_("The variance is approved."),
    "post": N_("The count is posted: its variances are in the ledger."),
    "cancel": N_("The count is cancelled; nothing was posted."),
}

ALERT_LABELS = {
    AlertKind.STOCK_OUT: N_("Stock-out"),
    AlertKind.LOW_STOCK: N_("Low stock"),
    AlertKind.OVERSTOCK: N_("Overstock"),
    AlertKind.SLOW_MOVING: N_("Slow-moving"),
    AlertKind.DEAD_STOCK: N_("Dead stock"),
}

PROPOSAL_LABELS = {
    ProposalStatus.PROPOSED: N_("proposed"),
    ProposalStatus.ORDERED: N_("ordered"),
    ProposalStatus.REJECTED: N_("rejected"),
    ProposalStatus.WITHDRAWN: N_("withdrawn"),
}

METHOD_LABELS = {
    ProposalMethod.ORDER_UP_TO: N_("order-up-to (forecast)"),
    ProposalMethod.MIN_MAX: N_("min/max"),
}

REPLENISHMENT_DONE = {
    "review": N_("The inventory review is running; refresh in a moment for its proposals."),
    "approve": N_("Approved: the replenishment order is placed."),
    "reject": N_("The proposal is rejected; nothing is ordered."),
    "receive": N_("The delivery is booked into stock."),
}

SUPPLY_LABELS: dict[str, str] = {
    SupplyKind.PRODUCTION: N_("production"),
    SupplyKind.PURCHASE: N_("purchase"),
    SupplyStatus.OPEN: N_("open"),
    SupplyStatus.RECEIVED: N_("received"),
    SupplyStatus.CANCELLED: N_("cancelled"),
    "ordering": N_("being ordered"),
}
"""Kinds and states of production and purchase orders (``ordering``: the order workflow's
view until its supply order is placed)."""

PARCEL_LABELS = {
    ShipmentStatus.PLANNED: N_("planned"),
    ShipmentStatus.AWAITING_PACKING: N_("waiting to be packed"),
    ShipmentStatus.BOOKED: N_("booked with the carrier"),
    ShipmentStatus.PICKED_UP: N_("picked up"),
    ShipmentStatus.IN_TRANSIT: N_("in transit"),
    ShipmentStatus.EXCEPTION: N_("problem in transit"),
    ShipmentStatus.DELIVERED: N_("delivered"),
    ShipmentStatus.LOST: N_("lost or damaged"),
    ShipmentStatus.CANCELLED: N_("cancelled"),
}
"""Where a parcel is, as people read it (the API keeps the codes)."""

RESERVATION_LABELS = {
    ReservationStatus.ACTIVE: N_("reserved"),
    ReservationStatus.RELEASED: N_("released"),
    ReservationStatus.SHIPPED: N_("shipped"),
}
"""States of the stock reserved for an order."""

CATALOGUE_FIELD_LABELS = {
    "sku": N_("SKU"),
    "name": N_("Name"),
    "unit": N_("Unit (pcs, box of 100, kg)"),
    "unit_price": N_("List price"),
    "currency": N_("Currency"),
    "cost": N_("Cost per unit"),
    "sourcing": N_("Sourcing (stock, make, buy)"),
    "lead_time_days": N_("Lead time (days)"),
    "pack_multiple": N_("Pack multiple"),
    "supplier": N_("Supplier or factory"),
    "category": N_("Category"),
    "active": N_("Active (sold)"),
    "id": N_("Warehouse id"),
    "country": N_("Country (ISO code, e.g. DE)"),
    "priority": N_("Priority (lower ships first)"),
    "confirm_packing": N_("Confirms parcels packed before the carrier is booked"),
    "warehouse_id": N_("Warehouse"),
    "reorder_point": N_("Reorder point"),
    "minimum": N_("Minimum"),
    "maximum": N_("Maximum (0: none)"),
    "safety_stock": N_("Safety stock"),
    "service_level": N_("Service level (e.g. 0.95; derives the safety stock)"),
    "automatic": N_("Automatic (proposals ordered without approval)"),
}
"""The catalogue's fields on the console's forms."""

CATALOGUE_KIND_LABELS = {
    "products": N_("Products"),
    "warehouses": N_("Warehouses"),
    "levels": N_("Stock levels"),
}

CUSTOMER_FIELD_LABELS = {
    "id": N_("Customer id"),
    "kind": N_("Company or person"),
    "name": N_("Name"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "contact_person": N_("Contact person"),
    "billing_street": N_("Billing street"),
    "billing_postal_code": N_("Billing postal code"),
    "billing_city": N_("Billing city"),
    "billing_country": N_("Billing country (e.g. DE)"),
    "shipping_street": N_("Shipping street (empty: the billing address)"),
    "shipping_postal_code": N_("Shipping postal code"),
    "shipping_city": N_("Shipping city"),
    "shipping_country": N_("Shipping country"),
    "payment_terms": N_("Payment terms"),
    "net_days": N_("Days to pay (net terms)"),
    "credit_limit": N_("Credit limit"),
    "currency": N_("Currency"),
    "standing": N_("Standing"),
    "active": N_("Active (may order)"),
    "preferred_channel": N_("Preferred channel"),
    "language": N_("Language"),
    "contact_by_email": N_("May be contacted by e-mail"),
    "contact_by_phone": N_("May be contacted by phone"),
    "marketing_consent": N_("Marketing consent"),
    "consent_source": N_("How the consent was given"),
    "tags": N_("Tags (comma-separated)"),
    "notes": N_("Notes"),
    "contact": N_("Contact"),
    "erasure": N_("Erasure"),
}
"""The customer record's fields on the console's form and in its audit."""

CUSTOMER_CODE_LABELS: dict[str, str] = {
    "company": N_("company"),
    "person": N_("private person"),
    PaymentTerms.PREPAID: N_("prepaid"),
    PaymentTerms.NET: N_("net terms"),
    Standing.GOOD: N_("good standing"),
    Standing.WATCH: N_("on credit watch"),
    "open": N_("open"),
    "accepted": N_("accepted"),
    "overridden": N_("overridden"),
    "superseded": N_("superseded"),
}
"""A customer's kind (domain.customers.CustomerKind's values), payment terms and standing,
and a credit proposal's state (their codes differ, so one table serves them all; the API
keeps the codes)."""

MOVEMENT_LABELS = {  # domain.inventory.MovementKind's values
    "receive": N_("goods receipt"),
    "issue": N_("goods issue"),
    "reserve": N_("reserved for an order"),
    "release": N_("reservation released"),
    "ship": N_("shipped"),
    "adjust": N_("adjustment"),
    "stocktake": N_("stocktake"),
    "transfer_out": N_("transfer out"),
    "transfer_in": N_("transfer in"),
}
"""The stock ledger's movement kinds as people read them."""

SOURCING_LABELS = {
    Sourcing.STOCK: N_("from stock only"),
    Sourcing.MAKE: N_("made (production order)"),
    Sourcing.BUY: N_("bought (purchase order)"),
}
"""How a product is replenished, as the catalogue shows it."""

ACTOR_LABELS = {
    "system": N_("the system"),
    "customer": N_("the customer"),
    "client": N_("a calling system"),
    "support": N_("support staff"),
}
"""The well-known actors of an order's and a complaint's timeline (what the workflows write
instead of a person's user name), as people read them; user names are shown as they are."""

RECORD_CHOICE_LABELS: dict[str, Mapping[Any, str]] = {
    "kind": CUSTOMER_CODE_LABELS,
    "payment_terms": CUSTOMER_CODE_LABELS,
    "standing": CUSTOMER_CODE_LABELS,
    "preferred_channel": CHANNEL_LABELS,
    "sourcing": SOURCING_LABELS,
}
"""The words of a record form's select options, by field (the values stay the codes)."""

CUSTOMER_LANGUAGES = ("en", "de", "zh_Hant")
"""The languages a customer is written to in, offered on the customer form by their names
(a record keeping another code still offers it)."""

SEGMENT_LABELS = {
    Segment.CHAMPIONS: N_("Champions"),
    Segment.LOYAL: N_("Loyal"),
    Segment.PROMISING: N_("Promising"),
    Segment.NEEDS_ATTENTION: N_("Needs attention"),
    Segment.AT_RISK: N_("At risk"),
    Segment.HIBERNATING: N_("Hibernating"),
    Segment.LOST: N_("Lost customers"),
    Segment.PROSPECT: N_("Prospect"),
}

CARE_LABELS = {
    CareKind.AT_RISK: N_("At risk"),
    CareKind.OVERDUE: N_("Overdue"),
    CareKind.THANK_YOU: N_("Thank-you call"),
    CareKind.COMPLAINT_FOLLOW_UP: N_("Complaint follow-up"),
}

COMPLAINT_LABELS: dict[str, str] = {
    **CATEGORY_WORDS,
    ComplaintPriority.LOW: N_("low"),
    ComplaintPriority.NORMAL: N_("normal"),
    ComplaintPriority.HIGH: N_("high"),
    ComplaintPriority.URGENT: N_("urgent"),
    ComplaintStatus.NEW: N_("new"),
    ComplaintStatus.IN_PROGRESS: N_("in progress"),
    ComplaintStatus.WAITING_FOR_CUSTOMER: N_("waiting for the customer"),
    ComplaintStatus.RESOLVED: N_("resolved"),
    ComplaintStatus.CLOSED: N_("closed"),
    ComplaintChannel.PHONE: N_("phone"),
    ComplaintChannel.CHAT: N_("chat"),
    ComplaintChannel.EMAIL: N_("e-mail"),
    ComplaintChannel.WEB: N_("web shop"),
    RemedyKind.REFUND: N_("Refund"),
    RemedyKind.GOODWILL_CREDIT: N_("Goodwill credit"),
    RemedyKind.RESHIP: N_("Re-ship items"),
}
"""Categories, priorities, statuses, channels and remedies of complaints (their values
differ, so one table serves them all)."""

COMPLAINT_EVENT_LABELS = {
    ComplaintEventKind.RECEIVED: N_("received and logged"),
    ComplaintEventKind.DUPLICATE: N_("duplicate"),
    ComplaintEventKind.ASSIGNED: N_("assigned"),
    ComplaintEventKind.NOTE: N_("note"),
    ComplaintEventKind.REPLY: N_("reply sent"),
    ComplaintEventKind.CUSTOMER_REPLIED: N_("the customer wrote"),
    ComplaintEventKind.RECATEGORISED: N_("category corrected"),
    ComplaintEventKind.SLA_BREACHED: N_("service level missed"),
    ComplaintEventKind.ESCALATED: N_("escalated"),
    ComplaintEventKind.REMEDY_PROPOSED: N_("remedy proposed"),
    ComplaintEventKind.REMEDY_APPROVED: N_("remedy approved"),
    ComplaintEventKind.REMEDY_REFUSED: N_("remedy refused"),
    ComplaintEventKind.REMEDY_DONE: N_("remedy carried out"),
    ComplaintEventKind.REMEDY_FAILED: N_("remedy not carried out"),
    ComplaintEventKind.RESOLVED: N_("resolved"),
    ComplaintEventKind.SURVEY_SENT: N_("survey sent"),
    ComplaintEventKind.SURVEY_REMINDED: N_("survey reminder sent"),
    ComplaintEventKind.SURVEY_ANSWERED: N_("survey answered"),
    ComplaintEventKind.SURVEY_EXPIRED: N_("survey closed unanswered"),
    ComplaintEventKind.CLOSED: N_("closed"),
    ComplaintEventKind.REOPENED: N_("reopened"),
    ComplaintEventKind.PARCEL_PROGRESS: N_("replacement parcel"),
    ComplaintEventKind.MESSAGE_IGNORED: N_("message ignored"),
}

REMEDY_STATUS_LABELS = {
    "pending": N_("pending"),
    "awaiting approval": N_("awaiting approval"),
    "approved": N_("approved"),
    "refused": N_("refused"),
    "done": N_("done"),
    "failed": N_("not carried out"),
}
"""Where a remedy of a complaint stands (the case keeps these English words)."""

ROOT_CAUSE_LABELS = {
    "carrier_delay": N_("Carrier delivered late"),
    "carrier_damage": N_("Damaged in transit"),
    "packing_error": N_("Packed wrong or incomplete"),
    "stock_shortage": N_("Out of stock, shipped late"),
    "product_defect": N_("Product defect"),
    "billing_error": N_("Invoice or payment error"),
    "staff_conduct": N_("Service or staff conduct"),
    "customer_expectation": N_("Expectation not met (no fault)"),
}
"""The root causes every installation starts with (migration 0022), by code. Their labels
are translated while they read as installed; a label staff changed or added is shown as
written."""

COMPLAINT_DONE_LABELS = {
    "filed": N_("The complaint is filed; its case runs."),
    "assign": N_("The case is assigned."),
    "note": N_("The note is kept."),
    "reply": N_("The reply is sent."),
    "recategorise": N_("The category is changed."),
    "remedy": N_("The remedy is proposed."),
    "decide": N_("The decision on the remedy is recorded."),
    "resolve": N_("The complaint is resolved; the survey follows."),
    "run": N_("The analysis of the week runs; refresh in a moment."),
    "action": N_("The improvement action is added."),
    "action-done": N_("The improvement action is done."),
    "root-cause": N_("The root cause is added."),
}
"""What the complaint pages say after an action (their ``done`` parameter)."""

CAMPAIGN_LABELS = {
    CampaignStatus.SENDING: N_("sending"),
    CampaignStatus.PAUSED: N_("paused"),
    CampaignStatus.MEASURING: N_("measuring the response"),
    CampaignStatus.FINISHED: N_("finished"),
    CampaignStatus.CANCELLED: N_("cancelled"),
    "pause": N_("The campaign is paused."),
    "resume": N_("The campaign sends again."),
    "cancel": N_("The campaign is cancelled; what was sent stays sent."),
}
"""Where a campaign stands, and what its page says after an action."""
