"""The resale model: how likely a destination is to sell one more unit of a SKU, and when.

Each destination's daily demand for a SKU is estimated down the product hierarchy
category → style → style in a size → SKU, each level shrunk towards the network by empirical
Bayes, so a store with a few days of history or a single sale is judged on what its category
and its neighbourhood's taste predict rather than on noise, while a steady seller keeps its
own record:

* **volume**: the category's daily rate at the destination, with a Gamma prior around the
  median destination's rate (``β`` days of evidence);
* **style**: the destination's share of the style within the category, with a Dirichlet prior
  around the network's share (``κ`` units of evidence);
* **size** and **colour**: the destination's size and colour mixes within the category
  (Dirichlet-shrunk likewise), tilted by the style's national size mix and the style-in-size's
  national colour mix (a style that runs small sells more large sizes everywhere);
* **SKU**: the destination's own sales of the SKU against what the product of the above
  expects, a Gamma(β, β) multiplier, for the local favourite the tastes miss.

Every weight maximises the marginal likelihood of all destinations' counts at its level
(negative binomial, Dirichlet-multinomial), capped so that the network never outweighs the
longest history or the biggest destination's own mix. Sales are recency-weighted (a
half-life) and each level counts every sale once. The uncertainty of the factors (Gamma and
Beta marginals) is carried into one Gamma posterior for the rate, by matching its mean and
coefficient of variation, so a sparse store gets a wide posterior.

Stock on the shelf competes for the same demand: the returned unit sells only after the ``k``
units already there (and on their way) have sold, so over a horizon of ``H`` days

    P(sold within H) = P(N(H) >= k + 1),   N(H) ~ NegBin(α, b / (b + τ·H)),

the Gamma–Poisson predictive with the posterior shape ``α`` and rate ``b`` (days), and ``τ`` the
category's trend (a log-linear fit to the network's recent daily sales, shrunk towards no trend
by its standard error and capped). The expected days to sale are ``(k + 1) / (τ·λ)``.

Censoring is not modelled: a day without a sale counts as a day without demand, even if the
shelf was empty. Dense arrays of destinations × SKUs are used, which suits a few million pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, stats
from scipy.special import gammaln

from returns.errors import InvalidReturnInput, MissingHistory, UnknownSku
from returns.model import Destination, ReturnedItem, SalesHistory, Variant

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import NDArray

__all__ = [
    "ResaleConfig",
    "ResaleEstimate",
    "ResaleModel",
    "calibrate",
    "fit_resale_model",
]

_SHARE_PSEUDO = 0.5
"""Pseudo-units added to every network share, so a style or size never sold still has one."""
_MIN_RATE = 1e-9
"""Floor of a prior mean (units per day): a Gamma shape must stay positive."""
_MIN_STRENGTH = 0.25
"""Least prior weight searched (days for rates, units for shares and the SKU multiplier)."""
_MAX_SKU_STRENGTH = 10_000.0
"""Most weight of the SKU multiplier's prior, units: beyond it, no SKU-level quirk at all."""


