"""Reading and checking what a visitor types into the contact form: names, phone numbers, emails,
yes/no answers. Pure functions, so each rule is unit-tested on its own."""
import re
from typing import Optional, Tuple

from clinic.safety import sensitive_numbers

MAX_NAME_CHARS = 100
MAX_FREE_TEXT_CHARS = 300

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}")
PHONE_CANDIDATE = re.compile(r"\+?\(?\d[\d\s().-]{5,22}\d")
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
    """A phone number in international form (+15551234567), or None. Numbers without a country code
    are taken as US/Canada (10 digits, or 11 starting with 1)."""
    digits = re.sub(r"\D", "", text)
    international = text.strip().startswith("+") or text.strip().startswith("00")
    if text.strip().startswith("00"):
        digits = digits[2:]
    if international:
        return f"+{digits}" if 8 <= len(digits) <= 15 and not digits.startswith("0") else None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10 and digits[0] not in "01" and digits[3] not in "01":
        return f"+1{digits}"
    return None


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
