"""A synthetic request history over several years, shaped like the city's real one (benchmarks only).

What is measured from the city's own history files (``[requests]``): the share of each service,
the hour of the day requests come in, and each service's days to close (drawn from the real
requests of that service, so their long tails are kept). What the files are too short to show
(the LA samples hold five days each) is assumed and stated here: a seasonal curve over the
months (:data:`MONTHS`: more in summer, fewer around the holidays), fewer requests at weekends
(:data:`WEEKDAYS`) and a yearly growth (:data:`YEARLY_GROWTH`). A request whose drawn closing
time lies after the history's end is still open (Open or Pending): the open share follows from
the real closing times, as it does in a live city; :data:`CANCELLED_SHARE` of the closed ones
are cancelled. Addresses are the synthetic ones of the benchmark database; every request number
starts with the run's prefix, so the rows are known as synthetic.

The file is written in chunks of :data:`CHUNK_ROWS` rows, so that ten million rows take the
memory of one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text

from core.city import CityConfig
from service_requests.importer import datetime_formats, local_datetimes, read_history

#: Relative volume by month, January first (assumed; the real samples cover days, not months).
MONTHS = (0.92, 0.88, 0.98, 1.00, 1.04, 1.07, 1.10, 1.09, 1.02, 1.00, 0.95, 0.90)
#: Relative volume by day of the week, Monday first (assumed: crews and call centres work weekdays).
WEEKDAYS = (1.15, 1.12, 1.10, 1.07, 1.00, 0.80, 0.76)
#: Growth of the volume from one year to the next (assumed).
YEARLY_GROWTH = 1.05
CANCELLED_SHARE = 0.025
CHUNK_ROWS = 1_000_000
STAMP = "%Y-%m-%d %H:%M:%S"

# Shares of the request types in the real 2017 and 2020 samples.
SERVICE_SHARES = {
    "Bulky Items": 0.445,
    "Graffiti Removal": 0.275,
    "Illegal Dumping Pickup": 0.085,
    "Metal/Household Appliances": 0.079,
    "Electronic Waste": 0.037,
    "Homeless Encampment": 0.033,
    "Dead Animal Removal": 0.02,
    "Other": 0.013,
    "Single Streetlight Issue": 0.006,
    "Multiple Streetlight Issue": 0.005,
    "Report Water Waste": 0.002,
}
OWNERS = {
    "Graffiti Removal": "OCB",
    "Single Streetlight Issue": "BSL",
    "Multiple Streetlight Issue": "BSL",
    "Report Water Waste": "LADWP",
    "Other": "ITA",
}


@dataclass(frozen=True)
class Profile:
    """What the real history shows: services and their shares, hours of the day, days to close."""

    services: tuple[str, ...]
    shares: np.ndarray  # one per service, summing to 1
    hours: np.ndarray  # 24 shares of the day's requests, summing to 1
    close_days: dict[str, np.ndarray]  # each service's real days to close (non-negative)


def real_profile(city: CityConfig) -> Profile:
    """The profile of ``city``'s configured request history (its ``[requests]`` files)."""
    if city.requests is None:
        raise ValueError(f"{city.name} configures no request history to take a profile from.")
    history = read_history(city.requests)
    formats = datetime_formats(city.requests)
    created = local_datetimes(history["requested_at"].astype("string"), formats, city.timezone)
    closed = local_datetimes(history["closed_at"].astype("string"), formats, city.timezone)
    names = history["service_name"].astype("string")
    known = created.notna() & names.notna()
    counts = names[known].value_counts()
    local_hours = created[known].dt.tz_convert(city.timezone).dt.hour
    hours = np.bincount(local_hours.to_numpy(), minlength=24).astype(float) + 1.0  # no hour is impossible
    days = (closed - created).dt.total_seconds() / 86400
    close_days = {
        str(service): np.clip(days[known & (names == service) & days.notna()].to_numpy(dtype=float), 0, None)
        for service in counts.index
    }
    fallback = np.clip(days[known & days.notna()].to_numpy(dtype=float), 0, None)
    close_days = {s: (d if len(d) else fallback) for s, d in close_days.items()}
    return Profile(
        services=tuple(str(s) for s in counts.index),
        shares=(counts / counts.sum()).to_numpy(dtype=float),
        hours=hours / hours.sum(),
        close_days=close_days,
    )


def day_weights(days: pd.DatetimeIndex) -> np.ndarray:
    """Each day's share of the requests: month, weekday and the year's growth (:data:`MONTHS` ...)."""
    years = (days - days[0]).days.to_numpy() / 365.25
    weights = (
        np.array(MONTHS)[days.month.to_numpy() - 1]
        * np.array(WEEKDAYS)[days.day_of_week.to_numpy()]
        * YEARLY_GROWTH**years
    )
    return weights / weights.sum()


