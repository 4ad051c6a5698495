"""A Flask app with one endpoint that does nothing: the server's ceiling."""

from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping() -> str:
    return "pong"
