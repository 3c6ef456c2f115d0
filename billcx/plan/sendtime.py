"""Send hour: learned from when the customer pays, shrunk toward the segment, clamped to quiet hours.

For a message on a given local weekday ``w`` the hour is the argmax over 0-23 of

    n_customer(w, h) + n_customer(any day, h) + customer_prior * p_segment(w, h)

where ``n_customer`` counts the customer's succeeded payments at that local weekday (or any day) and
hour over the last ``history_days`` -- weekday evidence counts twice, the customer's habit on any day
once -- and ``p_segment`` is the treatment segment's share of payments in that slot, itself shrunk
toward ``default_hour`` with weight ``segment_prior``:

    p_segment(w, h) = (m_segment(w, h) + segment_prior * [h == default_hour]) / (m_segment(w) + segment_prior)

So a customer needs a few payments at an hour before their own habit beats the segment's.  Ties
(within a millionth) go to the hour closest to ``default_hour``, then the earlier one.  With no
history at all the hour is ``default_hour``.  The one-hour slot is then clamped into the customer's
quiet-hours window (``moved:quiet-hours``) and the minute spread by a stable hash of the customer id.
"""

from __future__ import annotations

import polars as pl

from billcx.hashing import stable_hash_series
from billcx.plan.policy import Policy, parse_hhmm
from billcx.plan.reasons import concat_reasons

