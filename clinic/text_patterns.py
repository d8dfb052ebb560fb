"""Patterns for what visitors type, shared by the contact form (actions/), the channels and the staff
reports, so each is defined once: what the form accepts as an email or a phone number is what the
reports remove, and the characters the channels strip are among those the reports strip."""
import re

# An email address: local part, then dot-separated domain labels (no leading or trailing hyphen)
# and a top-level domain of 2 to 24 letters. "ana@example" and "ana at example dot com" are not.
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}")

# Text that may be a phone number: 7 to 24 digits, spaces, dots, dashes and brackets (starting and
# ending with a digit, maybe after a + or a bracket).
# Whether it is one is decided by actions/contact_details.normalise_phone (phonenumbers).
PHONE_CANDIDATE = re.compile(r"\+?\(?\d[\d\s().-]{5,22}\d")

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they make text
# display in another order than it is written, which can disguise a message in staff tools.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"

# Removed from every message the channels accept: NUL cannot be stored in PostgreSQL text, and the
# bidirectional controls above. Other characters are kept (zero-width joiners build emoji).
UNSTORABLE = re.compile(f"[\x00{_BIDI_CONTROLS}]")

# Removed from visitor text shown in staff reports: control characters other than tab and newline,
# zero-width characters and direction marks (U+200B-U+200F), the bidirectional controls, and the
# byte-order mark.
INVISIBLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f{_BIDI_CONTROLS}\ufeff]")
