"""One router per concern: ``API_ROUTERS`` go under ``API_PREFIX`` (``/v1``); health checks stay at the root.

The app includes each of them itself, first of all its routes, rather than through one router gathering
them: FastAPI (0.165) matches a request against every level of included routers again, twice, and
``POST /v1/score`` is the route that carries the load (issue 24)."""

from service.routes import feedback, model, score

API_PREFIX = "/v1"
API_ROUTERS = (score.router, model.router, feedback.router)
