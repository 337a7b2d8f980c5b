"""Simulated Semrush data: deterministic keywords, competitors and accounts, derived from the names asked.

Every domain ranks for its brand terms (positions 1-3) and for the terms of two topics picked from the
domain's name (positions 1-50), so the same domain always gives the same report. A domain or phrase
containing ``nothing`` has no data (``ERROR 50 :: NOTHING FOUND``).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from fastapi import Request

from simulator.control import state

TOPICS = ("project management software", "running shoes", "coffee beans", "crm software",
          "accounting software", "yoga mats", "web hosting", "email marketing", "dog food", "electric bikes",
          "skincare routine", "home insurance", "language learning", "meal delivery", "standing desks",
          "vpn service", "photo editing", "car rental", "wedding rings", "garden tools")
BRAND = ("", "login", "pricing", "reviews", "app", "coupon code", "customer service", "alternatives",
         "careers", "support", "free trial", "api", "blog", "discount", "contact")
PATTERNS = ("best {t}", "{t}", "cheap {t}", "{t} reviews", "{t} for beginners", "{t} near me",
            "how to choose {t}", "top 10 {t}", "{t} comparison", "{t} for small business", "affordable {t}",
            "{t} deals", "{t} guide", "what is {t}", "buy {t} online", "{t} 2026", "free {t}", "{t} tips",
            "{t} brands", "{t} online")
#: Share of a keyword's searches that reach the result at each position.
CTR = (0.28, 0.15, 0.11, 0.08, 0.07, 0.05, 0.04, 0.03, 0.03, 0.02)
#: Units every key starts with; a key starting with ``nounits`` has none.
BALANCE = 2_000_000


def rng(*parts: Any) -> random.Random:
    """A random generator seeded by ``parts`` (the same parts, the same numbers)."""
    seed = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def stem(domain: str) -> str:
    """The brand name of a domain: ``www.acme-shop.example`` -> ``acme shop``."""
    labels = [p for p in domain.lower().split(".") if p and p != "www"]
    return (labels[0] if labels else domain).replace("-", " ")


def topics(domain: str) -> list[str]:
    """The two topics a domain is about."""
    return rng("topics", domain).sample(TOPICS, 2)


def ctr(position: int) -> float:
    """Click-through rate of an organic position."""
    return CTR[position - 1] if position <= len(CTR) else (0.01 if position <= 20 else 0.004)


def phrase_metrics(phrase: str) -> dict[str, Any]:
    """Volume, CPC, competition, difficulty, results, trend and intent of a phrase (provider-neutral)."""
    r = rng("phrase", phrase)
    volume = int(10 ** r.uniform(1.7, 4.9)) // 10 * 10 or 10
    return {"Ph": phrase, "Nq": volume, "Cp": round(r.uniform(0.05, 12.0), 2), "Co": round(r.random(), 2),
            "Kd": r.randint(5, 92), "Nr": r.randint(10_000, 900_000_000),
            "Td": ",".join(f"{r.uniform(0.4, 1.0):.2f}" for _ in range(12)),
            "In": ",".join(str(i) for i in sorted(r.sample(range(4), r.choice((1, 1, 2)))))}


def organic(domain: str) -> list[dict[str, Any]]:
    """Every keyword ``domain`` ranks for, keyed by export_columns codes."""
    domain = domain.lower().removeprefix("www.")
    brand = stem(domain)
    phrases = [f"{brand} {m}".strip() for m in BRAND]
    phrases += [p.format(t=t) for t in topics(domain) for p in PATTERNS]
    rows = []
    for n, phrase in enumerate(dict.fromkeys(phrases)):
        r = rng("semrush", domain, phrase)
        position = r.randint(1, 3) if n < len(BRAND) else (r.randint(1, 10) if r.random() < 0.3
                                                             else r.randint(11, 50))
        metrics = phrase_metrics(phrase)
        slug = "" if n == 0 else phrase.replace(brand, "").strip().replace(" ", "-")
        rows.append({**metrics, "Po": position, "Pp": max(1, position + r.randint(-3, 3)),
                     "Ur": f"https://www.{domain}/{slug}", "Tg": round(metrics["Nq"] * ctr(position)),
                     "Ts": 1767225600 + r.randint(0, 86_400 * 30)})
    total = sum(row["Tg"] for row in rows) or 1
    for row in rows:
        row["Tr"] = round(100.0 * row["Tg"] / total, 2)
        row["Tc"] = round(100.0 * row["Tg"] * row["Cp"] / max(1.0, sum(x["Tg"] * x["Cp"] for x in rows)), 2)
    return rows


def related(phrase: str) -> list[dict[str, Any]]:
    """Keywords related to ``phrase``, with their relevance."""
    r = rng("related", phrase)
    base = [p.format(t=phrase) for p in PATTERNS if p != "{t}"] + [f"{phrase} {m}" for m in BRAND if m]
    return [{**phrase_metrics(p), "Rr": round(r.uniform(0.05, 0.9), 2)} for p in base]


def competitors(domain: str) -> list[dict[str, Any]]:
    """Organic competitors of ``domain`` (domains about the same topics)."""
    r = rng("competitors", domain)
    names = {f"{w}{t.split()[0]}.{tld}" for t in topics(domain)
             for w in ("best", "top", "my", "the", "get", "go", "smart", "pro")
             for tld in ("com", "io")} - {domain}
    rows = []
    for name in sorted(names)[:24]:
        keywords = r.randint(800, 60_000)
        rows.append({"Dn": name, "Cr": round(r.uniform(0.05, 0.6), 2), "Np": r.randint(20, 900),
                     "Or": keywords, "Ot": keywords * r.randint(2, 9), "Oc": keywords * r.randint(1, 20),
                     "Ad": r.randint(0, 400)})
    return rows


def account(request: Request, key: str) -> dict[str, Any]:
    """The state of one API key (created on first use)."""
    def seed() -> dict[str, Any]:
        return {"units": 0 if key.startswith("nounits") else BALANCE, "projects": {}}
    return state(request).account("semrush", key, seed)
