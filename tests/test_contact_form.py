"""The booking hand-off, live over REST: every path a visitor can take through the contact form, and
what ends up in the database."""
from typing import List

import pytest

from clinic.lead_store import Lead, LeadStore
from clinic.serve import Assistant
from conftest import Visitor, fill_form, texts


def leads_of(assistant: Assistant, visitor: Visitor) -> List[Lead]:
    return [lead for lead in LeadStore(assistant.database).list() if lead.conversation_id == visitor.sender]


def test_happy_path_stores_one_lead_and_says_what_happens_next(assistant: Assistant, visitor: Visitor) -> None:
    summary = fill_form(visitor)
    for detail in ("Ana Lopez", "+15552345678", "ana@example.com", "weekday mornings", "CRPS in my left foot"):
        assert detail in summary
    done = texts(visitor.say("yes, send it"))
    assert "Thank you, Ana Lopez" in done and "will contact you" in done
    [lead] = leads_of(assistant, visitor)
    assert (lead.name, lead.phone, lead.email, lead.preferred_time, lead.reason) == (
        "Ana Lopez", "+15552345678", "ana@example.com", "weekday mornings", "CRPS in my left foot")
    assert f"number {lead.id}" in done
    # Saying yes again does not make a second request.
    visitor.say("yes")
    assert len(leads_of(assistant, visitor)) == 1


def test_a_question_in_the_form_is_answered_then_the_form_goes_on(assistant: Assistant, visitor: Visitor) -> None:
    visitor.say("can someone call me back")
    visitor.say("Ana Lopez")
    replies = visitor.say("how long does one infusion session take?")
    answered = [e["metadata"].get("utter_action") for e in visitor.tracker()["events"] if e["event"] == "bot"]
    assert "utter_faq/session" in answered
    assert "phone number or email" in replies[-1]["text"]
    assert "good time" in texts(visitor.say("ana@example.com"))


def test_cancel_ends_the_form_and_stores_nothing(assistant: Assistant, visitor: Visitor) -> None:
    visitor.say("i want to talk to a person")
    visitor.say("Ana Lopez")
    reply = texts(visitor.say("never mind"))
    assert "Nothing from the form has been stored" in reply
    assert leads_of(assistant, visitor) == []
    # The form is over: a name-like message is not taken as a form answer any more.
    assert "phone number or email" not in texts(visitor.say("what is ketamine infusion therapy?"))


def test_correction_at_the_summary(assistant: Assistant, visitor: Visitor) -> None:
    fill_form(visitor)
    assert "phone number or email" in texts(visitor.say("change my phone"))
    summary = texts(visitor.say("(555) 876-5432"))
    assert "+15558765432" in summary and "+15552345678" not in summary
    visitor.say("yes")
    [lead] = leads_of(assistant, visitor)
    assert lead.phone == "+15558765432" and lead.email is None


def test_refused_consent_stores_nothing_and_gives_the_phone(assistant: Assistant, visitor: Visitor) -> None:
    visitor.say("sign me up")
    visitor.say("Ana Lopez")
    visitor.say("ana@example.com")
    visitor.say("evenings")
    visitor.say("skip")
    reply = texts(visitor.say("no"))
    assert "haven't stored your details" in reply
    assert leads_of(assistant, visitor) == []
    summary_shown = any("Is this right?" in (e.get("text") or "") for e in visitor.tracker()["events"] if e["event"] == "bot")
    assert not summary_shown


def test_three_invalid_answers_offer_the_phone_instead_of_looping(assistant: Assistant, visitor: Visitor) -> None:
    visitor.say("how do i schedule an appointment")
    visitor.say("Ana Lopez")
    assert "couldn't read that" in texts(visitor.say("12345"))
    assert "couldn't read that" in texts(visitor.say("ana at example"))
    reply = texts(visitor.say("call me"))
    assert "please call" in reply and "haven't stored anything" in reply
    assert leads_of(assistant, visitor) == []
    assert "full name" not in texts(visitor.say("what are the side effects?"))


def test_the_offer_after_a_cost_answer_starts_the_form_on_a_typed_yes(visitor: Visitor) -> None:
    offer = visitor.say("does insurance cover the infusions")
    assert any(b["payload"] == "/request_contact" for b in offer[0].get("buttons", []))
    assert "full name" in texts(visitor.say("yes please"))


def test_contact_details_are_not_written_to_the_logs(assistant: Assistant, visitor: Visitor) -> None:
    fill_form(visitor, reason="skip")
    visitor.say("yes")
    logs = "".join(path.read_text(errors="replace") for path in assistant.log_dir.glob("*.log"))
    assert "555-234-5678" not in logs and "+15552345678" not in logs and "ana@example.com" not in logs


def test_when_the_action_server_is_down_the_visitor_gets_the_clinic_phone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = Assistant(rasa_port=5405, action_port=5455, database=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       log_dir=tmp_path / "logs", extra_env={"CLINIC_PHONE": "555-0100"})
    with server:
        visitor = Visitor(server, "actions-down")
        assert "full name" in texts(visitor.say("can someone call me back"))
        action_server = server.processes[0]
        action_server.terminate()
        action_server.wait(timeout=30)
        reply = texts(visitor.say("Ana Lopez"))
        crisis_reply = texts(visitor.say("i want to end it all"))
    assert "technical problem" in reply and "555-0100" in reply
    # Safety does not depend on the action server.
    assert "988" in crisis_reply and "911" in crisis_reply and "technical problem" not in crisis_reply
