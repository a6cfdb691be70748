"""The storefront API: orders, plus the health endpoints deployer checks."""

from fastapi import FastAPI

app = FastAPI(title="storefront-api")


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/ready")
def ready() -> dict:
    # A real service would check its database connection here.
    return {"ready": True}


@app.get("/live")
def live() -> dict:
    return {"live": True}


@app.get("/orders")
def orders() -> list:
    return []
