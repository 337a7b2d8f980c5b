FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY workers ./workers
COPY producers ./producers
COPY schedules ./schedules
COPY simulator ./simulator
RUN pip install --no-cache-dir .
# an unprivileged user owns the state directories (named volumes mounted there inherit the ownership)
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin sintra \
    && install -d -m 0700 -o sintra -g sintra /state /state/openbao /state/vault /approles
ENV SINTRA_LOG_FORMAT=json SINTRA_ENV=prod SINTRA_STATE_DIR=/state
USER 10001:10001
