"""Composition root indexed by the Azure Functions Python worker (v2 programming model).

HTTP: the FastAPI app behind one catch-all ASGI function. Timers and queues hang on the same app as
blueprints. Nothing is built at import time beyond the FastAPI app itself: collaborators come lazily
from `integrations.wiring.get_hub()`.
"""

import azure.functions as func

from integrations.api.app import create_api
from integrations.triggers import blueprint

app = func.AsgiFunctionApp(app=create_api(), http_auth_level=func.AuthLevel.ANONYMOUS, function_name="http_api")
app.register_functions(blueprint)
