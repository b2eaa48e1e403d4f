"""The baseline: a bare Flask endpoint that reads the body and answers 200 JSON, served like the relay."""
from __future__ import annotations

import sys

from flask import Flask, jsonify, request
from waitress import serve

app = Flask("bare")


@app.post("/hooks/<source>")
def hook(source: str):  # type: ignore[no-untyped-def]
    request.get_data()
    return jsonify({"accepted": 1, "duplicates": 0})


if __name__ == "__main__":
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, ident="bare")
