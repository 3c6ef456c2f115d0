"""The reminder policy: ladders of steps, how a ladder is chosen, and the rules of timing.

A policy is a frozen tree of dataclasses built from TOML with :func:`billcx.config.from_mapping`
(unknown keys and badly typed values are errors naming the key path).  Semantic checks that need
the whole policy (a rule naming a ladder that does not exist, a quiet-hours window that ends before
it starts ...) live in :mod:`billcx.plan.lint`; :func:`billcx.plan.plan` refuses a policy with lint
errors.

The built-in default policy ships as ``default_policy.toml`` next to this module;
``billcx policy init`` writes that file, comments included, for editing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from billcx.config import from_mapping, read_toml
from billcx.errors import ConfigError

MessageKind = Literal[
    "pre_due",
    "due",
    "overdue",
    "final_notice",
    "payment_plan_offer",
    "extension_offer",
    "failed_payment",
    "thank_you",
    "feedback",
]
ChannelName = Literal["email", "sms", "letter", "push"]
Tone = Literal["friendly", "neutral", "firm"]
Unit = Literal["days", "business_days"]
Anchor = Literal["due", "issue", "previous"]
Treatment = Literal[
    "reliable", "valued_slipping", "chronic_late", "new", "dormant", "credit_or_no_balance", "standard"
]
Tier = Literal["high", "medium", "low"]

# When several steps fall on one customer's day they merge; the strongest sets kind, tone and
# template.  Fixed here (not configurable) so "strongest" means the same in every policy.
KIND_STRENGTH: dict[str, int] = {
    "feedback": 0,
    "thank_you": 1,
    "pre_due": 2,
    "due": 3,
    "extension_offer": 4,
    "payment_plan_offer": 5,
    "overdue": 6,
    "failed_payment": 7,
    "final_notice": 8,
}
# Courtesy messages never merge into (or out of) collection messages: a thank-you must not carry
# another invoice's overdue notice.
COURTESY_KINDS = frozenset({"thank_you", "feedback"})

# Quiet-hours presets: [start, end) in the customer's local time.
QUIET_PRESETS: dict[str, tuple[str, str]] = {
    "us_tcpa": ("08:00", "21:00"),  # US TCPA calling / texting hours
    "strict": ("09:00", "20:00"),  # conservative reading of Reg F "convenient time"
    "business": ("09:00", "18:00"),  # office hours
    "none": ("00:00", "24:00"),  # no restriction
}


@dataclass(frozen=True)
class LateFee:
    """A fee announced with a step: fixed per currency, or a percentage of the balance with a cap.

    Attributes:
        fixed: minor units per currency (a currency missing here gets no fixed fee).
        percent: percentage of the invoice's remaining balance (1.5 = 1.5 %), rounded half-even.
        cap: maximum fee per currency, minor units (a currency missing here is uncapped).
    """

    fixed: dict[str, int] = field(default_factory=dict)
    percent: float = 0.0
    cap: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Offer:
    """An offer attached to a step: a payment plan in instalments, or an extension of the due date.

    Attributes:
        type: ``payment_plan`` or ``extension``.
        instalments: number of instalments of a payment plan (at least 2).
        interval_days: days between instalments.
        first_due_days: days from the send date to the first instalment.
        extension_days: days granted by an extension, counted from the send date.
        min_instalment: smallest instalment per currency (minor units); fewer instalments are offered
            when the balance is too small, none when it cannot be split in two.
    """

    type: Literal["payment_plan", "extension"]
    instalments: int = 3
    interval_days: int = 30
    first_due_days: int = 7
    extension_days: int = 14
    min_instalment: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One step of a ladder.

    Attributes:
        name: unique within the ladder; written to the schedule's ``step`` column.
        kind: message kind (decides strength when steps merge).
        offset: days (or business days) after the anchor; negative means before.
        unit: ``days`` or ``business_days`` (the customer's country and region calendar).
        anchor: ``due`` date, ``issue`` date, or the ``previous`` step's planned date.
        channels: channel preference list, first usable one wins.
        tone: ``friendly``, ``neutral`` or ``firm``.
        template: template id for render; empty means the kind's name (``handover`` for a
            hand-over task).
        late_fee: optional fee announced with this step.
        offer: optional payment-plan or extension offer.
        handover: hand the invoices over to a person: a ``task`` row instead of a message.
    """

    name: str
    kind: MessageKind
    offset: int = 0
    unit: Unit = "days"
    anchor: Anchor = "due"
    channels: tuple[ChannelName, ...] = ("email",)
    tone: Tone = "neutral"
    template: str = ""
    late_fee: LateFee | None = None
    offer: Offer | None = None
    handover: bool = False


