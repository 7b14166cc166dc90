"""Propose an innovation: question pages, drafts, attachments, check your answers, submit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from proposals import services
from proposals.enums import Status, Visibility
from proposals.models import Attachment, AuditEvent, Challenge, Proposal, Theme
from tests.pages import page_title, title_of
from tests.proposals.pages import PDF, PNG, draft, html, submitted

pytestmark = pytest.mark.django_db


def test_new_proposal_page_asks_the_first_questions(client, alice):
    client.force_login(alice)

    response = client.get("/proposals/new/")

    body = html(response)
    assert response.status_code == 200
    assert title_of(response) == page_title("About your idea")
    assert '<label class="govuk-label" for="id_title">Title</label>' in body
    assert '<label class="govuk-label" for="id_summary">Summary</label>' in body
    assert "Do not include any information classified above OFFICIAL" in body
    assert 'data-module="govuk-character-count" data-maxlength="500"' in body
    assert ">\n  Continue\n" in body
    assert ">\n  Save as draft\n" in body


def test_new_proposal_page_needs_sign_in(client):
    response = client.get("/proposals/new/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/proposals/new/"


def test_new_proposal_is_forbidden_to_analysts(client, ana):
    client.force_login(ana)

    assert client.get("/proposals/new/").status_code == 403


def test_continue_without_a_title_shows_the_error_summary_linking_to_it(client, alice):
    client.force_login(alice)

    response = client.post("/proposals/new/", {"title": "", "summary": "", "action": "continue"})

    body = html(response)
    assert response.status_code == 400
    assert title_of(response) == page_title("About your idea", error=True)
    assert '<li><a href="#id_title">Enter a title</a></li>' in body
    assert '<li><a href="#id_summary">Enter a summary</a></li>' in body
    assert 'id="id_title-error"' in body
    assert Proposal.objects.count() == 0


def test_continue_creates_the_draft_and_goes_to_the_next_question(client, alice):
    client.force_login(alice)

    response = client.post(
        "/proposals/new/", {"title": "Read forms", "summary": "OCR", "action": "continue"}
    )

    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.reference}/edit/problem/"
    assert (proposal.title, proposal.summary, proposal.status) == ("Read forms", "OCR", "draft")
    assert proposal.submitter == alice


def test_save_as_draft_needs_only_a_title(client, alice):
    client.force_login(alice)
    proposal = draft(alice, problem="")

    response = client.post(
        f"/proposals/{proposal.reference}/edit/problem/",
        {"problem": "", "who_has_the_problem": "Teachers", "action": "draft"},
    )

    proposal.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.reference}/"
    assert proposal.who_has_the_problem == "Teachers"
    page = client.get(response["Location"])
    assert f"Your draft {proposal.reference} has been saved" in html(page)


def test_continue_on_a_question_page_needs_its_answers(client, alice):
    client.force_login(alice)
    proposal = draft(alice, problem="")

    response = client.post(
        f"/proposals/{proposal.reference}/edit/problem/",
        {"problem": "  ", "who_has_the_problem": "Teachers", "action": "continue"},
    )

    assert response.status_code == 400
    assert '<a href="#id_problem">Enter the problem you are trying to solve</a>' in html(response)


def test_too_long_answers_are_refused_with_their_limits(client, alice):
    client.force_login(alice)

    response = client.post(
        "/proposals/new/", {"title": "x" * 151, "summary": "y" * 501, "action": "draft"}
    )

    body = html(response)
    assert response.status_code == 400
    assert "Title must be 150 characters or fewer" in body
    assert "Summary must be 500 characters or fewer" in body
    assert Proposal.objects.count() == 0


def test_too_long_problem_is_refused(client, alice):
    client.force_login(alice)
    proposal = draft(alice)

    response = client.post(
        f"/proposals/{proposal.reference}/edit/problem/",
        {"problem": "z" * 5001, "who_has_the_problem": "Teachers", "action": "continue"},
    )

    assert response.status_code == 400
    assert "What problem are you trying to solve? must be 5,000 characters or fewer" in html(
        response
    )


def test_costs_page_reads_pounds_with_commas_and_refuses_words(client, alice):
    client.force_login(alice)
    proposal = draft(alice)
    url = f"/proposals/{proposal.reference}/edit/costs/"

    bad = client.post(url, {"cost_band": "10k_50k", "estimated_benefit_gbp": "lots"})
    good = client.post(
        url,
        {"cost_band": "over_1m", "estimated_benefit_gbp": "£25,000", "hours_saved_per_year": ""},
    )

    proposal.refresh_from_db()
    assert "Estimated benefit must be a whole number, like 25000" in html(bad)
    assert good.status_code == 302
    assert (proposal.cost_band, proposal.estimated_benefit_gbp) == ("over_1m", 25000)
    assert proposal.hours_saved_per_year is None


def test_details_page_saves_themes_partners_and_visibility(client, alice, home_office):
    client.force_login(alice)
    proposal = draft(alice)
    ai = Theme.objects.get(slug="ai")

    response = client.post(
        f"/proposals/{proposal.reference}/edit/details/",
        {
            "themes": [ai.pk],
            "collaborating_departments": [home_office.pk],
            "challenge": "",
            "visibility": "department",
            "action": "continue",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal.reference}/edit/co-authors/"
    assert list(proposal.themes.all()) == [ai]
    assert list(proposal.collaborating_departments.all()) == [home_office]
    proposal.refresh_from_db()
    assert proposal.visibility == Visibility.DEPARTMENT


def test_visibility_defaults_to_government_with_an_explanation(client, alice):
    client.force_login(alice)
    proposal = draft(alice)

    body = html(client.get(f"/proposals/{proposal.reference}/edit/details/"))

    assert 'value="government" checked' in body
    assert "Open by default: anyone in government who uses this service can read it" in body


def _challenge(slug: str, *, open_now: bool, lena) -> Challenge:
    today = timezone.localdate()
    return Challenge.objects.create(
        slug=slug,
        title=slug.replace("-", " ").capitalize(),
        question="How could we…?",
        department=lena.department,
        opens_on=today - dt.timedelta(days=30),
        closes_on=today + dt.timedelta(days=30 if open_now else -1),
        created_by=lena,
    )


def test_a_challenge_in_the_address_is_preselected_for_the_new_draft(client, alice, lena):
    challenge = _challenge("marking-workload", open_now=True, lena=lena)
    client.force_login(alice)

    page = client.get("/proposals/new/?challenge=marking-workload")
    client.post(
        "/proposals/new/",
        {"title": "Mark faster", "summary": "", "challenge": "marking-workload", "action": "draft"},
    )

    assert "Your proposal will answer the challenge" in html(page)
    assert Proposal.objects.get().challenge == challenge


def test_only_open_challenges_are_offered(client, alice, lena):
    _challenge("open-one", open_now=True, lena=lena)
    _challenge("closed-one", open_now=False, lena=lena)
    client.force_login(alice)
    proposal = draft(alice)

    body = html(client.get(f"/proposals/{proposal.reference}/edit/details/"))
    refused = client.post(
        f"/proposals/{proposal.reference}/edit/details/",
        {"challenge": "closed-one", "visibility": "government", "action": "continue"},
    )

    assert 'value="open-one"' in body
    assert 'value="closed-one"' not in body
    assert "Select a challenge that is open for ideas" in html(refused)


def test_other_people_cannot_edit_a_draft_and_cannot_even_see_it(client, alice, amir):
    proposal = draft(alice)
    client.force_login(amir)

    assert client.get(f"/proposals/{proposal.reference}/edit/about/").status_code == 404


def test_a_colleague_who_can_see_a_submitted_proposal_may_not_edit_it(client, alice, amir):
    proposal = submitted(alice)
    client.force_login(amir)

    assert client.get(f"/proposals/{proposal.reference}/edit/about/").status_code == 403


def test_unknown_question_page_is_not_found(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    assert client.get(f"/proposals/{proposal.reference}/edit/nothing/").status_code == 404


def test_missing_csrf_token_is_refused(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post("/proposals/new/", {"title": "No token", "action": "draft"})

    assert response.status_code == 403
    assert Proposal.objects.count() == 0


# --- attachments -------------------------------------------------------------------------


def _upload(client, proposal, name, content, content_type="application/octet-stream"):
    return client.post(
        f"/proposals/{proposal.reference}/edit/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type), "action": "upload"},
    )


def test_upload_a_png_and_download_it_as_an_attachment(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = _upload(client, proposal, "diagram.png", PNG, "image/png")

    attachment = Attachment.objects.get()
    assert response.status_code == 302
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "diagram.png",
        "image/png",
        len(PNG),
    )
    download = client.get(f"/proposals/{proposal.reference}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == 'attachment; filename="diagram.png"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PNG


def test_a_pdf_named_otherwise_is_stored_with_its_real_extension(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    _upload(client, proposal, "business case", PDF, "text/plain")

    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.content_type) == (
        "business case.pdf",
        "application/pdf",
    )


def test_wrong_file_type_is_refused(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = _upload(client, proposal, "notes.txt", b"just some notes\n", "text/plain")

    assert response.status_code == 400
    assert '<a href="#id_file">The selected file must be a PDF, ODT, DOCX, PNG or JPEG</a>' in html(
        response
    )
    assert Attachment.objects.count() == 0


def test_a_page_pretending_to_be_a_png_is_refused(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = _upload(
        client, proposal, "photo.png", b"<html><script>alert(1)</script></html>", "image/png"
    )

    assert response.status_code == 400
    assert "The selected file must be a PDF, ODT, DOCX, PNG or JPEG" in html(response)
    assert Attachment.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(client, alice, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    proposal = draft(alice)
    client.force_login(alice)

    response = _upload(client, proposal, "big.pdf", PDF + b"0" * (1024 * 1024), "application/pdf")

    assert "The file must be smaller than 1MB" in html(response)
    assert Attachment.objects.count() == 0


def test_upload_without_a_file_asks_for_one(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = client.post(
        f"/proposals/{proposal.reference}/edit/attachments/", {"action": "upload"}
    )

    assert '<a href="#id_file">Select a file</a>' in html(response)


def test_remove_an_attachment(client, alice):
    proposal = draft(alice)
    client.force_login(alice)
    _upload(client, proposal, "diagram.png", PNG)
    attachment = Attachment.objects.get()

    response = client.post(f"/proposals/{proposal.reference}/attachments/{attachment.pk}/remove/")

    assert response.status_code == 302
    assert Attachment.objects.count() == 0
    assert AuditEvent.objects.filter(action="detach").count() == 1


def test_attachments_of_a_draft_are_not_found_for_anyone_else(client, alice, amir):
    proposal = draft(alice)
    client.force_login(alice)
    _upload(client, proposal, "diagram.png", PNG)
    attachment = Attachment.objects.get()
    client.force_login(amir)

    response = client.get(f"/proposals/{proposal.reference}/attachments/{attachment.pk}/")

    assert response.status_code == 404


def test_attachments_of_a_department_only_proposal_are_not_found_elsewhere(client, alice, bob):
    proposal = draft(alice, visibility=Visibility.DEPARTMENT)
    client.force_login(alice)
    _upload(client, proposal, "diagram.png", PNG)
    services.proposal_transition(proposal=proposal, actor=alice, action="submit")
    attachment = Attachment.objects.get()
    url = f"/proposals/{proposal.reference}/attachments/{attachment.pk}/"
    client.force_login(bob)

    assert client.get(url).status_code == 404


# --- check your answers and submit --------------------------------------------------------


def test_check_answers_lists_answers_with_change_links(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = client.get(f"/proposals/{proposal.reference}/check/")

    body = html(response)
    assert title_of(response) == page_title("Check your answers before submitting your proposal")
    assert '<dt class="govuk-summary-list__key">What problem are you trying to solve?</dt>' in body
    assert (
        f'href="/proposals/{proposal.reference}/edit/problem/?from=check#id_problem">Change' in body
    )
    assert ">\n  Submit proposal\n" in body


def test_check_answers_shows_similar_proposals_the_user_may_see(client, alice, bob, amir):
    # More in tests/proposals/test_similarity.py; here, the page's part.
    answers = {"summary": "Read scanned paper forms automatically", "problem": "Forms retyped"}
    similar = submitted(bob, title="Scanned forms read by OCR", **answers)
    hidden = submitted(
        amir, title="Scanned forms for staff", visibility=Visibility.DEPARTMENT, **answers
    )
    unrelated = submitted(
        bob,
        title="Electric vans",
        summary="Fleet",
        problem="Diesel costs",
        proposed_solution="Replace the vans",
    )
    mine = draft(alice, title="Read scanned forms automatically", **answers)
    services.similarity_catch_up()  # what the similarity worker does
    client.force_login(bob)
    bob_sees = html(client.get(f"/proposals/{similar.reference}/"))
    client.force_login(alice)

    body = html(client.get(f"/proposals/{mine.reference}/check/"))

    assert similar.reference in body
    assert hidden.reference in body  # alice's own department: she may see it
    assert unrelated.reference not in body
    assert "If yours is different, you can still submit it." in body
    assert "Similar proposals and lessons from across government" not in bob_sees


def test_similar_proposals_never_show_what_the_user_may_not_see(client, alice, bob):
    secret = submitted(alice, title="Scanned forms secret", visibility=Visibility.DEPARTMENT)
    mine = draft(bob, title="Scanned forms for visas")
    services.similarity_catch_up()
    client.force_login(bob)

    body = html(client.get(f"/proposals/{mine.reference}/check/"))

    assert secret.reference not in body


def test_submit_gives_the_confirmation_panel_with_the_reference(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = client.post(f"/proposals/{proposal.reference}/check/", follow=True)

    body = html(response)
    proposal.refresh_from_db()
    assert proposal.status == Status.SUBMITTED
    assert response.redirect_chain == [(f"/proposals/{proposal.reference}/submitted/", 302)]
    assert '<h1 class="govuk-panel__title">Proposal submitted</h1>' in body
    assert f"<strong>{proposal.reference}</strong>" in body


def test_submit_with_missing_answers_links_to_their_question_pages(client, alice):
    proposal = draft(alice, problem="", cost_band="")
    client.force_login(alice)

    response = client.post(f"/proposals/{proposal.reference}/check/")

    body = html(response)
    proposal.refresh_from_db()
    assert response.status_code == 400
    assert proposal.status == Status.DRAFT
    ref = proposal.reference
    assert (
        f'<a href="/proposals/{ref}/edit/problem/?from=check#id_problem">'
        "Enter the problem you are trying to solve</a>"
    ) in body
    assert (
        f'<a href="/proposals/{ref}/edit/costs/?from=check#id_cost_band">'
        "Select an estimated cost</a>"
    ) in body


def test_change_from_check_answers_returns_there(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    response = client.post(
        f"/proposals/{proposal.reference}/edit/about/?from=check",
        {"title": "Better title", "summary": "Still OCR", "from": "check", "action": "continue"},
    )

    assert response["Location"] == f"/proposals/{proposal.reference}/check/"


def test_check_answers_of_someone_elses_submitted_proposal_is_forbidden(client, alice, amir):
    proposal = submitted(alice)
    client.force_login(amir)

    assert client.get(f"/proposals/{proposal.reference}/check/").status_code == 403


def test_changing_a_submitted_proposal_keeps_every_answer(client, alice):
    proposal = submitted(alice)
    client.force_login(alice)
    url = f"/proposals/{proposal.reference}/edit/problem/"

    blanked = client.post(url, {"problem": "", "who_has_the_problem": "x", "action": "draft"})
    page = html(client.get(url))
    changed = client.post(
        url, {"problem": "Even more forms", "who_has_the_problem": "Staff", "action": "continue"}
    )
    end = client.get(f"/proposals/{proposal.reference}/check/", follow=True)

    proposal.refresh_from_db()
    assert blanked.status_code == 400
    assert "Save and go back to the proposal" in page
    assert changed.status_code == 302
    assert proposal.problem == "Even more forms"
    assert end.redirect_chain == [(f"/proposals/{proposal.reference}/", 302)]
    assert f"Your changes to {proposal.reference} have been saved" in html(end)


# --- delete, withdraw, resubmit, propose again --------------------------------------------


def test_delete_a_draft_after_confirming(client, alice):
    proposal = draft(alice)
    client.force_login(alice)

    confirm = client.get(f"/proposals/{proposal.reference}/delete/")
    response = client.post(f"/proposals/{proposal.reference}/delete/")

    assert "Are you sure you want to delete this draft?" in html(confirm)
    assert response["Location"] == "/"
    assert not Proposal.objects.exists()
    assert AuditEvent.objects.filter(action="delete", proposal_reference=proposal.reference)


def test_a_submitted_proposal_cannot_be_deleted(client, alice):
    proposal = submitted(alice)
    client.force_login(alice)

    # Deleting is the author's action on drafts: past the draft it is a state
    # conflict (409, a page saying it cannot be done now), not a 403.
    response = client.post(f"/proposals/{proposal.reference}/delete/")
    assert response.status_code == 409
    assert "cannot be done now" in html(response)
    assert Proposal.objects.count() == 1


def test_withdraw_after_confirming(client, alice):
    proposal = submitted(alice)
    client.force_login(alice)

    confirm = client.get(f"/proposals/{proposal.reference}/withdraw/")
    response = client.post(f"/proposals/{proposal.reference}/withdraw/", follow=True)

    proposal.refresh_from_db()
    assert "Are you sure you want to withdraw this proposal?" in html(confirm)
    assert proposal.status == Status.WITHDRAWN
    assert f"{proposal.reference} has been withdrawn" in html(response)


def test_withdraw_twice_is_a_conflict_not_an_error(client, alice):
    proposal = submitted(alice)
    client.force_login(alice)
    client.post(f"/proposals/{proposal.reference}/withdraw/")

    response = client.post(f"/proposals/{proposal.reference}/withdraw/")

    # The action exists and Alice may take it, but not now: 409, as the API answers
    # (this test used to expect 403).
    assert response.status_code == 409
    assert f"{proposal.reference} is withdrawn" in html(response)


def test_resubmit_after_more_information_was_requested(client, alice, rita):
    proposal = submitted(alice)
    services.proposal_transition(
        proposal=proposal, actor=rita, action="request_info", data={"message": "Add costs"}
    )
    client.force_login(alice)

    page = client.get(f"/proposals/{proposal.reference}/resubmit/")
    response = client.post(f"/proposals/{proposal.reference}/resubmit/")

    proposal.refresh_from_db()
    assert "Add costs" in html(page)
    assert response.status_code == 302
    assert proposal.status == Status.SUBMITTED


def test_propose_again_from_a_rejected_proposal(client, alice, rita):
    proposal = submitted(alice)
    services.proposal_transition(
        proposal=proposal, actor=rita, action="reject_at_triage", data={"rationale": "Not now"}
    )
    client.force_login(alice)

    response = client.post(f"/proposals/{proposal.reference}/propose-again/")

    new = Proposal.objects.exclude(pk=proposal.pk).get()
    assert response["Location"] == f"/proposals/{new.reference}/edit/about/"
    assert (new.previous, new.status, new.title) == (proposal, Status.DRAFT, proposal.title)
    page = html(client.get(f"/proposals/{new.reference}/"))
    assert "Proposed again from" in page and proposal.reference in page
