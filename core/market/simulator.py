"""A seeded market simulator: geometric Brownian motion with volatility regimes and jumps.

Each symbol has its own random stream seeded from ``(seed, crc32(symbol))``, so
a symbol's path depends only on the seed and its name, not on which other
symbols are simulated or in what order. Per step of ``dt`` years the log return
is ``(mu - sigma_r**2 / 2) dt + sigma_r sqrt(dt) Z + sum of N jumps``, where the
regime r follows a two-state Markov chain (calm, stressed), Z is standard
normal and N is Poisson with the jump intensity.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from numba import njit

SECONDS_PER_YEAR = 365.25 * 24 * 3600


@dataclass(frozen=True, slots=True)
class SymbolProfile:
    start_price: float
    drift: float = 0.05  # annual
    calm_volatility: float = 0.4  # annual
    stressed_volatility: float = 1.2  # annual
    calm_to_stressed_per_year: float = 2000.0  # regime switch intensities
    stressed_to_calm_per_year: float = 20000.0
    jumps_per_year: float = 5000.0
    jump_mean: float = 0.0  # of the log jump
    jump_std: float = 0.002
    tick_size: float = 0.01
    mean_trade_size: float = 1.0


DEFAULT_PROFILES: dict[str, SymbolProfile] = {
    "BTCUSD": SymbolProfile(
        60_000.0, calm_volatility=0.6, stressed_volatility=1.5, mean_trade_size=0.5
    ),
    "ETHUSD": SymbolProfile(
        3_000.0, calm_volatility=0.7, stressed_volatility=1.8, mean_trade_size=5
    ),
    "SPY": SymbolProfile(
        450.0, calm_volatility=0.15, stressed_volatility=0.45, mean_trade_size=100
    ),
    "EURUSD": SymbolProfile(
        1.08,
        calm_volatility=0.07,
        stressed_volatility=0.2,
        tick_size=0.00001,
        mean_trade_size=100_000,
    ),
}


@njit(cache=True, nogil=True)
def regime_path(
    uniforms: np.ndarray, stressed: bool, to_stressed: float, to_calm: float
) -> np.ndarray:
    """The two-state regime chain, one uniform draw per step (sequential, hence compiled)."""
    out = np.empty(uniforms.shape[0], dtype=np.bool_)
    for i in range(uniforms.shape[0]):
        stressed = uniforms[i] >= to_calm if stressed else uniforms[i] < to_stressed
        out[i] = stressed
    return out


def profile_for(symbol: str) -> SymbolProfile:
    """The built-in profile for a known symbol, else a generic one priced from its name."""
    if symbol in DEFAULT_PROFILES:
        return DEFAULT_PROFILES[symbol]
    return SymbolProfile(start_price=20.0 + zlib.crc32(symbol.encode()) % 480)


def on_ticks(values: np.ndarray, tick: float) -> np.ndarray:
    """``values`` at the nearest multiple of ``tick``, each the float nearest that decimal:
    ``1.07998``, not the ``1.0799800000000002`` that steps x 0.00001 makes (0.00001 has no
    exact float). Dividing whole steps by the whole ticks per unit rounds only once."""
    steps = np.round(values / tick)
    per_unit = round(1.0 / tick)
    if per_unit >= 1 and abs(per_unit * tick - 1.0) < 1e-12:
        return steps / per_unit
    return steps * tick


class PriceSimulator:
    """Generates price paths for one symbol, a block of steps at a time."""

    def __init__(
        self,
        symbol: str,
        seed: int,
        step_seconds: float,
        profile: SymbolProfile | None = None,
        epoch: int = 0,
    ) -> None:
        """``epoch`` picks another path of the same seed: a simulator continued after a
        restart (from the last price, ``profile.start_price``) takes the restart's time,
        so it does not repeat the moves the first run already made."""
        self.symbol = symbol
        self.profile = profile or profile_for(symbol)
        self.dt = step_seconds / SECONDS_PER_YEAR
        # One stream per random variable: each is consumed one value per step,
        # so the path is the same however the steps are split into blocks.
        entropy = [seed, zlib.crc32(symbol.encode())] + ([epoch] if epoch else [])
        streams = np.random.SeedSequence(entropy).spawn(5)
        (
            self._regime_rng,
            self._diffusion_rng,
            self._jump_count_rng,
            self._jump_size_rng,
            self._size_rng,
        ) = (np.random.default_rng(stream) for stream in streams)
        self._log_price = float(np.log(self.profile.start_price))
        self._stressed = False

    def next_block(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Prices and trade sizes of the next ``steps`` ticks."""
        p, dt = self.profile, self.dt
        switch = self._regime_rng.random(steps)
        to_stressed = 1.0 - np.exp(-p.calm_to_stressed_per_year * dt)
        to_calm = 1.0 - np.exp(-p.stressed_to_calm_per_year * dt)
        stressed = regime_path(switch, self._stressed, to_stressed, to_calm)
        self._stressed = bool(stressed[-1])
        sigma = np.where(stressed, p.stressed_volatility, p.calm_volatility)
        diffusion = (p.drift - 0.5 * sigma**2) * dt + sigma * np.sqrt(
            dt
        ) * self._diffusion_rng.standard_normal(steps)
        jump_counts = self._jump_count_rng.poisson(p.jumps_per_year * dt, steps)
        jumps = jump_counts * p.jump_mean + np.sqrt(
            jump_counts
        ) * p.jump_std * self._jump_size_rng.standard_normal(steps)
        # Accumulated from the previous price one step at a time (add.accumulate is
        # sequential), so block boundaries cannot change the rounding.
        log_prices = np.cumsum(np.concatenate(([self._log_price], diffusion + jumps)))[1:]
        self._log_price = float(log_prices[-1])
        prices = np.maximum(on_ticks(np.exp(log_prices), p.tick_size), p.tick_size)
        sizes = np.round(self._size_rng.exponential(p.mean_trade_size, steps), 6) + 1e-6
        return prices, sizes
