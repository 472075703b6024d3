"""German web pages for coaches, employers and admins (server-side rendered, Jinja2).

``router`` holds every page; the app includes it with ``app.include_router(router)``.
Pages call the same domain functions as the JSON API, so ownership, consent, audit and
scoring are the API's own.
"""

from service.web.router import router

__all__ = ["router"]
