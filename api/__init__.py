"""reintegra's HTTP service: a thin FastAPI layer over ``matcher`` (see issue: Service)."""
