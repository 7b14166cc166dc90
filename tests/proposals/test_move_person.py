"""A lead moves a colleague to another department: audited, and they arrive as a submitter."""

from __future__ import annotations

import pytest

from proposals.models import AuditEvent


@pytest.mark.django_db
def test_lead_moves_a_reviewer_out_of_the_department(client, lena, rita, home_office):
    client.force_login(lena)
    assert client.get("/department/settings/move/").status_code == 200

    response = client.post(
        "/department/settings/move/", {"person": rita.pk, "department": "home-office"}
    )

    assert response.status_code == 302
    rita.refresh_from_db()
    assert (rita.department, rita.role) == (home_office, "submitter")
    event = AuditEvent.objects.get(action="move_department")
    assert event.actor == lena
    assert event.changes == {
        "department": ["dfe", "home-office"],
        "role": ["reviewer", "submitter"],
    }


@pytest.mark.django_db
def test_move_needs_a_person_and_a_department_and_changes_nothing_without(client, lena, rita):
    client.force_login(lena)
    response = client.post("/department/settings/move/", {"person": rita.pk})
    assert response.status_code == 400
    assert "Select the department they are moving to" in response.content.decode()
    rita.refresh_from_db()
    assert rita.department.slug == "dfe"
    assert not AuditEvent.objects.filter(action="move_department").exists()


@pytest.mark.django_db
def test_only_a_lead_can_move_people_and_only_their_own(client, rita, amir, bob, hugo):
    client.force_login(rita)
    assert client.get("/department/settings/move/").status_code == 403
    hugo.role = "lead"
    hugo.save()
    client.force_login(hugo)
    response = client.post("/department/settings/move/", {"person": amir.pk, "department": "mod"})
    assert response.status_code == 400  # amir is not in the Home Office
    amir.refresh_from_db()
    assert amir.department.slug == "dfe"
