"""Who a buyer is, without keeping who they are: normalised identifiers, the register's keyed hash, and the
SHA-256 audience hashes Google Ads Customer Match and Meta Custom Audiences match on."""

from __future__ import annotations

import hashlib

import phonenumbers

from services.compliance.customs.codes import countries
from services.compliance.pii import Pii

#: customs country codes (JGS-20, as order messages carry them) → ISO 3166: the whole customs table (for 438, Saint
#: Martin, one of its two halves; the phone numbering is the same)
CUSTOMS_COUNTRIES = {code: iso for iso, code in sorted(countries().items(), reverse=True)}


def normalise_email(value: str) -> str | None:
    """Trimmed and lower-cased, as both Customer Match and Custom Audiences require before hashing."""
    email = value.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        return None
    return email


def normalise_phone(value: str, country: str | None) -> str | None:
    """E.164 (``+14155550123``): a number written nationally is read in the buyer's country. None when the
    digits cannot be a phone number there."""
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def audience_hash(normalised: str) -> str:
    """Hex SHA-256 of the normalised identifier (the value an ad platform's uploader hashes itself)."""
    return hashlib.sha256(normalised.encode()).hexdigest()


def phone_country(e164: str) -> str | None:
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    return region if region and region != "ZZ" else None


def export_key(pii: Pii, country: str | None, email: str | None, phone: str | None) -> str | None:
    """The register's key of an export buyer: a keyed hash (never a plain one, which anyone could recompute
    from a list of addresses) of the email, else the phone, with the country."""
    if email:
        return pii.lookup_hash(f"export|{country or ''}|email|{email}")
    if phone:
        return pii.lookup_hash(f"export|{country or ''}|phone|{phone}")
    return None
