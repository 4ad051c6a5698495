"""Build the load-test database: the Mora demo data scaled up.

200 companies, 2,000 open placements and 500 open needs (the demo data plus
deterministic synthetic rows built from the same Swedish vocabulary), then one
match run so the review board has proposals. Usage:

    MORASPAR_DATABASE_URL=sqlite:///path/load.db python bench/load/scale_data.py
"""

import random
import sys
from datetime import date, timedelta

from sqlmodel import Session, SQLModel, func, select

from moraspar import create_app
from moraspar.db import get_session
from moraspar.demo import load_demo
from moraspar.models import Need, Organisation, OrgKind, Placement, Programme
from moraspar.reference import orgnumber
from moraspar.reference.gazetteer import LOCALITIES
from moraspar.search import index_text

TARGET_COMPANIES = 200
TARGET_PLACEMENTS = 2000
TARGET_NEEDS = 500
KINDS = ["apl", "apl", "apl", "prao", "study_visit", "guest_lecture", "project"]


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def scale(session: Session, rng: random.Random) -> None:
    load_demo(session)
    session.flush()
    skills = sorted(
        {s for p in session.exec(select(Placement)).all() for s in p.skills}
        | {s for p in session.exec(select(Programme)).all() for s in p.skills}
    )
    localities = sorted(LOCALITIES)
    companies = list(
        session.exec(select(Organisation).where(Organisation.kind == OrgKind.COMPANY))
    )
    n = 0
    while len(companies) < TARGET_COMPANIES:
        n += 1
        locality = rng.choice(localities)
        lat, lon = LOCALITIES[locality]
        company = Organisation(
            kind=OrgKind.COMPANY,
            name=f"Lasttest {n:03d} AB",
            org_number=orgnumber.complete(f"559{n:06d}"),
            locality=locality,
            lat=lat,
            lon=lon,
            sni_code=rng.choice(["16", "41", "43", "45", "55", "56", "87", "88"]),
            approved=True,
        )
        session.add(company)
        companies.append(company)
    session.flush()
    start = date(2027, 1, 11)
    for i in range(_count(session, Placement), TARGET_PLACEMENTS):
        company = rng.choice(companies)
        chosen = rng.sample(skills, 4)
        first = start + timedelta(weeks=rng.randrange(0, 30))
        placement = Placement(
            company_id=company.id,
            kind=rng.choice(KINDS),
            title=f"{chosen[0].capitalize()} hos {company.name}",
            description=f"Praktik med {', '.join(chosen)}.",
            skills=chosen,
            places=rng.randint(1, 4),
            start_date=first,
            end_date=first + timedelta(weeks=rng.randint(1, 10)),
            locality=company.locality,
            lat=company.lat,
            lon=company.lon,
            supervisor_name=f"Handledare {i}",
            supervisor_contact=f"handledare{i}@lasttest.example",
        )
        placement.search_text = index_text(
            placement.title, placement.description, chosen, company.name
        )
        session.add(placement)
    programmes = list(session.exec(select(Programme)))
    for i in range(_count(session, Need), TARGET_NEEDS):
        programme = rng.choice(programmes)
        school = session.get(Organisation, programme.school_id)
        assert school is not None
        chosen = rng.sample(skills, 3)
        first = start + timedelta(weeks=rng.randrange(0, 30))
        need = Need(
            school_id=school.id,
            programme_id=programme.id,
            kind=rng.choice(KINDS),
            title=f"Behov {i}: {chosen[0]}",
            description=f"Elevgrupp som vill möta {', '.join(chosen)}.",
            skills=chosen,
            students=rng.randint(1, 6),
            start_date=first,
            end_date=first + timedelta(weeks=rng.randint(2, 8)),
            locality=school.locality,
            lat=school.lat,
            lon=school.lon,
            max_km=rng.choice([15.0, 30.0, 60.0]),
        )
        need.search_text = index_text(need.title, need.description, chosen)
        session.add(need)
    session.flush()


def main() -> None:
    app = create_app()
    with app.app_context():
        session = get_session()
        SQLModel.metadata.create_all(session.get_bind())
        scale(session, random.Random(2026))
        session.commit()
        counts = {
            "companies": int(
                session.exec(
                    select(func.count())
                    .select_from(Organisation)
                    .where(Organisation.kind == OrgKind.COMPANY)
                ).one()
            ),
            "placements": _count(session, Placement),
            "needs": _count(session, Need),
        }
    print(f"load data: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
