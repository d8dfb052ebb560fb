"""Each rule the contact form applies to what a visitor types."""
import pytest

from actions.contact_details import find_contact_details, free_text, is_skip, normalise_phone, parse_name, yes_or_no
from actions.contact_form import interrupts_form


@pytest.mark.parametrize("typed, stored", [
    ("Ana Lopez", "Ana Lopez"),
    ("my name is maria garcia", "Maria Garcia"),
    ("I'm John O'Neill", "John O'Neill"),
    ("Jean-Luc Picard", "Jean-Luc Picard"),
    ("José Álvarez", "José Álvarez"),
    ("  sam  ", "Sam"),
    ("DeShawn McDonald", "DeShawn McDonald"),
])
def test_names_are_accepted_and_tidied(typed: str, stored: str) -> None:
    assert parse_name(typed) == stored


@pytest.mark.parametrize("typed", ["", "555-234-5678", "ana@example.com", "R2D2", "???",
                                   "my name is " + "a" * 120, "one two three four five six seven"])
def test_things_that_are_not_names_are_refused(typed: str) -> None:
    assert parse_name(typed) is None


@pytest.mark.parametrize("typed, stored", [
    ("555-234-5678", "+15552345678"),
    ("(555) 234 5678", "+15552345678"),
    ("1 555 234 5678", "+15552345678"),
    ("+1 (555) 234-5678", "+15552345678"),
    ("+44 20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"),
    ("011 44 20 7946 0958", "+442079460958"),        # the US way to dial abroad
    ("+52 55 1234 5678", "+525512345678"),
    ("+61 2 9374 4000", "+61293744000"),
    ("(555) 876-5432", "+15558765432"),              # fictional 555 numbers are possible, so accepted
    ("555.234.5678", "+15552345678"),
])
def test_phone_numbers_are_normalised(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["123", "555-1234", "055-123-4567", "555-023-4567", "+12", "12345678901234567",
                                   "12345",
                                   "+999 12345678",              # no country has the code 999
                                   "+44 20 7946",                # too short for the UK
                                   "+52 55 1234 5678 9012",      # too long for Mexico
                                   "+1 555 234 56789"])
def test_incomplete_or_impossible_phone_numbers_are_refused(typed: str) -> None:
    assert normalise_phone(typed) is None


@pytest.mark.parametrize("typed, phone, email", [
    ("555-234-5678", "+15552345678", None),
    ("Ana.Lopez@Example.COM", None, "ana.lopez@example.com"),
    ("call 555 234 5678 or mail ana@example.org", "+15552345678", "ana@example.org"),
    ("ana@example", None, None),
    ("ana at example dot com", None, None),
    ("555-12", None, None),
    ("+999 12345678 or ana@example.com", None, "ana@example.com"),
    ("my mobile is +52 55 1234 5678", "+525512345678", None),
    ("Ana, +44 20 7946 0958, ana@example.co.uk", "+442079460958", "ana@example.co.uk"),
])
def test_phone_and_email_are_found_in_one_answer(typed: str, phone: str, email: str) -> None:
    assert find_contact_details(typed) == (phone, email)


@pytest.mark.parametrize("typed, intent, answer", [
    ("yes", None, True), ("Yes please", None, True), ("I agree", None, True), ("sure!", None, True),
    ("yeah go for it", "affirm", True), ("no", None, False), ("No thanks.", None, False),
    ("absolutely not", "deny", False), ("maybe", None, None), ("what do you store?", "faq", None),
])
def test_consent_answers(typed: str, intent: str, answer: bool) -> None:
    assert yes_or_no(typed, intent) is answer


def test_reason_can_be_skipped() -> None:
    assert is_skip("Skip") and is_skip("no") and is_skip("rather not say")
    assert not is_skip("my back pain")


def test_free_text_refuses_card_numbers_and_bounds_length() -> None:
    assert free_text("weekday mornings") == "weekday mornings"
    assert free_text("after 5, card 4111 1111 1111 1111") is None
    assert len(free_text("x" * 5000)) == 300


@pytest.mark.parametrize("text, intent, requested, interrupts", [
    ("how long does an infusion take?", "faq", "contact_time", True),
    ("what are your hours", "faq", "contact_time", True),
    ("weekday mornings", "faq", "contact_time", False),            # the answer to "when should they call?"
    ("I want to know if it helps my CRPS", "faq", "contact_reason", False),
    ("cancel", "stop", "contact_reason", True),
    ("skip", "stop", "contact_reason", False),                     # the Skip button, whatever the model says
    ("no", "stop", "contact_consent", False),
    ("yes", "out_of_scope", "contact_confirmed", False),
    ("skip", "stop", "contact_name", True),                        # not a name: leaves the form
    ("I want to end it all", "crisis", "contact_reason", True),
    ("Ana Lopez", "nlu_fallback", "contact_name", False),
    ("what's the weather?", "out_of_scope", "contact_time", True),
])
def test_which_messages_interrupt_the_form(text: str, intent: str, requested: str, interrupts: bool) -> None:
    assert interrupts_form({"text": text, "intent": {"name": intent}}, requested) is interrupts
