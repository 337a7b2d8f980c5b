"""Simulated Ahrefs data, deterministic per target: organic keywords, backlinks, referring domains, metrics.

The keyword universe (brand terms plus the terms of two topics read from the domain) is the one the
Semrush simulator uses, with Ahrefs' own positions and volumes and one topic of its own, so the two
sources overlap and disagree the way real tools do.
"""

from __future__ import annotations

from typing import Any

from simulator.providers._semrush_data import BRAND, PATTERNS, TOPICS, ctr, phrase_metrics, rng, stem, topics

WORDS = ("blue", "daily", "open", "bright", "urban", "north", "green", "smart", "rapid", "prime", "true",
         "wild", "clear", "solid", "happy", "modern")
NOUNS = ("news", "guide", "hub", "review", "journal", "lab", "forum", "times", "digest", "post", "wire",
         "zone")
TLDS = ("com", "org", "net", "io", "co.uk", "de")
ANCHORS = ("{b}", "click here", "{b} review", "this guide", "www.{d}", "best {t}", "read more", "{t}")


def domain_of(target: str) -> str:
    """``https://www.acme.example/x`` -> ``acme.example``."""
    host = target.split("://", 1)[-1].split("/", 1)[0].lower()
    return host.removeprefix("www.")


def _topics(domain: str) -> list[str]:
    own = rng("ahrefs-topics", domain).choice([t for t in TOPICS if t not in topics(domain)])
    return [topics(domain)[0], own]


def organic_keywords(target: str, country: str) -> list[dict[str, Any]]:
    """Every keyword the target ranks for in ``country``, with Ahrefs' column names."""
    domain = domain_of(target)
    brand = stem(domain)
    phrases = [f"{brand} {m}".strip() for m in BRAND[:12]]
    phrases += [p.format(t=t) for t in _topics(domain) for p in PATTERNS]
    rows = []
    for n, phrase in enumerate(dict.fromkeys(phrases)):
        r = rng("ahrefs", domain, country, phrase)
        top = r.randint(1, 10) if r.random() < 0.3 else r.randint(11, 50)
        position = r.randint(1, 3) if n < 12 else top
        base = phrase_metrics(phrase)
        volume = max(10, round(base["Nq"] * r.uniform(0.6, 1.3), -1))
        slug = "" if n == 0 else phrase.replace(brand, "").strip().replace(" ", "-")
        prev = max(1, position + r.randint(-4, 4))
        rows.append({
            "keyword": phrase, "best_position": position, "best_position_prev": prev,
            "best_position_diff": prev - position, "best_position_url": f"https://www.{domain}/{slug}",
            "best_position_kind": "organic", "volume": int(volume),
            "sum_traffic": round(volume * ctr(position)),
            "keyword_difficulty": min(100, max(0, base["Kd"] + r.randint(-8, 8))),
            "cpc": int(base["Cp"] * 100), "words": len(phrase.split()), "is_branded": n < 12,
            "is_commercial": "0" in base["In"], "is_informational": "1" in base["In"],
            "serp_features": r.sample(["sitelink", "snippet", "question", "image", "video", "local_pack"],
                                      r.randint(0, 3)),
            "keyword_country": country.upper(), "last_update": "2026-08-20T04:12:00Z",
        })
    return rows


def _refdomain_names(domain: str) -> list[str]:
    r = rng("refdomains", domain)
    names = {f"{w}{n}.{t}" for w in WORDS for n in NOUNS for t in TLDS}
    return r.sample(sorted(names), r.randint(40, 120))


def refdomains(target: str) -> list[dict[str, Any]]:
    """Domains linking to the target."""
    domain = domain_of(target)
    rows = []
    for name in _refdomain_names(domain):
        r = rng("refdomain", domain, name)
        links = r.randint(1, 40)
        first = f"20{r.randint(18, 25)}-0{r.randint(1, 9)}-1{r.randint(0, 9)}T00:00:00Z"
        rows.append({"domain": name, "domain_rating": float(r.randint(3, 92)), "links_to_target": links,
                     "dofollow_links": r.randint(0, links), "first_seen": first,
                     "last_seen": "2026-08-19T00:00:00Z",
                     "traffic_domain": r.randint(0, 900_000), "is_spam": r.random() < 0.03,
                     "new_links": r.randint(0, 3), "lost_links": r.randint(0, 2)})
    return rows


