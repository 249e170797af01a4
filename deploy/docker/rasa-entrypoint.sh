#!/bin/sh
# Start one Rasa server for Faro: the trained model, the scale-out endpoints, the HTTP API
# behind the action token (read from the environment, never from the command line of the
# image, so it is not in the pod spec).
set -eu
: "${FARO_ACTION_TOKEN:?FARO_ACTION_TOKEN must be set (the token the app and Rasa share)}"
: "${FARO_ACTION_URL:?FARO_ACTION_URL must be set (the app's /webhook, e.g. http://faro-app:8000/webhook)}"
exec rasa run \
    --model /app/models/faro.tar.gz \
    --interface 0.0.0.0 --port "${FARO_RASA_PORT:-5005}" \
    --endpoints "${FARO_RASA_ENDPOINTS:-deploy/endpoints.scale-out.yml}" \
    --credentials credentials.yml \
    --enable-api "--auth-token=${FARO_ACTION_TOKEN}" \
    "$@"
