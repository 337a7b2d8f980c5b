FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY workers ./workers
COPY producers ./producers
COPY schedules ./schedules
COPY simulator ./simulator
RUN pip install --no-cache-dir .
ENV SINTRA_LOG_FORMAT=json SINTRA_ENV=prod SINTRA_STATE_DIR=/state
