# syntax=docker/dockerfile:1
# peacebot: the Discord study bot, its study content inside the installed package.
#   docker build -t peacebot .
#   docker compose up -d        (compose.yaml: PostgreSQL, the sync job, a bot per shard range)
#
# Two stages. `build` turns the source into a wheel. `runtime` installs the locked dependencies
# in a layer of their own (rebuilt only when requirements.lock changes), then the wheel (a small
# layer: a code change rebuilds only that), and checks the content before the image exists.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY content ./content
RUN python -m pip wheel --no-deps --wheel-dir /dist .

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# An unprivileged user that owns only the data volume.
RUN useradd --create-home --uid 10001 peacebot \
    && mkdir /data \
    && chown peacebot:peacebot /data

# Dependencies: exactly the pinned versions and hashes of the lock file, nothing resolved here.
COPY requirements.lock /tmp/requirements.lock
RUN python -m pip install --no-deps --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

# peacebot itself; `pip check` proves the lock covers everything the wheel asks for.
COPY --from=build /dist/*.whl /tmp/
RUN python -m pip install --no-deps /tmp/*.whl && rm /tmp/*.whl && python -m pip check

# The token comes only from the environment at run time (`.env` through compose, or `-e`),
# never from the image: .dockerignore keeps .env out of the build context.
ENV PEACEBOT_DB=/data/peacebot.sqlite3 \
    PEACEBOT_LOG_LEVEL=INFO

USER peacebot
WORKDIR /home/peacebot
# A broken image (content that does not load, a module missing) fails here, not at `docker run`.
RUN peacebot check
VOLUME ["/data"]

# The bot touches the heartbeat file every minute while it is connected to Discord.
HEALTHCHECK --interval=60s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, sys, time; sys.exit(time.time() - os.path.getmtime('/tmp/peacebot.heartbeat') > 180)"]

# Exec form: the bot is PID 1 and gets SIGTERM from `docker stop`, finishes running commands,
# writes the query log and exits within the 10 s docker allows.
STOPSIGNAL SIGTERM
CMD ["peacebot", "run", "--heartbeat", "/tmp/peacebot.heartbeat"]
