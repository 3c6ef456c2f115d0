"""Static facts the sample generator draws customers from: countries, regions, names, streets.

Every region carries a time zone that is right for it, a subdivision code the ``holidays`` package
knows (or None where that package has none), cities with postal-code templates, and phone ranges
that ``phonenumbers`` accepts as valid mobile (or fixed-or-mobile) numbers of that country.

Where a numbering plan reserves numbers for fiction, those are used, so the sample never holds a
real person's number: North America 555-0100..0199 (NANP) and Australia 0491 570..572 (ACMA).
Other countries have no such range that ``phonenumbers`` accepts, so numbers are drawn at random in
valid mobile blocks.  Emails are always on the reserved ``example.com/.org/.net`` domains.

Postal templates: ``#`` is a random digit, ``@`` a random letter of :data:`POSTAL_LETTERS`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Letters used in Canadian, British and Irish postcodes (Canada never uses D F I O Q U).
POSTAL_LETTERS = "ABCEGHJKLMNPRSTVWXY"


@dataclass(frozen=True)
class PhoneRange:
    """Numbers ``prefix`` + ``low..high`` zero-padded to ``width`` digits (E.164)."""

    prefix: str
    low: int
    high: int
    width: int


def _nanp(*area_codes: str) -> tuple[PhoneRange, ...]:
    return tuple(PhoneRange(f"+1{a}555", 100, 199, 4) for a in area_codes)


def _block(prefix: str, width: int) -> PhoneRange:
    return PhoneRange(prefix, 0, 10**width - 1, width)


@dataclass(frozen=True)
class Region:
    """A subdivision of a country with its zone, cities and phone ranges."""

    code: str | None
    timezone: str
    weight: float
    cities: tuple[tuple[str, str], ...]  # (city, postal template)
    phones: tuple[PhoneRange, ...]
    locales: tuple[tuple[str, float], ...] = ()  # overrides the country's when given


@dataclass(frozen=True)
class Country:
    """A country the sample has customers in."""

    code: str
    currency: str
    weight: float
    locales: tuple[tuple[str, float], ...]
    regions: tuple[Region, ...]
    # Relative preference for email, sms, letter, push.
    channels: tuple[float, float, float, float]
    # Manual payers: bank_transfer, card, check, cash, wallet.
    manual_methods: tuple[float, float, float, float, float]
    # Autopay: card, direct_debit.
    autopay_methods: tuple[float, float]
    business_suffixes: tuple[str, ...]
    # Typical invoice in this currency per US dollar of value (JPY ~150).
    value_per_usd: float
    # Japanese B2B custom: due at the end of the month after the invoice month.
    month_end_terms: bool = False


MANUAL_METHODS = ("bank_transfer", "card", "check", "cash", "wallet")
AUTOPAY_METHODS = ("card", "direct_debit")

_GB_MOBILE = tuple(_block(f"+447{b}", 7) for b in ("40", "41", "42", "43", "44", "46", "47", "48", "49",
                                                   "90", "92", "94", "95", "96", "97", "98", "99"))
_IE_MOBILE = tuple(_block(f"+3538{b}", 7) for b in "35679")
_FR_MOBILE = tuple(_block(f"+33{b}", 7) for b in ("61", "62", "64", "66", "67", "68", "75"))
_DE_MOBILE = (_block("+49151", 8), _block("+49152", 8), _block("+49157", 8), _block("+49160", 7),
              _block("+49170", 7), _block("+49171", 7), _block("+49176", 8))
_ES_MOBILE = (_block("+346", 8),)
_AU_FICTION = (PhoneRange("+61491570", 6, 159, 3), PhoneRange("+61491571", 266, 491, 3),
               PhoneRange("+61491572", 549, 665, 3))
_JP_MOBILE = (_block("+81901", 7), _block("+81903", 7), _block("+81909", 7), _block("+8180", 8),
              _block("+81701", 7), _block("+81705", 7))

COUNTRIES: tuple[Country, ...] = (
    Country("US", "USD", 0.28, (("en-US", 0.88), ("es-US", 0.12)), (
        Region("NY", "America/New_York", 0.16, (("New York", "100##"), ("Brooklyn", "112##"),
                                                ("Buffalo", "142##")), _nanp("212", "718", "716")),
        Region("MA", "America/New_York", 0.05, (("Boston", "021##"), ("Cambridge", "021##")), _nanp("617")),
        Region("FL", "America/New_York", 0.10, (("Miami", "331##"), ("Orlando", "328##"), ("Tampa", "336##")),
               _nanp("305", "407", "813")),
        Region("GA", "America/New_York", 0.05, (("Atlanta", "303##"),), _nanp("404")),
        Region("IL", "America/Chicago", 0.08, (("Chicago", "606##"),), _nanp("312")),
        Region("TX", "America/Chicago", 0.13,
               (("Austin", "787##"), ("Dallas", "752##"), ("Houston", "770##")), _nanp("512", "214", "713")),
        Region("CO", "America/Denver", 0.05, (("Denver", "802##"),), _nanp("303")),
        Region("AZ", "America/Phoenix", 0.05, (("Phoenix", "850##"),), _nanp("602")),
        Region("CA", "America/Los_Angeles", 0.17, (("Los Angeles", "900##"), ("San Francisco", "941##"),
                                                   ("San Diego", "921##")), _nanp("213", "415", "619")),
        Region("WA", "America/Los_Angeles", 0.06, (("Seattle", "981##"),), _nanp("206")),
        Region("HI", "Pacific/Honolulu", 0.02, (("Honolulu", "968##"),), _nanp("808")),
        Region("AK", "America/Anchorage", 0.01, (("Anchorage", "995##"),), _nanp("907")),
    ), (0.60, 0.22, 0.08, 0.10), (0.25, 0.45, 0.20, 0.0, 0.10), (0.85, 0.15), ("Inc.", "LLC"), 1.0),
    Country("CA", "CAD", 0.07, (("en-CA", 1.0),), (
        Region("ON", "America/Toronto", 0.40, (("Toronto", "M#@ #@#"), ("Ottawa", "K1@ #@#")),
               _nanp("416", "647")),
        Region("QC", "America/Toronto", 0.22, (("Montréal", "H#@ #@#"), ("Québec", "G1@ #@#")),
               _nanp("514", "438"), (("fr-CA", 0.8), ("en-CA", 0.2))),
        Region("BC", "America/Vancouver", 0.15, (("Vancouver", "V#@ #@#"),), _nanp("604", "778")),
        Region("AB", "America/Edmonton", 0.12, (("Calgary", "T#@ #@#"),), _nanp("403", "587")),
        Region("MB", "America/Winnipeg", 0.04, (("Winnipeg", "R#@ #@#"),), _nanp("204")),
        Region("NS", "America/Halifax", 0.05, (("Halifax", "B3@ #@#"),), _nanp("902")),
        Region("NL", "America/St_Johns", 0.02, (("St. John's", "A1@ #@#"),), _nanp("709")),
    ), (0.62, 0.18, 0.10, 0.10), (0.35, 0.45, 0.12, 0.0, 0.08), (0.70, 0.30), ("Inc.", "Ltd."), 1.35),
    Country("GB", "GBP", 0.12, (("en-GB", 1.0),), (
        Region("ENG", "Europe/London", 0.84, (("London", "N# #@@"), ("Manchester", "M## #@@"),
                                              ("Birmingham", "B## #@@"), ("Leeds", "LS# #@@")), _GB_MOBILE),
        Region("SCT", "Europe/London", 0.08, (("Edinburgh", "EH# #@@"), ("Glasgow", "G## #@@")), _GB_MOBILE),
        Region("WLS", "Europe/London", 0.05, (("Cardiff", "CF## #@@"),), _GB_MOBILE),
        Region("NIR", "Europe/London", 0.03, (("Belfast", "BT# #@@"),), _GB_MOBILE),
    ), (0.62, 0.20, 0.08, 0.10), (0.55, 0.35, 0.0, 0.0, 0.10), (0.30, 0.70), ("Ltd",), 0.78),
    Country("IE", "EUR", 0.04, (("en-IE", 1.0),), (
        Region(None, "Europe/Dublin", 1.0, (("Dublin", "D0# @###"), ("Cork", "T12 @###"),
                                            ("Galway", "H91 @###")), _IE_MOBILE),
    ), (0.62, 0.20, 0.08, 0.10), (0.55, 0.35, 0.0, 0.0, 0.10), (0.30, 0.70), ("Ltd",), 0.92),
    Country("FR", "EUR", 0.10, (("fr-FR", 1.0),), (
        Region(None, "Europe/Paris", 0.95, (("Paris", "750##"), ("Lyon", "6900#"), ("Marseille", "130##"),
                                            ("Toulouse", "310##"), ("Lille", "590##")), _FR_MOBILE),
        # Moselle keeps two extra public holidays (Good Friday, 26 December).
        Region("57", "Europe/Paris", 0.05, (("Metz", "570##"),), _FR_MOBILE),
    ), (0.60, 0.18, 0.14, 0.08), (0.55, 0.35, 0.05, 0.0, 0.05), (0.20, 0.80), ("SARL", "SAS"), 0.92),
    Country("DE", "EUR", 0.11, (("de-DE", 1.0),), (
        Region("BY", "Europe/Berlin", 0.20, (("München", "803##"), ("Nürnberg", "904##")), _DE_MOBILE),
        Region("BE", "Europe/Berlin", 0.12, (("Berlin", "101##"),), _DE_MOBILE),
        Region("NW", "Europe/Berlin", 0.25, (("Köln", "506##"), ("Düsseldorf", "402##")), _DE_MOBILE),
        Region("HH", "Europe/Berlin", 0.08, (("Hamburg", "203##"),), _DE_MOBILE),
        Region("BW", "Europe/Berlin", 0.15, (("Stuttgart", "701##"),), _DE_MOBILE),
        Region("HE", "Europe/Berlin", 0.10, (("Frankfurt am Main", "603##"),), _DE_MOBILE),
        Region("SN", "Europe/Berlin", 0.05, (("Dresden", "010##"),), _DE_MOBILE),
        Region("NI", "Europe/Berlin", 0.05, (("Hannover", "301##"),), _DE_MOBILE),
    ), (0.66, 0.08, 0.20, 0.06), (0.75, 0.18, 0.0, 0.0, 0.07), (0.20, 0.80), ("GmbH", "KG"), 0.92),
    Country("ES", "EUR", 0.07, (("es-ES", 1.0),), (
        Region("MD", "Europe/Madrid", 0.30, (("Madrid", "280##"),), _ES_MOBILE),
        Region("CT", "Europe/Madrid", 0.25, (("Barcelona", "080##"),), _ES_MOBILE),
        Region("AN", "Europe/Madrid", 0.20, (("Sevilla", "410##"), ("Málaga", "290##")), _ES_MOBILE),
        Region("VC", "Europe/Madrid", 0.12, (("Valencia", "460##"),), _ES_MOBILE),
        Region("CN", "Atlantic/Canary", 0.08, (("Las Palmas de Gran Canaria", "350##"),
                                               ("Santa Cruz de Tenerife", "380##")), _ES_MOBILE),
        Region("PV", "Europe/Madrid", 0.05, (("Bilbao", "480##"),), _ES_MOBILE),
    ), (0.55, 0.28, 0.07, 0.10), (0.55, 0.35, 0.0, 0.0, 0.10), (0.20, 0.80), ("S.L.",), 0.92),
    Country("MX", "MXN", 0.07, (("es-MX", 1.0),), (
        Region(None, "America/Mexico_City", 0.55, (("Ciudad de México", "06###"), ("Guadalajara", "44###")),
               (_block("+5255", 8), _block("+5233", 8))),
        Region(None, "America/Monterrey", 0.20, (("Monterrey", "64###"),), (_block("+5281", 8),)),
        Region(None, "America/Tijuana", 0.15, (("Tijuana", "22###"),), (_block("+52664", 7),)),
        Region(None, "America/Cancun", 0.10, (("Cancún", "77###"),), (_block("+52998", 7),)),
    ), (0.45, 0.35, 0.05, 0.15), (0.45, 0.25, 0.0, 0.20, 0.10), (0.90, 0.10), ("S.A. de C.V.",), 18.0),
    Country("AU", "AUD", 0.08, (("en-AU", 1.0),), (
        Region("NSW", "Australia/Sydney", 0.32, (("Sydney", "20##"),), _AU_FICTION),
        Region("VIC", "Australia/Melbourne", 0.26, (("Melbourne", "30##"),), _AU_FICTION),
        Region("QLD", "Australia/Brisbane", 0.20, (("Brisbane", "40##"),), _AU_FICTION),
        Region("WA", "Australia/Perth", 0.10, (("Perth", "60##"),), _AU_FICTION),
        Region("SA", "Australia/Adelaide", 0.07, (("Adelaide", "50##"),), _AU_FICTION),
        Region("ACT", "Australia/Sydney", 0.05, (("Canberra", "26##"),), _AU_FICTION),
    ), (0.62, 0.20, 0.08, 0.10), (0.45, 0.45, 0.0, 0.0, 0.10), (0.50, 0.50), ("Pty Ltd",), 1.5),
    Country("JP", "JPY", 0.06, (("ja-JP", 1.0),), (
        Region(None, "Asia/Tokyo", 1.0, (("東京", "1##-####"), ("大阪", "5##-####"), ("名古屋", "4##-####"),
                                         ("福岡", "8##-####"), ("札幌", "0##-####")), _JP_MOBILE),
    # Paperless (no letter weight): printing kanji letters needs a CJK font (render.letter_font), which
    # the bundled demo cannot assume, so the sample's Japanese accounts are billed electronically.
    ), (0.65, 0.10, 0.0, 0.25), (0.70, 0.20, 0.0, 0.05, 0.05), (0.60, 0.40), ("株式会社",), 150.0,
        month_end_terms=True),
)

COUNTRY_CODES: tuple[str, ...] = tuple(c.code for c in COUNTRIES)

# Display forms; e-mail local parts are derived by :func:`ascii_fold`.
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "Sarah",
           "Thomas", "Emily", "Daniel", "Olivia", "Liam", "Chloe", "Aidan", "Grace", "Noah"),
    "fr": ("Jean", "Marie", "Pierre", "Camille", "Louis", "Léa", "Hugo", "Chloé", "Nicolas", "Élodie",
           "Mathieu", "Inès", "François", "Zoé"),
    "de": ("Lukas", "Anna", "Jonas", "Lena", "Felix", "Sophie", "Maximilian", "Marie", "Paul", "Laura",
           "Jürgen", "Sabine", "Jörg", "Katrin"),
    "es": ("José", "María", "Carlos", "Lucía", "Javier", "Carmen", "Alejandro", "Sofía", "Miguel",
           "Valentina", "Diego", "Guadalupe", "Andrés", "Ana"),
    "ja": ("太郎", "花子", "翔太", "美咲", "健一", "陽菜", "大輔", "結衣", "拓也", "愛"),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
           "Anderson", "Moore", "Murphy", "Kelly", "O'Brien", "Walsh", "Campbell", "Clarke", "Nguyen"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
           "Moreau", "Lefèvre", "Girard", "Tremblay", "Gagnon"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Schäfer", "Koch", "Bauer", "Wolf"),
    "es": ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
           "Hernández", "Ramírez", "Torres", "Flores", "Núñez"),
    "ja": ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"),
}
# Romanised forms of the Japanese names, in the same order (for e-mail addresses).
ROMAJI: dict[str, str] = dict(zip(
    FIRST_NAMES["ja"] + LAST_NAMES["ja"],
    ("taro", "hanako", "shota", "misaki", "kenichi", "hina", "daisuke", "yui", "takuya", "ai",
     "sato", "suzuki", "takahashi", "tanaka", "ito", "watanabe", "yamamoto", "nakamura", "kobayashi", "kato"),
    strict=True))

STREETS: dict[str, tuple[str, ...]] = {
    "en": ("Main Street", "Oak Avenue", "Maple Drive", "High Street", "Church Road", "Park Lane",
           "Station Road", "Elm Street", "King Street", "Victoria Road"),
    "fr": ("rue de la République", "avenue Victor Hugo", "rue du Moulin", "boulevard Voltaire",
           "rue des Lilas", "place de la Gare", "rue Pasteur"),
    "de": ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schulstraße", "Lindenallee", "Bergstraße",
           "Am Markt"),
    "es": ("Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Paseo de la Reforma", "Calle Real",
           "Avenida Juárez", "Calle Hidalgo"),
    "ja": ("中央", "本町", "栄町", "緑町", "桜木町", "若葉"),
}
# How the second address line reads, per language ({n} is a number).
LINE2: dict[str, str] = {"en": "Apt {n}", "fr": "Appartement {n}", "de": "Whg. {n}", "es": "Piso {n}",
                         "ja": "{n}号室"}
# Languages writing the house number after the street name.
NUMBER_AFTER_STREET = frozenset({"de", "es"})


def language(locale: str) -> str:
    """The name/street list a BCP 47 locale uses (its language subtag)."""
    return locale.split("-", 1)[0]


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters of ``text`` for e-mail local parts ("Núñez" -> "nunez")."""
    if text in ROMAJI:
        return ROMAJI[text]
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())