@dataclass(frozen=True, slots=True)
class ResaleConfig:
    """Settings of the resale model.

    Parameters
    ----------
    horizon_days
        Days ``H`` within which a sale counts (default 14).
    half_life_days
        Recency weighting: a sale this many days before the end of the history counts half
        as much as one on the last day. ``None`` weighs every day alike.
    trend_days
        Days at the end of the history from which each category's trend is fitted;
        ``None`` assumes no trend.
    max_trend
        Cap on the trend factor ``τ`` (and ``1 / max_trend`` its floor), so a short burst is
        not extrapolated into a boom.
    recent_days
        Window (days) of the sales quoted in explanations.
    prior_strength
        ``None``: the weight of the category-volume prior (days) and of the SKU multiplier's
        prior (units) by empirical Bayes. A number: that weight for both.
    share_strength
        ``None``: the weight (units) of the network's style, size and colour shares in a
        destination's own shares, by empirical Bayes. A number: that weight.
    """

    horizon_days: float = 14.0
    half_life_days: float | None = 28.0
    trend_days: int | None = 56
    max_trend: float = 1.5
    recent_days: int = 28
    prior_strength: float | None = None
    share_strength: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.horizon_days) and self.horizon_days > 0):
            raise InvalidReturnInput(
                "horizon_days", f"{self.horizon_days} — give a positive number of days"
            )
        if self.half_life_days is not None and not (
            math.isfinite(self.half_life_days) and self.half_life_days > 0
        ):
            raise InvalidReturnInput(
                "half_life_days", f"{self.half_life_days} — give positive days, or None"
            )
        if self.trend_days is not None and self.trend_days < 7:
            raise InvalidReturnInput(
                "trend_days", f"{self.trend_days} — a trend needs at least 7 days, or None"
            )
        if not (math.isfinite(self.max_trend) and self.max_trend >= 1):
            raise InvalidReturnInput("max_trend", f"{self.max_trend} — give a factor >= 1")
        if self.recent_days < 1:
            raise InvalidReturnInput("recent_days", f"{self.recent_days} — give 1 day or more")
        for name in ("prior_strength", "share_strength"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InvalidReturnInput(name, f"{value} — give a positive weight, or None")


@dataclass(frozen=True, slots=True)
class ResaleEstimate:
    """The model's view of one returned unit at one destination.

    Attributes
    ----------
    destination
        The destination's id.
    probability
        Probability that the unit sells within ``horizon_days`` of arriving (0-1).
    expected_days
        Expected days from arrival to sale (``inf`` when nothing of the kind ever sells).
    horizon_days
        The horizon of ``probability``, days.
    stock
        Units of the SKU ahead of the returned one.
    rate_per_day
        Estimated demand for the SKU, units per day (trend included); ``None`` for a
        clearance channel, which is not judged on sales.
    recent_style_size_sales
        Units of the item's style in its size sold there in the last ``recent_days`` days
        (``None`` for a clearance channel).
    recent_days
        The window of ``recent_style_size_sales``, days.
    """

    destination: str
    probability: float
    expected_days: float
    horizon_days: float
    stock: int
    rate_per_day: float | None
    recent_style_size_sales: int | None
    recent_days: int


# -- preparation: the history as arrays ---------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Arrays:
    """The history as integer-indexed arrays, shared by every fit on it."""

    history: SalesHistory
    dest_index: Mapping[str, int]
    sku_index: Mapping[str, int]
    variants: tuple[Variant, ...]
    length: int  # days in the period
    opened: NDArray[np.int64]  # first day index per destination
    sale_day: NDArray[np.int64]
    sale_dest: NDArray[np.int64]
    sale_sku: NDArray[np.int64]
    sale_units: NDArray[np.float64]
    cat_of_sku: NDArray[np.int64]
    style_of_sku: NDArray[np.int64]
    cat_of_style: NDArray[np.int64]
    size_of_sku: NDArray[np.int64]
    colour_of_sku: NDArray[np.int64]
    ss_of_sku: NDArray[np.int64]  # (style, size) pair index
    style_of_ss: NDArray[np.int64]
    size_of_ss: NDArray[np.int64]
    n_categories: int
    n_sizes: int
    n_colours: int


def _indexer(values: Sequence[str]) -> tuple[dict[str, int], NDArray[np.int64]]:
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64)
    return index, codes


def _prepare(history: SalesHistory) -> _Arrays:
    variants = history.catalogue
    sku_index = {v.sku: j for j, v in enumerate(variants)}
    dest_index = {d: i for i, d in enumerate(history.destinations)}
    cats, cat_of_sku = _indexer([v.category for v in variants])
    styles, style_of_sku = _indexer([f"{v.category}\x00{v.style}" for v in variants])
    sizes, size_of_sku = _indexer([v.size for v in variants])
    colours, colour_of_sku = _indexer([v.colour for v in variants])
    pairs, ss_of_sku = _indexer(
        [f"{s}\x00{z}" for s, z in zip(style_of_sku, size_of_sku, strict=True)]
    )
    cat_of_style = np.zeros(len(styles), dtype=np.int64)
    cat_of_style[style_of_sku] = cat_of_sku
    style_of_ss = np.zeros(len(pairs), dtype=np.int64)
    style_of_ss[ss_of_sku] = style_of_sku
    size_of_ss = np.zeros(len(pairs), dtype=np.int64)
    size_of_ss[ss_of_sku] = size_of_sku
    start = history.start.toordinal()
    sales = history.sales
    return _Arrays(
        history=history,
        dest_index=MappingProxyType(dest_index),
        sku_index=MappingProxyType(sku_index),
        variants=variants,
        length=history.end.toordinal() - start + 1,
        opened=np.array(
            [history.first_day(d).toordinal() - start for d in history.destinations],
            dtype=np.int64,
        ),
        sale_day=np.fromiter((s.day.toordinal() - start for s in sales), np.int64, len(sales)),
        sale_dest=np.fromiter((dest_index[s.destination] for s in sales), np.int64, len(sales)),
        sale_sku=np.fromiter((sku_index[s.sku] for s in sales), np.int64, len(sales)),
        sale_units=np.fromiter((s.units for s in sales), np.float64, len(sales)),
        cat_of_sku=cat_of_sku,
        style_of_sku=style_of_sku,
        cat_of_style=cat_of_style,
        size_of_sku=size_of_sku,
        colour_of_sku=colour_of_sku,
        ss_of_sku=ss_of_sku,
        style_of_ss=style_of_ss,
        size_of_ss=size_of_ss,
        n_categories=len(cats),
        n_sizes=len(sizes),
        n_colours=len(colours),
    )


