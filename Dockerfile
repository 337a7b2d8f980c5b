FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY workers ./workers
COPY producers ./producers
COPY schedules ./schedules
COPY simulator ./simulator
# workers run as python -OO (workers/__main__.py): their .opt-2.pyc files, compiled once here, not at each start
RUN pip install --no-cache-dir . \
    && python -OO -m compileall -q -j 0 "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
       config workers
# an unprivileged user owns the state directories (named volumes mounted there inherit the ownership)
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin sintra \
    && install -d -m 0700 -o sintra -g sintra /state /state/openbao /state/vault /approles
ENV SINTRA_LOG_FORMAT=json SINTRA_ENV=prod SINTRA_STATE_DIR=/state
USER 10001:10001
