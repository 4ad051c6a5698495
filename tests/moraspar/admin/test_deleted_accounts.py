"""A deleted (anonymised) account is gone for good: no way back to 'invited'."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from moraspar.admin import services
from moraspar.models import Role, User
from moraspar.privacy.services import anonymise_user


@pytest.fixture
def deleted(db: Session, make_user: Callable[..., User]) -> User:
    user = make_user(Role.COMPANY, display_name="Borttagen Person")
    anonymise_user(db, user=user, actor=user)
    db.commit()
    return user


def test_the_users_page_offers_no_reactivation_of_a_deleted_account(
    client: Any, auth: Any, deleted: User, make_user: Callable[..., User]
) -> None:
    deactivated = make_user(Role.TEACHER, active=False)
    auth.login(Role.ADMIN, language="en")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Deleted" in page
    assert f"/admin/users/{deleted.id}/active" not in page
    assert f"/admin/users/{deactivated.id}/active" in page  # others still can be


def test_reactivating_a_deleted_account_is_refused(
    client: Any, auth: Any, db: Session, deleted: User
) -> None:
    auth.login(Role.ADMIN, language="en")
    response = client.post_form(f"/admin/users/{deleted.id}/active")
    assert response.status_code == 302
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A deleted account cannot be reactivated." in followed
    db.expire_all()
    stored = db.get(User, deleted.id)
    assert stored is not None and stored.active is False


def test_the_service_refuses_to_reactivate_a_deleted_account(
    db: Session, deleted: User, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    with pytest.raises(services.AccountDeleted):
        services.set_user_active(db, user=deleted, active=True, actor=admin)
    assert deleted.active is False
