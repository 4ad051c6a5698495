"""The load mix: teachers search, companies post, the council reviews.

Run by bench/load/run.py; the demo accounts sign in (several simulated users
share an account, each with its own session).
"""

import random
import re

from locust import HttpUser, between, task

PASSWORD = "moraspar-demo"  # noqa: S105 - the public demo password
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
QUERIES = ["svetsning", "bil", "omvårdnad", "snickare", "el", "kock", "skog", "trä"]


class SignedIn(HttpUser):
    abstract = True
    # A person reading a page before the next click; 50 such users offer about
    # 15 requests a second.
    wait_time = between(2, 5)
    email = ""

    def csrf(self, path: str) -> str:
        page = self.client.get(path, name=path.split("?")[0]).text
        match = CSRF.search(page)
        return match.group(1) if match else ""

    def on_start(self) -> None:
        token = self.csrf("/login")
        self.client.post(
            "/login",
            data={"csrf_token": token, "email": self.email, "password": PASSWORD},
            name="sign-in",
        )


class Teacher(SignedIn):
    weight = 3
    email = "teacher@moraspar.example"

    @task(4)
    def search(self) -> None:
        q = random.choice(QUERIES)
        self.client.get(f"/school/search?q={q}&km=60", name="/school/search")

    @task(1)
    def needs(self) -> None:
        self.client.get("/school/needs", name="/school/needs")


class Company(SignedIn):
    weight = 1
    email = "company@moraspar.example"

    @task(2)
    def placements(self) -> None:
        self.client.get("/company/placements", name="/company/placements")

    @task(1)
    def post_placement(self) -> None:
        token = self.csrf("/company/placements/new")
        n = random.randint(1, 10**6)
        self.client.post(
            "/company/placements/new",
            data={
                "csrf_token": token,
                "kind": "study_visit",
                "title": f"Studiebesök {n}",
                "description": "Rundvandring i verkstaden.",
                "skills": "säkerhet, verktyg",
                "places": "2",
                "start_date": "2027-03-01",
                "end_date": "2027-03-01",
                "locality": "Mora",
                "supervisor_name": "Kim",
                "supervisor_contact": "kim@foretag.example",
            },
            name="post placement",
        )


class Council(SignedIn):
    weight = 1
    email = "council@moraspar.example"

    @task
    def board(self) -> None:
        self.client.get("/council/board", name="/council/board")