# -- empirical Bayes ----------------------------------------------------------------------------


def _group(values: NDArray[np.float64], groups: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """Sum the columns of ``values`` (destinations × items) into ``n`` groups."""
    out = np.zeros((n, values.shape[0]))
    np.add.at(out, groups, values.T)
    return out.T


def _network_share(
    counts: NDArray[np.float64], parent: NDArray[np.int64], n_parents: int
) -> NDArray[np.float64]:
    """Each item's share of its parent over the whole network (``counts`` summed already).

    Half a unit is added to every item, so an item never sold still has a share.
    """
    smoothed = counts + _SHARE_PSEUDO
    return smoothed / np.bincount(parent, weights=smoothed, minlength=n_parents)[parent]


def _bounded_argmax(objective: Callable[[float], float], upper: float) -> float:
    """The weight in ``[_MIN_STRENGTH, upper]`` maximising ``objective`` (searched in logs)."""
    upper = max(upper, 2 * _MIN_STRENGTH)
    res = optimize.minimize_scalar(
        lambda v: -objective(math.exp(v)),
        bounds=(math.log(_MIN_STRENGTH), math.log(upper)),
        method="bounded",
    )
    return math.exp(float(res.x))


def _gamma_strength(
    counts: NDArray[np.float64], expected: NDArray[np.float64], upper: float
) -> float:
    """Weight ``β`` of a Gamma prior on a rate, by marginal likelihood.

    ``counts ~ Poisson(ρ · expected)`` with ``ρ ~ Gamma(β, β)`` (mean 1), so the counts are
    negative binomial; ``β`` is in units of counts (how many units of evidence the prior is
    worth).
    """
    keep = expected > 0
    x, e = counts[keep], expected[keep]
    if x.size == 0:
        return upper

    def log_likelihood(beta: float) -> float:
        ll = gammaln(x + beta) - gammaln(beta) + beta * np.log(beta / (beta + e))
        return float((ll + x * np.log(e / (beta + e))).sum())

    return _bounded_argmax(log_likelihood, upper)


def _dirichlet_shares(
    counts: NDArray[np.float64],
    base: NDArray[np.float64],
    row: NDArray[np.int64],
    n_rows: int,
    fixed: float | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Shares within each row, shrunk towards ``base`` by a Dirichlet prior.

    ``counts``, ``base`` and ``row`` are flat: one entry per (row, option); ``base`` sums to 1
    within a row. The concentration ``κ`` (units) maximises the Dirichlet-multinomial
    likelihood of all rows, at most the largest row's total (the network's mix never
    outweighs the biggest destination's own). Returns the shares, their squared coefficient
    of variation (Beta marginals) and ``κ``.
    """
    n = np.bincount(row, weights=counts, minlength=n_rows)
    if fixed is not None:
        kappa = fixed
    elif not (n > 0).any():
        kappa = 1.0
    else:
        used = n > 0

        def log_likelihood(k: float) -> float:
            rows = (gammaln(k) - gammaln(k + n[used])).sum()
            return float(rows + (gammaln(k * base + counts) - gammaln(k * base)).sum())

        kappa = _bounded_argmax(log_likelihood, float(n.max()))
    total = n[row] + kappa
    share = (counts + kappa * base) / total
    cv2 = (1.0 - share) / (share * (total + 1.0))
    return share, cv2, kappa


def _trend_slope(totals: NDArray[np.float64]) -> float:
    """Log-linear Poisson slope (per day) of daily totals, shrunk by its standard error."""
    if totals.sum() < 1:
        return 0.0
    t = np.arange(totals.size, dtype=np.float64)
    t -= t.mean()

    def negative_log_likelihood(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        mu = np.exp(theta[0] + theta[1] * t)
        grad = np.array([(mu - totals).sum(), ((mu - totals) * t).sum()])
        return float((mu - totals * (theta[0] + theta[1] * t)).sum()), grad

    start = np.array([math.log(max(totals.mean(), 1e-6)), 0.0])
    res = optimize.minimize(negative_log_likelihood, start, jac=True, method="BFGS")
    a, b = (float(v) for v in res.x)
    mu = np.exp(a + b * t)
    variance = 1.0 / float((mu * t * t).sum())
    # Positive-part James-Stein: a slope within its noise is no trend at all.
    return b * max(0.0, 1.0 - variance / (b * b)) if b != 0 else 0.0


# -- the fitted model ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class ResaleModel:
    """A fitted resale model; build it with :func:`fit_resale_model`.

    Attributes
    ----------
    config
        The settings it was fitted with.
    end
        Last day of the history it was fitted on.
    strengths
        The prior weights used, per level: ``category`` (days), ``style_share``,
        ``size_share``, ``colour_share`` and ``sku`` (units).
    """

    config: ResaleConfig
    end: date
    strengths: Mapping[str, float]
    _arrays: _Arrays = field(repr=False)
    _shape: NDArray[np.float64] = field(repr=False)  # destinations × SKUs, Gamma shape α
    _rate: NDArray[np.float64] = field(repr=False)  # destinations × SKUs, Gamma rate (days)
    _slope: NDArray[np.float64] = field(repr=False)  # categories, log trend per day
    _lag: float = field(repr=False)  # days from the weighted mean day to the day after `end`
    _recent: NDArray[np.float64] = field(repr=False)  # destinations × (style, size) pairs

    def check_item(self, item: ReturnedItem) -> int:
        """The item's SKU index; raises :class:`UnknownSku` naming the wrong field."""
        j = self._arrays.sku_index.get(item.sku)
        if j is None:
            raise UnknownSku(
                ("item", "sku"),
                f"{item.sku!r} is not in the sales history's catalogue — check the SKU, or add "
                "it to the catalogue (with its style, category, size and colour)",
            )
        variant = self._arrays.variants[j]
        for name in ("style", "category", "size", "colour"):
            if getattr(item, name) != getattr(variant, name):
                raise UnknownSku(
                    ("item", name),
                    f"{getattr(item, name)!r} disagrees with the catalogue, which has "
                    f"{getattr(variant, name)!r} for SKU {item.sku!r} — fix the item or the "
                    "catalogue",
                )
        return j

    def _trend(self, j: int, as_of: date | None, horizon: float) -> float:
        ahead = 0.0 if as_of is None else float((as_of - self.end).days - 1)
        slope = float(self._slope[self._arrays.cat_of_sku[j]])
        tau = math.exp(slope * (self._lag + ahead + horizon / 2.0))
        cap = self.config.max_trend
        return min(max(tau, 1.0 / cap), cap)

    def rate(self, destination: str, sku: str) -> float:
        """Posterior mean demand of ``sku`` at ``destination`` (units per day, no trend)."""
        i = self._arrays.dest_index.get(destination)
        j = self._arrays.sku_index.get(sku)
        if i is None or j is None:
            raise InvalidReturnInput(
                "destination" if i is None else "sku",
                f"{destination if i is None else sku!r} is not in the history",
            )
        return float(self._shape[i, j] / self._rate[i, j])

    def estimates(
        self,
        item: ReturnedItem,
        destinations: Sequence[Destination],
        *,
        as_of: date | None = None,
        horizon_days: float | None = None,
    ) -> tuple[ResaleEstimate, ...]:
        """The resale estimate of ``item`` at each destination, in the given order.

        Parameters
        ----------
        item
            The returned item; its SKU must be in the catalogue.
        destinations
            Candidates; each needs a sales history unless it has ``clearance_days``.
        as_of
            Day the item would arrive (default: the day after the history ends); moves the
            category trend forward.
        horizon_days
            Days within which a sale counts (default: the config's).

        Raises
        ------
        UnknownSku
            The item's SKU is not in the catalogue, or its hierarchy disagrees with it.
        MissingHistory
            A destination without ``clearance_days`` is not in the history.
        """
        horizon = self.config.horizon_days if horizon_days is None else horizon_days
        if not (math.isfinite(horizon) and horizon > 0):
            raise InvalidReturnInput("horizon_days", f"{horizon} — give positive days")
        j = self.check_item(item)
        tau = self._trend(j, as_of, horizon)
        rows: list[int] = []
        for k, dest in enumerate(destinations):
            i = self._arrays.dest_index.get(dest.id)
            if i is None and dest.clearance_days is None:
                raise MissingHistory(
                    ("destinations", k, "id"),
                    f"{dest.id!r} has no sales history — add its sales to the history (list "
                    "it among the destinations even if it sold nothing), or give "
                    "clearance_days for a channel that takes everything",
                )
            rows.append(-1 if i is None or dest.clearance_days is not None else int(i))
        judged = [k for k, i in enumerate(rows) if i >= 0]
        idx = np.array([rows[k] for k in judged], dtype=np.int64)
        stock = np.array([destinations[k].stock for k in judged], dtype=np.float64)
        shape = self._shape[idx, j]
        rate = self._rate[idx, j]
        probability = stats.nbinom.sf(stock, shape, rate / (rate + tau * horizon))
        lam = tau * shape / rate
        ss = self._arrays.ss_of_sku[j]
        out: list[ResaleEstimate] = []
        by_k = dict(zip(judged, range(len(judged)), strict=True))
        for k, dest in enumerate(destinations):
            if dest.clearance_days is not None:
                out.append(
                    ResaleEstimate(
                        destination=dest.id,
                        probability=1.0 if dest.clearance_days <= horizon else 0.0,
                        expected_days=float(dest.clearance_days),
                        horizon_days=horizon,
                        stock=dest.stock,
                        rate_per_day=None,
                        recent_style_size_sales=None,
                        recent_days=self.config.recent_days,
                    )
                )
                continue
            n = by_k[k]
            out.append(
                ResaleEstimate(
                    destination=dest.id,
                    probability=float(np.clip(probability[n], 0.0, 1.0)),
                    expected_days=(dest.stock + 1) / float(lam[n]) if lam[n] > 0 else math.inf,
                    horizon_days=horizon,
                    stock=dest.stock,
                    rate_per_day=float(lam[n]),
                    recent_style_size_sales=int(self._recent[rows[k], ss]),
                    recent_days=self.config.recent_days,
                )
            )
        return tuple(out)


def _fit(arrays: _Arrays, config: ResaleConfig, end: int) -> ResaleModel:
    """Fit on the days ``[0, end)`` of the prepared history."""
    days = np.arange(end, dtype=np.float64)
    if config.half_life_days is None:
        weight = np.ones(end)
    else:
        weight = 0.5 ** ((end - 1 - days) / config.half_life_days)
    in_window = arrays.sale_day < end
    d_idx, s_idx = arrays.sale_dest[in_window], arrays.sale_sku[in_window]
    units, day = arrays.sale_units[in_window], arrays.sale_day[in_window]
    n_dest, n_sku = len(arrays.dest_index), len(arrays.variants)
    n_cat, n_sty, n_ss = arrays.n_categories, arrays.cat_of_style.size, arrays.style_of_ss.size
    n_size, n_col = arrays.n_sizes, arrays.n_colours
    cat_of_sku, sty_of_sku, ss_of_sku = arrays.cat_of_sku, arrays.style_of_sku, arrays.ss_of_sku
    dest_col = np.arange(n_dest)[:, None]

    cumulative = np.concatenate([[0.0], np.cumsum(weight)])
    opened = np.minimum(arrays.opened, end)
    exposure = (cumulative[end] - cumulative[opened])[:, None]  # destinations × 1, days
    counts = np.zeros((n_dest, n_sku))
    np.add.at(counts, (d_idx, s_idx), units * weight[day])
    network = counts.sum(axis=0)

    # Volume: the category's daily rate at each destination, Gamma prior around the median
    # destination (robust to one online warehouse selling a hundred times a store).
    x_cat = _group(counts, cat_of_sku, n_cat)
    open_ = exposure[:, 0] > 0
    typical = np.median(x_cat[open_] / exposure[open_], axis=0) if open_.any() else np.zeros(n_cat)
    m_cat = np.maximum(typical, _MIN_RATE)[None, :]
    fixed = config.prior_strength
    if fixed is None:
        # As a Gamma(β·m, β) prior on the rate: β days of evidence at the prior mean.
        def log_likelihood(beta: float) -> float:
            r, e = beta * m_cat, np.broadcast_to(exposure, x_cat.shape)
            ll = gammaln(x_cat + r) - gammaln(r) + r * np.log(beta / (beta + e))
            return float((ll - x_cat * np.log(beta + e)).sum())

        beta_cat = _bounded_argmax(log_likelihood, float(exposure.max()))
    else:
        beta_cat = fixed
    shape_cat = beta_cat * m_cat + x_cat
    rate_cat = shape_cat / (beta_cat + exposure)
    cv2_cat = 1.0 / shape_cat

    # Style within category at each destination.
    x_sty = _group(counts, sty_of_sku, n_sty)
    base_sty = _network_share(x_sty.sum(axis=0), arrays.cat_of_style, n_cat)
    rows = (dest_col * n_cat + arrays.cat_of_style[None, :]).ravel()
    share, cv2, k_sty = _dirichlet_shares(
        x_sty.ravel(), np.tile(base_sty, n_dest), rows, n_dest * n_cat, config.share_strength
    )
    share_sty, cv2_sty = share.reshape(n_dest, n_sty), cv2.reshape(n_dest, n_sty)

    # Size within category at each destination, tilted by the style's own national size mix
    # (a style that runs small sells more large sizes everywhere).
    def taste(
        option_of_sku: NDArray[np.int64], n_opt: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        x = _group(counts, cat_of_sku * n_opt + option_of_sku, n_cat * n_opt)
        parent = np.repeat(np.arange(n_cat), n_opt)
        base = _network_share(x.sum(axis=0), parent, n_cat)
        rows = (dest_col * n_cat + parent[None, :]).ravel()
        share, cv2, kappa = _dirichlet_shares(
            x.ravel(), np.tile(base, n_dest), rows, n_dest * n_cat, config.share_strength
        )
        return share.reshape(n_dest, -1) / base, cv2.reshape(n_dest, -1), kappa

    lift_size, cv2_size, k_size = taste(arrays.size_of_sku, n_size)
    x_ss = _group(counts, ss_of_sku, n_ss)
    national_ss = _network_share(x_ss.sum(axis=0), arrays.style_of_ss, n_sty)
    cz = arrays.cat_of_style[arrays.style_of_ss] * n_size + arrays.size_of_ss
    size_w = national_ss[None, :] * lift_size[:, cz]
    share_ss = size_w / _group(size_w, arrays.style_of_ss, n_sty)[:, arrays.style_of_ss]

    # Colour within category at each destination, tilted by the style-size's national mix.
    lift_col, cv2_col, k_col = taste(arrays.colour_of_sku, n_col)
    national_sku = _network_share(network, ss_of_sku, n_ss)
    cc = cat_of_sku * n_col + arrays.colour_of_sku
    col_w = national_sku[None, :] * lift_col[:, cc]
    share_sku = col_w / _group(col_w, ss_of_sku, n_ss)[:, ss_of_sku]

    # The factorised rate, then each destination's own record of the SKU on top of it: a
    # Gamma(β, β) multiplier, so a local favourite the tastes miss still shows.
    mean = rate_cat[:, cat_of_sku] * share_sty[:, sty_of_sku] * share_ss[:, ss_of_sku] * share_sku
    expected = exposure * mean
    beta_sku = (
        _gamma_strength(counts.ravel(), expected.ravel(), _MAX_SKU_STRENGTH)
        if fixed is None
        else fixed
    )
    lam = mean * (beta_sku + counts) / (beta_sku + expected)
    cv2_total = (1.0 + cv2_cat[:, cat_of_sku]) * (1.0 + cv2_sty[:, sty_of_sku]) * (
        1.0 + cv2_size[:, cz[ss_of_sku]]
    ) * (1.0 + cv2_col[:, cc]) * (1.0 + 1.0 / (beta_sku + counts)) - 1.0
    shape = 1.0 / cv2_total
    rate = shape / np.maximum(lam, _MIN_RATE)  # Gamma rate, days

    # trend per category, from the network's daily totals
    slope = np.zeros(n_cat)
    lag = 0.0
    if config.trend_days is not None:
        first = max(0, end - config.trend_days)
        window = day >= first
        totals = np.zeros((n_cat, end - first))
        np.add.at(totals, (cat_of_sku[s_idx[window]], day[window] - first), units[window])
        slope = np.array([_trend_slope(row) for row in totals])
        # The posterior rate averages the past with these weights; the trend runs from there.
        lag = float(end - (weight * days).sum() / weight.sum())

    recent = np.zeros((n_dest, n_ss))
    last = day >= end - config.recent_days
    np.add.at(recent, (d_idx[last], ss_of_sku[s_idx[last]]), units[last])
    strengths = {
        "category": beta_cat,
        "style_share": k_sty,
        "size_share": k_size,
        "colour_share": k_col,
        "sku": beta_sku,
    }
    return ResaleModel(
        config=config,
        end=arrays.history.start + timedelta(days=end - 1),
        strengths=MappingProxyType(strengths),
        _arrays=arrays,
        _shape=shape,
        _rate=rate,
        _slope=slope,
        _lag=lag,
        _recent=recent,
    )


def fit_resale_model(history: SalesHistory, config: ResaleConfig | None = None) -> ResaleModel:
    """Fit the resale model on a sales history.

    Parameters
    ----------
    history
        Daily sales of every destination and the catalogue.
    config
        Settings (default :class:`ResaleConfig`).

    Returns
    -------
    ResaleModel
        Ready for :meth:`ResaleModel.estimates` and :func:`returns.decide`.
    """
    config = ResaleConfig() if config is None else config
    arrays = _prepare(history)
    return _fit(arrays, config, arrays.length)


def _holdout_log_likelihood(arrays: _Arrays, model: ResaleModel, start: int) -> float:
    """Log-likelihood of the SKU counts of days ``[start, length)`` under ``model``."""
    horizon = arrays.length - start
    held = arrays.sale_day >= start
    n_dest, n_sku = model._shape.shape
    counts = np.zeros((n_dest, n_sku))
    np.add.at(counts, (arrays.sale_dest[held], arrays.sale_sku[held]), arrays.sale_units[held])
    tau = np.exp(model._slope[arrays.cat_of_sku] * (model._lag + horizon / 2.0))
    tau = np.clip(tau, 1.0 / model.config.max_trend, model.config.max_trend)
    open_days = np.clip(arrays.length - np.maximum(arrays.opened, start), 0, None)
    rate = model._rate
    p = rate / (rate + tau[None, :] * open_days[:, None])
    ll = stats.nbinom.logpmf(counts, model._shape, p)
    return float(ll[open_days > 0].sum())


def calibrate(
    history: SalesHistory,
    config: ResaleConfig | None = None,
    *,
    half_lives: Sequence[float | None] = (14.0, 28.0, 56.0, 112.0, None),
    trends: Sequence[int | None] = (56, None),
) -> ResaleConfig:
    """Choose the recency half-life and the trend window by a back-test on the history.

    Fits on all but the last ``horizon_days`` of the history with each combination and keeps
    the one whose predictive distribution gives the held-out SKU counts the highest
    likelihood (a proper scoring rule, so it rewards calibrated probabilities).

    Parameters
    ----------
    history
        The sales history; it must be longer than twice the horizon.
    config
        Settings to start from (default :class:`ResaleConfig`); only ``half_life_days`` and
        ``trend_days`` change.
    half_lives
        Candidate half-lives, days (``None``: no recency weighting).
    trends
        Candidate trend windows, days (``None``: no trend).
    """
    config = ResaleConfig() if config is None else config
    arrays = _prepare(history)
    holdout = math.ceil(config.horizon_days)
    if arrays.length < 2 * holdout:
        raise InvalidReturnInput(
            ("history", "end"),
            f"{arrays.length} days of history cannot be back-tested on {holdout} days — give "
            f"at least {2 * holdout} days",
        )
    best: tuple[float, ResaleConfig] | None = None
    for half_life in half_lives:
        for trend in trends:
            candidate = replace(config, half_life_days=half_life, trend_days=trend)
            model = _fit(arrays, candidate, arrays.length - holdout)
            score = _holdout_log_likelihood(arrays, model, arrays.length - holdout)
            if best is None or score > best[0]:
                best = (score, candidate)
    assert best is not None
    return best[1]
