"""Who may do what: staff roles, the permissions they hold, and the rules for accounts.

The matrix is data: every page, API route and ``oms`` action asks
:func:`allows` for the permission it needs, and the README's table is checked
against :data:`PERMISSIONS`. Later modules (inventory, customers, complaints,
reports) add their permissions here.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from domain.wording import N_, Wording, words


class Role(StrEnum):
    """A staff member's job, which decides what they may see and do."""

    ORDER_PROCESSING = "order_processing"
    """Receives, audits, allocates and tracks orders; acts on them."""
    CUSTOMER_SERVICE = "customer_service"
    """Inquiries, complaints, surveys; reads orders."""
    ANALYST = "analyst"
    """Reports, forecasts, decision support; sees customers pseudonymised only."""
    WAREHOUSE = "warehouse"
    """Stock operations."""
    ADMIN = "admin"
    """Users, API keys and every module."""


class Permission(StrEnum):
    """One thing a role may do."""

    VIEW_ORDERS = "orders.view"
    """See order lists and details."""
    ACT_ON_ORDERS = "orders.act"
    """Approve, reject, cancel, extend, record payments, resolve parcels, retry undos."""
    ENTER_ORDERS = "orders.enter"
    """Enter phone and fax orders by hand."""
    VIEW_PERSONAL_DATA = "customers.personal_data"
    """See customers' names, e-mail and addresses (others see them pseudonymised)."""
    VIEW_CUSTOMERS = "customers.view"
    """See customer records, purchase history and payment behaviour (personal data: the
    roles that hold it hold ``customers.personal_data`` too; analysts get pseudonymised
    figures in reports instead)."""
    VIEW_CUSTOMER_FIGURES = "customers.figures"
    """See how many customers are in each segment and class: figures, no one named."""
    CREDIT_AUTHORITY = "customers.credit"
    """Accept or override the credit evaluation's proposed limits and standings."""
    EDIT_CUSTOMERS = "customers.edit"
    """Create, change, deactivate and import customers."""
    VIEW_STOCK = "stock.view"
    """See stock per product and warehouse: on hand, reserved, free, incoming, value."""
    OPERATE_STOCK = "stock.operate"
    """Receipts, issues, adjustments, transfers; open and count stocktakes."""
    APPROVE_STOCK = "stock.approve"
    """See a count's book figures and variances, approve big variances."""
    REPLENISH = "stock.replenish"
    """Approve, edit or reject replenishment proposals; receive replenishment deliveries;
    run the inventory review."""
    MANAGE_CATALOGUE = "stock.catalogue"
    """Create and change products, warehouses and stock levels; import them from CSV."""
    HANDLE_COMPLAINTS = "complaints.handle"
    """Take complaints, work the cases (assign, note, reply, remedies, resolve), keep root
    causes and improvement actions."""
    APPROVE_REMEDIES = "complaints.approve"
    """Approve or refuse remedies above the approval amount (the supervisor's part)."""
    VIEW_COMPLAINT_ANALYSIS = "complaints.analysis"
    """The complaint analysis: rates, trends, service levels, remedy cost, satisfaction."""
    MANAGE_USERS = "admin.users"
    """Create, disable and unlock users; reset passwords."""
    MANAGE_API_KEYS = "admin.api_keys"
    """Create and revoke API keys for systems."""


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ORDER_PROCESSING: frozenset(
        {
            Permission.VIEW_ORDERS,
            Permission.ACT_ON_ORDERS,
            Permission.ENTER_ORDERS,
            Permission.VIEW_PERSONAL_DATA,
            Permission.VIEW_CUSTOMERS,
            Permission.VIEW_CUSTOMER_FIGURES,
            Permission.CREDIT_AUTHORITY,
            Permission.VIEW_STOCK,
        }
    ),
    Role.CUSTOMER_SERVICE: frozenset(
        {
            Permission.VIEW_ORDERS,
            Permission.VIEW_PERSONAL_DATA,
            Permission.VIEW_CUSTOMERS,
            Permission.VIEW_CUSTOMER_FIGURES,
            Permission.EDIT_CUSTOMERS,
            Permission.HANDLE_COMPLAINTS,
            Permission.VIEW_COMPLAINT_ANALYSIS,
        }
    ),
    Role.ANALYST: frozenset(
        {
            Permission.VIEW_ORDERS,
            Permission.VIEW_STOCK,
            Permission.VIEW_CUSTOMER_FIGURES,
            Permission.VIEW_COMPLAINT_ANALYSIS,
        }
    ),
    Role.WAREHOUSE: frozenset(
        {
            Permission.VIEW_ORDERS,
            Permission.VIEW_STOCK,
            Permission.OPERATE_STOCK,
            Permission.REPLENISH,
            Permission.MANAGE_CATALOGUE,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}
"""The permission matrix: what each role holds."""


def allows(role: Role, permission: Permission) -> bool:
    """Whether ``role`` holds ``permission``."""
    return permission in PERMISSIONS[role]


class SystemRole(StrEnum):
    """What a system calling the HTTP API with an API key may do."""

    INTAKE = "intake"
    """Submit orders and read their status, file complaints (web shop, EDI gateway, phone
    system, mail gateway, chat system)."""
    READER = "reader"
    """Read orders only (a reporting tool)."""
    CRM = "crm"
    """Read and keep customer records (a CRM, the web shop's account pages)."""
    WAREHOUSE = "warehouse"
    """Read stock, book stock operations and transfers, keep the catalogue (a warehouse
    system, a scanner app, an ERP's master data)."""


class ApiPermission(StrEnum):
    """One thing a system may do through the HTTP API."""

    SUBMIT_ORDERS = "api.orders.submit"
    READ_ORDERS = "api.orders.read"
    READ_STOCK = "api.stock.read"
    OPERATE_STOCK = "api.stock.operate"
    MANAGE_CATALOGUE = "api.stock.catalogue"
    READ_CUSTOMERS = "api.customers.read"
    MANAGE_CUSTOMERS = "api.customers.manage"
    FILE_COMPLAINTS = "api.complaints.file"
    """File complaints, pass on the customer's replies and survey answers; read cases."""


SYSTEM_PERMISSIONS: dict[SystemRole, frozenset[ApiPermission]] = {
    SystemRole.INTAKE: frozenset(
        {ApiPermission.SUBMIT_ORDERS, ApiPermission.READ_ORDERS, ApiPermission.FILE_COMPLAINTS}
    ),
    SystemRole.READER: frozenset({ApiPermission.READ_ORDERS}),
    SystemRole.CRM: frozenset(
        {
            ApiPermission.READ_CUSTOMERS,
            ApiPermission.MANAGE_CUSTOMERS,
            ApiPermission.FILE_COMPLAINTS,
        }
    ),
    SystemRole.WAREHOUSE: frozenset(
        {ApiPermission.READ_STOCK, ApiPermission.OPERATE_STOCK, ApiPermission.MANAGE_CATALOGUE}
    ),
}
"""What each kind of API key may do."""


class ApiKeyView(BaseModel):
    """An API key as admins see it (never the secret, which is shown once at creation)."""

    name: str
    role: SystemRole
    prefix: str
    """The first characters of the key, to tell keys apart in lists and logs."""
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


class Locale(StrEnum):
    """Languages of the console, chosen per user."""

    ENGLISH = "en"
    TRADITIONAL_CHINESE = "zh_Hant"


USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
"""User names: lower case, starting with a letter, 2 to 64 characters."""

MIN_PASSWORD_LENGTH = 12
"""Shortest password accepted (NIST SP 800-63B asks for at least 8; staff get 12)."""


def password_problems(password: str, username: str) -> list[str]:
    """Why ``password`` may not be used by ``username`` (empty when it may)."""
    return [problem.english() for problem in password_wordings(password, username)]


def password_wordings(password: str, username: str) -> list[Wording]:
    """:func:`password_problems` for people, read in their language."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            words(
                N_("at least %(minimum)s characters (it has %(length)s)"),
                minimum=MIN_PASSWORD_LENGTH,
                length=len(password),
            )
        )
    if password.strip() != password:
        problems.append(Wording(message=N_("no spaces at the start or end")))
    if username and username.casefold() in password.casefold():
        problems.append(Wording(message=N_("must not contain the user name")))
    return problems


LOCK_AFTER_FAILURES = 5
"""Failed logins in a row after which an account is locked for a while."""
FIRST_LOCK_SECONDS = 60
"""How long the first lock lasts; each failed login after it locks again for twice as long."""
LONGEST_LOCK_SECONDS = 24 * 3600
"""The longest automatic lock; an admin can lift any lock at once."""


def lock_seconds(failures: int) -> int:
    """How long an account stays locked after ``failures`` failed logins in a row (0: not)."""
    if failures < LOCK_AFTER_FAILURES:
        return 0
    doublings = min(failures - LOCK_AFTER_FAILURES, 20)
    return int(min(FIRST_LOCK_SECONDS * 2**doublings, LONGEST_LOCK_SECONDS))


class StaffAccount(BaseModel):
    """A staff user as the console and ``oms users`` show it (never the password hash)."""

    username: str
    role: Role
    locale: Locale
    active: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime


class LoginRefusal(StrEnum):
    """Why a login was refused, as the person logging in is told: a wrong name, a wrong
    password, a disabled and a locked account look the same (an admin sees locks)."""

    WRONG_CREDENTIALS = "wrong user name or password"


class SecurityEventKind(StrEnum):
    """Entries of the security audit log."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKED = "locked"
    LOGOUT = "logout"
    USER_CREATED = "user_created"
    PASSWORD_CHANGED = "password_changed"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    UNLOCKED = "unlocked"
