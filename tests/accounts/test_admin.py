"""The operators' admin opens for every model a superuser manages."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/department/",
        "/admin/accounts/apitoken/",
    ],
)
@pytest.mark.django_db
def test_admin_pages_open_for_an_operator(client, dfe, path):
    operator = UserFactory.create(email="op@dfe.example", is_staff=True, is_superuser=True)
    client.force_login(operator)
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_admin_user_change_page_shows_department_read_only(client, alice):
    operator = UserFactory.create(email="op@dfe.example", is_staff=True, is_superuser=True)
    client.force_login(operator)
    response = client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert response.status_code == 200
    assert b'name="department"' not in response.content
