"""Accounts: registering patients, creating staff and admins, checking a login, changing a password."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError

from booking.domain.roles import Role
from booking.extensions import db
from booking.models import OutboxMessage, PatientProfile, User, write_transaction
from booking.models.types import utcnow
from booking.services import notify
from booking.services.errors import Conflict, Invalid, Problems, one_line
from booking.services.passwords import hash_password, needs_rehash, password_problem, verify_password

EMAIL_TAKEN = "An account with this e-mail address already exists."
CURRENT_PASSWORD_WRONG = "Your current password is not right."


class AccountInactive(Exception):
    """The password was right but the account is switched off."""


class AccountUnconfirmed(Exception):
    """The password was right but the account's e-mail address is not confirmed yet."""


def normalize_email(raw: str) -> str:
    """The one spelling we store and compare: trimmed, lower-cased, syntactically valid.

    `test_environment` only lets through the reserved `.test` domain (the demo clinic's accounts live
    there; it can never belong to a real person) and skips DNS, which we never query anyway.
    """
    try:
        result = validate_email(raw.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise Invalid(str(error), field="email") from error
    return result.normalized.lower()


def find_by_email(email: str) -> User | None:
    """The account for an address as typed at login: spelled as registration stores it."""
    try:
        key = normalize_email(email)
    except Invalid:
        key = email.strip().lower()
    return db.session.scalar(sa.select(User).where(User.email == key))


#: At most one "someone tried to register with your address" e-mail per account in this time.
REGISTRATION_WARNING_EVERY = timedelta(hours=1)


def register_patient(full_name: str, email: str, password: str, phone: str | None = None, *,
                     send_verification: Callable[[User], None], warn_owner: Callable[[User], None]) -> None:
    """Someone registers with an address: a new one gets a patient account and its confirmation e-mail;
    one that has an account already gets nothing new, and its owner an e-mail saying so.

    The caller learns nothing of which happened (it returns None either way), so the answer cannot tell
    whether an address belongs to a patient of the clinic, which is medical information. Both ways cost
    the same: the input is checked and the password hashed before the address is looked up. Invalid
    input raises Invalid, the same for a taken address and a new one. One transaction either way.
    """
    email, full_name, phone = _checked_fields(email, full_name, phone, password)
    password_hash = hash_password(password)  # slow on purpose: before the write lock, not under it, and always
    try:
        with write_transaction():
            owner = find_by_email(email)
            if owner is None:
                user = _new_user(email, full_name, phone, Role.PATIENT, password_hash, verified=False)
                db.session.flush()
                send_verification(user)
            else:
                _warn_owner(owner, warn_owner)
    except IntegrityError:  # PostgreSQL: another request registered the address a moment ago
        with write_transaction():
            owner = find_by_email(email)
            if owner is not None:
                _warn_owner(owner, warn_owner)


def _warn_owner(owner: User, warn: Callable[[User], None]) -> None:
    """Tell the owner of a taken address that someone tried to register with it, once in a while: a
    stranger repeating the attempt must not be able to fill a mailbox. Erased accounts hear nothing."""
    if owner.deleted_at is not None:
        return
    recent = sa.select(OutboxMessage.id).where(
        OutboxMessage.user_id == owner.id, OutboxMessage.subject == notify.REGISTRATION_ATTEMPT_SUBJECT,
        OutboxMessage.created_at > utcnow() - REGISTRATION_WARNING_EVERY,
    ).limit(1)
    if db.session.scalar(recent) is None:
        warn(owner)


def verify(user_id: int, email: str) -> tuple[User | None, bool]:
    """Mark the address verified, if it still belongs to that account (a changed address needs a new link).

    Returns (user, whether this call confirmed it): a link used again changes nothing.
    """
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None or user.email != email or user.deleted_at is not None:
            return None, False
        if user.email_verified_at is not None:
            return user, False
        user.email_verified_at = utcnow()
    return user, True


def create_user(
    *,
    email: str,
    full_name: str,
    role: Role | str,
    password: str,
    phone: str | None = None,
    verified: bool = False,
    send_verification: Callable[[User], None] | None = None,
) -> User:
    """Create an account of any role (staff, admins, the command line); patients get a profile.
    Refuses a taken e-mail: the people who do this already know the clinic's accounts."""
    role = Role(role)
    email, full_name, phone = _checked_fields(email, full_name, phone, password)
    password_hash = hash_password(password)  # slow on purpose: before the write lock, not under it
    try:
        with write_transaction():
            if find_by_email(email) is not None:
                raise Conflict(EMAIL_TAKEN, field="email")
            user = _new_user(email, full_name, phone, role, password_hash, verified)
            if not verified and send_verification is not None:
                db.session.flush()
                send_verification(user)
    except IntegrityError as error:  # PostgreSQL: another request registered the address a moment ago
        raise Conflict(EMAIL_TAKEN, field="email") from error
    return user


def _checked_fields(email: str, full_name: str, phone: str | None, password: str) -> tuple[str, str, str | None]:
    """The new account's fields as stored (e-mail normalised, name on one line), or Invalid naming
    every field that is wrong, not only the first."""
    problems = Problems()
    try:
        email = normalize_email(email)
    except Invalid as error:
        problems.take(error)
    full_name = one_line(full_name)
    if not full_name:
        problems.add("Enter a name.", "full_name")
    if len(full_name) > 120:
        problems.add("Use at most 120 characters for the name.", "full_name")
    if len((phone or "").strip()) > 32:
        problems.add("Use at most 32 characters for the phone number.", "phone")
    problem = password_problem(password, email)
    if problem:
        problems.add(problem, "password")
    problems.raise_any()
    return email, full_name, (phone or "").strip() or None


def _new_user(email: str, full_name: str, phone: str | None, role: Role, password_hash: str, verified: bool) -> User:
    user = User(email=email, full_name=full_name, phone=phone, role=role.value, password_hash=password_hash,
                email_verified_at=utcnow() if verified else None)
    if role is Role.PATIENT:
        user.profile = PatientProfile()
    db.session.add(user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None. Unknown e-mail and wrong password are alike to callers
    (and take the same time); a right password on a deactivated account raises AccountInactive.

    An account whose address was never confirmed does not log in while the clinic asks for confirmation
    (REQUIRE_VERIFIED_EMAIL), and callers answer it as they answer a wrong password: otherwise anyone
    could register an address with a password of their choosing, try to log in with it, and learn from
    a refusal that the address already had an account.
    """
    user = find_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None
    if not user.active:
        raise AccountInactive()
    if user.email_verified_at is None and current_app.config["REQUIRE_VERIFIED_EMAIL"]:
        raise AccountUnconfirmed()
    if needs_rehash(user.password_hash):  # the hashing parameters were raised since it was stored
        new_hash = hash_password(password)
        with write_transaction():
            db.session.execute(sa.update(User).where(User.id == user.id).values(password_hash=new_hash))
        user = db.session.get(User, user.id)
    return user


def end_sessions(user_id: int) -> None:
    """Log the account out everywhere: sessions and remember-me cookies issued so far stop working."""
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is not None:
            user.end_all_sessions()


RESET_LINK_INVALID = "This link to reset your password is not valid, was used already, or has expired. Ask for a new one."


def password_fingerprint(user: User) -> str:
    """A short digest of the stored hash: a reset link carries it, so the link dies once the password
    changes (by this link or any other way). The hash itself never leaves the database."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def reset_candidate(email: str) -> User | None:
    """The account a reset link may be sent to: known, switched on, not deleted. Callers answer alike
    whether or not there is one."""
    user = find_by_email(email)
    if user is None or not user.active or user.deleted_at is not None:
        return None
    return user


def change_password(user_id: int, current: str, new: str, reset_page: str) -> User:
    """Set a new password after checking the current one; every other session ends, and the person is told."""
    user = db.session.get(User, user_id)
    problems = Problems()
    if user is None or not verify_password(user.password_hash, current):
        problems.add(CURRENT_PASSWORD_WRONG, "current_password")
    if user is not None and (problem := password_problem(new, user.email)):
        problems.add(problem, "password")  # told with a wrong current password, not after it
    problems.raise_any()
    assert user is not None
    return _set_password(user_id, new, password_fingerprint(user), reset_page, Invalid(
        "Your password was changed elsewhere a moment ago; please try again.", field="current_password"))


def reset_password(user_id: int, fingerprint: str, new: str, reset_page: str) -> User:
    """Set a new password from a reset link; the link dies with the old password, so it works once.
    `reset_page` (where to ask for a link) goes into the notice, as in `change_password`.

    Opening the link proves the person reads that mailbox, so the address counts as confirmed too.
    """
    return _set_password(user_id, new, fingerprint, reset_page, Invalid(RESET_LINK_INVALID), verifies_email=True)


def _set_password(user_id: int, new: str, fingerprint: str, reset_page: str,
                  stale: Invalid, verifies_email: bool = False) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise stale
    problem = password_problem(new, user.email)
    if problem:
        raise Invalid(problem, field="password")
    new_hash = hash_password(new)  # slow on purpose: before the write lock, not under it
    with write_transaction():
        user = _locked_user(user_id)
        # Checked under the lock: of two uses of one link, or two changes at once, only the first wins.
        if user is None or not user.active or user.deleted_at is not None or password_fingerprint(user) != fingerprint:
            raise stale
        user.password_hash = new_hash
        user.end_all_sessions()
        if verifies_email and user.email_verified_at is None:
            user.email_verified_at = utcnow()
        notify.password_changed(user, reset_page)
    return user


def _locked_user(user_id: int) -> User | None:
    """The user's row, re-read and (on PostgreSQL) locked until the transaction ends."""
    query = sa.select(User).where(User.id == user_id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return db.session.scalar(query)