def backlinks(target: str) -> list[dict[str, Any]]:
    """Links to the target, one or more per referring domain."""
    domain = domain_of(target)
    brand, topic = stem(domain), topics(domain)[0]
    rows = []
    for ref in refdomains(target):
        r = rng("backlinks", domain, ref["domain"])
        for n in range(min(3, ref["links_to_target"])):
            anchor = r.choice(ANCHORS).format(b=brand, d=domain, t=topic)
            rows.append({
                "url_from": f"https://{ref['domain']}/{r.choice(('blog', 'news', 'articles'))}/{brand}-{n}",
                "url_to": f"https://www.{domain}/{r.choice(('', 'pricing', 'blog', 'features'))}",
                "anchor": anchor,
                "domain_rating_source": ref["domain_rating"], "url_rating_source": float(r.randint(1, 60)),
                "first_seen_link": ref["first_seen"], "last_seen": ref["last_seen"],
                "is_dofollow": n < ref["dofollow_links"], "is_nofollow": n >= ref["dofollow_links"],
                "http_code": 200, "title": f"{anchor.title()} | {ref['domain']}",
                "traffic": r.randint(0, 5000), "link_type": "text", "is_lost": False, "is_new": False})
    return rows


def domain_rating(target: str) -> dict[str, Any]:
    """Domain Rating and Ahrefs Rank."""
    r = rng("dr", domain_of(target))
    return {"domain_rating": float(r.randint(8, 88)), "ahrefs_rank": r.randint(2_000, 9_000_000)}


def metrics(target: str, country: str | None) -> dict[str, Any]:
    """Organic and paid search metrics (all countries when ``country`` is None)."""
    rows = organic_keywords(target, country or "us")
    scale = 1 if country else 4
    r = rng("metrics", domain_of(target), country)
    return {"org_keywords": len(rows) * scale,
            "org_keywords_1_3": sum(x["best_position"] <= 3 for x in rows) * scale,
            "org_traffic": sum(x["sum_traffic"] for x in rows) * scale,
            "org_cost": sum(x["sum_traffic"] * x["cpc"] for x in rows) * scale,
            "paid_keywords": r.randint(0, 60), "paid_traffic": r.randint(0, 4000),
            "paid_cost": r.randint(0, 900_000), "paid_pages": r.randint(0, 12)}


def backlinks_stats(target: str) -> dict[str, Any]:
    """Live and all-time link and referring-domain counts."""
    refs, links = refdomains(target), backlinks(target)
    return {"live": len(links), "all_time": len(links) * 3, "live_refdomains": len(refs),
            "all_time_refdomains": len(refs) * 2}


def competitors(target: str, country: str) -> list[dict[str, Any]]:
    """Domains ranking for the same keywords."""
    domain = domain_of(target)
    own = len(organic_keywords(target, country))
    r = rng("ahrefs-competitors", domain, country)
    prefixes = ("best", "top", "the", "go", "pro")
    names = sorted({f"{w}{t.split()[0]}.com" for t in _topics(domain) for w in prefixes} - {domain})
    rows = []
    for name in names:
        common = r.randint(5, own)
        theirs = r.randint(common, common * 40)
        rows.append({"competitor_domain": name, "domain_rating": float(r.randint(10, 85)),
                     "keywords_common": common, "keywords_competitor": theirs, "keywords_target": own,
                     "share": round(100.0 * common / (own + theirs - common), 2),
                     "traffic": theirs * r.randint(3, 30), "pages": r.randint(20, 4000),
                     "value": theirs * r.randint(50, 900)})
    return rows