@dataclass(frozen=True)
class Ladder:
    """An ordered list of steps with its experiment share and minimum balances.

    Attributes:
        steps: the steps, in order (``anchor = "previous"`` refers to the step before).
        holdout_share: share of customers (0 to <1) placed in the holdout arm for this ladder.
        min_balance: per-currency minimum open balance (minor units) below which nothing is sent;
            overrides the policy-wide ``min_balance`` for the currencies it names.
        description: words for people reading the policy.
    """

    steps: tuple[Step, ...] = ()
    holdout_share: float = 0.0
    min_balance: dict[str, int] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Rule:
    """Chooses a ladder for an invoice; rules are tried in order and the first match wins.

    Empty lists and unset bounds match anything.  ``autopay`` matches invoices charged
    automatically (the invoice's method is direct debit, or it has none and the customer has autopay).
    ``late_probability`` is the invoice's own score when segment wrote ``invoice_risk``, else the
    customer's.
    """

    ladder: str
    treatments: tuple[Treatment, ...] = ()
    risk_tiers: tuple[Tier, ...] = ()
    value_tiers: tuple[Tier, ...] = ()
    autopay: bool | None = None
    min_late_probability: float | None = None
    max_late_probability: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Trigger:
    """A message caused by an event rather than a due date.

    Attributes:
        name: written to the schedule as both ladder and step.
        kind: message kind (``thank_you``, ``failed_payment``, ``feedback`` ...).
        on: ``payment`` (a succeeded payment) or ``failed_payment`` (a failed charge not followed by a
            succeeded payment of the same invoice up to the as-of date).
        delay_days: days after the event's local date.
        channels: channel preference list.
        tone: tone of the message.
        template: template id; empty means the kind's name.
        holdout_share: share of customers in the holdout arm for this trigger.
        treatments: only customers of these treatment segments (empty: all).
    """

    name: str
    kind: MessageKind
    on: Literal["payment", "failed_payment"]
    delay_days: int = 1
    channels: tuple[ChannelName, ...] = ("email",)
    tone: Tone = "friendly"
    template: str = ""
    holdout_share: float = 0.0
    treatments: tuple[Treatment, ...] = ()


@dataclass(frozen=True)
class QuietWindow:
    """A user-defined quiet-hours preset: sending is allowed in [start, end) local time."""

    start: str = "09:00"
    end: str = "20:00"


@dataclass(frozen=True)
class QuietHours:
    """Which quiet-hours preset applies to a customer.

    Attributes:
        default: preset for customers whose country has no entry in ``by_country``.
        by_country: ISO country code -> preset name.
        presets: extra presets (name -> window) besides the built-in ones.
    """

    default: str = "strict"
    by_country: dict[str, str] = field(default_factory=dict)
    presets: dict[str, QuietWindow] = field(default_factory=dict)

    def window(self, name: str) -> tuple[str, str]:
        """The [start, end) window of preset ``name`` (user presets shadow built-in ones)."""
        if name in self.presets:
            return self.presets[name].start, self.presets[name].end
        return QUIET_PRESETS[name]

    def known(self) -> set[str]:
        """All preset names this policy can refer to."""
        return set(QUIET_PRESETS) | set(self.presets)


@dataclass(frozen=True)
class SendTime:
    """How a send day and hour are chosen in the customer's time zone.

    Attributes:
        default_hour: hour used when neither the customer nor the segment has payment history.
        customer_prior: weight (in pseudo-payments) of the segment pattern against the customer's
            own weekday x hour counts; larger means thin histories follow the segment more.
        segment_prior: weight of ``default_hour`` against the segment's counts.
        history_days: payments older than this before the as-of date are ignored.
        spread_minutes: sends are spread over this many minutes after the hour (stable per customer)
            so a gateway does not receive everything at hh:00; 0 sends on the hour.
        task_hour: local hour of hand-over tasks.
        weekends: move sends off the customer's weekend days.
        holidays: move sends off public holidays of the customer's country and region.
        default_timezone: zone for customers without a valid one (and no country default).
        country_timezones: ISO country -> zone used when a customer's zone is missing.
        dst_gap: a local time that does not exist (spring forward): ``shift`` keeps the wall-clock
            distance (02:30 becomes 03:30), ``transition`` sends at the first valid instant (03:00).
        dst_fold: a local time that occurs twice (fall back): ``earliest`` or ``latest`` occurrence.
    """

    default_hour: int = 10
    customer_prior: float = 4.0
    segment_prior: float = 10.0
    history_days: int = 365
    spread_minutes: int = 60
    task_hour: int = 9
    weekends: bool = True
    holidays: bool = True
    default_timezone: str = "UTC"
    country_timezones: dict[str, str] = field(default_factory=dict)
    dst_gap: Literal["shift", "transition"] = "shift"
    dst_fold: Literal["earliest", "latest"] = "earliest"