def synthetic_requests(
    rng: np.random.Generator, profile: Profile, rows: int, end: pd.Timestamp, years: int
) -> pd.DataFrame:
    """``rows`` requests over the ``years`` up to ``end`` (local, naive): created, done, status, service."""
    days = pd.date_range(end.normalize() - pd.DateOffset(years=years), end.normalize() - pd.Timedelta(days=1))
    day = rng.choice(len(days), size=rows, p=day_weights(days))
    hour = rng.choice(24, size=rows, p=profile.hours)
    created = days[day] + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(rng.integers(0, 3600, size=rows), unit="s")
    service_index = rng.choice(len(profile.services), size=rows, p=profile.shares)
    close = np.empty(rows)
    for i, service in enumerate(profile.services):
        chosen = service_index == i
        real = profile.close_days[service]
        close[chosen] = real[rng.integers(0, len(real), size=int(chosen.sum()))]
    # Spread the real values a little, so that ten million rows do not repeat a few thousand durations.
    done = created + pd.to_timedelta(close * rng.uniform(0.9, 1.1, size=rows) * 86400, unit="s")
    finished = np.asarray(done < end)
    status = np.where(
        finished,
        np.where(rng.random(rows) < CANCELLED_SHARE, "Cancelled", "Closed"),
        rng.choice(["Open", "Pending"], size=rows, p=[0.6, 0.4]),
    )
    return pd.DataFrame(
        {
            "created": created,
            "done": done,
            "status": status,
            "service": np.array(profile.services, dtype=object)[service_index],
        }
    )


def write_years(
    session: Any,
    path: Path,
    profile: Profile,
    rows: int,
    end: pd.Timestamp,
    years: int = 7,
    seed: int = 311,
    prefix: str = "B-",
) -> Path:
    """Write ``rows`` synthetic requests over ``years`` to ``path`` in the city's history format, chunk by chunk."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.unlink(missing_ok=True)
    for start in range(0, rows, CHUNK_ROWS):
        count = min(CHUNK_ROWS, rows - start)
        part = synthetic_requests(rng, profile, count, end, years)
        created = pd.DatetimeIndex(part["created"])
        done = pd.DatetimeIndex(part["done"])
        finished = part["status"].isin(["Closed", "Cancelled"]).to_numpy()
        updated = np.where(finished, done.strftime(STAMP), created.strftime(STAMP))
        write_history(
            session,
            partial,
            rng,
            created,
            updated,
            done,
            part["status"].to_numpy(),
            prefix=prefix,
            first=start,
            services=part["service"].to_numpy(),
        )
    partial.replace(path)  # whole or not at all: a run stopped midway leaves no file that looks done
    return path


def write_history(
    session: Any,
    path: Path,
    rng: np.random.Generator,
    created: pd.DatetimeIndex,
    updated: Any,
    done: pd.DatetimeIndex,
    status: np.ndarray,
    prefix: str,
    first: int = 0,
    services: np.ndarray | None = None,
) -> None:
    """Write a MyLA311-format CSV of ``len(created)`` requests at random synthetic addresses.

    Times are local (the city file's); a row is closed at ``done`` when its status is Closed.
    Request numbers count from ``first``; with ``first`` > 0 the rows are added to the file
    (a later chunk). ``services`` are drawn from :data:`SERVICE_SHARES` unless given.
    """
    rows = len(created)
    addresses = pd.DataFrame(
        session.execute(
            text(
                "SELECT standardized, zipcode, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM address_point "
                "WHERE city = 'la' AND kind = 'address' ORDER BY random() LIMIT :n"
            ),
            {"n": min(rows, 400_000)},
        ).all()
    )
    pick = addresses.iloc[rng.integers(0, len(addresses), rows)].reset_index(drop=True)
    if services is None:
        names = list(SERVICE_SHARES)
        shares = np.array(list(SERVICE_SHARES.values()))
        services = rng.choice(names, size=rows, p=shares / shares.sum())
    stamp = "%Y-%m-%d %H:%M:%S"
    frame = pd.DataFrame(
        {
            "SRNumber": [f"{prefix}{i}" for i in range(first, first + rows)],
            "CreatedDate": created.strftime(stamp),
            "UpdatedDate": updated.strftime(stamp) if hasattr(updated, "strftime") else updated,
            "ClosedDate": np.where(status == "Closed", done.strftime(stamp), ""),
            "RequestType": services,
            "Owner": [OWNERS.get(s, "BOS") for s in services],
            "Status": status,
            "RequestSource": rng.choice(
                ["Call", "Mobile App", "Self Service", "Driver Self Report", "Email"],
                size=rows,
                p=[0.44, 0.22, 0.13, 0.2, 0.01],
            ),
            "Address": pick["standardized"],
            "ZipCode": pick["zipcode"],
            "Latitude": pick["lat"].round(7),
            "Longitude": pick["lon"].round(7),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, mode="a" if first else "w", header=not first)


__all__ = [
    "MONTHS",
    "WEEKDAYS",
    "YEARLY_GROWTH",
    "Profile",
    "day_weights",
    "real_profile",
    "synthetic_requests",
    "write_history",
    "write_years",
]
