"""Reading and checking what a visitor types into the contact form: names, phone numbers, emails,
yes/no answers. Pure functions, so each rule is unit-tested on its own."""
import re
from typing import Optional, Tuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from clinic.safety import sensitive_numbers
from clinic.text_patterns import EMAIL, PHONE_CANDIDATE

MAX_NAME_CHARS = 100
MAX_FREE_TEXT_CHARS = 300

DEFAULT_PHONE_REGION = "US"  # numbers typed without a country code
# The North American numbering plan: neither the area code nor the exchange starts with 0 or 1.
# phonenumbers checks this only as part of is_valid_number, which also refuses the 555 numbers
# the clinic uses in its examples.
NANP_NUMBER = re.compile(r"[2-9]\d{2}[2-9]\d{6}")
NAME_CHARACTERS = re.compile(r"^[^\W\d_]+(?:[ '\u2019.-]+[^\W\d_]+)*\.?$")
NAME_INTRO = re.compile(r"^(?:(?:my|full)\s+name\s+is|(?:it's|its|it is)|i'm|i am|this is|call me)\s+", re.I)

YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "correct", "right", "agree", "i agree",
             "of course", "absolutely", "please do", "go ahead", "that's right", "thats right", "fine",
             "yes please", "yes i agree", "i consent", "consent", "sounds good", "confirm", "yes, send it"}
NO_WORDS = {"no", "n", "nope", "nah", "no thanks", "i don't", "i dont", "i do not agree", "don't", "dont",
            "i do not", "no i don't", "not really", "decline", "i decline", "no way"}
SKIP_WORDS = {"skip", "no", "none", "nothing", "n/a", "na", "no reason", "rather not say", "prefer not to say",
              "i'd rather not say", "not now", "pass", "-", "no thanks", "nope", "nah"}


def clean(text: str) -> str:
    return " ".join((text or "").split())


def simple(text: str) -> str:
    return re.sub(r"[.!?]+$", "", clean(text).lower().replace("\u2019", "'"))


def parse_name(text: str) -> Optional[str]:
    """A person's name as typed ("my name is Ana López" -> "Ana López"), or None if it is not one."""
    name = NAME_INTRO.sub("", clean(text)).strip(" .,")
    if not name or len(name) > MAX_NAME_CHARS or len(name.split()) > 6:
        return None
    if not NAME_CHARACTERS.match(name):
        return None
    return " ".join(word[:1].upper() + word[1:] if word.islower() else word for word in name.split())


def normalise_phone(text: str) -> Optional[str]:
    """A phone number in E.164 form (+15551234567), or None. Numbers without a country code are
    taken as US/Canada; "00" and "011" start an international number. A number is accepted when it
    is possible (phonenumbers: a known country code and a length its numbers can have, counting
    the area code), not only when it is assigned, so fictional 555 numbers pass."""
    text = text.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
    except NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None  # also refuses IS_POSSIBLE_LOCAL_ONLY: 555-1234 without its area code
    if number.country_code == 1 and not NANP_NUMBER.fullmatch(phonenumbers.national_significant_number(number)):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def find_contact_details(text: str) -> Tuple[Optional[str], Optional[str]]:
    """(phone, email) found in a message such as "555-123-4567 or ana@example.com"; None for each
    one that is missing or not valid."""
    text = clean(text)
    email_match = EMAIL.search(text)
    email = email_match.group().lower() if email_match else None
    phones = [normalise_phone(c) for c in PHONE_CANDIDATE.findall(EMAIL.sub(" ", text))]
    return next((p for p in phones if p), None), email


def yes_or_no(text: str, intent: Optional[str] = None) -> Optional[bool]:
    """True for yes, False for no, None when the answer is neither."""
    said = simple(text)
    if said in YES_WORDS or intent == "affirm":
        return True
    if said in NO_WORDS or intent == "deny":
        return False
    return None


def is_skip(text: str, intent: Optional[str] = None) -> bool:
    return simple(text) in SKIP_WORDS or intent == "deny"


def free_text(text: str) -> Optional[str]:
    """Free text for the preferred time or the reason: trimmed, bounded, and refused when it holds a
    card or social security number (those must not be stored)."""
    text = clean(text)
    if not text or sensitive_numbers(text):
        return None
    return text[:MAX_FREE_TEXT_CHARS]