_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def payment_histograms(
    slots: pl.DataFrame, *, planned: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Weekday x hour counts of succeeded payments per customer and per treatment segment.

    Args:
        slots: one row per succeeded payment in the history window: ``customer_id`` (the plan's
            integer code), ``treatment`` and ``slot`` (local ``weekday * 24 + hour``, Monday 0), as
            :func:`billcx.plan.inputs.payment_history` gives them.
        planned: ``customer_id`` of the customers whose own counts are needed (those with messages);
            None for every customer.  The segment counts always use every row.

    Returns:
        ``(customer: customer_id, wd, hour, n)`` and ``(segment: treatment, wd, hour, m)``; ``wd`` is
        0 for Monday.
    """
    # A segment has 168 slots: a cheap group-by over every row, with no per-customer table first.
    seg = (
        slots.group_by("treatment", "slot")
        .agg(m=pl.len().cast(pl.Int64))
        .select(
            pl.col("treatment").cast(pl.String),
            wd=(pl.col("slot") // 24).cast(pl.Int64),
            hour=(pl.col("slot") % 24).cast(pl.Int64),
            m="m",
        )
    )
    if planned is not None:
        codes = planned.select(pl.col("customer_id").cast(slots.schema["customer_id"]))
        slots = slots.join(codes, on="customer_id", how="semi")
    # One integer key per customer, weekday and hour: a single-key group-by.
    cust = (
        slots.group_by(_slot=pl.col("customer_id").cast(pl.Int64) * 168 + pl.col("slot").cast(pl.Int64))
        .agg(n=pl.len().cast(pl.Int64))
        .select(
            customer_id=pl.col("_slot") // 168,
            wd=(pl.col("_slot") % 168) // 24,
            hour=pl.col("_slot") % 24,
            n="n",
        )
    )
    return cust, seg


def _segment_scores(seg: pl.DataFrame, treatments: list[str], policy: Policy) -> pl.DataFrame:
    h0, s0 = policy.send.default_hour, policy.send.segment_prior
    grid = (
        pl.DataFrame({"treatment": sorted(set(treatments))}, schema={"treatment": pl.String})
        .join(pl.DataFrame({"wd": list(range(7))}, schema={"wd": pl.Int64}), how="cross")
        .join(pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int64}), how="cross")
        .join(seg, on=["treatment", "wd", "hour"], how="left")
        .with_columns(pl.col("m").fill_null(0))
    )
    return grid.with_columns(
        p=(pl.col("m") + s0 * (pl.col("hour") == h0).cast(pl.Float64))
        / (pl.col("m").sum().over("treatment", "wd") + s0)
    )


def _best(frame: pl.DataFrame, keys: list[str], score: str, default_hour: int) -> pl.DataFrame:
    """The row with the highest score per group; ties (within a millionth) go to the hour closest to
    ``default_hour``, then the earlier hour."""
    tie = (pl.col("hour") - default_hour).abs() * 24 + pl.col("hour")  # 0 .. 575, smaller wins
    key = (pl.col(score) * 1_000_000).round().cast(pl.Int64) * 1024 - tie
    out = frame.with_columns(_key=key)
    return out.filter(pl.col("_key") == pl.col("_key").max().over(keys)).drop("_key")


def preferred_hours(
    need: pl.DataFrame, cust: pl.DataFrame, seg: pl.DataFrame, policy: Policy
) -> pl.DataFrame:
    """The preferred local hour for each ``(customer_id, treatment, wd)`` in ``need``.

    Returns:
        ``customer_id, wd, hour, n, n_wd, n_hist, source``: ``n`` / ``n_wd`` count the customer's
        payments at that hour on any day / on that weekday, ``n_hist`` all their payments; source is
        ``customer``, ``segment`` or ``default``.
    """
    h0, k = policy.send.default_hour, policy.send.customer_prior
    if need.is_empty():
        return pl.DataFrame(
            schema={
                "customer_id": need.schema["customer_id"],
                "wd": pl.Int64,
                "hour": pl.Int64,
                "n": pl.Int64,
                "n_wd": pl.Int64,
                "n_hist": pl.Int64,
                "source": pl.String,
            }
        )
    treatments = sorted(set(need["treatment"].to_list()))
    code = {t: i for i, t in enumerate(treatments)}
    scores = _segment_scores(seg, treatments, policy).with_columns(
        _t=pl.col("treatment").replace_strict(code, return_dtype=pl.Int64)
    )
    seg_best = _best(
        scores.with_columns(m_wd=pl.col("m").sum().over("treatment", "wd")), ["treatment", "wd"], "p", h0
    ).select("_t", "wd", "hour", "m_wd", score=pl.col("p") * k)
    need = need.select(
        "customer_id", "wd", _t=pl.col("treatment").replace_strict(code, return_dtype=pl.Int64)
    )
    base = need.join(seg_best, on=["_t", "wd"], how="left").with_columns(
        n=pl.lit(0, dtype=pl.Int64), n_wd=pl.lit(0, dtype=pl.Int64)
    )
    # Single integer keys: customer*24+hour, customer*168+wd*24+hour, segment*168+wd*24+hour.
    cust = cust.join(need.select("customer_id").unique(), on="customer_id", how="semi").with_columns(
        _slot=pl.col("customer_id") * 168 + pl.col("wd") * 24 + pl.col("hour")
    )
    habit = cust.group_by(_ch=pl.col("customer_id") * 24 + pl.col("hour")).agg(n=pl.col("n").sum())
    habit = habit.select(customer_id=pl.col("_ch") // 24, hour=pl.col("_ch") % 24, n="n")
    # An hour scores at most 2n + k (its weekday count is at most n, p at most 1) and the best hour at
    # least the largest n: hours that cannot win are dropped before the join (exact, not a heuristic).
    habit = habit.filter(2 * pl.col("n") + k >= pl.col("n").max().over("customer_id"))
    seg_p = scores.select(_sslot=pl.col("_t") * 168 + pl.col("wd") * 24 + pl.col("hour"), p="p")
    own = (
        need.join(habit, on="customer_id", how="inner")
        .with_columns(
            _slot=pl.col("customer_id") * 168 + pl.col("wd") * 24 + pl.col("hour"),
            _sslot=pl.col("_t") * 168 + pl.col("wd") * 24 + pl.col("hour"),
        )
        .join(cust.select("_slot", n_wd="n"), on="_slot", how="left")
        .join(seg_p, on="_sslot", how="left")
        .with_columns(
            pl.col("n_wd").fill_null(0),
            m_wd=pl.lit(1, dtype=pl.Int64),
        )
        .with_columns(score=pl.col("n_wd") + pl.col("n") + k * pl.col("p"))
    )
    cols = ["customer_id", "wd", "hour", "score", "n", "n_wd", "m_wd"]
    best = _best(
        pl.concat([base.select(cols), own.select(cols)], how="vertical_relaxed").with_columns(
            _cw=pl.col("customer_id") * 7 + pl.col("wd")
        ),
        ["_cw"],
        "score",
        h0,
    ).drop("_cw")
    history = cust.group_by("customer_id").agg(n_hist=pl.col("n").sum())
    return best.join(history, on="customer_id", how="left").select(
        "customer_id",
        "wd",
        "hour",
        "n",
        "n_wd",
        pl.col("n_hist").fill_null(0),
        source=pl.when(pl.col("n") > 0)
        .then(pl.lit("customer"))
        .when(pl.col("m_wd") > 0)
        .then(pl.lit("segment"))
        .otherwise(pl.lit("default")),
    )


def quiet_window(policy: Policy) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Expressions (start minute, end minute, preset name) of the quiet-hours window per ``country``."""
    qh = policy.quiet_hours
    names = {c.upper(): p for c, p in qh.by_country.items()}
    preset = (
        pl.col("country")
        .fill_null("")
        .str.to_uppercase()
        .replace_strict(names, default=qh.default, return_dtype=pl.String)
    )
    known = sorted(qh.known())
    starts = {n: parse_hhmm(qh.window(n)[0]) for n in known}
    ends = {n: parse_hhmm(qh.window(n)[1]) for n in known}
    return (
        preset.replace_strict(starts, return_dtype=pl.Int64),
        preset.replace_strict(ends, return_dtype=pl.Int64),
        preset,
    )


def send_minutes(
    msgs: pl.DataFrame, cust: pl.DataFrame, seg: pl.DataFrame, policy: Policy, *, id_col: str = "customer_id"
) -> pl.DataFrame:
    """Local minute of day for each message, with reasons.

    Args:
        msgs: messages with ``msg_id, customer_id, treatment, country, date, family``.
        cust: customer histogram from :func:`payment_histograms`.
        seg: segment histogram.
        policy: the policy.
        id_col: column holding the customer's text id (hashed to spread the minute).

    Returns:
        ``msg_id, minute, time_reasons`` (list of reason strings).
    """
    msgs = msgs.with_columns(wd=pl.col("date").dt.weekday().cast(pl.Int64) - 1)
    need = msgs.filter(pl.col("family") != "task").select("customer_id", "treatment", "wd").unique()
    pref = preferred_hours(need, cust, seg, policy)
    start, end, preset = quiet_window(policy)
    spread = policy.send.spread_minutes
    if spread:
        people = msgs.select("customer_id", _id=pl.col(id_col)).unique("customer_id")
        people = people.with_columns(
            _jit=(stable_hash_series(people["_id"], salt="billcx-send-minute") % spread).cast(pl.Int64)
        ).drop("_id")
        msgs = msgs.join(people, on="customer_id", how="left", maintain_order="left")
    else:
        msgs = msgs.with_columns(_jit=pl.lit(0, dtype=pl.Int64))
    out = msgs.join(pref, on=["customer_id", "wd"], how="left", maintain_order="left")
    out = out.with_columns(_s=start, _e=end, _preset=preset)
    slot = pl.min_horizontal(pl.max_horizontal(pl.col("hour") * 60, pl.col("_s")), pl.col("_e") - 60)
    out = out.with_columns(_slot=slot).with_columns(
        minute=pl.when(pl.col("family") == "task")
        .then(pl.lit(policy.send.task_hour * 60, dtype=pl.Int64))
        .otherwise(pl.col("_slot") + pl.col("_jit"))
    )
    hhmm = _hhmm(pl.col("minute"))
    window = pl.format("{}-{}", _hhmm(pl.col("_s")), _hhmm(pl.col("_e")))
    day = pl.col("wd").replace_strict(dict(enumerate(_DAYS)), return_dtype=pl.String)
    thin = (
        pl.when(pl.col("n_hist") == 0)
        .then(pl.lit("no payment history"))
        .otherwise(pl.format("{} payment(s) on record, too few to learn from", pl.col("n_hist")))
    )
    by_customer = pl.format(
        "sendtime:customer: {} of the customer's payments were made around {}:00 ({} of them on {})",
        pl.col("n"),
        pl.col("hour"),
        pl.col("n_wd"),
        day,
    )
    by_segment = pl.format(
        "sendtime:segment: {}; hour {}:00 from the {} segment's payments on {}",
        thin,
        pl.col("hour"),
        pl.col("treatment"),
        day,
    )
    by_default = pl.format(
        "sendtime:default: {} and none in the customer's segment on {}; default hour {}:00",
        thin,
        day,
        pl.col("hour"),
    )
    quiet = pl.format(
        "moved:quiet-hours: preferred {}:00 is outside {} quiet-hours window {} ({}); sent at {}",
        pl.col("hour"),
        pl.col("_preset"),
        window,
        pl.col("timezone"),
        hhmm,
    )
    # Each text is formatted only on the rows it applies to (tasks get none).
    message = pl.col("family") != "task"
    is_customer = (pl.col("source") == "customer").fill_null(False)
    is_segment = (pl.col("source") == "segment").fill_null(False)
    reasons = concat_reasons(
        out,
        [
            (message & is_customer, by_customer),
            (message & is_segment, by_segment),
            (message & ~is_customer & ~is_segment, by_default),
            (message & (pl.col("_slot") != pl.col("hour") * 60), quiet),
        ],
        name="time_reasons",
    )
    return out.select("msg_id", "minute").with_columns(reasons)


def _hhmm(minutes: pl.Expr) -> pl.Expr:
    return pl.format(
        "{}:{}", (minutes // 60).cast(pl.String).str.zfill(2), (minutes % 60).cast(pl.String).str.zfill(2)
    )
