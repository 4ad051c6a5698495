"""The upper bound: the same users on an endpoint that does nothing."""

from locust import HttpUser, between, task


class Trivial(HttpUser):
    wait_time = between(2, 5)  # the same offered load as the app's users

    @task
    def ping(self) -> None:
        self.client.get("/ping", name="/ping (trivial Flask)")