@dataclass(frozen=True)
class Caps:
    """Frequency cap per customer (and arm) over a rolling window of local days.

    Attributes:
        max_messages: at most this many messages ...
        window_days: ... in any window of this many consecutive local days (and never two a day).
        on_excess: ``defer`` to the next day the cap allows, or ``skip`` the message.
        max_defer_days: a message deferred further than this is skipped instead.
    """

    max_messages: int = 2
    window_days: int = 7
    on_excess: Literal["defer", "skip"] = "defer"
    max_defer_days: int = 7


@dataclass(frozen=True)
class CatchUp:
    """Missed steps (needs a sent log): the latest missed step of an invoice is sent once, late.

    Attributes:
        enabled: plan missed steps at all.
        max_late_days: a step missed by more than this many days is not sent.
    """

    enabled: bool = True
    max_late_days: int = 14


@dataclass(frozen=True)
class ChannelRules:
    """Contactability rules beyond consent flags.

    Attributes:
        bounce_limit: this many bounces (up to the as-of date) make an email or SMS address invalid.
    """

    bounce_limit: int = 2


@dataclass(frozen=True)
class Experiment:
    """Holdout assignment: a stable hash of customer id, ladder and ``salt`` decides the arm."""

    salt: str = "billcx-holdout-v1"


@dataclass(frozen=True)
class Policy:
    """A complete reminder policy.

    Attributes:
        version: policy format version (1).
        stale_after_days: refuse to plan when the latest payment is more than this many days older
            than the latest invoice (unless forced).
        min_balance: per-currency minimum open balance (minor units) for any ladder.
        send: send-time rules.
        quiet_hours: quiet-hours presets per country.
        caps: frequency cap.
        catch_up: catch-up of missed steps.
        channels: contactability rules.
        experiment: holdout assignment.
        rules: ladder selection, first match wins.
        ladders: ladders by name.
        triggers: event messages (thank-you, failed payment ...).
    """

    version: int = 1
    stale_after_days: int = 3
    min_balance: dict[str, int] = field(default_factory=dict)
    send: SendTime = field(default_factory=SendTime)
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    caps: Caps = field(default_factory=Caps)
    catch_up: CatchUp = field(default_factory=CatchUp)
    channels: ChannelRules = field(default_factory=ChannelRules)
    experiment: Experiment = field(default_factory=Experiment)
    rules: tuple[Rule, ...] = ()
    ladders: dict[str, Ladder] = field(default_factory=dict)
    triggers: tuple[Trigger, ...] = ()


DEFAULT_POLICY_FILE = "default_policy.toml"


def default_policy_text() -> str:
    """The built-in default policy as commented TOML (what ``billcx policy init`` writes)."""
    return resources.files("billcx.plan").joinpath(DEFAULT_POLICY_FILE).read_text(encoding="utf-8")


def policy_from_mapping(data: dict[str, object], *, source: str = "policy") -> Policy:
    """Build a :class:`Policy` from parsed TOML.

    Args:
        data: the parsed TOML document.
        source: file name (or description) prefixed to error messages.

    Raises:
        ConfigError: unknown key (with a suggestion), missing or badly typed value; the message
            names ``source`` and the key path.
    """
    try:
        return from_mapping(Policy, data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}", hint=exc.hint) from None


def load_policy(path: str | Path) -> Policy:
    """Read a policy TOML file (structure and types only; see :func:`billcx.plan.lint_policy`).

    Args:
        path: the TOML file.

    Returns:
        The policy.

    Raises:
        ConfigError: the file is missing, is not valid TOML, or has unknown keys or bad values;
            the message names the file and the key path.
    """
    return policy_from_mapping(read_toml(path), source=str(path))


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The built-in default policy (parsed once)."""
    import tomllib

    return policy_from_mapping(tomllib.loads(default_policy_text()), source=DEFAULT_POLICY_FILE)


def parse_hhmm(text: str) -> int:
    """Minutes after midnight of ``HH:MM`` (``24:00`` allowed as an end); raises ValueError."""
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"expected HH:MM, found {text!r}")
    hours, minutes = int(parts[0]), int(parts[1])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"expected a time between 00:00 and 24:00, found {text!r}")
    return hours * 60 + minutes
