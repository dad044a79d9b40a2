# Locust peers for the benchmark: LOCUST_CLASS=FastHttpUser (default) or HttpUser.
import os

from locust import FastHttpUser, HttpUser, constant, task

BASE = HttpUser if os.environ.get("LOCUST_CLASS") == "HttpUser" else FastHttpUser


class Flat(BASE):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/")
